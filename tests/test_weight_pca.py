"""Tests of thermoscape.measure.pca (Feng & Tu Eq. 5, Fig. 1) against constructions with known answers."""

from __future__ import annotations

import math
from contextlib import nullcontext

import numpy as np
import pytest
from scipy.signal import lfilter
from scipy.stats import ortho_group

from thermoscape.measure.pca import (
    WeightPCA,
    cumulative_variance,
    mean_squared_displacement,
    msd_exponent,
    n_fraction,
    persistence_time,
    principal_components,
    random_walk,
    spectrum_exponent,
    velocity_autocorrelation,
)

try:  # installed with scikit-learn
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover
    threadpool_limits = None

KNOWN_VARIANCES = np.array([9.0, 4.0, 1.0, 0.25, 0.0625])


@pytest.fixture(autouse=True)
def single_blas_thread():
    """One BLAS thread: on a loaded 2-core machine a threaded SVD of the 2000 x 500 walk took 1-10 s, not 0.4 s."""
    with threadpool_limits(limits=1, user_api="blas") if threadpool_limits else nullcontext():
        yield


def orthonormal_amplitudes(n_snap: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """``(n_snap, k)`` zero-mean, mutually orthogonal columns with ``mean_t a^2 = 1`` exactly."""
    a = rng.standard_normal((n_snap, k))
    q, _ = np.linalg.qr(a - a.mean(axis=0))  # centred columns span a space orthogonal to the ones vector
    return q * math.sqrt(n_snap)


def known_snapshots(n_snap: int = 400, n: int = 30, seed: int = 0):
    """Snapshots ``mean + sum_i a_i(t) q_i`` whose PCA is exactly ``(KNOWN_VARIANCES, q_i)``."""
    rng = np.random.default_rng(seed)
    q = ortho_group.rvs(n, random_state=seed)[: KNOWN_VARIANCES.size]
    a = orthonormal_amplitudes(n_snap, KNOWN_VARIANCES.size, rng) * np.sqrt(KNOWN_VARIANCES)
    mean = rng.standard_normal(n)
    return mean + a @ q, mean, q


# --- principal_components (Eq. 5) ---


def test_pca_recovers_known_variances_and_directions():
    snapshots, mean, q = known_snapshots()
    pca = principal_components(snapshots)
    assert isinstance(pca, WeightPCA)
    assert pca.variances.shape == (30,) and pca.directions.shape == (30, 30) and pca.theta.shape == (400, 30)
    np.testing.assert_allclose(pca.mean, mean, atol=1e-12)
    np.testing.assert_allclose(pca.variances[:5], KNOWN_VARIANCES, rtol=1e-10)
    assert np.all(pca.variances[5:] < 1e-20)
    overlaps = np.abs(np.sum(pca.directions[:5] * q, axis=1))  # |p_i . q_i|: equal up to sign
    np.testing.assert_allclose(overlaps, 1.0, atol=1e-10)
    np.testing.assert_allclose(pca.directions @ pca.directions.T, np.eye(30), atol=1e-10)


def test_pca_theta_reconstructs_snapshots_and_has_variance_sigma2():
    rng = np.random.default_rng(1)
    snapshots = rng.standard_normal((50, 80)) @ rng.standard_normal((80, 80))
    pca = principal_components(snapshots)
    np.testing.assert_allclose(pca.mean + pca.theta @ pca.directions, snapshots, atol=1e-9)
    np.testing.assert_allclose(np.mean(pca.theta**2, axis=0), pca.variances, rtol=1e-10)
    np.testing.assert_allclose(pca.theta.mean(axis=0), 0.0, atol=1e-9)


@pytest.mark.parametrize("n_snap, n", [(60, 20), (20, 60)])
def test_pca_variances_are_population_covariance_eigenvalues(n_snap, n):
    snapshots = np.random.default_rng(2).standard_normal((n_snap, n)).cumsum(axis=0)
    pca = principal_components(snapshots)
    r = min(n_snap - 1, n)
    expected = np.linalg.eigvalsh(np.cov(snapshots.T, ddof=0))[::-1][:r]
    np.testing.assert_allclose(pca.variances, expected, rtol=1e-9)


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_pca_orients_drift_mode_so_theta1_increases(sign):
    rng = np.random.default_rng(3)
    n_snap, n = 300, 25
    q = ortho_group.rvs(n, random_state=3)
    drift = sign * np.linspace(-5, 5, n_snap)[:, None] * q[0]  # a ramp along +-q_0: the dominant mode
    snapshots = drift + 0.3 * rng.standard_normal((n_snap, n))
    pca = principal_components(snapshots)
    theta1 = pca.theta[:, 0]
    assert theta1[-1] > theta1[0]
    assert sign * pca.directions[0] @ q[0] > 0.99  # p_1 points along the drift, whatever sign built it
    t = np.arange(n_snap) - (n_snap - 1) / 2
    assert np.all(t @ pca.theta >= 0)  # the documented rule for every mode


def test_pca_truncation_keeps_full_spectrum():
    snapshots, _, _ = known_snapshots()
    full = principal_components(snapshots)
    pca = principal_components(snapshots, n_components=3)
    assert pca.directions.shape == (3, 30) and pca.theta.shape == (400, 3)
    np.testing.assert_array_equal(pca.variances, full.variances)
    np.testing.assert_allclose(pca.theta, full.theta[:, :3])


@pytest.mark.parametrize(
    "snapshots, n_components",
    [(np.zeros(5), None), (np.zeros((1, 5)), None), (np.zeros((4, 5)), 4), (np.zeros((4, 5)), 0)],
)
def test_pca_rejects_bad_input(snapshots, n_components):
    with pytest.raises(ValueError):
        principal_components(snapshots, n_components)


def test_pca_rejects_nan():
    with pytest.raises(ValueError, match="non-finite"):
        principal_components(np.array([[0.0, 1.0], [np.nan, 2.0]]))


# --- random-walk control C2 ---


def test_random_walk_spectrum_and_first_mode():
    walk = random_walk(2000, 500, seed=0)
    assert walk.shape == (2000, 500)
    np.testing.assert_array_equal(walk[0], np.random.default_rng(0).standard_normal((2000, 500))[0])
    pca = principal_components(walk)
    # Antognini & Sohl-Dickstein: sigma_i^2 ~ i^-2. Over 40 seeds the fit gave gamma = 2.001 +- 0.007 for
    # 2 < i < 100 and 2.012 +- 0.007 in the paper's window 20 < i < 200 (all within 1.986-2.029).
    gamma, stderr = spectrum_exponent(pca.variances, low=2, high=100)
    assert abs(gamma - 2.0) < 0.05 and stderr < 0.02
    assert abs(spectrum_exponent(pca.variances)[0] - 2.0) < 0.05
    # Continuum: eigenvalues ~ 1/k^2, so the first PC explains 1/zeta(2) = 6/pi^2 = 0.608. With 500 dims
    # the sample fraction over 40 seeds was 0.603 +- 0.017 (range 0.571-0.639): 0.05 is ~3 sigma.
    first = pca.variances[0] / pca.variances.sum()
    assert abs(first - 6 / math.pi**2) < 0.05


def test_random_walk_is_seeded_and_has_unit_steps():
    a, b = random_walk(5000, 4, seed=7), random_walk(5000, 4, seed=7)
    np.testing.assert_array_equal(a, b)
    steps = np.diff(a, axis=0)
    np.testing.assert_allclose(steps.var(axis=0), 1.0, atol=0.06)  # 4 sigma of var over 5000 steps
    with pytest.raises(ValueError):
        random_walk(0, 3, seed=0)


# --- cumulative_variance / n_fraction / spectrum_exponent (Fig. 1A-B) ---


def test_cumulative_variance_by_hand():
    variances = np.array([100.0, 5.0, 3.0, 1.0, 1.0])  # modes 2..5 sum to 10
    n, c = cumulative_variance(variances)
    np.testing.assert_array_equal(n, [2, 3, 4, 5])
    np.testing.assert_allclose(c, [0.5, 0.8, 0.9, 1.0], rtol=1e-15)
    assert n_fraction(variances, 0.9) == 4
    assert n_fraction(variances, 0.85) == 4
    assert n_fraction(variances, 0.8) == 3
    assert n_fraction(variances, 0.3) == 2
    assert n_fraction(variances, 1.0) == 5


@pytest.mark.parametrize("variances", [[1.0], [1.0, 2.0, 0.5], [3.0, -1.0], [1.0, 0.0, 0.0]])
def test_cumulative_variance_rejects_bad_spectra(variances):
    with pytest.raises(ValueError):
        cumulative_variance(np.array(variances))


def test_n_fraction_rejects_bad_fraction():
    with pytest.raises(ValueError):
        n_fraction(np.array([3.0, 2.0, 1.0]), 1.5)


def test_spectrum_exponent_uses_strict_rank_window():
    rank = np.arange(1, 501, dtype=float)
    v = rank**-2.6
    v[rank <= 20] = 10 * 20**-2.6  # plateau, would bias the fit if rank 20 were included
    v[rank >= 200] = 0.1 * 200**-2.6 * (rank[rank >= 200] / 200) ** -6  # faster tail, from rank 200 on
    gamma, stderr = spectrum_exponent(v)
    assert gamma == pytest.approx(2.6, abs=1e-9) and stderr < 1e-6
    with pytest.raises(ValueError, match="ranks"):
        spectrum_exponent(v[:22])  # only rank 21 in (20, 200)


# --- velocity autocorrelation, persistence and MSD (brief 3.7) ---


def ar1_velocity(tau: float, n: int, seed: int) -> np.ndarray:
    """Stationary AR(1) velocity with unit variance and ``chi(lag) = exp(-lag / tau)``."""
    rng = np.random.default_rng(seed)
    r = math.exp(-1 / tau)
    return lfilter(
        [1.0], [1.0, -r], math.sqrt(1 - r**2) * rng.standard_normal(n), zi=[r * rng.standard_normal()]
    )[0]


def test_velocity_autocorrelation_of_ar1_matches_exponential():
    tau = 20.0
    v = ar1_velocity(tau, 200_000, seed=4)
    theta = np.concatenate([[0.0], np.cumsum(v)])  # np.diff(theta) == v
    chi = velocity_autocorrelation(theta, 60)
    lag = np.arange(61)
    # Standard error of chi(lag) ~ sqrt(2 tau / n) = 0.014; 0.05 is > 3 sigma.
    np.testing.assert_allclose(chi, np.exp(-lag / tau), atol=0.05)
    assert persistence_time(chi) == pytest.approx(tau, rel=0.1)
    white = velocity_autocorrelation(random_walk(200_000, 1, seed=5)[:, 0], 60)
    assert persistence_time(white) < 1.0 and persistence_time(chi) > 10


def test_velocity_autocorrelation_raw_keeps_drift_centred_removes_it():
    rng = np.random.default_rng(6)
    v = 1.0 + rng.standard_normal(100_000)  # speed 1 plus unit white noise
    theta = np.concatenate([[0.0], np.cumsum(v)])
    raw = velocity_autocorrelation(theta, 50)
    centred = velocity_autocorrelation(theta, 50, centred=True)
    assert raw[0] == pytest.approx(1.0) and centred[0] == pytest.approx(1.0)
    np.testing.assert_allclose(raw[1:], 0.5, atol=0.02)  # plateau v^2 / (v^2 + s^2) = 1/2
    np.testing.assert_allclose(centred[1:], 0.0, atol=0.02)  # 1/sqrt(1e5) = 0.003 standard error
    assert math.isnan(persistence_time(raw))  # never falls below 1/e


def test_velocity_autocorrelation_rejects_bad_input():
    with pytest.raises(ValueError, match="max_lag"):
        velocity_autocorrelation(np.arange(10.0), 9)
    with pytest.raises(ValueError, match="constant"):
        velocity_autocorrelation(np.ones(10), 3)


def test_persistence_time_interpolates():
    level = 1 / math.e
    assert persistence_time(np.array([1.0, 0.5, 0.3, 0.1])) == pytest.approx(1 + (0.5 - level) / 0.2)
    assert persistence_time(np.array([0.2, 0.1])) == 0.0
    assert math.isnan(persistence_time(np.array([1.0, 0.9, 0.8])))
    assert persistence_time(np.array([1.0, 0.6, 0.4]), level=0.5) == pytest.approx(1.5)


def test_msd_closed_forms():
    theta = 0.3 * np.arange(100.0)  # pure drift: MSD = v^2 tau^2 exactly
    lags = np.array([1, 2, 5, 10, 40])
    np.testing.assert_allclose(mean_squared_displacement(theta, lags), 0.09 * lags**2, rtol=1e-12)
    assert msd_exponent(theta, lags) == pytest.approx(2.0, abs=1e-12)


def test_msd_exponent_ballistic_vs_diffusive():
    rng = np.random.default_rng(8)
    lags = np.unique(np.geomspace(50, 500, 12).astype(int))
    drifting = np.cumsum(1.0 + rng.standard_normal(100_000))  # MSD = tau^2 + tau: slope 2 - O(1/tau)
    assert msd_exponent(drifting, lags) == pytest.approx(2.0, abs=0.05)
    diffusive = random_walk(100_000, 1, seed=9)[:, 0]  # MSD = tau
    assert msd_exponent(diffusive, np.unique(np.geomspace(1, 100, 12).astype(int))) == pytest.approx(
        1.0, abs=0.05
    )


@pytest.mark.parametrize("lags", [np.array([0, 2]), np.array([1, 10]), np.array([1.5, 2]), np.array([2, 2])])
def test_msd_rejects_bad_lags(lags):
    with pytest.raises(ValueError):
        msd_exponent(np.arange(10.0) ** 2, lags)
