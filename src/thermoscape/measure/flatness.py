"""Loss landscape along PCA directions: flatness ``F_i`` and the variance-flatness relation (Feng & Tu).

Along a direction ``p_i`` through a solution ``w_0`` the loss profile is Eq. 6,
``L_i(dtheta) = L(w_0 + dtheta p_i)``, and near ``dtheta = 0`` Eq. 7 fits it as

    ``ln L_i(dtheta) ~ ln L_0 + 4 dtheta^2 / F_i^2``,   ``L_0 = L(w_0)``,

so ``ln L_i = ln L_0 + 1`` at ``dtheta = +-F_i / 2``. The flatness ``F_i`` is measured, as in the paper, as
"the width of the region within which ``L_i <= e L_0``": the distance between the two crossings of
``e L_0`` (brief 3.2). The inverse variance-flatness relation is Eq. 8, ``sigma_i^2 ~ F_i^-psi`` with
``psi ~ 4`` (brief 3.3).

The loss is a batched callable ``loss(points) -> values`` mapping a ``(D, n)`` tensor of parameter vectors
to the ``(D,)`` full training losses, so every scan below advances all directions with one call per step.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

BatchedLoss = Callable[[Tensor], Tensor]

PAPER_RANKS = (1, 2, 10, 20, 30, 49, 50, 100)  # brief 3.2: "always include i = 1, 2, 10, 20, 30, 49, 50, 100"


def _as_array(values: np.ndarray | Tensor) -> np.ndarray:
    """A flat float64 numpy copy of a tensor, array or sequence (e.g. a pandas column)."""
    if isinstance(values, Tensor):
        values = values.detach().cpu().numpy()
    return np.asarray(values, dtype=np.float64).ravel()


def _evaluate(loss: BatchedLoss, points: Tensor) -> Tensor:
    with torch.no_grad():
        values = loss(points)
    if not isinstance(values, Tensor) or values.shape != points.shape[:1]:
        shape = tuple(values.shape) if isinstance(values, Tensor) else type(values).__name__
        raise ValueError(
            f"loss must map ({points.shape[0]}, n) points to ({points.shape[0]},) values, got {shape}"
        )
    return values.detach()


def crossing_widths(
    loss: BatchedLoss,
    w0: Tensor,
    directions: Tensor,
    factor: float = math.e,
    h0: float = 1e-3,
    rel_tol: float = 1e-3,
    max_doublings: int = 40,
) -> tuple[Tensor, Tensor, float]:
    """``(d_plus, d_minus, L0)``: distances from ``w0`` to ``L = factor * L0`` along ``+p`` and ``-p`` (brief 3.2).

    For each row ``p`` of ``directions`` ``(D, n)`` and each side ``s = +-1``, ``h`` doubles from ``h0`` until
    ``L(w0 + s h p) >= factor * L0``, then the bracket between the last ``h`` below and the first at or above
    is bisected until its width is below ``rel_tol`` times its upper end; the midpoint is returned (relative
    error ``<= rel_tol / 2``). All ``2 D`` rays advance together, one batched ``loss`` call per step for the
    rays still searching. A ray that has not crossed after ``max_doublings`` doublings (``h = h0 2^k``) gets
    ``inf``; a ``nan`` loss counts as a crossing (the loss blew up).

    Distances are in units of ``|p|`` (weight-space distance for unit ``p_i``). The flatness of Eq. 7,
    ``F_i = d_plus + d_minus``, is :func:`flatness`. ``L0 = loss(w0)`` must be finite and positive.
    """
    if w0.ndim != 1:
        raise ValueError(f"w0 must be a 1-D (n,) tensor, got shape {tuple(w0.shape)}")
    if directions.ndim != 2 or directions.shape[1] != w0.shape[0]:
        raise ValueError(f"directions must be (D, {w0.shape[0]}), got shape {tuple(directions.shape)}")
    if not factor > 1:
        raise ValueError(f"factor must be > 1 (the crossing level is factor * L0), got {factor}")
    if not h0 > 0 or not 0 < rel_tol < 1 or max_doublings < 0:
        raise ValueError(
            f"need h0 > 0, 0 < rel_tol < 1, max_doublings >= 0; got {h0}, {rel_tol}, {max_doublings}"
        )
    l0 = float(_evaluate(loss, w0[None])[0])
    if not (math.isfinite(l0) and l0 > 0):
        raise ValueError(f"L0 = loss(w0) must be finite and positive for the e * L0 crossing, got {l0}")
    threshold = factor * l0

    rays = torch.cat([directions, -directions]).to(dtype=w0.dtype, device=w0.device)
    n_rays = rays.shape[0]
    options = {"dtype": w0.dtype, "device": w0.device}
    lo = torch.zeros(n_rays, **options)  # largest h known to lie below the threshold
    hi = torch.full((n_rays,), math.inf, **options)  # smallest h known to lie at or above it

    def above(idx: Tensor, h: Tensor) -> Tensor:
        return ~(_evaluate(loss, w0 + h[:, None] * rays[idx]) < threshold)  # nan -> crossed

    h = torch.full((n_rays,), h0, **options)
    searching = torch.arange(n_rays, device=w0.device)
    for _ in range(max_doublings + 1):
        if searching.numel() == 0:
            break
        crossed = above(searching, h[searching])
        hi[searching[crossed]] = h[searching[crossed]]
        lo[searching[~crossed]] = h[searching[~crossed]]
        h[searching[~crossed]] *= 2
        searching = searching[~crossed]

    while True:
        open_ = torch.isfinite(hi) & (hi - lo > rel_tol * hi)
        idx = torch.nonzero(open_).flatten()
        if idx.numel() == 0:
            break
        mid = 0.5 * (lo[idx] + hi[idx])
        crossed = above(idx, mid)
        hi[idx[crossed]] = mid[crossed]
        lo[idx[~crossed]] = mid[~crossed]

    width = torch.where(torch.isfinite(hi), 0.5 * (lo + hi), hi)
    d = directions.shape[0]
    return width[:d], width[d:], l0


def flatness(loss: BatchedLoss, w0: Tensor, directions: Tensor, **kwargs) -> Tensor:
    """``F_i = d_plus + d_minus`` (Eq. 7): the full width of the region where ``L_i <= e L_0``, per direction.

    ``kwargs`` go to :func:`crossing_widths`; ``inf`` where a side never crosses.
    """
    d_plus, d_minus, _ = crossing_widths(loss, w0, directions, **kwargs)
    return d_plus + d_minus


def loss_profile(loss: BatchedLoss, w0: Tensor, direction: Tensor, offsets: Tensor) -> Tensor:
    """``L_i(dtheta) = L(w0 + dtheta p_i)`` of Eq. 6 at the ``(G,)`` ``offsets``, in one batched call."""
    if w0.ndim != 1 or direction.shape != w0.shape:
        raise ValueError(
            f"w0 and direction must both be (n,), got {tuple(w0.shape)} and {tuple(direction.shape)}"
        )
    if offsets.ndim != 1:
        raise ValueError(f"offsets must be a 1-D (G,) tensor, got shape {tuple(offsets.shape)}")
    offsets = offsets.to(w0.dtype)
    return _evaluate(loss, w0 + offsets[:, None] * direction.to(dtype=w0.dtype, device=w0.device))


@dataclass(frozen=True)
class QuadraticLogFit:
    """``ln L ~ c0 + c1 x + c2 x^2`` fitted to a loss profile (Eq. 7; brief 3.2 fit check, 3.4).

    ``r2`` is the coefficient of determination of the fit in ``ln L``; ``width_fit = 2 / sqrt(c2)`` is the
    flatness that Eq. 7 (``c2 = 4 / F^2``) implies (``nan`` if ``c2 <= 0``).
    """

    c0: float
    c1: float
    c2: float
    r2: float
    width_fit: float

    @property
    def curvature(self) -> float:
        """``2 c2``: the curvature of ``ln L`` along the direction (``M_ii`` of Eq. 10; ``M^mu_ii`` for an MLF)."""
        return 2.0 * self.c2

    @property
    def minimum(self) -> float:
        """``-c1 / (2 c2)``: where the fitted parabola is lowest (``theta~^mu_i`` for an MLF); ``nan`` if ``c2 <= 0``."""
        return -self.c1 / (2.0 * self.c2) if self.c2 > 0 else float("nan")


def quadratic_log_fit(offsets: Tensor | np.ndarray, losses: Tensor | np.ndarray) -> QuadraticLogFit:
    """Least-squares quadratic in ``ln L`` over the profile ``(offsets, losses)`` (``numpy.polyfit``; Eq. 7).

    Needs at least 3 distinct offsets and finite, positive losses.
    """
    x = _as_array(offsets)
    y = _as_array(losses)
    if x.shape != y.shape:
        raise ValueError(f"offsets and losses must have the same length, got {x.size} and {y.size}")
    if np.unique(x).size < 3:
        raise ValueError("quadratic_log_fit needs at least 3 distinct offsets")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y)) and np.all(y > 0)):
        raise ValueError("quadratic_log_fit needs finite offsets and finite, strictly positive losses")
    log_l = np.log(y)
    c2, c1, c0 = np.polyfit(x, log_l, 2)
    ss_res = float(np.sum((log_l - np.polyval([c2, c1, c0], x)) ** 2))
    ss_tot = float(np.sum((log_l - log_l.mean()) ** 2))
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else float("nan")
    width = 2.0 / math.sqrt(c2) if c2 > 0 else float("nan")
    return QuadraticLogFit(c0=float(c0), c1=float(c1), c2=float(c2), r2=r2, width_fit=width)


def scan_ranks(
    n_available: int,
    count: int = 45,
    low: int = 2,
    high: int = 600,
    always: Sequence[int] = PAPER_RANKS,
) -> np.ndarray:
    """Sorted unique 1-based PCA ranks whose flatness to measure (brief 3.2, 5.3).

    About ``count`` log-spaced integers in ``[low, min(high, n_available)]`` (fewer where rounding merges
    small ones), plus the ``always`` ranks ``<= n_available``. Direction ``i`` is row ``i - 1`` of
    ``WeightPCA.directions``.
    """
    if n_available < 1 or count < 1 or low < 1 or high < low:
        raise ValueError(
            f"need n_available >= 1, count >= 1, 1 <= low <= high; got {n_available}, {count}, {low}, {high}"
        )
    top = min(high, n_available)
    spaced = np.round(np.geomspace(low, top, count)).astype(np.int64) if top >= low else np.zeros(0, np.int64)
    extra = np.array([r for r in always if 1 <= r <= n_available], dtype=np.int64)
    return np.unique(np.concatenate([spaced, extra]))
