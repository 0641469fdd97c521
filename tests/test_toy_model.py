"""Exponential-wall toy model (Jules et al. Sec. IV, S5): closed forms against quadrature, the
asymptotics of Eq. 11 / S20-S24, and a 1-D Langevin run."""

import numpy as np
import pytest
from scipy import integrate, stats

from thermoscape import toy_model as tm

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
