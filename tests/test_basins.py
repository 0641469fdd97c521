import numpy as np
import pytest
import torch
from conftest import quadratic

from thermoscape.studies.bradley.basins import (
    BasinLoss,
    Diffusion,
    basin_edges,
    basin_probabilities,
    basin_tables,
    effective_potential,
    evaluate_grid,
    expectation,
    laplace_weights,
    parabola_vertex,
    steady_state,
)
from thermoscape.studies.bradley.basins_langevin import ParticleLandscape, ks_test, langevin_check, simulate_particles
from thermoscape.dynamics.langevin import Chain, Schedule, advance, start_state

# brief 3.1, parameter table
CASES = {
    "fig4_left": BasinLoss((-1, 1), (0.021, 0.1), (0.1, 0.5), 0.001, 0.1),
    "fig4_right": BasinLoss((-1, 1), (0.019, 0.1), (0.1, 0.5), 0.001, 0.1),
    "fig6_left": BasinLoss((0,), (0.1,), (0.1,), 0.001, 0.03),
    "fig6_right": BasinLoss((-1, 0, 1), (0.1, 0.051, 0.3), (0.1, 0.05, 0.3), 0.001, 0.1),
}
TOY = BasinLoss((-2, 2), (0.1, 0.2), (0.2, 0.4), 0.001, 0.1)  # two well-separated, Gaussian-like wells
TEMPERATURES = np.logspace(-4, -1, 13)
POINTS = 20_001  # h = 4e-4: converged to ~1e-5 (test_grid_convergence)
# the Euler-Maruyama check: symmetric wells, so the basin asymmetry comes from D = 0.5 + 0.4 tanh(theta) only;
# relaxation time across the basins ~5 at T = 0.5 (the mixing measurement in the report)
EM_LOSS = BasinLoss((-1, 1), (0.5, 0.5), (0.5, 0.5), 0.3, 0.1)
EM_DIFFUSION = Diffusion(0.5, 0.4)
EM_T = 0.5


@pytest.fixture(scope="module")
def tables():
    return {name: basin_tables(loss, TEMPERATURES, points=POINTS) for name, loss in CASES.items()}


def test_loss_derivatives_match_finite_differences_and_autograd():
    loss = CASES["fig6_right"]
    theta, h = np.linspace(-2, 2, 81), 1e-5
    assert np.allclose(loss.train(theta, 1), (loss.train(theta + h) - loss.train(theta - h)) / (2 * h), atol=1e-7)
    assert np.allclose(loss.train(theta, 2), (loss.train(theta + h, 1) - loss.train(theta - h, 1)) / (2 * h), atol=1e-5)
    assert np.array_equal(loss.test(theta), loss.train(theta + 0.1))
    x = torch.tensor(theta, requires_grad=True)
    loss.train(x).sum().backward()
    assert np.allclose(x.grad.numpy(), loss.train(theta, 1), rtol=1e-12, atol=1e-15)


def test_c_role_diffusion_only_rescales_the_temperature():
    """brief 3.1: with c the constant D (no quadratic), rho_T equals the D = 1 density at T c."""
    as_d = BasinLoss((-1, 1), (0.021, 0.1), (0.1, 0.5), 0.001, 0.1, c_role="diffusion")
    unit_d = BasinLoss((-1, 1), (0.021, 0.1), (0.1, 0.5), 0.0, 0.1)
    assert as_d.quadratic == 0.0 and as_d.constant_diffusion == 0.001
    for temperature in (1e-2, 1.0, 50.0):
        rho = evaluate_grid(as_d, (-4, 4), POINTS).density(temperature)
        assert np.allclose(rho, evaluate_grid(unit_d, (-4, 4), POINTS).density(temperature * 0.001), rtol=1e-9)


@pytest.mark.parametrize("temperature", [1e-4, 0.05, 0.5])
@pytest.mark.parametrize("potential", ["1+theta^2", "multi-well"])
def test_app_b1_closed_form_for_d_equal_to_u(potential, temperature):
    """App. B.1 example 1: D = U (U > 0) gives v = (1 + T/2) log U and rho ~ U^-(1 + 2/T).

    Cumulative Simpson is 4th order: the error in v is 5e-10 at 20001 points, 3e-11 at 40001 (multi-well).
    """
    theta = np.linspace(-4, 4, 2 * POINTS - 1)
    if potential == "1+theta^2":
        u, du = 1 + theta**2, 2 * theta
    else:
        u, du = 1 + CASES["fig6_right"].train(theta), CASES["fig6_right"].train(theta, 1)
    v = effective_potential(theta, du, u, du, temperature)
    assert np.allclose(v, (1 + temperature / 2) * np.log(u / u[0]), rtol=0, atol=1e-10)
    rho = steady_state(theta, v, temperature)
    log_exact = -(1 + 2 / temperature) * np.log(u)
    exact = np.exp(log_exact - log_exact.max())
    exact /= np.trapezoid(exact, theta)
    assert np.allclose(rho, exact, rtol=0, atol=1e-6 * exact.max())
    assert np.all(np.isfinite(rho)) and np.trapezoid(rho, theta) == pytest.approx(1, abs=1e-12)


def test_constant_d_reduces_v_to_u_over_d():
    """Footnote 3: v = U / D + const, whatever T (D' = 0)."""
    grid = evaluate_grid(CASES["fig6_right"], (-4, 4), POINTS, Diffusion(2.5))
    for temperature in (1e-4, 0.1):
        assert np.allclose(grid.potential(temperature), (grid.u_train - grid.u_train[0]) / 2.5, rtol=0, atol=1e-9)


def test_steady_state_does_not_overflow_at_the_smallest_temperature():
    grid = evaluate_grid(CASES["fig6_right"], (-4, 4), POINTS)
    rho = grid.density(1e-4)
    assert np.all(np.isfinite(rho)) and rho.max() > 0
    assert grid.theta[np.argmax(rho)] == pytest.approx(0, abs=1e-3)  # the deepest minimum


def test_basin_edges_are_the_maxima_between_minima():
    theta = np.linspace(-4, 4, POINTS)
    u = CASES["fig6_right"].train(theta)
    minima, edges = basin_edges(u)
    assert theta[minima] == pytest.approx([-1, 0, 1], abs=0.01)
    assert edges[0] == 0 and edges[-1] == POINTS - 1
    for lo, hi, inner in zip(minima[:-1], minima[1:], edges[1:-1], strict=True):
        assert lo < inner < hi and u[inner] == u[lo : hi + 1].max()
    x, y, curvature = parabola_vertex(theta, (theta - 0.123) ** 2 + 7, int(np.argmin(np.abs(theta - 0.123))))
    assert (x, y) == pytest.approx((0.123, 7), abs=1e-12) and curvature == pytest.approx(2, abs=1e-7)  # y'' h^2 ~ 3e-7


@pytest.mark.parametrize(
    "loss, t_max, tolerance",
    [(CASES["fig6_right"], 0.06, 1e-4), (CASES["fig6_right"], 0.1, 2e-3), (CASES["fig4_left"], 0.02, 5e-4),
     (TOY, 0.02, 2e-5)],
    ids=["fig6_right", "fig6_right-T0.1", "fig4_left", "toy"],
)
def test_laplace_weights_match_the_exact_basin_integrals(loss, t_max, tolerance):
    """Eq. 6 / App. B.2 against int rho over each basin, where the basins are well separated (small T)."""
    grid = evaluate_grid(loss, (-4, 4), POINTS)
    _, edges = basin_edges(grid.u_train)
    for temperature in TEMPERATURES[TEMPERATURES <= t_max]:
        v = grid.potential(temperature)
        exact = basin_probabilities(grid.theta, steady_state(grid.theta, v, temperature), edges)
        assert exact.sum() == pytest.approx(1, abs=1e-12)
        assert np.abs(laplace_weights(grid.theta, v, temperature, edges) - exact).max() < tolerance


def test_laplace_weights_fail_for_merged_basins():
    """The comparison can fail: fig4_left at T = 0.1 is far from the Laplace regime."""
    table = basin_tables(CASES["fig4_left"], [0.1], points=POINTS)["basins"]
    assert np.abs(table["laplace"] - table["probability"]).max() > 0.1


@pytest.mark.parametrize("c_role, d", [("quadratic", 1.0), ("diffusion", 0.5)])
def test_fig6_left_excess_train_loss_is_t_d_over_4(c_role, d):
    """Laplace regime: E[U^tr] - U_k = C Sigma / 2 with Sigma = T D / (2 C), i.e. T D / 4, up to O(T^2)."""
    loss = BasinLoss((0,), (0.1,), (0.1,), 0.001 if c_role == "quadratic" else d, 0.03, c_role=c_role)
    grid = evaluate_grid(loss, (-4, 4), POINTS)
    u_k = parabola_vertex(grid.theta, grid.u_train, int(np.argmin(grid.u_train)))[1]
    for temperature in (1e-4, 3e-4, 1e-3):
        excess = expectation(grid.theta, grid.density(temperature), grid.u_train) - u_k
        assert excess / (temperature * d / 4) == pytest.approx(1, abs=2 * temperature)


def test_fig4_left_test_loss_has_an_interior_optimal_temperature(tables):
    e, b = tables["fig4_left"]["expectations"], tables["fig4_left"]["basins"]
    assert np.all(np.diff(e["expected_train"]) > 0)
    best = int(np.argmin(e["expected_test"]))
    assert 0 < best < len(e) - 1
    assert e["expected_test"].iloc[best] < e["expected_test"].iloc[[0, -1]].min() - 0.01
    wide = b[b["basin"] == 1]["probability"].to_numpy()  # caption: weight moves to the wider minimum at +1
    # ... monotonically while the wells hold the mass; above T ~ 0.05 the c theta^2 bowl takes it (both halves)
    assert wide[0] < 1e-20 and np.all(np.diff(wide[TEMPERATURES <= 0.05]) > 0) and wide.max() > 0.75


@pytest.mark.parametrize("case", ["fig4_right", "fig6_left"])
def test_train_and_test_loss_both_increase_with_t(tables, case):
    e = tables[case]["expectations"]
    assert np.all(np.diff(e["expected_train"]) > 0) and np.all(np.diff(e["expected_test"]) > 0)


def test_fig6_right_mass_moves_to_the_widest_minimum(tables):
    e, b = tables["fig6_right"]["expectations"], tables["fig6_right"]["basins"]
    final = b[b["T"] == TEMPERATURES[-1]].set_index("basin")["probability"]
    first = b[b["T"] == TEMPERATURES[0]].set_index("basin")["probability"]
    assert first[1] > 0.999 and final.idxmax() == 2 and final[2] > 0.5
    assert np.all(np.diff(e["expected_train"]) > 0)
    assert e["expected_test"].iloc[-1] < e["expected_test"].iloc[0] - 0.2  # generalisation improves
    # Eq. 8 is far off here (s = 0.1 is 2 sigma of the narrow basin), as brief 3.1 says
    assert (e["expected_test_eq8"] - e["expected_test"]).abs().max() > 0.3


def test_table_columns_and_thinning():
    t = basin_tables(CASES["fig4_left"], [1e-3, 1e-2], plot_temperatures=[1e-2], points=160_001)
    assert list(t["landscape"].columns) == ["theta", "u_train", "u_test"] and len(t["landscape"]) == 4001
    assert list(t["steady_state"].columns) == ["T", "theta", "rho"] and len(t["steady_state"]) == 4001
    assert np.trapezoid(t["steady_state"]["rho"], t["steady_state"]["theta"]) == pytest.approx(1, abs=1e-6)
    assert list(t["basins"].columns) == ["T", "basin", "location", "probability", "laplace"]
    assert t["basins"]["basin"].dtype == np.int64 and len(t["basins"]) == 4
    assert t["basins"]["location"].iloc[:2].to_numpy() == pytest.approx([-1, 1], abs=0.01)
    assert list(t["expectations"].columns) == ["T", "expected_train", "expected_test", "expected_test_eq8"]


@pytest.mark.parametrize("case", ["fig4_left", "fig6_right"])
def test_grid_convergence(tables, case):
    """Brief 5: converged to ~1e-4; h and h / 2 agree."""
    fine = basin_tables(CASES[case], TEMPERATURES, points=2 * POINTS - 1)
    for name in ("basins", "expectations"):
        coarse_table, fine_table = tables[case][name], fine[name]
        assert np.abs(coarse_table.to_numpy() - fine_table.to_numpy()).max() < 1e-4


def test_non_constant_d_shifts_the_basin_weights():
    """Eq. 5: for symmetric wells, the basin with the smaller D holds more mass."""
    table = basin_tables(EM_LOSS, [EM_T], points=POINTS, diffusion=EM_DIFFUSION)["basins"]
    assert table["probability"].iloc[0] == pytest.approx(0.7072, abs=1e-3)
    assert basin_tables(EM_LOSS, [EM_T], points=POINTS)["basins"]["probability"].iloc[0] == pytest.approx(0.5)


# --------------------------------------------------------------------------------------------------
# Euler-Maruyama with a position-dependent D through the Langevin engine
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def em_samples():
    """Small size: 1000 particles for t = 30 (~6 relaxation times) at eta = 3e-3 (eta max U'' ~ 0.007)."""
    landscape = ParticleLandscape(EM_LOSS, EM_DIFFUSION, 1000, (-2.0, 2.0))
    return simulate_particles(landscape, EM_T, 3e-3, 10_000, (9_999,), seed=0)[0]


def test_euler_maruyama_matches_eq5_with_position_dependent_d(em_samples):
    grid = evaluate_grid(EM_LOSS, (-4, 4), POINTS, EM_DIFFUSION)
    statistic, pvalue = ks_test(em_samples, grid.theta, grid.density(EM_T))
    assert pvalue > 0.05 and statistic < 0.05


def test_euler_maruyama_rejects_the_wrong_steady_state(em_samples):
    """Controls: the constant-D density, and Eq. 5 without its (T/2) D' term (the Ito correction)."""
    constant = evaluate_grid(EM_LOSS, (-4, 4), POINTS, Diffusion(0.5))
    statistic, pvalue = ks_test(em_samples, constant.theta, constant.density(EM_T))
    assert statistic > 0.1 and pvalue < 1e-6
    grid = evaluate_grid(EM_LOSS, (-4, 4), POINTS, EM_DIFFUSION)
    v = effective_potential(grid.theta, grid.du_train, grid.d, 0 * grid.dd, EM_T)
    statistic, pvalue = ks_test(em_samples, grid.theta, steady_state(grid.theta, v, EM_T))
    assert statistic > 0.1 and pvalue < 1e-6


def test_langevin_check_pools_snapshots_into_a_histogram():
    kwargs = {"eta": 3e-3, "steps": 3000, "particles": 300, "snapshots": 3, "spacing": 500, "bins": 40}
    statistic, pvalue, histogram = langevin_check(EM_LOSS, EM_DIFFUSION, EM_T, **kwargs)
    assert list(histogram.columns) == ["theta", "simulated", "theory"] and len(histogram) == 40
    width = histogram["theta"].diff().iloc[1]
    assert histogram["theory"].sum() * width == pytest.approx(1, abs=1e-6)
    assert histogram["simulated"].sum() * width <= 1 + 1e-12
    assert 0 <= statistic < 0.1 and 0 <= pvalue <= 1
    wrong, _, _ = langevin_check(EM_LOSS, EM_DIFFUSION, EM_T, theory=Diffusion(0.5), **kwargs)
    assert wrong > statistic + 0.05
    with pytest.raises(ValueError, match="do not fit"):
        langevin_check(EM_LOSS, EM_DIFFUSION, EM_T, steps=100, snapshots=3, spacing=100)


def test_particle_landscape_follows_the_landscape_protocol():
    landscape = ParticleLandscape(CASES["fig4_left"], EM_DIFFUSION, 50, (-2.0, 2.0))
    theta = landscape.initial_parameters(torch.Generator().manual_seed(0))[None, :].repeat(2, 1)
    assert theta.shape == (2, 50) and theta.min() >= -2 and theta.max() <= 2
    loss, grad = landscape.loss_and_grad(theta)
    x = theta.clone().requires_grad_(True)
    landscape.loss(x).sum().backward()
    assert torch.allclose(grad, x.grad) and torch.allclose(loss, landscape.loss(theta))
    assert torch.allclose(landscape.per_sample_loss(theta).mean(dim=-1), loss)
    assert torch.allclose(landscape.noise_amplitude(theta) ** 2, 0.5 + 0.4 * torch.tanh(theta))


# --------------------------------------------------------------------------------------------------
# The engine extension: noise_amplitude
# --------------------------------------------------------------------------------------------------


class _Amplified:
    """A quadratic landscape with a noise amplitude ``amplitude(theta)``."""

    def __init__(self, base, amplitude):
        self.base, self.amplitude, self.n_params = base, amplitude, base.n_params

    def __getattr__(self, name):
        return getattr(self.base, name)

    def noise_amplitude(self, theta):
        return self.amplitude(theta)


def _run(landscape, n_steps=300):
    chains = [Chain(0.01, 0.05, 3), Chain(0.1, 0.02, 4, (10, 299))]
    state = start_state(torch.full((2, landscape.n_params), 0.3, dtype=torch.float64), chains)
    schedule = Schedule(n_steps=n_steps, record_every=7, snapshot_every=100, noise_block=64)
    return state, advance(landscape, state, chains, schedule, n_steps)


def test_unit_noise_amplitude_is_bit_identical():
    base = quadratic(5, [1.0, 2.0, 3.0])
    plain_state, plain = _run(base)
    unit_state, unit = _run(_Amplified(base, torch.ones_like))
    assert torch.equal(plain_state.theta, unit_state.theta)
    for name in ("trajectory", "samples"):
        assert plain[name].equals(unit[name])
    assert all(np.array_equal(a, b) for a, b in zip(plain["params"]["theta"], unit["params"]["theta"], strict=True))


def test_noise_amplitude_is_evaluated_before_the_drift():
    """Ito: theta_1 = theta_0 - eta grad(theta_0) + sqrt(2 eta T) a(theta_0) xi."""
    base = quadratic(4, [1.0, 2.0, 3.0, 4.0])
    landscape = _Amplified(base, lambda theta: 1 + theta**2)
    chain = Chain(0.2, 0.1, 11)
    theta0 = torch.tensor([[0.5, -1.0, 2.0, 0.0]], dtype=torch.float64)
    state = start_state(theta0, [chain])
    advance(landscape, state, [chain], Schedule(n_steps=1, noise_block=1), 1)
    xi = torch.randn(1, 4, generator=torch.Generator().manual_seed(11), dtype=torch.float64)[0]
    _, grad = base.loss_and_grad(theta0)
    expected = theta0 - 0.1 * grad + np.sqrt(2 * 0.1 * 0.2) * (1 + theta0**2) * xi
    assert torch.allclose(state.theta, expected, rtol=1e-14, atol=1e-15)
