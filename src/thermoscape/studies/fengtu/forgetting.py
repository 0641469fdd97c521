"""Catastrophic forgetting: landscape-dependent constraints (LDC, Eq. 15) vs EWC (Feng & Tu, Sec. V, Fig. 4).

After task 1 is learnt at ``w1``, task 2 is trained by plain SGD on a penalised loss (brief 1.6, 6.1, 6.2)

* LDC, Eq. 15: ``L~_2(w) = L_2(w) + lambda sum_{i<=N_c} ((w - w1) . p_1i)^2 / F_1i^2`` with the task-1 PCA
  directions ``p_1i`` and flatness values ``F_1i``;
* EWC (Kirkpatrick et al. 2017): ``L~_2(w) = L_2(w) + (lambda/2) sum_{j in S} F_j (w_j - w1_j)^2`` with the
  diagonal (empirical) Fisher ``F_j`` of task 1 and ``S`` the ``N_c`` weights with the largest ``F_j``.

Both are a :class:`Penalty` ``lambda sum_j weights_j (basis_j . (w - w1))^2``, kept factored so that no
``n x n`` matrix is ever formed. Only the flattened hidden->hidden matrix ``w`` (``n = 2500`` in the paper)
is trained; the module works against callables, so any model fits:

* ``per_sample_loss(points (G, n)) -> (G, M)``: per-sample cross-entropy on a task's training set;
* ``batch_loss_and_grad(w (n,), index (B,)) -> (loss, grad (n,))``: one SGD minibatch of a task;
* ``evaluate(w) -> dict[str, float]``: e.g. the test errors ``eps_1``, ``eps_2`` of both tasks.

Fig. 4B/D compare the displacements ``q_i = |(w2 - w1) . p_1i|`` (:func:`displacements`) with
``xi_i = 0.008 F_1i`` (:func:`threshold`); Fig. 4E compares the ``(eps_1, eps_2)`` trade-off of the two
methods (:func:`pareto_front`, :func:`dominated_area`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from numpy.typing import ArrayLike
from torch import Tensor
from torch.func import vjp, vmap

from thermoscape.data.batches import BatchOrder
from thermoscape.dynamics.train import Optimizer, train

PerSampleLoss = Callable[[Tensor], Tensor]
BatchLossAndGrad = Callable[[Tensor, Tensor], tuple[Tensor, Tensor]]
Evaluate = Callable[[Tensor], dict[str, float]]

XI_FACTOR = 0.008  # xi_i = 0.008 F_1i (Sec. V; brief 1.6)
_RESERVED = ("epoch", "step", "batch_loss", "penalty", "diverged")


@dataclass(frozen=True, eq=False)
class Penalty:
    """The quadratic penalty ``lam * (w - w1)^T A (w - w1)`` with ``A = sum_j weights_j basis_j basis_j^T``.

    ``value(w) = lam * sum_j weights_j * (basis_j . (w - w1))^2``: the LDC term of Eq. 15 with
    ``basis = p_1i`` and ``weights = 1 / F_1i^2``, or EWC with unit-vector rows. The rows need not be
    orthonormal. For unit vectors give ``coordinates`` (the ``k`` indices ``j``) instead of ``basis``: the
    same penalty without storing a ``(k, n)`` matrix of zeros.

    Attributes:
        anchor: ``w1``, shape ``(n,)``.
        basis: ``(k, n)`` rows ``b_j``, or ``None`` when ``coordinates`` is given.
        weights: ``(k,)``, non-negative.
        lam: the overall strength ``lambda >= 0``.
        coordinates: ``(k,)`` distinct indices into ``w`` (rows ``e_j``), or ``None`` when ``basis`` is given.
    """

    anchor: Tensor
    basis: Tensor | None
    weights: Tensor
    lam: float
    coordinates: Tensor | None = None

    def __post_init__(self) -> None:
        if self.anchor.ndim != 1:
            raise ValueError(f"anchor must be a vector (n,), got shape {tuple(self.anchor.shape)}")
        if not self.anchor.is_floating_point():
            raise ValueError(f"anchor must be floating point, got {self.anchor.dtype}")
        n = self.anchor.shape[0]
        if (self.basis is None) == (self.coordinates is None):
            raise ValueError("give exactly one of basis (k, n) and coordinates (k,)")
        if self.weights.ndim != 1:
            raise ValueError(f"weights must be a vector (k,), got shape {tuple(self.weights.shape)}")
        k = self.weights.shape[0]
        if self.basis is not None:
            if self.basis.ndim != 2 or self.basis.shape != (k, n):
                raise ValueError(f"basis must have shape (k, n) = ({k}, {n}), got {tuple(self.basis.shape)}")
            if not bool(torch.isfinite(self.basis).all()):
                raise ValueError("basis has non-finite entries")
        else:
            c = self.coordinates
            if c.ndim != 1 or c.shape[0] != k or c.is_floating_point() or c.is_complex():
                raise ValueError(f"coordinates must be an integer vector of length k = {k}")
            if k and (int(c.min()) < 0 or int(c.max()) >= n):
                raise ValueError(f"coordinates must lie in [0, {n})")
            if torch.unique(c).numel() != k:
                raise ValueError("coordinates must be distinct")
        if not bool(torch.isfinite(self.weights).all()) or bool((self.weights < 0).any()):
            raise ValueError("weights must be finite and non-negative")
        if not (math.isfinite(self.lam) and self.lam >= 0):
            raise ValueError(f"lam must be finite and >= 0, got {self.lam}")

    @property
    def n_constrained(self) -> int:
        """``k``, the number of constrained directions (``N_c``)."""
        return int(self.weights.shape[0])

    def _check(self, w: Tensor) -> Tensor:
        if w.shape != self.anchor.shape:
            raise ValueError(f"w must have shape {tuple(self.anchor.shape)}, got {tuple(w.shape)}")
        return w - self.anchor

    def _project(self, dw: Tensor) -> Tensor:
        return self.basis @ dw if self.basis is not None else dw[self.coordinates]

    def value(self, w: Tensor) -> Tensor:
        """``lam * sum_j weights_j (basis_j . (w - w1))^2`` (a scalar; differentiable in ``w``)."""
        proj = self._project(self._check(w))
        return self.lam * (self.weights * proj**2).sum()

    def gradient(self, w: Tensor) -> Tensor:
        """The closed form ``2 lam sum_j weights_j (basis_j . (w - w1)) basis_j``, shape ``(n,)``."""
        dw = self._check(w)
        coef = 2.0 * self.lam * self.weights * self._project(dw)
        if self.basis is not None:
            return coef @ self.basis
        return torch.zeros_like(dw).index_put_((self.coordinates,), coef)

    def implicit_step(self, w: Tensor, lr: float) -> Tensor:
        """The penalty's backward-Euler (proximal) step ``argmin_v |v - w|^2 / (2 lr) + value(v)``.

        For orthonormal rows (PCA directions, unit vectors) each constrained component ``c_j = b_j . (w - w1)``
        shrinks to ``c_j / (1 + 2 lr lam weights_j)``: the gradient flow's first-order step for small
        ``lr * curvature()``, and stable for any ``lam`` where the explicit step diverges.
        """
        dw = self._check(w)
        change = self._project(dw) * (1.0 / (1.0 + 2.0 * lr * self.lam * self.weights) - 1.0)
        if self.basis is not None:
            return w + change @ self.basis
        return w.index_add(0, self.coordinates, change)

    def curvature(self) -> float:
        """The largest eigenvalue of the penalty's Hessian ``2 lam A``.

        Plain SGD on the penalty alone is stable only for ``lr * curvature() < 2``; a large ``lam`` (or a
        small width ``F_1i``) needs a smaller learning rate, else the constrained modes blow up.
        Computed from a ``(k, k)`` matrix (``W^1/2 B B^T W^1/2`` has the nonzero eigenvalues of ``A``).
        """
        if self.n_constrained == 0 or self.lam == 0:
            return 0.0
        if self.basis is None:
            return float(2.0 * self.lam * self.weights.max())
        root = self.weights.sqrt()
        gram = root[:, None] * (self.basis @ self.basis.T) * root[None, :]
        return float(2.0 * self.lam * torch.linalg.eigvalsh(0.5 * (gram + gram.T))[-1])


def landscape_penalty(w1: Tensor, directions: Tensor, widths: Tensor, lam: float) -> Penalty:
    """LDC penalty of Eq. 15, ``lam * sum_{i<=N_c} ((w - w1) . p_1i)^2 / F_1i^2``.

    Args:
        w1: the task-1 solution ``(n,)``.
        directions: the top ``N_c`` task-1 PCA directions ``p_1i`` as rows ``(N_c, n)``.
        widths: their flatness values ``F_1i > 0``, ``(N_c,)`` (measured, or from Eq. 8; brief 6.1 step 6).
            ``inf`` (the loss never reaches ``e L_0`` on one side, e.g. along the drift mode) leaves that
            direction unconstrained.
        lam: the constraint strength ``lambda`` (``lambda = 10``, ``N_c = 200`` in Figs. 4C/D).
    """
    if directions.ndim != 2 or directions.shape[1] != w1.shape[-1]:
        raise ValueError(f"directions must have shape (N_c, {w1.shape[-1]}), got {tuple(directions.shape)}")
    if widths.shape != directions.shape[:1]:
        raise ValueError(f"widths must have shape ({directions.shape[0]},), got {tuple(widths.shape)}")
    if bool(torch.isnan(widths).any()) or bool((widths <= 0).any()):
        raise ValueError("widths F_1i must be > 0 (inf: unconstrained)")
    return Penalty(anchor=w1, basis=directions.to(w1.dtype), weights=widths.to(w1.dtype) ** -2, lam=lam)


def fisher_diagonal(per_sample_loss: PerSampleLoss, w1: Tensor, chunk_size: int = 64) -> Tensor:
    """Diagonal empirical Fisher of a task at ``w1``: ``F_j = mean_k (d l_k / d w_j)^2``, shape ``(n,)``.

    ``l_k = -log p(y_k | x_k)`` is the per-sample cross-entropy with the **true** labels, so this is the
    *empirical* Fisher (brief 6.2 [ASSUMPTION]; the paper gives no EWC details), not the expectation over
    labels drawn from the model's softmax.

    The per-sample gradients are the rows of the Jacobian of ``per_sample_loss(w[None])[0]``: one forward
    pass, then vector-Jacobian products with one-hot cotangents, ``chunk_size`` samples at a time
    (``torch.func.vmap`` over ``vjp``), so memory stays at ``O(chunk_size * (n + M))`` beyond the graph.
    Each VJP runs a backward pass over all ``M`` samples (the callable offers no per-sample access), so the
    cost is ``M`` full backward passes.
    """
    if w1.ndim != 1:
        raise ValueError(f"w1 must be a vector (n,), got shape {tuple(w1.shape)}")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    losses, pullback = vjp(lambda w: per_sample_loss(w[None])[0], w1.detach())
    if losses.ndim != 1 or losses.numel() == 0:
        raise ValueError(f"per_sample_loss must return (G, M) with M >= 1, got {(1, *losses.shape)}")
    m = losses.shape[0]
    pull_rows = vmap(lambda cotangent: pullback(cotangent)[0])
    total = torch.zeros_like(w1, dtype=losses.dtype)
    for start in range(0, m, chunk_size):
        size = min(chunk_size, m - start)
        one_hot = torch.zeros(size, m, dtype=losses.dtype, device=losses.device)
        one_hot[torch.arange(size), torch.arange(start, start + size)] = 1.0
        total += (pull_rows(one_hot) ** 2).sum(dim=0)
    return (total / m).detach()


def ewc_penalty(w1: Tensor, fisher: Tensor, n_constrained: int, lam: float) -> Penalty:
    """EWC penalty ``(lam/2) sum_{j in S} F_j (w_j - w1_j)^2`` (Kirkpatrick et al. 2017; brief 6.2).

    ``S`` = the ``n_constrained`` weights with the largest ``F_j`` (brief 6.2 [ASSUMPTION]; ties broken by
    ``torch.topk``). Returned as unit-vector rows (``coordinates = S``) with ``weights = F_S / 2``, so
    ``penalty.lam`` is the ``lambda`` given here.
    """
    if w1.ndim != 1 or fisher.shape != w1.shape:
        raise ValueError(f"w1 and fisher must both have shape (n,), got {tuple(w1.shape)}, {tuple(fisher.shape)}")
    n = w1.shape[0]
    if not 0 <= n_constrained <= n:
        raise ValueError(f"n_constrained must lie in [0, {n}], got {n_constrained}")
    if not bool(torch.isfinite(fisher).all()) or bool((fisher < 0).any()):
        raise ValueError("fisher must be finite and non-negative")
    top = torch.topk(fisher, n_constrained, sorted=True).indices
    return Penalty(anchor=w1, basis=None, weights=0.5 * fisher[top].to(w1.dtype), lam=lam, coordinates=top)


def _evaluation_steps(n_batches: int, per_epoch: int) -> list[int]:
    """Steps within an epoch (1..n_batches) after which to evaluate: evenly spaced, the last at its end."""
    return [round((e + 1) * n_batches / per_epoch) for e in range(per_epoch)]


def train_task(
    w_start: Tensor,
    batch_loss_and_grad: BatchLossAndGrad,
    n_samples: int,
    penalty: Penalty | None,
    lr: float,
    batch_size: int,
    epochs: int,
    seed: int,
    evaluate: Evaluate,
    evaluations_per_epoch: int = 10,
    first_epoch: int = 0,
    implicit_penalty: bool = False,
) -> tuple[Tensor, pd.DataFrame]:
    """Plain SGD on a task's loss plus a penalty: ``w <- w - lr (grad L_B(w) + penalty.gradient(w))``.

    Each epoch runs the ``n_samples // batch_size`` minibatches of ``fengtu.epoch_order(seed, epoch)``
    (a fresh permutation, the last partial batch dropped). Epochs are numbered from ``first_epoch``: training ``a`` epochs and
    then ``b`` more with ``first_epoch=a`` from the returned weights gives the same weights as ``a + b`` at
    once (resumable).

    ``evaluate(w)`` runs at the start and ``evaluations_per_epoch`` times per epoch (at most after every
    minibatch), evenly spaced, the last after the epoch's final step. Each row of the returned table holds ``epoch`` (fractional, counted from
    ``first_epoch``), ``step`` (global minibatch count), ``batch_loss`` (mean task minibatch loss since the
    previous row; NaN on the first), ``penalty`` (its value at ``w``, 0 without one), ``diverged`` and the
    keys of ``evaluate``.

    A non-finite minibatch loss or update direction stops training before the update: a final row with
    ``diverged = True``, that loss and NaN for the ``evaluate`` keys is added, and the weights at that point
    are returned. Note that the penalty alone diverges for ``lr * penalty.curvature() >= 2``;
    ``implicit_penalty=True`` takes the SGD step on the task loss and then the penalty's
    :meth:`Penalty.implicit_step` (orthonormal rows), which is stable for any ``lambda``.

    The loop is ``dynamics.train.train`` with ``torch.optim.SGD`` (the update ``w.add_(direction,
    alpha=-lr)`` equals ``w - lr direction`` up to rounding) and ``data.batches.BatchOrder``'s
    ``"derived"`` seeding (``fengtu.epoch_order``).

    Returns:
        ``(w, table)``: the final weights (a new tensor) and the evaluation table.
    """
    if w_start.ndim != 1:
        raise ValueError(f"w_start must be a vector (n,), got shape {tuple(w_start.shape)}")
    if batch_size < 1 or n_samples < batch_size:
        raise ValueError(f"need 1 <= batch_size <= n_samples, got batch_size={batch_size}, n_samples={n_samples}")
    n_batches = n_samples // batch_size
    if evaluations_per_epoch < 1:
        raise ValueError(f"evaluations_per_epoch must be >= 1, got {evaluations_per_epoch}")
    if epochs < 0 or first_epoch < 0:
        raise ValueError(f"epochs and first_epoch must be >= 0, got {epochs}, {first_epoch}")
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be finite and > 0, got {lr}")
    if penalty is not None and penalty.anchor.shape != w_start.shape:
        raise ValueError(f"penalty anchor has shape {tuple(penalty.anchor.shape)}, w_start {tuple(w_start.shape)}")

    w = w_start.detach().clone()
    rows: list[dict[str, float | int | bool]] = []

    def penalty_value(x: Tensor) -> float:
        return 0.0 if penalty is None else float(penalty.value(x))

    def record(step: int, batch_loss: float, metrics: dict[str, float], diverged: bool = False) -> None:
        rows.append({"epoch": step / n_batches, "step": step, "batch_loss": batch_loss,
                     "penalty": math.nan if diverged else penalty_value(w), "diverged": diverged, **metrics})

    first = evaluate(w)
    clash = sorted(set(first) & set(_RESERVED))
    if clash:
        raise ValueError(f"evaluate returned reserved column names {clash}")
    keys = list(first)
    record(first_epoch * n_batches, math.nan, first)

    eval_at = set(_evaluation_steps(n_batches, min(evaluations_per_epoch, n_batches)))
    losses: list[float] = []
    explicit = penalty is not None and not implicit_penalty

    def step(index: Tensor) -> Tensor:
        loss, grad = batch_loss_and_grad(w, index)
        if grad.shape != w.shape:
            raise ValueError(f"batch_loss_and_grad returned a gradient of shape {tuple(grad.shape)}, "
                             f"expected {tuple(w.shape)}")
        loss_value = float(loss.detach())
        losses.append(loss_value)
        direction = grad.detach() + penalty.gradient(w) if explicit else grad.detach()
        if not (math.isfinite(loss_value) and bool(torch.isfinite(direction).all())):
            return torch.tensor(math.nan)  # the trainer stops before the update
        w.grad = direction
        return loss.detach()

    def after_step(epoch: int, b: int, _loss: Tensor) -> None:
        nonlocal losses
        if penalty is not None and implicit_penalty:
            with torch.no_grad():
                w.copy_(penalty.implicit_step(w, lr))
        if b + 1 in eval_at:
            record(epoch * n_batches + b + 1, float(np.mean(losses)), evaluate(w))
            losses = []

    def after_epoch(epoch: int, run) -> None:
        if run.diverged:
            record(epoch * n_batches + run.steps - (epoch - first_epoch) * n_batches + 1,
                   float(np.mean(losses)), {k: math.nan for k in keys}, diverged=True)

    train([w], step, Optimizer("sgd", lr=lr), epochs, first_epoch=first_epoch,
          batches=BatchOrder(n_samples, batch_size, seed, "derived"), on_step=after_step,
          on_epoch_end=after_epoch, divergence="step", track_loss=False)
    w.grad = None
    return w, pd.DataFrame(rows)


def displacements(w2: Tensor, w1: Tensor, directions: Tensor) -> Tensor:
    """``q_i = |(w2 - w1) . p_1i|`` for the rows ``p_1i`` of ``directions`` ``(k, n)``; returns ``(k,)`` (Fig. 4B/D)."""
    if w2.shape != w1.shape or w1.ndim != 1:
        raise ValueError(f"w2 and w1 must be vectors of one shape, got {tuple(w2.shape)}, {tuple(w1.shape)}")
    if directions.ndim != 2 or directions.shape[1] != w1.shape[0]:
        raise ValueError(f"directions must have shape (k, {w1.shape[0]}), got {tuple(directions.shape)}")
    return (directions @ (w2 - w1)).abs()


def threshold(widths: Tensor) -> Tensor:
    """``xi_i = 0.008 F_1i``, the bound that the constrained displacements ``q_i`` stay under (Sec. V)."""
    return XI_FACTOR * widths


def _points(points: ArrayLike) -> np.ndarray:
    p = np.asarray(points, dtype=float)
    if p.ndim != 2 or p.shape[1] != 2:
        raise ValueError(f"points must have shape (P, 2), got {p.shape}")
    if not np.isfinite(p).all():
        raise ValueError("points must be finite (drop or report diverged runs first)")
    return p


def pareto_front(points: ArrayLike) -> np.ndarray:
    """Indices of the non-dominated rows of ``points`` ``(P, 2)`` when both coordinates are minimised.

    Row ``i`` is dominated if some row is ``<=`` in both coordinates and ``<`` in one; exact duplicates of a
    front point are all kept. Returned ordered by the first coordinate (then the second).
    """
    p = _points(points)
    le = (p[:, None, :] <= p[None, :, :]).all(axis=2)  # le[j, i]: row j <= row i in both
    lt = (p[:, None, :] < p[None, :, :]).any(axis=2)
    front = np.flatnonzero(~(le & lt).any(axis=0))
    return front[np.lexsort((p[front, 1], p[front, 0]))]


def dominated_area(points: ArrayLike, reference: tuple[float, float] = (1.0, 1.0)) -> float:
    """Area of the region ``{x : some point <= x <= reference}`` (the 2-D hypervolume; larger is better).

    For Fig. 4E ("the performance of LDC is better than that of EWC") the points are the saturated test errors
    ``(eps_1, eps_2)`` of a lambda sweep: LDC beats EWC when its area is larger. The claim is also compared
    through ``min(eps_1 + eps_2)`` over the sweep (the quantity of Fig. 4F). Points beyond the reference in
    either coordinate add nothing.
    """
    p = _points(points)
    rx, ry = (float(r) for r in reference)
    p = p[(p[:, 0] < rx) & (p[:, 1] < ry)]
    if len(p) == 0:
        return 0.0
    front = p[pareto_front(p)]
    xs = np.append(front[:, 0], rx)
    return float(np.sum(np.diff(xs) * (ry - front[:, 1])))
