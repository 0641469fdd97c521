"""Minibatch loss functions (MLFs) along one direction: Feng & Tu's ensemble statistics and active temperature.

Feng & Tu, "How neural networks find generalizable solutions: self-tuned annealing in deep learning"
(brief ``feng-tu-self-tuned-annealing.md``, sections 1.1, 1.4, 1.7, 3.4-3.6). Everything here is a pure function of

* ``per_sample_loss``: a callable ``points (G, n) -> (G, M)`` returning the loss ``l_k`` of each of the ``M``
  training samples at each of ``G`` parameter vectors. Row ``g`` of the output must depend on row ``g`` of
  the input only, and the callable must be differentiable with ``torch.func`` (forward mode);
* ``w0`` ``(n,)``, a point ("a specific solution reached by SGD"), and ``direction`` ``(n,)``, a unit vector
  ``p_i`` (a PCA direction), so that ``w0 + x * direction`` is the scan line ``delta theta = x`` of Eq. 6.

Contents:

* ``random_batches``: SGD-like minibatches, each drawn without replacement.
* MLF ensemble (Eq. 3, Eq. 9-11, Fig. 3; brief 3.4): ``minibatch_profiles`` gives ``ln L^mu(w0 + x p_i)``,
  ``minibatch_curvatures`` fits each with a quadratic (``M^mu_ii = 2 c2``, ``theta~^mu_i = -c1 / (2 c2)``), and
  ``minibatch_statistics`` returns ``M^(0)_ii`` and ``sigma~^2_{theta,i}`` (Eq. 11), the inputs of Eq. 14.
* Active temperature (Eq. 17, Fig. 5; brief 3.5): ``directional_derivatives`` (per-sample ``dl_k/d delta theta``
  by ``torch.func.jvp``), ``active_temperature`` (exact finite-population formula),
  ``active_temperature_monte_carlo`` (the definition, averaged over random minibatches) and
  ``temperature_profile``.
* Drift mode (Eq. S3, Fig. S2A; brief 1.5, 3.6): ``margins`` ``Delta Y_k`` and their per-sample linear fits
  ``margin_fit`` / ``margin_slopes`` (``beta_k``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor
from torch.func import jvp

PerSampleLoss = Callable[[Tensor], Tensor]

_MAX_KEYS = 1 << 22  # random_batches draws at most this many sort keys at once (32 MiB)
_UNIT_TOL = 1e-6  # allowed | ||p_i|| - 1 | (float32 PCA vectors are unit to ~1e-7)


# ---------------------------------------------------------------------------------------------- helpers


def _check_direction(direction: Tensor, n: int) -> None:
    if direction.ndim != 1 or direction.shape[0] != n:
        raise ValueError(f"direction must have shape ({n},), got {tuple(direction.shape)}")
    norm = float(torch.linalg.vector_norm(direction))
    if abs(norm - 1.0) > _UNIT_TOL:
        raise ValueError(f"direction must be a unit vector (p_i . p_i = 1), got norm {norm:.6g}")


def _line_points(w0: Tensor, direction: Tensor, offsets: Tensor) -> Tensor:
    """The ``(G, n)`` points ``w0 + x_g * direction`` of the scan line (Eq. 6)."""
    if w0.ndim != 1:
        raise ValueError(f"w0 must be a vector (n,), got shape {tuple(w0.shape)}")
    _check_direction(direction, w0.shape[0])
    offsets = torch.as_tensor(offsets, dtype=w0.dtype, device=w0.device)
    if offsets.ndim != 1 or offsets.numel() == 0:
        raise ValueError(f"offsets must be a non-empty vector (G,), got shape {tuple(offsets.shape)}")
    return w0 + offsets[:, None] * direction.to(w0)


def _check_losses(losses: Tensor, n_points: int) -> int:
    """Check a ``per_sample_loss`` output is ``(G, M)``; return ``M``."""
    if losses.ndim != 2 or losses.shape[0] != n_points:
        raise ValueError(f"per_sample_loss must return shape ({n_points}, M), got {tuple(losses.shape)}")
    return losses.shape[1]


def _check_batch_size(batch_size: int, n_samples: int) -> None:
    if n_samples < 2:
        raise ValueError(f"need at least 2 training samples, got {n_samples}")
    if not 1 <= batch_size <= n_samples:
        raise ValueError(f"batch_size must be in [1, {n_samples}], got {batch_size}")


def _check_lr(lr: float) -> None:
    if not lr > 0:
        raise ValueError(f"lr (alpha) must be positive, got {lr}")


def _as_numpy(x: Tensor | np.ndarray) -> np.ndarray:
    if isinstance(x, Tensor):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float64)


# ---------------------------------------------------------------------------------------------- minibatches


def random_batches(n_samples: int, batch_size: int, n_batches: int, generator: torch.Generator) -> Tensor:
    """``(K, B)`` sample indices: ``K = n_batches`` independent minibatches ``mu`` of Eq. 3.

    Each row is a uniformly random ``B``-subset of ``range(n_samples)`` in random order, drawn without
    replacement like one SGD minibatch (brief 1.1); different rows are independent. Each row holds the indices of
    the ``B`` largest of ``M`` uniform keys, in decreasing key order (a prefix of a random permutation).
    """
    if n_samples < 1:
        raise ValueError(f"n_samples must be positive, got {n_samples}")
    if not 1 <= batch_size <= n_samples:
        raise ValueError(f"batch_size must be in [1, {n_samples}], got {batch_size}")
    if n_batches < 1:
        raise ValueError(f"n_batches must be positive, got {n_batches}")
    rows = max(1, _MAX_KEYS // n_samples)  # random sort keys drawn a chunk of batches at a time
    chunks = []
    for start in range(0, n_batches, rows):
        keys = torch.rand(min(rows, n_batches - start), n_samples, generator=generator, dtype=torch.float64)
        chunks.append(keys.topk(batch_size, dim=1).indices)
    return torch.cat(chunks)


# ---------------------------------------------------------------------------------------------- MLF ensemble


def minibatch_profiles(
    per_sample_loss: PerSampleLoss, w0: Tensor, direction: Tensor, offsets: Tensor, batches: Tensor
) -> Tensor:
    """``(K, G)`` log minibatch losses ``ln L^mu(w0 + x_g p_i)`` for each batch ``mu`` (row) and offset ``x_g``.

    ``L^mu = B^{-1} sum_{l in mu} l_l`` is the minibatch loss function of Eq. 3; the profile along ``p_i`` is
    Feng & Tu's ``ln L_i^mu(delta theta)`` (Fig. 3A). The per-sample losses are evaluated once, at the ``G``
    points of the line, and then averaged over each batch's indices ``batches`` ``(K, B)``.
    """
    points = _line_points(w0, direction, offsets)
    if batches.ndim != 2 or batches.shape[1] < 1:
        raise ValueError(f"batches must have shape (K, B), got {tuple(batches.shape)}")
    with torch.no_grad():
        losses = per_sample_loss(points)
    n_samples = _check_losses(losses, points.shape[0])
    batches = batches.to(device=losses.device, dtype=torch.long)
    if batches.numel() and (int(batches.min()) < 0 or int(batches.max()) >= n_samples):
        raise ValueError(f"batch indices must lie in [0, {n_samples}); got [{int(batches.min())}, "
                         f"{int(batches.max())}]")
    batch_means = losses[:, batches].mean(dim=-1)  # (G, K, B) -> (G, K)
    return torch.log(batch_means).T.contiguous().detach()


@dataclass(frozen=True)
class MinibatchFit:
    """Per-batch quadratic fits ``ln L^mu(x) ~ c0 + c1 x + c2 x^2`` along ``p_i`` (brief 3.4); arrays ``(K,)``.

    Near its minimum each MLF is ``L_i^mu ~ exp[M^mu_ii (x - theta~^mu_i)^2 / 2]`` (Eq. 9 restricted to the
    line), so ``M^mu_ii = 2 c2`` and ``theta~^mu_i = -c1 / (2 c2)``; only ``c2 > 0`` fits are convex.
    """

    c0: np.ndarray
    c1: np.ndarray
    c2: np.ndarray

    @property
    def curvature(self) -> np.ndarray:
        """``M^mu_ii = 2 c2``, the curvature of ``ln L^mu`` along ``p_i`` (Eq. 9)."""
        return 2.0 * self.c2

    @property
    def minimum(self) -> np.ndarray:
        """``theta~^mu_i = -c1 / (2 c2)``, the location of the MLF minimum along ``p_i`` (a maximum if c2 < 0)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return -self.c1 / (2.0 * self.c2)

    @property
    def convex(self) -> np.ndarray:
        """Boolean mask ``c2 > 0``: the fits that have a minimum and enter the statistics."""
        return self.c2 > 0


def minibatch_curvatures(offsets: Tensor | np.ndarray, log_losses: Tensor | np.ndarray) -> MinibatchFit:
    """Least-squares quadratic in ``x`` of each row of ``log_losses`` ``(K, G)`` (``numpy.polyfit``; brief 3.4).

    ``offsets`` ``(G,)`` are the ``delta theta`` values of the columns (at least 3 distinct ones).
    """
    x = _as_numpy(offsets)
    y = _as_numpy(log_losses)
    if x.ndim != 1:
        raise ValueError(f"offsets must be a vector (G,), got shape {x.shape}")
    if y.ndim != 2 or y.shape[1] != x.shape[0]:
        raise ValueError(f"log_losses must have shape (K, {x.shape[0]}), got {y.shape}")
    if np.unique(x).size < 3:
        raise ValueError("a quadratic fit needs at least 3 distinct offsets")
    if not np.all(np.isfinite(y)):
        raise ValueError("log_losses must be finite")
    c2, c1, c0 = np.polyfit(x, y.T, 2)
    return MinibatchFit(c0=np.asarray(c0), c1=np.asarray(c1), c2=np.asarray(c2))


def minibatch_statistics(fit: MinibatchFit) -> dict[str, float | int]:
    """MLF ensemble statistics over the convex fits (brief 3.4; Fig. 3B).

    Keys:

    * ``M0``: ``M^(0)_ii = <M^mu_ii>_mu``, the mean curvature (the mean of the normal law of Sec. IV, Eq. 10).
    * ``sigma_tilde2``: ``Var_mu(theta~^mu_i)`` (population variance, ``ddof=0``).
    * ``sigma_tilde2_raw``: ``<(theta~^mu_i)^2>_mu``, the paper's definition of ``sigma~^2_{theta,i}`` in Eq. 11,
      which assumes ``<theta~^mu_i> = 0``; equals ``sigma_tilde2 + theta_tilde_mean^2``.
    * ``theta_tilde_mean``: ``<theta~^mu_i>_mu``.
    * ``M0_squared_sigma_tilde2``: ``(M^(0)_ii)^2 sigma_tilde2``, proportional to ``D_i`` and ``sigma_i^2`` (Eq. 14).
    * ``discarded_fraction``: the fraction of non-convex fits (``c2 <= 0``), excluded from all of the above.
    * ``n_used`` / ``n_batches``: convex fits used / all fits.

    With no convex fit the statistics are NaN.
    """
    convex = np.asarray(fit.convex)
    n_batches = int(convex.size)
    if n_batches == 0:
        raise ValueError("the fit holds no minibatches")
    n_used = int(convex.sum())
    if n_used:
        curvature = fit.curvature[convex]
        theta = fit.minimum[convex]
        m0 = float(curvature.mean())
        mean = float(theta.mean())
        var = float(theta.var())
        raw = float(np.mean(theta**2))
    else:
        m0 = mean = var = raw = math.nan
    return {
        "M0": m0,
        "sigma_tilde2": var,
        "sigma_tilde2_raw": raw,
        "theta_tilde_mean": mean,
        "M0_squared_sigma_tilde2": m0**2 * var,
        "discarded_fraction": 1.0 - n_used / n_batches,
        "n_used": n_used,
        "n_batches": n_batches,
    }


# ---------------------------------------------------------------------------------------------- active temperature


def directional_derivatives(per_sample_loss: PerSampleLoss, points: Tensor, direction: Tensor) -> Tensor:
    """``(G, M)`` per-sample directional derivatives ``g_k = p_i . grad l_k = dl_k(w + delta theta p_i)/d delta theta``.

    One forward-mode pass (``torch.func.jvp``) over all ``G`` points at once, with tangent ``p_i`` on every
    row. The minibatch derivative of Eq. 17 is their batch mean, ``dL^mu/d delta theta = B^{-1} sum_{l in mu} g_l``.
    """
    if points.ndim != 2:
        raise ValueError(f"points must have shape (G, n), got {tuple(points.shape)}")
    _check_direction(direction, points.shape[1])
    points = points.detach().contiguous()  # forward AD cannot write the dual of an expanded (aliased) tensor
    tangent = direction.to(points).expand_as(points).contiguous()
    _, derivatives = jvp(per_sample_loss, (points,), (tangent,))
    _check_losses(derivatives, points.shape[0])
    return derivatives.detach()


def active_temperature(
    per_sample_loss: PerSampleLoss, points: Tensor, direction: Tensor, lr: float, batch_size: int
) -> Tensor:
    """``(G,)`` active local temperature ``T_i`` of Eq. 17 at each of the ``points``, exactly.

    Eq. 17: ``T_i(delta theta) = (alpha/2) < |d delta L^mu(w0 + delta theta p_i) / d delta theta|^2 >_mu`` with
    ``delta L^mu = L^mu - L`` (Eq. 3-4), i.e. ``(alpha/2) Var_mu[p_i . grad L^mu]``. For minibatches of size ``B``
    drawn without replacement from ``M`` samples, the variance of a batch mean is the finite-population one:

        ``T_i = (alpha/2) Var_k(g_k) / B * (M - B) / (M - 1)``,

    with ``Var_k`` the population variance (``ddof=0``) of the per-sample derivatives ``g_k`` over all ``M``
    samples (brief 3.5). ``B = M`` (full-batch GD) gives exactly 0.
    """
    _check_lr(lr)
    g = directional_derivatives(per_sample_loss, points, direction)
    n_samples = g.shape[1]
    _check_batch_size(batch_size, n_samples)
    variance = g.var(dim=1, correction=0)
    return 0.5 * lr * variance / batch_size * (n_samples - batch_size) / (n_samples - 1)


def active_temperature_monte_carlo(
    per_sample_loss: PerSampleLoss,
    point: Tensor,
    direction: Tensor,
    lr: float,
    batch_size: int,
    n_batches: int,
    generator: torch.Generator,
) -> float:
    """Eq. 17 by its definition: ``(alpha/2)`` times the mean of ``|d delta L^mu / d delta theta|^2`` over
    ``n_batches`` random minibatches (``random_batches``) at one ``point`` ``(n,)``.

    ``d delta L^mu / d delta theta = dL^mu/d delta theta - dL/d delta theta`` where ``L = <L^mu>_mu`` is the
    full training loss (Eq. 1), whose derivative is the mean of ``g_k`` over all ``M`` samples. This unbiased
    estimator checks ``active_temperature``; its standard error is about ``T_i sqrt(2 / n_batches)``.
    """
    _check_lr(lr)
    if point.ndim != 1:
        raise ValueError(f"point must be a vector (n,), got shape {tuple(point.shape)}")
    g = directional_derivatives(per_sample_loss, point[None, :], direction)[0]
    _check_batch_size(batch_size, g.shape[0])
    batches = random_batches(g.shape[0], batch_size, n_batches, generator).to(g.device)
    noise = g[batches].mean(dim=1) - g.mean()
    return float(0.5 * lr * torch.mean(noise**2))


def temperature_profile(
    per_sample_loss: PerSampleLoss, w0: Tensor, direction: Tensor, offsets: Tensor, lr: float, batch_size: int
) -> Tensor:
    """``(G,)`` profile ``T_i(delta theta)`` of Eq. 17 at ``w0 + delta theta p_i`` for ``delta theta`` in
    ``offsets`` (Fig. 5A, 5C; ``offsets = [0]`` gives ``T_i(0)`` of Fig. 5B, 5D)."""
    points = _line_points(w0, direction, offsets)
    return active_temperature(per_sample_loss, points, direction, lr, batch_size)


# ---------------------------------------------------------------------------------------------- drift mode margins


def margins(logits: Tensor, labels: Tensor) -> Tensor:
    """Margins ``Delta Y_k = Y_{k,n(k)} - max_{n != n(k)} Y_{k,n}`` (SM Sec. II, before Eq. S2); ``(..., M)``.

    ``logits`` ``(..., M, C)`` are pre-softmax outputs (e.g. one row per ``theta_1`` of a scan, Fig. S2A) and
    ``labels`` ``(M,)`` the correct classes ``n(k)``. Positive margin = correctly classified.
    """
    if logits.ndim < 2:
        raise ValueError(f"logits must have shape (..., M, C), got {tuple(logits.shape)}")
    n_samples, n_classes = logits.shape[-2:]
    if n_classes < 2:
        raise ValueError(f"margins need at least 2 classes, got {n_classes}")
    if labels.shape != (n_samples,):
        raise ValueError(f"labels must have shape ({n_samples},), got {tuple(labels.shape)}")
    labels = labels.to(device=logits.device, dtype=torch.long)
    if n_samples and (int(labels.min()) < 0 or int(labels.max()) >= n_classes):
        raise ValueError(f"labels must lie in [0, {n_classes})")
    index = labels.expand(*logits.shape[:-1])[..., None]
    correct = logits.gather(-1, index)[..., 0]
    others = logits.scatter(-1, index, -math.inf)
    return correct - others.amax(dim=-1)


@dataclass(frozen=True)
class MarginFit:
    """Per-sample lines ``Delta Y_k(theta_1) ~ intercept_k + slope_k theta_1`` (Eq. S3); arrays ``(M,)``.

    ``slope`` is ``beta_k``; ``r2`` the coefficient of determination of each line (NaN for a constant margin).
    """

    slope: np.ndarray
    intercept: np.ndarray
    r2: np.ndarray


def margin_fit(offsets: Tensor | np.ndarray, margin_values: Tensor | np.ndarray) -> MarginFit:
    """Ordinary least-squares line in ``theta_1 = offsets`` ``(G,)`` for each column of ``margin_values``
    ``(G, M)`` (Eq. S3: ``Delta Y_k(theta_1) ~ Delta Y_k(0) + beta_k theta_1``; Fig. S2A; brief 3.6)."""
    x = _as_numpy(offsets)
    y = _as_numpy(margin_values)
    if x.ndim != 1:
        raise ValueError(f"offsets must be a vector (G,), got shape {x.shape}")
    if y.ndim != 2 or y.shape[0] != x.shape[0]:
        raise ValueError(f"margins must have shape ({x.shape[0]}, M), got {y.shape}")
    xc = x - x.mean()
    sxx = float(xc @ xc)
    if sxx == 0.0:
        raise ValueError("a line fit needs at least 2 distinct offsets")
    y_mean = y.mean(axis=0)
    yc = y - y_mean
    slope = xc @ yc / sxx
    intercept = y_mean - slope * x.mean()
    ss_res = np.sum((yc - np.outer(xc, slope)) ** 2, axis=0)
    ss_tot = np.sum(yc**2, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(ss_tot > 0, 1.0 - ss_res / ss_tot, np.nan)
    return MarginFit(slope=slope, intercept=intercept, r2=r2)


def margin_slopes(offsets: Tensor | np.ndarray, margin_values: Tensor | np.ndarray) -> np.ndarray:
    """``(M,)`` per-sample slopes ``beta_k = d Delta Y_k / d theta_1`` of Eq. S3 (see ``margin_fit``);
    ``beta = <beta_k>_k`` is the drift coefficient of Eq. S5 (``beta = M^(0)_11 theta_1^(0)``, Eq. 10)."""
    return margin_fit(offsets, margin_values).slope
