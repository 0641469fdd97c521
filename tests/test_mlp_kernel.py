import pandas as pd
import pytest
import torch
from conftest import assert_resume_is_bitwise, gen

from thermoscape.dynamics.langevin import (
    Chain,
    Schedule,
    advance,
    compiled,
    euler_maruyama_step,
    start_state,
)
from thermoscape.nets.losses import MixedPrecision, MLPLandscape, mixed_precision
from thermoscape.dynamics.mlp_kernel import MLPKernel, fused_mlp_step, supported
from thermoscape.nets.mlp import MLPSpec, mlp_forward

pytestmark = pytest.mark.skipif(not supported(), reason="the kernel needs an x86-64 CPU with AVX2 and g++")


def autograd_loss_and_grad(landscape: MLPLandscape, theta: torch.Tensor):
    theta = theta.detach().to(torch.float64).requires_grad_(True)
    loss = landscape.loss(theta)
    (grad,) = torch.autograd.grad(loss.sum(), theta)
    return loss.detach(), grad


def odd_landscape(bias: bool) -> MLPLandscape:
    """Sizes that are no multiple of the vector width or of the kernel's blocks, 4 classes, 37 points."""
    g = gen(4)
    x = torch.randn(37, 7, generator=g, dtype=torch.float64)
    labels = torch.randint(0, 4, (37,), generator=g)
    return MLPLandscape(MLPSpec((7, 13, 30, 5, 4), bias=bias), x, labels)


@pytest.mark.parametrize("which", ["paper", "odd", "odd-no-bias"])
def test_kernel_gradient_matches_float64_autograd(paper_landscape, which):
    landscape = {"paper": paper_landscape, "odd": odd_landscape(True), "odd-no-bias": odd_landscape(False)}[which]
    g = gen(0)
    theta = torch.stack([landscape.initial_parameters(g) for _ in range(5)])
    theta[1] *= 4.0  # large logits: confident (tiny-loss) and badly wrong samples
    theta[2] += 0.3 * torch.randn(theta.shape[1], generator=g, dtype=theta.dtype)  # nonzero biases
    theta32 = theta.to(torch.float32)
    loss, grad = MLPKernel(landscape.spec, landscape.x, landscape.labels).loss_and_grad(theta32)
    ref_loss, ref_grad = autograd_loss_and_grad(landscape, theta32)  # float64 at the same float32 point
    torch.testing.assert_close(loss.double(), ref_loss, rtol=2e-6, atol=0)
    for k in range(theta.shape[0]):  # float32 rounding, relative to each chain's gradient scale
        assert (grad[k].double() - ref_grad[k]).abs().max() < 2e-6 * ref_grad[k].abs().max()


def test_kernel_keeps_a_tiny_loss(paper_landscape):
    """A confidently right network's loss (~1e-10) is kept, not rounded to zero (the softplus form)."""
    theta = paper_landscape.initial_parameters(gen(1)).unsqueeze(0)
    logits, _ = mlp_forward(theta, paper_landscape.x, paper_landscape.spec)
    top = logits[0].topk(2, dim=1).values
    keep = top[:, 0] - top[:, 1] > 0.1  # the points it classifies with some margin, with its own labels
    landscape = MLPLandscape(paper_landscape.spec, paper_landscape.x[keep], logits[0, keep].argmax(dim=1))
    last = paper_landscape.n_params - 3 * 10 - 3
    theta[:, last:] *= 300.0  # the logits, so every margin (> 30 now), 300 times larger
    loss, grad = MLPKernel(landscape.spec, landscape.x, landscape.labels).loss_and_grad(theta.float())
    ref_loss, ref_grad = autograd_loss_and_grad(landscape, theta.float())
    assert 0 < ref_loss.item() < 1e-6
    # float32 logits of a few hundred carry ~1e-5 absolute error, the exponentials as much relative error
    torch.testing.assert_close(loss.double(), ref_loss, rtol=1e-4, atol=0)
    assert (grad.double() - ref_grad).abs().max() < 1e-4 * ref_grad.abs().max()  # sums with cancellation


def test_kernel_step_is_eq7_with_the_float32_gradient(paper_landscape):
    mixed = mixed_precision(paper_landscape)
    g = gen(2)
    theta = torch.stack([paper_landscape.initial_parameters(g) for _ in range(4)])
    noise = torch.randn(4, 16, theta.shape[1], generator=g, dtype=torch.float32)[:, 3]  # a block's row
    neg_eta = torch.tensor([[-1e-2], [-1e-3], [-1e-2], [-5e-3]], dtype=torch.float64)
    scale = torch.tensor([[1e-3], [1e-4], [1e-5], [0.0]], dtype=torch.float64)
    start = theta + 0.1
    fast = compiled(mixed, theta)
    assert isinstance(fast.fused_step.__self__, MLPKernel)
    loss, distance, moved = fast.fused_step(theta, start, noise, neg_eta, scale)
    ref = euler_maruyama_step(mixed, True, theta, start, noise, neg_eta, scale)
    torch.testing.assert_close(loss, ref[0], rtol=1e-6, atol=0)
    torch.testing.assert_close(distance, ref[1], rtol=1e-14, atol=0)
    grad = mixed.loss_and_grad(theta)[1]
    # the update differs from the torch path only through the gradient's float32 rounding, times eta
    assert ((moved - ref[2]).abs() / (-neg_eta * grad.abs().amax(dim=1, keepdim=True))).max() < 1e-6
    assert fast.fused_step(theta, None, noise, neg_eta, scale)[1] is None


def test_kernel_chains_are_independent_of_their_batch_and_reproducible(paper_landscape):
    mixed = mixed_precision(paper_landscape)
    g = gen(0)
    theta = torch.stack([paper_landscape.initial_parameters(g) for _ in range(4)])
    chains = [Chain(10.0 ** -(i + 3), 10.0 ** -(2 + i % 2), 100 + i) for i in range(4)]
    schedule = Schedule(n_steps=300, snapshot_every=100, chunk_steps=300, noise_block=64)
    together, again = start_state(theta, chains), start_state(theta, chains)
    advance(compiled(mixed, theta), together, chains, schedule, 300)
    advance(compiled(mixed, theta), again, chains, schedule, 300)
    assert torch.equal(together.theta, again.theta)
    for i in (0, 3):
        alone = start_state(theta[i : i + 1], chains[i : i + 1])
        advance(compiled(mixed, theta[i : i + 1]), alone, chains[i : i + 1], schedule, 300)
        assert torch.equal(alone.theta[0], together.theta[i])  # bitwise: every chain is computed on its own


def test_kernel_follows_the_float64_trajectory(paper_landscape):
    """The kernel's chains, given the same float32 noise, stay within 5 % of a thermal step of the chains
    with a float64 gradient over 2000 steps (as the torch mixed path does, tests/test_langevin.py)."""
    g = gen(3)
    theta = torch.stack([paper_landscape.initial_parameters(g) for _ in range(3)])
    for _ in range(3000):
        theta -= 0.5 * paper_landscape.loss_and_grad(theta)[1]
    float64_gradient = MixedPrecision(paper_landscape, paper_landscape, compute_dtype=torch.float64)
    chains = [Chain(10.0**-e, 1e-2, seed) for seed, e in enumerate((4, 5, 6))]
    schedule = Schedule(n_steps=2000, snapshot_every=1000, chunk_steps=2000)
    kernel_state, exact_state = start_state(theta, chains), start_state(theta, chains)
    fast = compiled(mixed_precision(paper_landscape), theta)
    assert isinstance(fast.fused_step.__self__, MLPKernel)
    kernel = advance(fast, kernel_state, chains, schedule, 2000)["trajectory"]
    exact = advance(float64_gradient, exact_state, chains, schedule, 2000)["trajectory"]
    step = (2 * 1e-2 * 1e-6) ** 0.5
    assert (kernel_state.theta - exact_state.theta).abs().max() < 0.05 * step
    assert (kernel_state.theta - theta).abs().max() > 10 * step
    pd.testing.assert_series_equal(kernel["loss"], exact["loss"], rtol=1e-4, atol=0)
    pd.testing.assert_series_equal(kernel["distance"], exact["distance"], rtol=1e-3, atol=0)


def test_kernel_run_resumes_bitwise(tmp_path, paper_landscape):
    theta = paper_landscape.initial_parameters(gen(0)).unsqueeze(0)
    assert_resume_is_bitwise(compiled(mixed_precision(paper_landscape), theta), theta, tmp_path)


def test_kernel_applies_only_to_mixed_mlps_on_the_cpu(paper_landscape, monkeypatch):
    theta = paper_landscape.initial_parameters(gen(0)).unsqueeze(0)
    assert fused_mlp_step(paper_landscape, theta) is None  # float64: the exact torch path
    assert fused_mlp_step(mixed_precision(paper_landscape), theta.float()) is None  # float32 state
    assert fused_mlp_step(mixed_precision(paper_landscape), theta) is not None
    monkeypatch.setenv("THERMOSCAPE_NO_KERNEL", "1")
    assert fused_mlp_step(mixed_precision(paper_landscape), theta) is None


def test_kernel_leaves_large_networks_to_torch_compile():
    x = torch.randn(20, 3, dtype=torch.float64, generator=gen(0))
    wide = MLPLandscape(MLPSpec((3, 200, 2)), x, torch.zeros(20, dtype=torch.long))
    assert fused_mlp_step(mixed_precision(wide), torch.zeros(1, wide.n_params, dtype=torch.float64)) is None
