import numpy as np
import pandas as pd
import pytest
import torch
from conftest import assert_resume_is_bitwise, quadratic

from thermoscape.measure import stats
from thermoscape.measure.fluctuations import slice_statistics
from thermoscape.core.grids import analysis_slices
from thermoscape.dynamics.langevin import (
    Chain,
    Schedule,
    advance,
    compiled,
    euler_maruyama_step,
    run_chunked,
    start_state,
)
from thermoscape.nets.losses import MixedPrecision, mixed_precision


def run_quadratic(landscape, temperature, eta, n_chains, n_steps, seed=0, record_every=1):
    chains = [Chain(temperature, eta, seed + i) for i in range(n_chains)]
    theta0 = torch.zeros(n_chains, landscape.n_params, dtype=torch.float64)
    state = start_state(theta0, chains)
    schedule = Schedule(n_steps=n_steps, record_every=record_every, snapshot_every=n_steps, chunk_steps=n_steps)
    return state, advance(landscape, state, chains, schedule, n_steps)


def test_euler_maruyama_reproduces_the_ou_stationary_variance():
    """Discrete OU: Var = 2 eta T / (1 - (1 - eta k)^2) = (T / k) / (1 - eta k / 2), i.e. T/k + O(eta k)."""
    k, temperature, eta = 2.0, 0.5, 0.05
    landscape = quadratic(1, [k])
    state, _ = run_quadratic(landscape, temperature, eta, n_chains=4000, n_steps=400)
    variance = state.theta[:, 0].var().item()
    exact_discrete = temperature / k / (1 - eta * k / 2)
    standard_error = exact_discrete * np.sqrt(2 / 4000)
    assert abs(variance - exact_discrete) < 4 * standard_error
    assert abs(variance - temperature / k) / (temperature / k) < 2 * eta * k  # O(eta k) from the SDE


@pytest.mark.parametrize(
    "n_stiff, k_min, k_max, precision",
    [(6, 1.0, 1.0, "float64"), (20, 0.5, 5.0, "float64"), (20, 0.5, 5.0, "mixed")],
    ids=["Nc6-equal", "Nc20-spread10", "Nc20-spread10-mixed"],
)
def test_quadratic_landscape_gives_gamma_statistics(n_stiff, k_min, k_max, precision):
    """Sec. I: L ~ Gamma(N_c / 2, 1 / T) on sum_i k_i Theta_i^2 / 2, whatever the stiffnesses; also with
    the float32 gradient and float32 noise of ``precision: mixed``."""
    temperature, eta = 1e-3, 2e-3
    landscape = quadratic(n_stiff + 5, np.geomspace(k_min, k_max, n_stiff))
    if precision == "mixed":
        landscape = mixed_precision(landscape)
    _, records = run_quadratic(landscape, temperature, eta, n_chains=32, n_steps=40_000, record_every=5)
    steady = records["trajectory"].query("t >= 10")
    alpha, beta = stats.gamma_mle(steady["loss"].to_numpy())
    assert abs(alpha / (n_stiff / 2) - 1) < 0.08
    assert abs(beta * temperature - 1) < 0.08
    assert abs(steady["loss"].mean() / (n_stiff * temperature / 2) - 1) < 0.05  # Eq. 3


def test_loss_autocorrelation_follows_from_chi_theta():
    """chi_Theta(t) = exp(-k t) per mode, so with N_c equal, independent Gaussian modes the loss
    autocorrelation is chi_Theta^2 = exp(-2 k t) and tau_1/2 = ln 2 / (2 k)."""
    n_stiff, k, eta = 4, 0.5, 1e-2
    landscape = quadratic(n_stiff, [k] * n_stiff)
    _, records = run_quadratic(landscape, 1e-3, eta, n_chains=16, n_steps=30_000, record_every=5)
    steady = records["trajectory"].query("t >= 10")
    chi = np.mean([stats.autocorrelation(g["loss"].to_numpy(), max_lag=400) for _, g in steady.groupby("chain")], axis=0)
    tau = stats.half_time(chi, 5 * eta)
    assert abs(tau / (np.log(2) / (2 * k)) - 1) < 0.1


def test_pipeline_statistics_recover_closed_form_on_the_quadratic():
    """The fluctuation rule's own function: alpha = N_c / 2, beta T = 1, equilibrated, no drift."""
    n_stiff, temperature, eta = 12, 2e-4, 1e-2
    landscape = quadratic(n_stiff, np.geomspace(1.0, 4.0, n_stiff))
    _, records = run_quadratic(landscape, temperature, eta, n_chains=1, n_steps=32_000)
    traj = records["trajectory"]
    table = slice_statistics(traj["t"].to_numpy(), traj["loss"].to_numpy(), np.array([]), np.array([]),
                             temperature, analysis_slices(20.0, 300.0, 75.0))
    whole = table.set_index("slice").loc["all"]
    assert abs(whole["alpha"] / (n_stiff / 2) - 1) < 0.1
    assert abs(whole["beta_T"] - 1) < 0.1
    assert bool(whole["equilibrated"])
    assert not table["drifting"].any()


@pytest.mark.parametrize("precision, atol", [("float64", 1e-13), ("mixed", 1e-6)])
def test_chain_trajectory_does_not_depend_on_its_batch(paper_landscape, precision, atol):
    landscape = paper_landscape if precision == "float64" else mixed_precision(paper_landscape)
    g = torch.Generator().manual_seed(0)
    theta = torch.stack([paper_landscape.initial_parameters(g) for _ in range(4)])
    chains = [Chain(10.0 ** -(i + 3), 10.0 ** -(2 + i % 2), 100 + i) for i in range(4)]
    schedule = Schedule(n_steps=300, snapshot_every=100, chunk_steps=300, noise_block=64)
    together = start_state(theta, chains)
    advance(landscape, together, chains, schedule, 300)
    for i in (0, 3):
        alone = start_state(theta[i : i + 1], chains[i : i + 1])
        advance(landscape, alone, chains[i : i + 1], schedule, 300)
        torch.testing.assert_close(alone.theta[0], together.theta[i], rtol=0, atol=atol)


def test_resumed_run_equals_uninterrupted_run(tmp_path, paper_landscape):
    theta = paper_landscape.initial_parameters(torch.Generator().manual_seed(0)).unsqueeze(0)
    assert_resume_is_bitwise(paper_landscape, theta, tmp_path)


def test_divergence_is_recorded_with_its_step(tmp_path):
    """A concave direction (negative stiffness) blows up; the chain is flagged, the stable one is not."""
    landscape = quadratic(2, [-2000.0, 1.0])
    chains = [Chain(1e-3, 1e-1, 1), Chain(1e-3, 1e-1, 2)]
    theta = torch.tensor([[1.0, 0.0], [0.0, 0.0]], dtype=torch.float64)
    stable = quadratic(2, [1.0, 1.0])
    schedule = Schedule(n_steps=2000, chunk_steps=500)
    state, parts = run_chunked(landscape, theta, chains, schedule, tmp_path)
    assert state.diverged_step[0] is not None and 0 < state.diverged_step[0] < 500
    assert state.diverged_step[1] is not None  # shares the concave direction once noise kicks it
    trajectory = pd.concat([pd.read_parquet(p) for p in parts["trajectory"]])
    assert np.isfinite(trajectory["loss"]).all()
    assert trajectory.query("chain == 0")["step"].max() < state.diverged_step[0]
    state, _ = run_chunked(stable, theta, chains, schedule, tmp_path / "stable")
    assert state.diverged_step == [None, None]


def test_compiled_step_gives_the_eager_trajectory(paper_landscape):
    """torch.compile fuses the float64 forward/backward and the update; only the rounding may differ."""
    g = torch.Generator().manual_seed(1)
    theta = torch.stack([paper_landscape.initial_parameters(g) for _ in range(3)])
    fast = compiled(paper_landscape, theta)
    assert fast is not paper_landscape and not hasattr(paper_landscape, "fused_step")
    noise = torch.randn(theta.shape, generator=g, dtype=theta.dtype)
    neg_eta, scale = torch.full((3, 1), -1e-2, dtype=theta.dtype), torch.full((3, 1), 1e-3, dtype=theta.dtype)
    start = theta + 0.1
    eager = euler_maruyama_step(paper_landscape, True, theta, start, noise, neg_eta, scale)
    loss, grad = paper_landscape.loss_and_grad(theta)
    torch.testing.assert_close(eager[0], loss, rtol=0, atol=0)
    torch.testing.assert_close(eager[2], theta - 1e-2 * grad + 1e-3 * noise, rtol=0, atol=1e-15)  # Eq. 7
    torch.testing.assert_close(eager[1], torch.full((3,), 0.1 * theta.shape[1] ** 0.5, dtype=theta.dtype))
    for fused, reference in zip(fast.fused_step(theta, start, noise, neg_eta, scale), eager, strict=True):
        torch.testing.assert_close(fused, reference, rtol=1e-12, atol=1e-15)
    chains = [Chain(1e-5, 1e-2, seed) for seed in range(3)]
    schedule = Schedule(n_steps=200, snapshot_every=100, chunk_steps=200, noise_block=64)
    eager_state, fast_state = start_state(theta, chains), start_state(theta, chains)
    advance(paper_landscape, eager_state, chains, schedule, 200)
    advance(fast, fast_state, chains, schedule, 200)
    torch.testing.assert_close(fast_state.theta, eager_state.theta, rtol=0, atol=1e-12)


def _near_minimum(landscape, n_chains: int, steps: int) -> torch.Tensor:
    """Chains a few hundred plain gradient steps down from the initialisation."""
    g = torch.Generator().manual_seed(3)
    theta = torch.stack([landscape.initial_parameters(g) for _ in range(n_chains)])
    for _ in range(steps):
        theta -= 0.5 * landscape.loss_and_grad(theta)[1]
    return theta


def test_mixed_precision_follows_the_float64_trajectory(paper_landscape):
    """precision: mixed computes the gradient in float32. Given the same (float32-drawn) noise, its chains
    stay within 5 % of a thermal step of the float64-gradient chains over 2000 steps, so the loss
    statistics are those of float64; the float32 noise's own law is checked on the quadratic (Gamma test)."""
    theta = _near_minimum(paper_landscape, 3, steps=3000)  # loss 1e-4 - 1e-3
    float64_gradient = MixedPrecision(paper_landscape, paper_landscape, compute_dtype=torch.float64)
    chains = [Chain(10.0**-e, 1e-2, seed) for seed, e in enumerate((4, 5, 6))]
    schedule = Schedule(n_steps=2000, snapshot_every=1000, chunk_steps=2000)
    mixed_state, exact_state = start_state(theta, chains), start_state(theta, chains)
    mixed = advance(mixed_precision(paper_landscape), mixed_state, chains, schedule, 2000)["trajectory"]
    exact = advance(float64_gradient, exact_state, chains, schedule, 2000)["trajectory"]
    step = (2 * 1e-2 * 1e-6) ** 0.5  # the smallest thermal step per coordinate
    assert (mixed_state.theta - exact_state.theta).abs().max() < 0.05 * step
    assert (mixed_state.theta - theta).abs().max() > 10 * step  # the chains did move
    np.testing.assert_allclose(mixed["loss"], exact["loss"], rtol=1e-4)
    np.testing.assert_allclose(mixed["distance"], exact["distance"], rtol=1e-3)


def test_free_diffusion_is_exact_brownian_motion_on_the_quadratic():
    """E|dtheta|^2 = 2 T N t; on sum k_i theta_i^2 / 2 from the minimum E[L] = T t sum_i k_i."""
    from conftest import gen

    from thermoscape.dynamics.langevin import free_diffusion

    stiffness = np.array([0.5, 1.0, 2.0, 4.0])
    landscape = quadratic(10, stiffness)
    times, temperature, walks = np.array([0.1, 1.0, 10.0]), 0.3, 4000
    distance, loss = free_diffusion(landscape, torch.zeros(10, dtype=torch.float64), temperature, times, walks, gen(0))
    assert distance.shape == loss.shape == (walks, 3)
    np.testing.assert_allclose((distance**2).mean(axis=0), 2 * temperature * 10 * times, rtol=0.03)
    np.testing.assert_allclose(loss.mean(axis=0), temperature * times * stiffness.sum(), rtol=0.05)
    with pytest.raises(ValueError, match="increasing"):
        free_diffusion(landscape, torch.zeros(10, dtype=torch.float64), temperature, times[::-1], 1, gen(0))
