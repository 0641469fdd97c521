"""Tests of thermoscape.measure.stats against closed forms (gamma MLE, AR(1) correlations, exact fits, R-hat and ESS,
block-bootstrap coverage)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import lfilter
from scipy.special import polygamma

from thermoscape.measure.stats import (
    autocorrelation,
    block_bootstrap,
    block_bootstrap_means,
    block_starts,
    bulk_ess,
    drift_flag,
    fit_power_law,
    fit_proportional,
    gamma_mle,
    gamma_mle_from_means,
    half_time,
    integrated_time,
    mean_error,
    power_law_slope_error,
    propagate_relative_errors,
    sparsity,
    split_rhat,
)


def ar1(r: float, n: int, rng: np.random.Generator, copies: int | None = None) -> np.ndarray:
    """Stationary AR(1), x_{t+1} = r x_t + sqrt(1 - r^2) eps: unit variance, chi(lag) = r^lag."""
    shape = (n,) if copies is None else (copies, n)
    x0 = rng.standard_normal(shape[:-1] + (1,))
    eps = np.sqrt(1 - r**2) * rng.standard_normal(shape)
    return lfilter([1.0], [1.0, -r], eps, axis=-1, zi=r * x0)[0]


# --- gamma_mle (Eq. 2) ---


@pytest.mark.parametrize("alpha, beta", [(15.0, 1e5), (2.5, 3.0)])
def test_gamma_mle_recovers_parameters(alpha, beta):
    n = 200_000
    samples = np.random.default_rng(0).gamma(alpha, 1 / beta, size=n)
    a_hat, b_hat = gamma_mle(samples)
    # Asymptotic MLE standard errors from the inverse Fisher information of (alpha, beta).
    det = alpha * polygamma(1, alpha) - 1
    se_a = np.sqrt(alpha / (n * det))
    se_b = beta * np.sqrt(polygamma(1, alpha) / (n * det))
    assert abs(a_hat - alpha) < 4 * se_a
    assert abs(b_hat - beta) < 4 * se_b


@pytest.mark.parametrize(
    "bad", [[1.0, 0.0, 2.0], [1.0, -1.0], [1.0, np.nan], [1.0, np.inf], [1.0], [], [2.0, 2.0, 2.0]]
)
def test_gamma_mle_rejects_bad_samples(bad):
    with pytest.raises(ValueError):
        gamma_mle(np.array(bad))


# --- autocorrelation (Eq. 4) ---


def test_autocorrelation_of_ar1_is_geometric():
    r, n, lags = 0.8, 200_000, 20
    chi = autocorrelation(ar1(r, n, np.random.default_rng(1)), max_lag=lags)
    assert chi.shape == (lags + 1,)
    assert chi[0] == pytest.approx(1.0, abs=1e-12)
    # Bartlett's large-lag bound on the sampling std of chi for AR(1).
    tol = 5 * np.sqrt((1 + r**2) / ((1 - r**2) * n))
    np.testing.assert_allclose(chi, r ** np.arange(lags + 1), atol=tol)


def test_autocorrelation_matches_brute_force():
    x = np.random.default_rng(2).standard_normal(37) + 5.0
    mu, var = x.mean(), x.var()
    brute = [np.mean((x[: x.size - k] - mu) * (x[k:] - mu)) / var for k in range(x.size)]
    chi = autocorrelation(x)
    assert chi.shape == (x.size,)
    np.testing.assert_allclose(chi, brute, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(autocorrelation(x, max_lag=5), brute[:6], rtol=1e-10, atol=1e-12)


def test_autocorrelation_rejects_constant_and_bad_lag():
    with pytest.raises(ValueError):
        autocorrelation(np.full(10, 0.1))
    with pytest.raises(ValueError):
        autocorrelation(np.arange(10.0), max_lag=10)


# --- half_time, integrated_time, mean_error ---


def test_half_time_of_ar1_matches_closed_form():
    r, dt = 0.95, 0.01
    chi = autocorrelation(ar1(r, 1_000_000, np.random.default_rng(3)), max_lag=200)
    expected = np.log(2) / np.log(1 / r) * dt
    assert half_time(chi, dt) == pytest.approx(expected, rel=0.05)


def test_half_time_interpolates_linearly():
    chi = np.array([1.0, 0.8, 0.6, 0.2, 0.1, 0.7])
    # crosses 1/2 between lag 2 (0.6) and lag 3 (0.2): lag 2.25
    assert half_time(chi, dt=2.0) == pytest.approx(4.5)
    assert half_time(np.array([1.0, 0.5, 0.2]), dt=1.0) == pytest.approx(1.0)


def test_half_time_nan_when_never_crossing():
    assert np.isnan(half_time(np.array([1.0, 0.9, 0.8, 0.51]), dt=1.0))


def test_integrated_time_of_ar1_matches_closed_form():
    r, dt = 0.9, 0.5
    chi = autocorrelation(ar1(r, 1_000_000, np.random.default_rng(4)), max_lag=2_000)
    assert integrated_time(chi, dt) == pytest.approx(dt * (0.5 + r / (1 - r)), rel=0.10)


def test_integrated_time_stops_at_first_negative():
    chi = np.array([1.0, 0.5, 0.25, -0.1, 0.9, 0.9])
    assert integrated_time(chi, dt=2.0) == pytest.approx(2.0 * (0.5 + 0.75))


def test_mean_error_matches_spread_of_independent_means():
    r, n, dt = 0.9, 5_000, 0.1
    series = ar1(r, n, np.random.default_rng(5), copies=400)
    empirical = series.mean(axis=1).std(ddof=1)
    predicted = np.mean([mean_error(x, dt) for x in series])
    assert predicted == pytest.approx(empirical, rel=0.20)
    # and both exceed the naive iid error by about sqrt((1 + r) / (1 - r)) ~ 4.4
    assert empirical > 3 / np.sqrt(n)


def test_mean_error_floor_is_iid_error():
    x = ar1(-0.5, 10_000, np.random.default_rng(6))  # anticorrelated: chi(1) < 0 ends the window
    assert mean_error(x, dt=0.3) == pytest.approx(x.std(ddof=1) / np.sqrt(x.size))


# --- sparsity (Eq. 8) ---


def test_sparsity():
    assert sparsity(np.full(7, 0.3)) == pytest.approx(7.0)
    assert sparsity(np.array([0.0, 0.0, 2.5, 0.0])) == pytest.approx(1.0)
    losses = np.random.default_rng(7).exponential(size=50)
    assert sparsity(1e-9 * losses) == pytest.approx(sparsity(losses))
    assert 1.0 < sparsity(losses) < 50.0
    rows = np.array([[1.0, 1.0, 0.0, 0.0], [1.0, 1.0, 1.0, 0.0], [5.0, 0.0, 0.0, 0.0]])
    np.testing.assert_allclose(sparsity(rows), [2.0, 3.0, 1.0])


# --- fits ---


def test_fit_proportional():
    x = np.logspace(-7, -4, 8)
    assert fit_proportional(x, 3.7 * x) == pytest.approx(3.7, rel=1e-12)
    noisy = 3.7 * x * np.exp(0.05 * np.random.default_rng(8).standard_normal(x.size))
    assert fit_proportional(x, noisy) == pytest.approx(3.7, rel=0.05)
    with pytest.raises(ValueError):
        fit_proportional(x, -x)


def test_fit_power_law():
    x = np.logspace(-7, -4, 8)
    amp, a, se = fit_power_law(x, 2.5e-3 * x**-1.0)
    assert amp == pytest.approx(2.5e-3, rel=1e-9)
    assert a == pytest.approx(-1.0, abs=1e-12)
    assert se == pytest.approx(0.0, abs=1e-10)
    noisy = 0.0027 * x**0.22 * np.exp(0.05 * np.random.default_rng(9).standard_normal(x.size))
    amp, a, se = fit_power_law(x, noisy)
    assert 0 < se < 0.05
    assert abs(a - 0.22) < 4 * se
    assert amp == pytest.approx(0.0027, rel=0.5)


# --- drift_flag ---


def test_drift_flag():
    t = np.arange(10.0) + 0.5
    err = np.full(10, 0.1)
    # expected slope error for equal weights: sigma / sqrt(sum (t - tbar)^2)
    se = 0.1 / np.sqrt(np.sum((t - t.mean()) ** 2))
    flat = 1.0 + 0.1 * np.random.default_rng(10).standard_normal(10)
    slope, slope_err, flagged = drift_flag(t, flat, err)
    assert slope_err == pytest.approx(se, rel=1e-9)
    assert not flagged
    trend = 10 * se
    slope, slope_err, flagged = drift_flag(t, flat + trend * t, err)
    assert slope == pytest.approx(trend, abs=4 * se)
    assert flagged
    assert drift_flag(t[:1], flat[:1], err[:1])[2] is False
    assert all(np.isnan(drift_flag(t[:1], flat[:1], err[:1])[:2]))


# --- MCMC diagnostics across replicas (ArviZ) ---


def test_rhat_is_one_for_chains_of_one_process_and_large_for_shifted_chains():
    chains = ar1(0.9, 20_000, np.random.default_rng(11), copies=4)
    assert split_rhat(chains) == pytest.approx(1.0, abs=0.01)
    shifted = chains + np.array([0.0, 0.0, 2.0, 2.0])[:, None]  # two replicas two stationary stds higher
    assert split_rhat(shifted) > 1.1
    trending = chains[:2] + np.linspace(0, 3, chains.shape[1])  # same process, but each chain's halves disagree
    assert split_rhat(trending) > 1.1


def test_bulk_ess_of_ar1_is_n_times_one_minus_rho_over_one_plus_rho():
    r, n = 0.8, 50_000
    chains = ar1(r, n, np.random.default_rng(12), copies=4)
    assert bulk_ess(chains) == pytest.approx(4 * n * (1 - r) / (1 + r), rel=0.15)
    assert bulk_ess(ar1(0.0, n, np.random.default_rng(13), copies=2)) == pytest.approx(2 * n, rel=0.15)


def test_diagnostics_reject_short_or_non_finite_chains():
    with pytest.raises(ValueError, match="4 draws"):
        split_rhat(np.ones((2, 3)))
    with pytest.raises(ValueError, match="2 chain"):
        split_rhat(np.ones((1, 10)))
    with pytest.raises(ValueError, match="finite"):
        bulk_ess(np.array([[1.0, 2.0, np.nan, 3.0, 4.0]]))


# --- block bootstrap and error propagation ---


def test_block_bootstrap_interval_covers_the_mean_of_ar1():
    """95 % percentile intervals of the mean of AR(1) (r = 0.5, tau_int = 1.5 steps) with blocks of 10 tau_int
    cover the true mean 0 in 88-99 % of 300 series (binomial sd 1.3 %; blocks shorter than the correlation
    bias the variance low by ~tau/b). Resampling single points ignores the correlation and undercovers
    (variance too small by (1 - r) / (1 + r): expected coverage ~0.74)."""
    rng = np.random.default_rng(14)
    series = ar1(0.5, 1_000, rng, copies=300)

    def coverage(block_length: int) -> float:
        covered = 0
        for x in series:
            low, high = np.quantile(block_bootstrap_means(x, block_length, 400, rng), [0.025, 0.975])
            covered += low <= 0.0 <= high
        return covered / len(series)

    assert 0.88 <= coverage(15) <= 0.99
    assert coverage(1) < 0.85


def test_block_bootstrap_means_equal_the_general_bootstrap_of_the_mean():
    x = ar1(0.7, 503, np.random.default_rng(15))
    for overlapping in (True, False):
        fast = block_bootstrap_means(x, 20, 50, np.random.default_rng(16), overlapping)
        slow = block_bootstrap(x, np.mean, 20, 50, np.random.default_rng(16), overlapping)
        np.testing.assert_allclose(fast, slow, rtol=1e-12)
    starts = block_starts(100, 10, 30, np.random.default_rng(17), overlapping=False)
    assert starts.shape == (30, 10) and np.all(starts % 10 == 0) and starts.max() <= 90
    assert block_starts(100, 10, 30, np.random.default_rng(17)).max() <= 90
    with pytest.raises(ValueError):
        block_starts(10, 11, 1, np.random.default_rng(0))


def test_gamma_mle_from_means_equals_the_scipy_fit():
    rng = np.random.default_rng(18)
    for alpha in (0.3, 4.0, 60.0, 800.0):
        x = rng.gamma(alpha, 1e-6, size=3_000)
        a_fast, b_fast = gamma_mle_from_means(x.mean(), np.log(x).mean())
        a, b = gamma_mle(x)
        assert a_fast == pytest.approx(a, rel=1e-8) and b_fast == pytest.approx(b, rel=1e-8)


def test_propagated_errors_of_a_median_and_a_slope():
    rng = np.random.default_rng(19)
    # one point: the median is the point, its error the point's (relative error 1 %)
    assert propagate_relative_errors(np.median, [np.array([2.0])], [np.array([0.02])], rng, 4000) == pytest.approx(
        0.02, rel=0.05)
    assert np.isnan(propagate_relative_errors(np.median, [np.array([2.0, 3.0])], [np.array([0.02, np.nan])], rng))
    # two points: slope error sqrt(r1^2 + r2^2) / |ln x2 - ln x1| (no residuals to speak of)
    x, y, err = np.array([1e-6, 1e-5]), np.array([2.0, 20.0]), np.array([0.1, 3.0])
    assert power_law_slope_error(x, y, err) == pytest.approx(np.hypot(0.05, 0.15) / np.log(10), rel=1e-12)
    assert np.isnan(power_law_slope_error(x, y, np.array([0.1, np.nan])))
