"""Tests of thermoscape.measure.curvature against explicit Hessians: an exact quadratic and a tiny tanh MLP."""

from __future__ import annotations

import math

import pytest
import torch
from conftest import F64, gen

from thermoscape.measure.curvature import (
    batched_hessian_eigenvalues,
    full_hessian,
    hessian_eigenvalues,
    hutchinson_trace,
    hvp,
    rademacher,
    top_eigenvalue,
)

# ---------------------------------------------------------------- quadratic 0.5 theta^T A theta


SPECTRUM = torch.tensor([10.0, 4.0, 2.0, 1.0, 0.5, 0.25], dtype=F64)


@pytest.fixture(scope="module")
def quadratic():
    q, _ = torch.linalg.qr(torch.randn(6, 6, generator=gen(1), dtype=F64))
    a = q @ torch.diag(SPECTRUM) @ q.T
    a = 0.5 * (a + a.T)
    return a, q[:, 0], (lambda theta: 0.5 * theta @ a @ theta)


def test_quadratic_hessian_and_hvp_are_exact(quadratic):
    a, _, loss = quadratic
    theta = torch.randn(6, generator=gen(2), dtype=F64)
    v = torch.randn(6, generator=gen(3), dtype=F64)
    torch.testing.assert_close(full_hessian(loss, theta), a, rtol=0, atol=1e-12)
    torch.testing.assert_close(hvp(loss, theta, v), a @ v, rtol=0, atol=1e-12)
    torch.testing.assert_close(hessian_eigenvalues(loss, theta), SPECTRUM.sort().values, rtol=0, atol=1e-12)


def test_quadratic_power_iteration_finds_separated_top_eigenvalue(quadratic):
    _, top_vector, loss = quadratic
    theta = torch.randn(6, generator=gen(4), dtype=F64)
    lam, v, n_iter = top_eigenvalue(loss, theta, generator=gen(5))
    # ratio 0.4: the Rayleigh-quotient error is below the last relative change / (1 - 0.4^2)
    assert abs(lam - 10.0) / 10.0 < 1e-3 / (1 - 0.4**2)
    assert lam <= 10.0 + 1e-12  # the Rayleigh quotient never exceeds lambda_max
    assert 2 <= n_iter < 100
    assert abs(float(v @ top_vector)) > 0.999
    assert float(v.norm()) == pytest.approx(1.0, abs=1e-12)

    lam, v, _ = top_eigenvalue(loss, theta, max_iter=500, rel_tol=1e-14, generator=gen(5))
    assert lam == pytest.approx(10.0, rel=1e-12)
    assert abs(float(v @ top_vector)) == pytest.approx(1.0, abs=1e-10)


def test_power_iteration_respects_max_iter_and_seed(quadratic):
    _, _, loss = quadratic
    theta = torch.zeros(6, dtype=F64)
    assert top_eigenvalue(loss, theta, max_iter=3, rel_tol=0.0, generator=gen(0))[2] == 3
    a = top_eigenvalue(loss, theta, generator=gen(7))
    b = top_eigenvalue(loss, theta, generator=gen(7))
    assert a[0] == b[0] and a[2] == b[2] and torch.equal(a[1], b[1])


def test_hutchinson_is_exact_for_diagonal_hessian():
    diag = torch.tensor([3.0, -1.0, 0.5, 2.0], dtype=F64)
    trace, n_probes = hutchinson_trace(
        lambda th: 0.5 * (diag * th**2).sum(), torch.ones(4, dtype=F64), generator=gen(0)
    )
    # v^T D v = tr D for every +-1 probe, so the running mean stops changing after the second probe
    assert trace == pytest.approx(4.5, abs=1e-12)
    assert n_probes == 2


def test_hutchinson_within_standard_errors_for_dense_quadratic(quadratic):
    a, _, loss = quadratic
    n = 400
    trace, n_probes = hutchinson_trace(
        loss, torch.zeros(6, dtype=F64), max_iter=n, rel_tol=0.0, generator=gen(8)
    )
    # Var(v^T A v) = 2 sum_{i != j} A_ij^2 for Rademacher v
    se = math.sqrt(2 * float((a**2).sum() - (torch.diagonal(a) ** 2).sum()) / n)
    assert n_probes == n
    assert abs(trace - float(SPECTRUM.sum())) < 4 * se


def test_rademacher_entries_are_balanced_signs():
    v = rademacher((20000,), F64, generator=gen(0))
    assert set(v.unique().tolist()) == {-1.0, 1.0}
    assert abs(float(v.mean())) < 4 / math.sqrt(20000)


# ---------------------------------------------------------------- tiny MLP 3-4-2, tanh, cross-entropy


N_PARAMS = 4 * 3 + 4 + 2 * 4 + 2


@pytest.fixture(scope="module")
def mlp_loss():
    g = gen(0)
    x = torch.randn(10, 3, generator=g, dtype=F64)
    y = torch.randint(0, 2, (10,), generator=g)

    def loss(theta: torch.Tensor) -> torch.Tensor:
        w1, b1 = theta[:12].reshape(4, 3), theta[12:16]
        w2, b2 = theta[16:24].reshape(2, 4), theta[24:26]
        logits = torch.tanh(x @ w1.T + b1) @ w2.T + b2
        return torch.nn.functional.cross_entropy(logits, y)

    return loss


def mlp_points(count: int, seed: int = 10) -> torch.Tensor:
    return torch.randn(count, N_PARAMS, generator=gen(seed), dtype=F64)


def test_mlp_hessian_matches_autograd_and_hvp(mlp_loss):
    for theta in mlp_points(3):
        h = full_hessian(mlp_loss, theta)
        torch.testing.assert_close(h, torch.autograd.functional.hessian(mlp_loss, theta), rtol=0, atol=1e-12)
        assert float((h - h.T).abs().max()) < 1e-12
        for seed in range(3):
            v = torch.randn(N_PARAMS, generator=gen(100 + seed), dtype=F64)
            torch.testing.assert_close(hvp(mlp_loss, theta, v), h @ v, rtol=0, atol=1e-10)


def test_batched_eigenvalues_match_per_point(mlp_loss):
    thetas = mlp_points(4)
    batched = batched_hessian_eigenvalues(mlp_loss, thetas)
    assert batched.shape == (4, N_PARAMS)
    for row, theta in zip(batched, thetas):
        torch.testing.assert_close(row, hessian_eigenvalues(mlp_loss, theta), rtol=0, atol=1e-12)
    torch.testing.assert_close(
        batched_hessian_eigenvalues(mlp_loss, thetas, chunk_size=3), batched, rtol=0, atol=1e-12
    )
    assert bool((batched[:, 1:] >= batched[:, :-1]).all())


def test_mlp_power_iteration_matches_largest_magnitude_eigenvalue(mlp_loss):
    for theta in mlp_points(3):
        ev = hessian_eigenvalues(mlp_loss, theta)
        by_magnitude = ev[ev.abs().argsort(descending=True)]
        top, ratio = float(by_magnitude[0]), float(by_magnitude[1].abs() / by_magnitude[0].abs())
        lam, _, n_iter = top_eigenvalue(mlp_loss, theta, generator=gen(1))
        # stopping at relative change rel_tol leaves an error of about rel_tol / (1 - ratio^2); allow 2x
        assert abs(lam - top) / abs(top) < 2 * 1e-3 / (1 - ratio**2), (lam, top, ratio, n_iter)
        lam, v, _ = top_eigenvalue(mlp_loss, theta, max_iter=5000, rel_tol=1e-13, generator=gen(1))
        assert lam == pytest.approx(top, rel=1e-8)
        torch.testing.assert_close(hvp(mlp_loss, theta, v), top * v, rtol=0, atol=1e-5 * abs(top))


def test_mlp_hutchinson_within_standard_errors(mlp_loss):
    n = 300
    for theta in mlp_points(3, seed=11):
        h = full_hessian(mlp_loss, theta)
        se = math.sqrt(2 * float((h**2).sum() - (torch.diagonal(h) ** 2).sum()) / n)
        trace, n_probes = hutchinson_trace(mlp_loss, theta, max_iter=n, rel_tol=0.0, generator=gen(2))
        assert n_probes == n
        assert abs(trace - float(torch.trace(h))) < 4 * se


def test_mlp_hutchinson_default_stopping_rule(mlp_loss):
    theta = mlp_points(1, seed=12)[0]
    trace, n_probes = hutchinson_trace(mlp_loss, theta, generator=gen(3))
    assert 2 <= n_probes <= 100
    again = hutchinson_trace(mlp_loss, theta, generator=gen(3))
    assert again == (trace, n_probes)
    # the estimate is the mean of exactly n_probes probes drawn in order from the generator
    g = gen(3)
    probes = [rademacher((N_PARAMS,), F64, generator=g) for _ in range(n_probes)]
    expected = sum(float(v @ hvp(mlp_loss, theta, v)) for v in probes) / n_probes
    assert trace == pytest.approx(expected, rel=1e-12)


def test_compiled_batched_eigenvalues_match_autograd_on_the_paper_mlp(paper_landscape):
    """The fast path of the hessian rule: 883 x 883, float64, against torch.autograd.functional.hessian."""
    g = torch.Generator().manual_seed(4)
    thetas = torch.stack([paper_landscape.initial_parameters(g) for _ in range(2)])

    def loss(theta: torch.Tensor) -> torch.Tensor:
        return paper_landscape.loss(theta.unsqueeze(0))[0]

    fast = batched_hessian_eigenvalues(loss, thetas, compile=True)
    for row, theta in zip(fast, thetas):
        reference = torch.linalg.eigvalsh(torch.autograd.functional.hessian(loss, theta))
        torch.testing.assert_close(row, reference, rtol=0, atol=1e-12 * float(reference.abs().max()))


def test_paper_mlp_hessian_eigenvalues_match_central_differences_of_the_gradient():
    """Full Hessian of a small ReLU MLP versus central differences of its exact gradient, checked with
    steps h and h/10 (a ReLU kink inside the stencil would make the two disagree)."""
    from thermoscape.data.tables import gaussian_classification, table_to_tensors
    from thermoscape.nets.losses import MLPLandscape
    from thermoscape.nets.mlp import MLPSpec

    x, labels = table_to_tensors(gaussian_classification(40, 4, 3, seed=1))
    landscape = MLPLandscape(MLPSpec((4, 6, 3)), x, labels)
    loss = lambda theta: landscape.loss(theta.unsqueeze(0))[0]
    n = landscape.n_params
    for theta in (landscape.initial_parameters(gen(seed)) for seed in range(3)):
        exact = hessian_eigenvalues(loss, theta)
        differences = []
        for h in (1e-6, 1e-7):  # small: a ReLU kink within h of a sample is then unlikely
            steps = h * torch.eye(n, dtype=F64)
            plus = landscape.loss_and_grad(theta + steps)[1]
            minus = landscape.loss_and_grad(theta - steps)[1]
            differences.append(torch.linalg.eigvalsh(0.5 * ((plus - minus) / (2 * h) + ((plus - minus) / (2 * h)).T)))
        torch.testing.assert_close(differences[0], differences[1], rtol=0, atol=1e-6)
        torch.testing.assert_close(exact, differences[1], rtol=0, atol=1e-6)
