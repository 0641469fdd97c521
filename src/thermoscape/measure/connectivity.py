"""Mode connectivity along a trained quadratic Bezier curve (Yang et al., Eqs. 4 and 12; Garipov et al. 2018).

The curve between two trained parameter vectors ``theta0`` and ``theta1`` is Eq. 12 with three bends (k = 2),
``gamma(t) = (1 - t)^2 theta0 + 2 t (1 - t) bend + t^2 theta1``, whose middle ``bend`` is trained by SGD on
the loss at random ``t ~ U(0, 1)`` (App. A.2; brief 3.4). ``mode_connectivity`` turns the training error
at a few ``t`` values (five in the paper) into ``mc`` (Eq. 4).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

from thermoscape.dynamics.train import Optimizer, train


def bezier_point(theta0: Tensor, bend: Tensor, theta1: Tensor, t: float | Tensor) -> Tensor:
    """``gamma(t)`` of the quadratic Bezier curve (Eq. 12, k = 2); ``(N,)`` for scalar ``t``, ``(T, N)`` for ``t`` ``(T,)``.
    A ``bend`` of shape ``(k - 1, N)`` holds the middle points of a degree-``k`` curve (Fig. 11's 4 bends: k = 3).

    Differentiable in ``bend`` (and ``t``), so it serves both evaluation and curve training.
    """
    t = torch.as_tensor(t, dtype=theta0.dtype, device=theta0.device)
    t = t.unsqueeze(-1) if t.dim() > 0 else t
    if bend.dim() == theta0.dim() + 1:  # several middle control points (rows): degree len(bend) + 1
        points = [theta0, *bend, theta1]
        k = len(points) - 1
        return sum(math.comb(k, j) * (1 - t) ** (k - j) * t**j * p for j, p in enumerate(points))
    return (1 - t) ** 2 * theta0 + 2 * t * (1 - t) * bend + t**2 * theta1


def linear_bends(theta0: Tensor, theta1: Tensor, bends: int) -> Tensor:
    """The ``bends - 2`` middle control points of a Bezier curve with ``bends`` bends (Garipov's count,
    end points included: 3 = quadratic, 4 = cubic) on the straight segment (``init_linear``), as rows;
    for 3 bends a plain vector, the midpoint (``init_bend``)."""
    if bends < 3:
        raise ValueError(f"a curve needs at least 3 bends, got {bends}")
    if bends == 3:
        return init_bend(theta0, theta1)
    fractions = torch.arange(1, bends - 1, dtype=theta0.dtype, device=theta0.device) / (bends - 1)
    return theta0 + fractions.unsqueeze(-1) * (theta1 - theta0)


def init_bend(
    theta0: Tensor,
    theta1: Tensor,
    mode: str = "midpoint",
    generator: torch.Generator | None = None,
    random_init: Callable[[torch.Generator | None], Tensor] | None = None,
) -> Tensor:
    """Initial middle bend of the curve (brief 3.4 and 8.5).

    * ``"midpoint"`` (default; Garipov's ``init_linear``): ``(theta0 + theta1) / 2``, so the initial curve
      is the straight segment, traversed with ``gamma(t) = (1 - t) theta0 + t theta1``.
    * ``"random"`` (what the authors' script effectively did, since it never calls ``init_linear``): a
      fresh random initialisation of the network, ``random_init(generator)``. The distribution depends on
      the architecture, which a flat vector does not carry, so ``random_init`` is required.
    """
    if mode == "midpoint":
        return 0.5 * (theta0 + theta1)
    if mode == "random":
        if random_init is None:
            raise ValueError(
                "mode='random' needs random_init, the network's own initialiser (generator -> theta)"
            )
        bend = random_init(generator).to(dtype=theta0.dtype, device=theta0.device)
        if bend.shape != theta0.shape:
            raise ValueError(
                f"random_init returned shape {tuple(bend.shape)}, expected {tuple(theta0.shape)}"
            )
        return bend
    raise ValueError(f"unknown bend init mode {mode!r}; use 'midpoint' or 'random'")


def mode_connectivity(errors_along_curve: Sequence[float] | np.ndarray | Tensor) -> float:
    """``mc = (e(0) + e(1)) / 2 - e(t*)`` (Eq. 4), from the errors at ordered ``t`` values from 0 to 1.

    ``t*`` maximises ``|(e(0) + e(1)) / 2 - e(t)|`` over *all* the given points, endpoints included, with
    ties going to the first (``argmax``), as in the authors' notebook (brief 3.4). ``mc < 0``: a barrier
    (poorly connected); ``mc > 0``: the endpoints are worse than the curve (under-trained); ``mc ~ 0``:
    well connected. In the paper ``e`` is the training error in %, so ``mc`` lies in ``[-100, 100]``.
    NaN errors give NaN.
    """
    e = np.asarray(errors_along_curve, dtype=np.float64)
    if e.ndim != 1 or e.size < 2:
        raise ValueError("errors_along_curve must be a 1-D sequence with at least the two endpoints")
    deviation = 0.5 * (e[0] + e[-1]) - e
    return float(deviation[np.argmax(np.abs(deviation))])


def garipov_lr_factor(epoch: int, epochs: int) -> float:
    """Curve-training learning-rate factor for 1-based ``epoch`` of ``epochs`` (App. A.2; Garipov's schedule).

    Constant for the first half, then linear decay to 1 % reached at 90 % of training ("from epoch 25 to
    epoch 45" of 50), then 1 %.
    """
    alpha = epoch / epochs
    if alpha <= 0.5:
        return 1.0
    if alpha <= 0.9:
        return 1.0 - (alpha - 0.5) / 0.4 * 0.99
    return 0.01


def train_bezier_curve(
    loss_of_params: Callable[[Tensor, Any], Tensor],
    theta0: Tensor,
    theta1: Tensor,
    make_batches: Callable[[int], Iterable[Any]],
    epochs: int = 50,
    lr: float = 0.01,
    momentum: float = 0.9,
    weight_decay: float = 5e-4,
    schedule: Callable[[int, int], float] = garipov_lr_factor,
    generator: torch.Generator | None = None,
    bend: Tensor | None = None,
) -> tuple[Tensor, list[float]]:
    """Train the middle bend of the curve between the fixed ``theta0`` and ``theta1`` (App. A.2; brief 3.4).

    For every minibatch of epoch ``e`` (``make_batches(e)``, ``e = 0 .. epochs-1``), draw one
    ``t = torch.rand((), generator=generator)`` and take an SGD step (momentum, no optimizer weight decay,
    learning rate ``lr * schedule(e + 1, epochs)``) on
    ``loss_of_params(gamma(t), batch) + 0.5 * weight_decay * ||gamma(t)||^2`` with respect to the bend.

    Args:
        loss_of_params: ``(theta (N,), batch) -> scalar`` training loss, e.g. the mean cross-entropy of
            ``torch.func.functional_call(model, unflatten(theta), x)``.
        make_batches: epoch index -> iterable of minibatches (the caller shuffles and drops the last
            partial batch as for the endpoints).
        bend: initial bend; defaults to ``init_bend(theta0, theta1, "midpoint")``.
    Returns:
        ``(bend, epoch_losses)``: the trained bend (detached) and the mean objective of every epoch.

    The loop is ``dynamics.train.train`` (a step per minibatch, the schedule as its ``lr``).
    """
    theta0, theta1 = theta0.detach(), theta1.detach()
    start = init_bend(theta0, theta1) if bend is None else bend
    bend = start.detach().clone().requires_grad_(True)

    def step(batch: Any) -> Tensor:
        t = torch.rand((), generator=generator, dtype=theta0.dtype).to(theta0.device)
        point = bezier_point(theta0, bend, theta1, t)
        loss = loss_of_params(point, batch) + 0.5 * weight_decay * point.square().sum()
        loss.backward()
        return loss

    run = train([bend], step, Optimizer("sgd", lr=lr, momentum=momentum), epochs, batches=make_batches,
                lr=lambda epoch: lr * schedule(epoch + 1, epochs), divergence="never")
    return bend.detach(), run.epoch_losses


def evaluate_along_curve(
    metric: Callable[[Tensor], float],
    theta0: Tensor,
    bend: Tensor,
    theta1: Tensor,
    n_points: int = 5,
) -> np.ndarray:
    """``metric(gamma(t))`` at ``t = linspace(0, 1, n_points)`` (the paper's five t values), ready for ``mode_connectivity``.

    ``metric`` is e.g. the training error in %; for networks with BatchNorm it must re-estimate the
    running statistics at each point (brief 3.4).
    """
    ts = torch.linspace(0, 1, n_points, dtype=theta0.dtype)
    with torch.no_grad():
        return np.array([float(metric(bezier_point(theta0, bend, theta1, t))) for t in ts])
