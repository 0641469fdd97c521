"""Exponential-wall toy model (Jules et al. Sec. IV, S5): closed forms against quadrature, the
asymptotics of Eq. 11 / S20-S24, and a 1-D Langevin run."""

import re
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy import integrate, stats

from thermoscape.studies.jules import toy_model as tm
from thermoscape.core.config import ConfigError, validate_config

# (a, B, theta_*): Fig. 4's B = 1, theta_* = 20, a steep wall close by, and a shallow one far away.
PARAMS = [(1.0, 1.0, 20.0), (3.0, 0.5, 5.0), (0.5, 2.0, 30.0)]
# With the walls above, c = B e^(-a theta_*) / T spans 1e-11 (deep in the regime of Eq. 11) to 6.
TEMPERATURES = [1e-7, 1e-4, 1e-2, 1.0]
MOMENTS = ("mean", "variance", "curvature")


def wall_temperature(c: float, a: float, B: float, theta_star: float) -> float:
    """The T at which the wall parameter ``B e^(-a theta_*) / T`` equals ``c``."""
    return B * np.exp(-a * theta_star) / c


@pytest.mark.parametrize("a, B, theta_star", PARAMS)
@pytest.mark.parametrize("T", TEMPERATURES)
def test_partition_function_eq_s18_is_the_integral_eq_s17(T, a, B, theta_star):
    theta_T = np.log(T / B) / a  # the density drops around here; quad needs to know

    def weight(theta: float) -> float:
        return np.exp(-B * np.exp(a * theta) / T)

    z = integrate.quad(weight, -theta_star, theta_T, epsrel=1e-12)[0]
    z += integrate.quad(weight, theta_T, theta_T + 40.0 / a, epsrel=1e-12)[0]  # weight e^(-e^40) beyond
    assert tm.partition_function(T, a, B, theta_star, theta0=0.5) == pytest.approx(z / 0.5, rel=1e-9)
    assert tm.log_partition_function(T, a, B, theta_star, theta0=0.5) == pytest.approx(
        np.log(z / 0.5), rel=1e-10, abs=1e-10
    )


@pytest.mark.parametrize("a, B, theta_star", PARAMS)
@pytest.mark.parametrize("T", TEMPERATURES)
def test_closed_forms_match_quadrature_of_the_boltzmann_density(T, a, B, theta_star):
    exact = tm.closed_form_moments(T, a, B, theta_star, theta0=0.3)
    numeric = tm.boltzmann_quadrature(T, a, B, theta_star, loss="exponential", theta0=0.3)
    for name in MOMENTS:
        assert getattr(exact, name) == pytest.approx(getattr(numeric, name), rel=1e-9), name
    assert exact.entropy == pytest.approx(numeric.entropy, rel=1e-9, abs=1e-9)
    assert exact.curvature == pytest.approx(a**2 * exact.mean, rel=1e-12)  # l'' = a^2 l (Eq. S21)


@pytest.mark.parametrize("c", [1e3, 1e5])
def test_wall_dominated_limit_beyond_e1_underflow(c):
    """For c >> 1 the walkers sit at the wall: l - l_wall ~ Exponential(T), so mu ~ l_wall + T and
    sigma ~ T (E1 underflows for c > ~700; log Z must stay finite)."""
    a, B, theta_star = 2.0, 1.0, 4.0
    T = wall_temperature(c, a, B, theta_star)
    wall = c * T
    assert tm.mean_loss(T, a, B, theta_star) == pytest.approx(wall + T, rel=2.0 / c**2)
    assert tm.loss_variance(T, a, B, theta_star) == pytest.approx(T**2, rel=4.0 / c)
    # log Z = log E1(c) - log a, and E1(c) ~ e^-c / (c + 1) up to O(1/c^3)
    assert tm.log_partition_function(T, a, B, theta_star) == pytest.approx(
        -c - np.log(c + 1.0) - np.log(a), abs=2.0 / c**2
    )


@pytest.mark.parametrize("a, B, theta_star", PARAMS[:2])
@pytest.mark.parametrize("T", [1e-7, 1e-3])
def test_density_is_normalised_and_cdf_matches_it(T, a, B, theta_star):
    """Fig. 4's p(theta) integrates to 1 (Simpson on a fine grid up to where l >> T) and, for the
    exponential loss, accumulates to the closed-form CDF 1 - E1(beta l) / E1(c)."""
    grid = np.linspace(-theta_star, np.log(T / B) / a + 40.0 / a, 40_001)
    for loss in ("exact", "exponential"):
        p = tm.boltzmann_density(grid, T, a, B, theta_star, loss)
        assert integrate.simpson(p, x=grid) == pytest.approx(1.0, rel=1e-9)
        assert tm.boltzmann_density(-theta_star - 1e-9, T, a, B, theta_star, loss) == 0.0
    mass = integrate.cumulative_simpson(p, x=grid, initial=0.0)
    np.testing.assert_allclose(tm.cdf_exponential(grid, T, a, B, theta_star), mass, rtol=1e-7, atol=1e-12)


def test_fluctuation_relation_eq_s1_and_entropy_definition():
    """sigma^2 = T^2 dmu/dT (Eq. S1) and S = d(T log Z)/dT (above Eq. S23), by central differences."""
    a, B, theta_star = 3.0, 0.5, 5.0
    for c in (1e-6, 1e-2, 1.0, 30.0):
        T = wall_temperature(c, a, B, theta_star)
        h = 1e-5 * T
        dmu_dT = (tm.mean_loss(T + h, a, B, theta_star) - tm.mean_loss(T - h, a, B, theta_star)) / (2 * h)
        assert tm.loss_variance(T, a, B, theta_star) == pytest.approx(T**2 * dmu_dT, rel=1e-7)
        free = [t * tm.log_partition_function(t, a, B, theta_star, theta0=2.0) for t in (T - h, T + h)]
        assert tm.entropy(T, a, B, theta_star, theta0=2.0) == pytest.approx(
            (free[1] - free[0]) / (2 * h), rel=1e-7, abs=1e-8
        )


@pytest.mark.parametrize("c", [1e-2, 1e-3, 1e-4])
def test_eq11_s20_s22_s23_hold_up_to_order_c(c):
    """Eq. 11 / S20, S22, S23 drop terms of relative order c = B e^(-a theta_*) / T; for the mean and
    curvature the leading error is c (1 + 1/D), from E1(c) = D + c + O(c^2) and e^-c = 1 - c + ..."""
    a, B, theta_star = 1.0, 1.0, 20.0
    T = wall_temperature(c, a, B, theta_star)
    exact = tm.closed_form_moments(T, a, B, theta_star)
    approx = tm.asymptotic_moments(T, a, B, theta_star)
    D = tm.log_denominator(T, a, B, theta_star)
    assert D == pytest.approx(-np.euler_gamma - np.log(c))
    for name in MOMENTS:
        assert abs(getattr(approx, name) / getattr(exact, name) - 1.0) < 2.0 * c, name
    assert (approx.mean / exact.mean - 1.0) / c == pytest.approx(1.0 + 1.0 / D, abs=2.0 * c)
    assert abs(approx.entropy - exact.entropy) < c


def test_eq_s19_sign():
    """a theta_0 Z = E1(c) = -(log c + gamma) + c + O(c^2) > 0; S19 as printed is its negative."""
    a, B, theta_star, theta0 = 1.0, 1.0, 20.0, 1.0
    for c in (1e-3, 1e-2):
        T = wall_temperature(c, a, B, theta_star)
        scaled_z = a * theta0 * tm.partition_function(T, a, B, theta_star, theta0)
        assert scaled_z == pytest.approx(-(np.log(c) + np.euler_gamma) + c, abs=c**2)
        printed_s19 = np.log(c) + np.euler_gamma - c
        assert printed_s19 < 0 < scaled_z


def test_mean_loss_std_and_curvature_are_linear_in_T_up_to_logs():
    """Eq. 11 (a theta_* >> 1, c << 1): d log X / d log T = 1 - 1/D for mu and <l''> and
    1 + 1/(2 (D - 1)) - 1/D for sigma, within 1% of 1 over five decades when D ~ 190."""
    a, B, theta_star = 10.0, 1.0, 20.0
    T = np.geomspace(1e-6, 1e-1, 11)
    D = tm.log_denominator(T, a, B, theta_star)
    predicted = {"mean": 1 - 1 / D, "std": 1 + 1 / (2 * (D - 1)) - 1 / D, "curvature": 1 - 1 / D}
    step = 1e-4
    up = tm.closed_form_moments(T * np.exp(step), a, B, theta_star)
    down = tm.closed_form_moments(T * np.exp(-step), a, B, theta_star)
    for name, slope in predicted.items():
        local = (np.log(getattr(up, name)) - np.log(getattr(down, name))) / (2 * step)
        np.testing.assert_allclose(local, slope, atol=1e-6, err_msg=name)
        np.testing.assert_array_less(np.abs(local - 1.0), 0.01)
        fit = np.polyfit(np.log(T), np.log(getattr(tm.closed_form_moments(T, a, B, theta_star), name)), 1)[0]
        assert fit == pytest.approx(1.0, abs=0.01), name
    # the log correction is visible when the wall is close: D ~ 5 gives slopes ~ 0.8
    close = tm.log_denominator(1e-6, 1.0, 1.0, 20.0)
    assert 1 - 1 / close < 0.85


def test_entropy_eq_s24_is_the_large_cutoff_expansion_of_s23():
    """S24 drops O(eps^2, eps / (a theta_*)) from S23, with eps = (log(T/B) - gamma) / (a theta_*);
    the entropy grows logarithmically with T, with slope 1 / (a theta_*)."""
    a, B, theta_star = 10.0, 1.0, 20.0
    T = np.geomspace(1e-6, 1e-1, 6)
    eps = (np.log(T / B) - np.euler_gamma) / (a * theta_star)
    s24 = tm.entropy_expanded(T, a, B, theta_star, theta0=0.1)
    s23 = tm.asymptotic_moments(T, a, B, theta_star, theta0=0.1).entropy
    exact = tm.entropy(T, a, B, theta_star, theta0=0.1)
    bound = eps**2 / 2 + np.abs(eps) / (a * theta_star)
    np.testing.assert_array_less(np.abs(s23 - s24), 1.1 * bound)
    np.testing.assert_array_less(np.abs(exact - s24), 1.1 * bound)
    slope = np.diff(exact) / np.diff(np.log(T))  # dS/dlog T = 1/D - 1/D^2 from S23; 1/(a theta_*) in S24
    D = tm.log_denominator(np.sqrt(T[1:] * T[:-1]), a, B, theta_star)
    np.testing.assert_allclose(slope, 1 / D - 1 / D**2, rtol=1e-3)
    np.testing.assert_allclose(slope, 1 / (a * theta_star), rtol=0.1)


@pytest.mark.parametrize("T", [1e-4, 1e-3, 1e-2])
def test_exponential_loss_approximates_softplus_to_order_T(T):
    """Eq. 10: log(1 + B e^(a theta)) = B e^(a theta) (1 + O(l)); with l ~ T the moments differ by O(T)."""
    a, B, theta_star = 1.0, 1.0, 20.0
    softplus = tm.boltzmann_quadrature(T, a, B, theta_star, loss="exact")
    exponential = tm.closed_form_moments(T, a, B, theta_star)
    for name in MOMENTS:
        assert abs(getattr(softplus, name) / getattr(exponential, name) - 1.0) < 1.5 * T, name
    assert softplus.mean / exponential.mean - 1.0 > 0.25 * T  # the O(T) difference is really there


def test_quadratic_approximation_of_fig4():
    """p_Q expands l at theta_0 with l(theta_0) = mu(T): a Gaussian of variance T / l''(theta_0)."""
    a, B, theta_star, T = 1.0, 1.0, 20.0, 0.1
    mu = tm.mean_loss(T, a, B, theta_star)
    q = tm.quadratic_approximation(T, a, B, theta_star, loss="exponential")
    assert tm.loss_value(q.expansion_point, a, B, "exponential") == pytest.approx(mu, rel=1e-12)
    assert q.std == pytest.approx(np.sqrt(T / (a**2 * mu)), rel=1e-12)
    assert q.centre == pytest.approx(q.expansion_point - 1 / a, rel=1e-12)
    flat = tm.quadratic_approximation(T, a, B, theta_star, loss="exponential", linear_term=False)
    assert flat.centre == q.expansion_point
    exact = tm.quadratic_approximation(T, a, B, theta_star, loss="exact")
    mu_exact = tm.boltzmann_quadrature(T, a, B, theta_star, loss="exact").mean
    assert tm.loss_value(exact.expansion_point, a, B, "exact") == pytest.approx(mu_exact, rel=1e-10)
    assert integrate.quad(q.pdf, -np.inf, np.inf)[0] == pytest.approx(1.0, rel=1e-8)


def test_langevin_reproduces_the_boltzmann_distribution():
    """Eq. 7 with a reflecting wall at -theta_*, started at theta_T: after burn-in the time-averaged
    loss mean and variance match Eq. S18's closed forms within 4 standard errors (walkers are
    independent), and the walkers' final positions pass a KS test against the closed-form CDF."""
    a, B, theta_star, T = 2.0, 1.0, 4.6, 0.01  # c = 0.01, D = 4
    ds = 0.01  # time step in units of 1 / (a^2 T), the relaxation time of the wall
    eta = ds / (a**2 * T)
    burn, run, every = int(15 / ds), int(40 / ds), int(0.5 / ds)
    theta = tm.langevin_1d(
        T, a, B, theta_star, eta, burn + run, seed=12345, n_walkers=2000, record_every=every
    )
    assert theta.min() >= -theta_star
    loss = tm.loss_value(theta[burn // every :], a, B, "exponential")
    n = loss.shape[1]
    mean, second = loss.mean(), (loss**2).mean()
    variance = second - mean**2
    expected = tm.closed_form_moments(T, a, B, theta_star)
    mean_se = loss.mean(0).std(ddof=1) / np.sqrt(n)
    variance_se = ((loss**2).mean(0) - 2 * mean * loss.mean(0)).std(ddof=1) / np.sqrt(n)  # delta method
    assert abs(mean - expected.mean) < 4 * mean_se
    assert abs(variance - expected.variance) < 4 * variance_se
    assert mean_se < 0.03 * expected.mean  # the check has teeth
    ks = stats.kstest(theta[-1], lambda x: tm.cdf_exponential(x, T, a, B, theta_star))
    assert ks.pvalue > 1e-3


# --------------------------------------------------------------------------------------------------
# The checks in the form the workflow runs them: Eq. 11 / S20-S23 against quadrature of the
# paper's own loss (the softplus of Eq. 10), and the Langevin sampler of the rule against the density.
# --------------------------------------------------------------------------------------------------

REGIME = [(1.0, 1.0, 20.0), (3.0, 0.5, 8.0)]  # a theta_* = 20 and 24


@pytest.mark.parametrize("a, B, theta_star", REGIME)
@pytest.mark.parametrize("T", [1e-6, 1e-4, 1e-3, 1e-2])
def test_eq11_agrees_with_quadrature_of_the_softplus_in_the_stated_regime(T, a, B, theta_star):
    """a theta_* >> 1 and T << 1 (c = B e^(-a theta_*) / T << 1): Eq. 11 (mu, sigma, <l''>) and S23
    match the quadrature of p ~ exp(-log(1 + B e^(a theta)) / T) up to the dropped O(c) and O(T)."""
    c = float(tm.wall_parameter(T, a, B, theta_star))
    assert c < 0.01
    asymptotic = tm.asymptotic_moments(T, a, B, theta_star)
    numeric = tm.boltzmann_quadrature(T, a, B, theta_star, loss="exact")
    for name in MOMENTS + ("std",):
        assert abs(getattr(asymptotic, name) / getattr(numeric, name) - 1.0) < 2.0 * c + 1.5 * T, name
    assert abs(asymptotic.entropy - numeric.entropy) < 2.0 * c + 1.5 * T


@pytest.mark.parametrize("T, outside", [(1e-8, "c"), (0.5, "T")])
def test_eq11_fails_outside_its_regime(T, outside):
    """The same comparison has teeth: with c ~ 0.2 (wall too close, a theta_* + log(T/B) ~ 1) or T ~ 1
    (the exponential no longer approximates the softplus) Eq. 11 is off by more than 10%."""
    a, B, theta_star = 1.0, 1.0, 20.0
    asymptotic = tm.asymptotic_moments(T, a, B, theta_star)
    numeric = tm.boltzmann_quadrature(T, a, B, theta_star, loss="exact")
    worst = max(abs(getattr(asymptotic, q) / getattr(numeric, q) - 1.0) for q in MOMENTS)
    assert worst > 0.1, outside


@pytest.mark.parametrize("T", [1e-6, 1e-2, 0.5])
def test_boltzmann_cdf_of_both_losses(T):
    """boltzmann_cdf: closed form for the exponential loss; for the softplus it matches quad at points."""
    a, B, theta_star = 1.0, 1.0, 20.0
    theta = np.array([-25.0, -theta_star, -15.0, np.log(T) - 1.0, np.log(T), np.log(T) + 2.0, 50.0])
    np.testing.assert_allclose(tm.boltzmann_cdf(theta, T, a, B, theta_star, "exponential"),
                               tm.cdf_exponential(theta, T, a, B, theta_star))
    norm = integrate.quad(lambda t: tm.boltzmann_density(t, T, a, B, theta_star), -theta_star, 60.0,
                          points=[np.log(T)], limit=200)[0]
    expected = [0.0 if t <= -theta_star else
                integrate.quad(lambda s: tm.boltzmann_density(s, T, a, B, theta_star), -theta_star, min(t, 60.0),
                               points=[np.log(T)] if -theta_star < np.log(T) < t else None, limit=200)[0] / norm
                for t in theta]
    np.testing.assert_allclose(tm.boltzmann_cdf(theta, T, a, B, theta_star, "exact"), expected, atol=1e-7)


def test_softplus_langevin_histogram_matches_the_boltzmann_density():
    """The rule's sampler on the softplus of Eq. 10: walkers started where l = T pass a KS test against
    the quadrature CDF, their histogram matches p(theta) bin by bin (chi-square on the final positions),
    and the time-averaged mu, sigma, <l''> agree with quadrature within 4 standard errors. The same
    sample fails the KS test against the density at 1.5 T (the test can tell)."""
    a, B, theta_star, T = 2.0, 1.0, 4.6, 0.01  # c = 0.01, D = 4: the flat region relaxes in ~2 units
    settings = tm.LangevinSettings(walkers=3000, time_step=0.02, burn_in=20.0, duration=30.0, loss="exact")
    sample = tm.sample_langevin(T, a, B, theta_star, settings, seed=tm.langevin_seed(7, T))
    assert sample.steady.min() >= -theta_star and sample.steady.shape == (30, 3000)
    measured = tm.langevin_statistics(sample, a, B, theta_star, "exact")
    assert measured["ks_pvalue"] > 1e-3
    expected = tm.boltzmann_quadrature(T, a, B, theta_star, loss="exact")
    for q, value in (("mu", expected.mean), ("sigma", expected.std), ("curvature", expected.curvature)):
        assert abs(measured[f"{q}_langevin"] - value) < 4 * measured[f"{q}_langevin_se"], q
        assert measured[f"{q}_langevin_se"] < 0.05 * value, q  # the check has teeth
    edges = np.linspace(-theta_star, np.log(T / B) / a + 3.0 / a, 13)
    counts, _ = np.histogram(sample.final, bins=np.append(edges, np.inf))
    probabilities = np.diff(tm.boltzmann_cdf(np.append(edges, np.inf), T, a, B, theta_star, "exact"))
    assert stats.chisquare(counts, probabilities * counts.sum()).pvalue > 1e-3
    hotter = stats.kstest(sample.final, lambda x: tm.boltzmann_cdf(x, 1.5 * T, a, B, theta_star, "exact"))
    assert hotter.pvalue < 1e-6


def test_langevin_settings_and_seeds():
    """Times in units of 1/(a^2 T): eta = time_step / (a^2 T), split into ceil(c^2) substeps against a
    steep wall; burn-in and run are whole records; a temperature's seed does not depend on the grid."""
    s = tm.LangevinSettings(walkers=10, time_step=0.02, burn_in=1.01, duration=0.5, record_interval=0.1)
    assert s.eta(1e-3, 2.0) == pytest.approx(0.02 / (4 * 1e-3))
    assert (s.record_every(), s.burn_in_steps(), s.n_steps()) == (5, 50, 75)
    assert (s.record_every(3), s.burn_in_steps(3), s.n_steps(3), s.eta(1.0, 1.0, 3)) == (15, 150, 225, 0.02 / 3)
    assert s.substeps(0.2) == 1 and s.substeps(1.0) == 1 and s.substeps(3.1) == 10
    assert tm.langevin_seed(1, 1e-3) == tm.langevin_seed(1, 0.001) != tm.langevin_seed(1, 1e-2)
    a = tm.sample_langevin(1e-3, 1.0, 1.0, 10.0, s, seed=3)  # c = 0.05: no substeps
    b = tm.sample_langevin(1e-3, 1.0, 1.0, 10.0, s, seed=3)
    np.testing.assert_array_equal(a.steady, b.steady)
    assert a.steady.shape == (5, 10) and a.n_steps == 75


def test_workflow_tables():
    """summary_table: one row per T, every method finite, closed form = quadrature (exponential), the
    regime flag; density_table: normalised densities and histograms, p_Q and the expansion point."""
    a, B, theta_star = 1.0, 1.0, 8.0
    temperatures, shown = [1.1e-4, 1e-2], [1e-3, 1e-2]
    settings = tm.LangevinSettings(walkers=200, time_step=0.05, burn_in=20.0, duration=10.0)
    samples = {T: tm.sample_langevin(T, a, B, theta_star, settings, tm.langevin_seed(0, T))
               for T in sorted(set(temperatures) | set(shown))}
    table = tm.summary_table(temperatures, a, B, theta_star, 1.0, samples, "exact", 0.05, 0.05)
    assert list(table["temperature"]) == temperatures
    numeric = table.select_dtypes("number")
    outside = numeric.drop(columns=[c for c in numeric if "asymptotic" in c])  # Eq. 11 needs D > 1
    assert np.isfinite(outside.to_numpy()).all() and np.isfinite(numeric[table["in_regime"]].to_numpy()).all()
    assert np.isnan(table["sigma_asymptotic"].iloc[0])  # D = a theta_* - gamma + log(T/B) < 0 there
    # walkers pressed against a steep wall (c = 3.1): ten substeps keep the sampler accurate
    assert samples[1.1e-4].eta == pytest.approx(0.05 / (1.1e-4 * 10))
    assert table["dev_langevin"].max() < 0.1 and (table["ks_pvalue"] > 1e-3).all()
    assert (table["dev_closed_quadrature"] < 1e-9).all()
    assert list(table["in_regime"]) == [False, True]  # c = e^-8 / 1.1e-4 = 3.05 and 0.034
    np.testing.assert_allclose(table["mu_closed"], tm.mean_loss(np.array(temperatures), a, B, theta_star))
    np.testing.assert_allclose(table["entropy_s24"], tm.entropy_expanded(np.array(temperatures), a, B, theta_star))
    assert (table["langevin_loss"] == "softplus").all()

    density = tm.density_table(shown, 0.1, a, B, theta_star, samples, "exact", bins=30)
    assert set(density["curve"]) == {"loss", "loss_exponential", "loss_quadratic", "quadratic", "boltzmann",
                                     "langevin", "mean_loss"}
    for T in shown:
        p = density[(density["curve"] == "boltzmann") & (density["temperature"] == T)]
        assert integrate.trapezoid(p["value"], p["theta"]) == pytest.approx(1.0, abs=2e-3)
        h = density[(density["curve"] == "langevin") & (density["temperature"] == T)]
        assert len(h) == 30 and (h["value"] * h["bin_width"]).sum() == pytest.approx(1.0, abs=1e-3)
    point = density[(density["curve"] == "mean_loss") & (density["temperature"] == 0.1)]
    q = tm.quadratic_approximation(0.1, a, B, theta_star, "exact")
    assert point["theta"].iloc[0] == pytest.approx(q.expansion_point)
    loss_q = density[density["curve"] == "loss_quadratic"]
    at = np.argmin(np.abs(loss_q["theta"].to_numpy() - q.expansion_point))
    assert loss_q["value"].iloc[at] == pytest.approx(point["value"].iloc[0], rel=0.05)  # l_Q(theta_0) = mu


@pytest.mark.parametrize("keys, value, message", [
    (("langevin", "time_step"), 0.0, "jules.toy_model.langevin.time_step: 0.0 is less than or equal to the minimum"),
    (("figure", "temperatures"), [1e-3, -1e-2], "jules.toy_model.figure.temperatures[1]: -0.01 is less than"),
    (("loss",), "quadratic", "jules.toy_model.loss: 'quadratic' is not one of"),
    (("theta_star",), -20.0, "jules.toy_model.theta_star: -20.0 is less than or equal to the minimum"),
])
def test_toy_model_config_errors_name_the_key(keys, value, message):
    """Invalid toy-model settings fail validation with the dotted key; absent ones take the defaults."""
    root = Path(__file__).resolve().parents[1]
    schema = root / "workflow" / "schemas" / "config.schema.yaml"
    config = yaml.safe_load((root / "config" / "config.yaml").read_text())
    defaults = validate_config(config, schema)["jules"]["toy_model"]
    del config["jules"]["toy_model"]
    assert validate_config(config, schema)["jules"]["toy_model"] == defaults
    config["jules"]["toy_model"] = block = {}
    for key in keys[:-1]:
        block = block.setdefault(key, {})
    block[keys[-1]] = value
    with pytest.raises(ConfigError, match=re.escape(message)):
        validate_config(config, schema)
