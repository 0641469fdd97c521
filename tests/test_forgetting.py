"""Tests of thermoscape.studies.fengtu.forgetting (Feng & Tu Sec. V, Eq. 15): penalties against explicit matrices and
autograd, the empirical Fisher against a per-sample loop, SGD training, and the Fig. 4E frontier."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as nnf
from conftest import F64, gen

from thermoscape.studies.fengtu.forgetting import (
    Penalty,
    displacements,
    dominated_area,
    ewc_penalty,
    fisher_diagonal,
    landscape_penalty,
    pareto_front,
    threshold,
    train_task,
)

D, C, M = 5, 3, 60  # softmax regression: n = D * C = 15 weights, M training samples
N = D * C


@pytest.fixture(scope="module")
def task():
    """Separable-ish random data for a linear softmax classifier ``logits = x @ W``, ``w = W.flatten()``."""
    x = torch.randn(M, D, generator=gen(0), dtype=F64)
    teacher = torch.randn(D, C, generator=gen(1), dtype=F64)
    y = (x @ teacher).argmax(dim=1)

    def per_sample_loss(points):
        logits = torch.einsum("md,gdc->gmc", x, points.view(-1, D, C))
        return nnf.cross_entropy(logits.transpose(1, 2), y.expand(points.shape[0], M), reduction="none")

    def batch_loss_and_grad(w, index):
        w = w.detach().requires_grad_(True)
        loss = nnf.cross_entropy(x[index] @ w.view(D, C), y[index])
        (g,) = torch.autograd.grad(loss, w)
        return loss.detach(), g

    def evaluate(w):
        logits = x @ w.view(D, C)
        return {"loss": float(nnf.cross_entropy(logits, y)), "error": float((logits.argmax(1) != y).double().mean())}

    return per_sample_loss, batch_loss_and_grad, evaluate


def orthonormal_rows(k: int, n: int, seed: int) -> torch.Tensor:
    q, _ = torch.linalg.qr(torch.randn(n, k, generator=gen(seed), dtype=F64))
    return q.T.contiguous()


def random_penalties():
    w1 = torch.randn(N, generator=gen(10), dtype=F64)
    widths = torch.rand(4, generator=gen(11), dtype=F64) + 0.2
    skew = torch.randn(4, N, generator=gen(12), dtype=F64)  # rows neither orthogonal nor normalised
    fisher = torch.rand(N, generator=gen(13), dtype=F64)
    return w1, [
        landscape_penalty(w1, orthonormal_rows(4, N, 14), widths, lam=3.0),
        landscape_penalty(w1, skew, widths, lam=0.7),
        ewc_penalty(w1, fisher, 6, lam=5.0),
        ewc_penalty(w1, fisher, N, lam=5.0),
    ]


def test_penalty_gradient_matches_autograd():
    w1, penalties = random_penalties()
    for i, penalty in enumerate(penalties):
        w = (w1 + torch.randn(N, generator=gen(20 + i), dtype=F64)).requires_grad_(True)
        (auto,) = torch.autograd.grad(penalty.value(w), w)
        closed = penalty.gradient(w.detach())
        assert float(penalty.value(w.detach())) > 0
        assert float((closed - auto).norm() / auto.norm()) < 1e-12
        assert penalty.value(w1) == 0 and bool((penalty.gradient(w1) == 0).all())


def test_penalty_curvature_is_top_hessian_eigenvalue():
    w1, penalties = random_penalties()
    for penalty in penalties:
        hessian = torch.autograd.functional.hessian(penalty.value, w1)
        assert penalty.curvature() == pytest.approx(float(torch.linalg.eigvalsh(hessian)[-1]), rel=1e-10)


def test_landscape_penalty_equals_explicit_matrix_form():
    """Eq. 15 as lam * dw^T A dw with A = P diag(1/F^2) P^T (brief 6.1 step 7), for orthonormal p_i."""
    w1 = torch.randn(N, generator=gen(30), dtype=F64)
    p = orthonormal_rows(5, N, 31)
    widths = torch.tensor([0.3, 0.5, 1.0, 2.0, 4.0], dtype=F64)
    lam = 10.0
    a = p.T @ torch.diag(widths**-2) @ p
    penalty = landscape_penalty(w1, p, widths, lam)
    for seed in range(32, 35):
        dw = torch.randn(N, generator=gen(seed), dtype=F64)
        explicit = lam * dw @ a @ dw
        by_sum = lam * sum(float(dw @ p[i]) ** 2 / float(widths[i]) ** 2 for i in range(5))
        assert float(penalty.value(w1 + dw)) == pytest.approx(float(explicit), rel=1e-12)
        assert float(explicit) == pytest.approx(by_sum, rel=1e-12)
        torch.testing.assert_close(penalty.gradient(w1 + dw), 2 * lam * a @ dw, rtol=1e-12, atol=1e-12)


def test_fisher_diagonal_equals_per_sample_loop(task):
    per_sample_loss, _, _ = task
    w1 = torch.randn(N, generator=gen(40), dtype=F64)
    squares = torch.zeros(N, dtype=F64)
    for k in range(M):
        w = w1.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(per_sample_loss(w[None])[0, k], w)
        squares += g**2
    expected = squares / M
    for chunk in (7, M, 1000):  # a ragged last chunk, one chunk, a chunk larger than M
        torch.testing.assert_close(fisher_diagonal(per_sample_loss, w1, chunk_size=chunk), expected,
                                   rtol=1e-12, atol=1e-15)
    # the mean of squares, not the square of the mean gradient
    mean_grad = torch.func.grad(lambda w: per_sample_loss(w[None])[0].mean())(w1)
    assert not torch.allclose(expected, mean_grad**2)


def test_ewc_penalty_picks_top_fisher_entries():
    w1 = torch.randn(N, generator=gen(50), dtype=F64)
    fisher = torch.rand(N, generator=gen(51), dtype=F64)
    dw = torch.randn(N, generator=gen(52), dtype=F64)
    lam = 4.0
    top = set(torch.argsort(fisher, descending=True)[:5].tolist())
    penalty = ewc_penalty(w1, fisher, 5, lam)
    assert set(penalty.coordinates.tolist()) == top
    expected = lam / 2 * sum(float(fisher[j] * dw[j] ** 2) for j in top)
    assert float(penalty.value(w1 + dw)) == pytest.approx(expected, rel=1e-12)
    # moving an unconstrained weight costs nothing
    other = next(j for j in range(N) if j not in top)
    assert float(penalty.value(w1 + 3.0 * torch.eye(N, dtype=F64)[other])) == 0.0
    full = ewc_penalty(w1, fisher, N, lam)
    assert float(full.value(w1 + dw)) == pytest.approx(float(lam / 2 * (fisher * dw**2).sum()), rel=1e-12)
    assert float(ewc_penalty(w1, fisher, 0, lam).value(w1 + dw)) == 0.0


def test_bad_arguments_raise():
    w1 = torch.zeros(N, dtype=F64)
    with pytest.raises(ValueError, match="widths"):
        landscape_penalty(w1, orthonormal_rows(2, N, 0), torch.tensor([1.0, 0.0], dtype=F64), 1.0)
    with pytest.raises(ValueError, match="directions"):
        landscape_penalty(w1, torch.zeros(2, N + 1, dtype=F64), torch.ones(2, dtype=F64), 1.0)
    with pytest.raises(ValueError, match="n_constrained"):
        ewc_penalty(w1, torch.ones(N, dtype=F64), N + 1, 1.0)
    with pytest.raises(ValueError, match="lam"):
        ewc_penalty(w1, torch.ones(N, dtype=F64), 2, -1.0)
    with pytest.raises(ValueError, match="exactly one"):
        Penalty(w1, None, torch.ones(2, dtype=F64), 1.0)
    with pytest.raises(ValueError, match="shape"):
        landscape_penalty(w1, orthonormal_rows(2, N, 0), torch.ones(2, dtype=F64), 1.0).value(torch.zeros(3))


def _train(task, penalty=None, lr=0.5, epochs=3, seed=7, **kwargs):
    _, batch_loss_and_grad, evaluate = task
    w0 = kwargs.pop("w_start", torch.zeros(N, dtype=F64))
    return train_task(w0, batch_loss_and_grad, M, penalty, lr=lr, batch_size=8, epochs=epochs, seed=seed,
                      evaluate=evaluate, evaluations_per_epoch=kwargs.pop("per_epoch", 7), **kwargs)


def test_train_task_is_reproducible_and_resumable(task):
    w_a, table_a = _train(task)
    w_b, table_b = _train(task)
    assert torch.equal(w_a, w_b)
    assert table_a.equals(table_b)
    w_c, _ = _train(task, seed=8)
    assert not torch.equal(w_a, w_c)
    # two epochs, then one more from there, equal three at once
    w_two, _ = _train(task, epochs=2)
    w_resumed, table_resumed = _train(task, epochs=1, w_start=w_two, first_epoch=2)
    assert torch.equal(w_resumed, w_a)
    assert table_resumed["step"].tolist()[0] == 2 * (M // 8)


def test_train_task_reshuffles_each_epoch_and_drops_partial_batch(task):
    _, batch_loss_and_grad, evaluate = task
    seen: list[list[int]] = []
    losses: list[float] = []

    def recording(w, index):
        seen.append(index.tolist())
        loss, g = batch_loss_and_grad(w, index)
        losses.append(float(loss))
        return loss, g

    _, table = train_task(torch.zeros(N, dtype=F64), recording, M, None, 0.1, 8, 2, 3, evaluate,
                          evaluations_per_epoch=2)
    n_batches = M // 8
    # batch_loss: the mean minibatch loss since the previous row (steps 1-4, 5-7, 8-11, 12-14)
    bounds = [0, 4, 7, 11, 14]
    expected = [np.mean(losses[a:b]) for a, b in itertools.pairwise(bounds)]
    np.testing.assert_allclose(table["batch_loss"].iloc[1:], expected, rtol=1e-14)
    assert len(seen) == 2 * n_batches and all(len(batch) == 8 for batch in seen)
    epochs = [list(itertools.chain(*seen[e * n_batches : (e + 1) * n_batches])) for e in range(2)]
    for order in epochs:
        assert len(set(order)) == n_batches * 8 and set(order) <= set(range(M))  # no repeats in an epoch
    assert epochs[0] != epochs[1]


def test_train_task_table_schedule(task):
    _, table = _train(task)
    n_batches = M // 8  # 7: the last 4 samples are dropped
    assert list(table.columns[:5]) == ["epoch", "step", "batch_loss", "penalty", "diverged"]
    assert {"loss", "error"} <= set(table.columns)
    assert len(table) == 1 + 3 * 7
    assert table["step"].tolist() == list(range(3 * n_batches + 1))
    np.testing.assert_allclose(table["epoch"], table["step"] / n_batches)
    assert not table["diverged"].any()
    assert math.isnan(table["batch_loss"].iloc[0]) and table["batch_loss"].iloc[1:].notna().all()
    _, coarse = _train(task, per_epoch=2)
    assert coarse["step"].tolist() == [0, 4, 7, 11, 14, 18, 21]
    _, capped = _train(task, per_epoch=100)  # at most after every minibatch
    assert capped["step"].tolist() == table["step"].tolist()


def test_train_task_reduces_convex_loss_without_penalty(task):
    _, table = _train(task, epochs=10)
    loss = table["loss"].to_numpy()
    assert loss[-1] < 0.5 * loss[0]
    assert table["error"].iloc[-1] < table["error"].iloc[0]
    assert (table["penalty"] == 0).all()


def test_train_task_huge_ldc_lambda_freezes_constrained_directions(task):
    """A stiff constraint (lam / F^2 = 10) at lr * curvature = 1: each step removes the constrained components
    entirely, so only one step's task gradient, lr * |p_i . grad|, is left along them, while the free
    directions move about as without the penalty. Plain SGD needs lr * curvature < 2 for the penalty alone."""
    w1 = torch.zeros(N, dtype=F64)
    directions = orthonormal_rows(N, N, 60)
    constrained, free = directions[:4], directions[4:]
    widths = torch.full((4,), 100.0, dtype=F64)
    penalty = landscape_penalty(w1, constrained, widths, lam=1e5)
    lr = 1.0 / penalty.curvature()
    assert lr == pytest.approx(0.05)
    w_plain, _ = _train(task, lr=lr, epochs=10)
    w2, table = _train(task, penalty=penalty, lr=lr, epochs=10)
    assert not table["diverged"].any()
    assert table["penalty"].iloc[-1] > 0
    q_constrained, q_free = displacements(w2, w1, constrained), displacements(w2, w1, free)
    q_plain_constrained = displacements(w_plain, w1, constrained)
    assert float(q_constrained.max()) < 0.05 * float(q_free.max())
    assert float(q_constrained.max()) < 0.1 * float(q_plain_constrained.max())
    assert float(q_free.max()) > 0.5 * float(displacements(w_plain, w1, free).max())
    # beyond the stability bound the constrained modes blow up: recorded, not raised
    _, unstable = _train(task, penalty=penalty, lr=40 * lr, epochs=100)
    assert unstable["diverged"].iloc[-1]
    torch.testing.assert_close(threshold(widths), torch.full((4,), 0.8, dtype=F64))


def test_train_task_records_divergence():
    """A quadratic (least-squares) loss with lr = 1e6 overflows; the run stops with a ``diverged`` row."""
    x = torch.randn(M, N, generator=gen(70), dtype=F64)
    target = torch.randn(M, generator=gen(71), dtype=F64)

    def batch_loss_and_grad(w, index):
        r = x[index] @ w - target[index]
        return (r**2).mean(), 2 * x[index].T @ r / len(index)

    _, table = train_task(torch.zeros(N, dtype=F64), batch_loss_and_grad, M, None, lr=1e6, batch_size=10,
                          epochs=50, seed=0, evaluate=lambda w: {"norm": float(w.norm())})
    assert table["diverged"].iloc[-1] and table["diverged"].sum() == 1
    assert not np.isfinite(table["batch_loss"].iloc[-1])
    assert math.isnan(table["norm"].iloc[-1])
    assert table["step"].iloc[-1] < 50 * (M // 10)  # stopped early
    assert table["batch_loss"].iloc[1:-1].map(np.isfinite).all()


def test_train_task_rejects_bad_schedule(task):
    _, batch_loss_and_grad, evaluate = task
    w0 = torch.zeros(N, dtype=F64)
    with pytest.raises(ValueError, match="evaluations_per_epoch"):
        train_task(w0, batch_loss_and_grad, M, None, 0.1, 8, 1, 0, evaluate, evaluations_per_epoch=0)
    with pytest.raises(ValueError, match="batch_size"):
        train_task(w0, batch_loss_and_grad, M, None, 0.1, M + 1, 1, 0, evaluate)
    with pytest.raises(ValueError, match="reserved"):
        train_task(w0, batch_loss_and_grad, M, None, 0.1, 8, 1, 0, lambda w: {"step": 0.0})


def test_displacements_are_absolute_projections():
    w1 = torch.tensor([1.0, 2.0, 3.0], dtype=F64)
    w2 = torch.tensor([2.0, 0.0, 3.0], dtype=F64)
    p = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.6, 0.8, 0.0]], dtype=F64)
    torch.testing.assert_close(displacements(w2, w1, p), torch.tensor([1.0, 2.0, 1.0], dtype=F64))


def test_pareto_front_and_dominated_area_by_hand():
    points = [[0.1, 0.5], [0.3, 0.2], [0.4, 0.4], [0.6, 0.1], [0.3, 0.6], [0.1, 0.5]]
    # (0.4, 0.4) is dominated by (0.3, 0.2); (0.3, 0.6) by (0.1, 0.5); the duplicate (0.1, 0.5) is kept
    assert pareto_front(points).tolist() == [0, 5, 1, 3]
    # staircase to (1, 1): 0.2 * 0.5 + 0.3 * 0.8 + 0.4 * 0.9 = 0.1 + 0.24 + 0.36
    assert dominated_area(points) == pytest.approx(0.70, abs=1e-12)
    assert dominated_area([[0.5, 0.5]]) == pytest.approx(0.25)
    assert dominated_area([[0.5, 0.5]], reference=(0.6, 1.0)) == pytest.approx(0.05)
    assert dominated_area([[0.5, 0.5], [0.2, 0.7]], reference=(1.0, 0.6)) == pytest.approx(0.05)
    assert dominated_area([[1.2, 0.0], [0.5, 1.0]]) == 0.0  # beyond the reference: nothing
    # a better frontier has the larger area
    assert dominated_area([[0.05, 0.45], [0.25, 0.15], [0.55, 0.05]]) > dominated_area(points)
    with pytest.raises(ValueError, match="finite"):
        dominated_area([[0.1, float("nan")]])
    with pytest.raises(ValueError, match=r"\(P, 2\)"):
        pareto_front([0.1, 0.2])


@pytest.mark.parametrize("form", ["ldc", "ewc"])
def test_implicit_step_is_the_proximal_point(form):
    """The step solves (v - w) / lr + grad value(v) = 0 exactly (orthonormal rows or unit vectors)."""
    w1 = torch.randn(N, generator=gen(20), dtype=F64)
    w = torch.randn(N, generator=gen(21), dtype=F64)
    if form == "ldc":
        penalty = landscape_penalty(w1, orthonormal_rows(5, N, 22), torch.rand(5, generator=gen(23), dtype=F64) + 0.1,
                                    lam=30.0)
    else:
        penalty = ewc_penalty(w1, torch.rand(N, generator=gen(24), dtype=F64), 7, lam=300.0)
    lr = 0.7
    v = penalty.implicit_step(w, lr)
    torch.testing.assert_close((v - w) / lr + penalty.gradient(v), torch.zeros(N, dtype=F64), atol=1e-12, rtol=0)
    assert lr * penalty.curvature() > 2  # where the explicit step would diverge


def test_implicit_penalty_stays_stable_beyond_the_explicit_bound(task):
    w1 = torch.zeros(N, dtype=F64)
    constrained = orthonormal_rows(4, N, 60)
    penalty = landscape_penalty(w1, constrained, torch.full((4,), 100.0, dtype=F64), lam=1e5)
    lr = 40 / penalty.curvature()
    w2, table = _train(task, penalty=penalty, lr=lr, epochs=10, implicit_penalty=True)
    assert not table["diverged"].any()
    w_plain, _ = _train(task, lr=lr, epochs=10)
    assert float(displacements(w2, w1, constrained).max()) < 0.1 * float(displacements(w_plain, w1, constrained).max())


def test_infinite_width_leaves_a_direction_unconstrained():
    w1 = torch.zeros(N, dtype=F64)
    p = orthonormal_rows(2, N, 40)
    penalty = landscape_penalty(w1, p, torch.tensor([math.inf, 0.5], dtype=F64), lam=2.0)
    assert float(penalty.value(w1 + 3.0 * p[0])) == pytest.approx(0.0, abs=1e-20)
    assert float(penalty.value(w1 + 3.0 * p[1])) == pytest.approx(2.0 * 9.0 / 0.25)
