"""The random model of Fort & Ganguli (2019), Secs. 3-4 (brief 6.1): Gaussian logits, logit gradients and
the G-term Hessian, which reproduces the paper's Figs. 3b, 5, 6, 7 and 8.

For ``N`` examples, ``C`` classes and ``D`` weights, all independent (brief 4, E1):

* logits ``z_k^mu ~ N(0, sigma_z^2)`` (Sec. 3.3; printed ``z_{k alpha}^mu``, a typo), probabilities
  ``p^mu = softmax(z^mu)`` (Eq. 1);
* labels: the argmax class with probability ``accuracy``, otherwise a uniformly drawn other class
  (the paper's "simulated accuracy of 0.95" without a scheme; brief 9.6);
* mean logit gradients ``c_{k alpha} ~ N(0, sigma_c^2)`` and residuals ``E^mu_{k alpha} ~ N(0, sigma_E^2)``,
  giving the logit gradients ``dz_k^mu / dW_alpha = c_{k alpha} + E^mu_{k alpha}`` (Eq. 14). The model draws
  one ``c_k`` shared by all examples, so ``c_k`` is not re-estimated as the class mean of Eq. 15, and
  ``q_SLSC ~ q_SL = SNR / (SNR + 1)``, ``SNR = sigma_c^2 / sigma_E^2`` (Sec. 3.2; brief 2.4 item 5);
* the Hessian is the G-term only (Eq. 10, no logit curvature), with the logit Hessians
  ``P^mu_kl = p_k^mu (delta_kl - p_l^mu)`` (Eq. 7); Eq. 16 is its split without cross terms,
  ``c^T P_bar c + (1/N) sum_mu E^mu^T P^mu E^mu``. Every ``P^mu`` annihilates the all-ones vector, so
  ``rank(c^T P_bar c) <= C - 1``: the model gives ``C - 1`` outliers (Fig. 5 caption; brief 2.4 item 7).

**Erratum, Eq. 6 / Eq. 8.** The paper prints ``dL^mu / dz_k = y_k - p_k``; for softmax cross-entropy it is
``p_k - y_k``, and ``model_gradient`` uses the corrected sign (the cosines of Fig. 6 only flip sign, and
the gradient power is unchanged).

Everything is float64 on the CPU; every random draw comes from ``torch.Generator().manual_seed(seed)``,
so the same seed gives the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from numpy.typing import ArrayLike
from torch import Tensor

from thermoscape.core.seeds import derive_seed
from thermoscape.measure.similarity import logit_clustering
from thermoscape.measure.spectrum import (
    bulk_edge,
    curvature_ratio,
    descending_eigh,
    eigenvector_cosines,
    outlier_count,
    projected_curvature_ratio,
    trace_over_top,
)

F64 = torch.float64


@dataclass(frozen=True)
class RandomModelDraw:
    """One realisation of the random model (brief 6.1).

    Attributes:
        z: logits ``(N, C)``, ``N(0, sigma_z^2)``.
        p: softmax probabilities ``(N, C)`` (Eq. 1).
        labels: class labels ``(N,)`` (int64).
        c: mean logit gradients ``(C, D)``, ``N(0, sigma_c^2)`` (Eq. 14-15).
        residuals: example-specific residuals ``E`` ``(N, C, D)``, ``N(0, sigma_E^2)`` (Eq. 14).
        seed, sigma_z, sigma_c, sigma_e: the parameters it was drawn with.
    """

    z: Tensor
    p: Tensor
    labels: Tensor
    c: Tensor
    residuals: Tensor
    seed: int
    sigma_z: float
    sigma_c: float
    sigma_e: float

    @property
    def n_examples(self) -> int:
        return self.z.shape[0]

    @property
    def n_classes(self) -> int:
        return self.z.shape[1]

    @property
    def dim(self) -> int:
        return self.c.shape[1]


def standard_logits(n: int, n_classes: int, generator: torch.Generator) -> Tensor:
    """``(n, n_classes)`` standard normal logits: the first draw of ``draw`` (``z = sigma_z`` times these)."""
    return torch.randn(n, n_classes, generator=generator, dtype=F64)


def draw(
    n: int,
    n_classes: int,
    dim: int,
    sigma_z: float,
    sigma_c: float,
    sigma_e: float,
    accuracy: float,
    seed: int,
) -> RandomModelDraw:
    """Draw the random model (brief 6.1) from ``torch.Generator().manual_seed(seed)``.

    The stream is consumed in a fixed order (standard logits ``(N, C)``, label coins ``(N,)``, label shifts
    ``(N,)``, ``c`` ``(C, D)``, ``E`` ``(N, C, D)``) and every Gaussian is a standard normal times its sigma,
    so draws with the same seed and sizes share their random numbers across sigmas (common random numbers
    along a ``sigma_z`` sweep). Labels: the argmax of ``p`` where a uniform coin is below ``accuracy``,
    otherwise ``(argmax + s) mod C`` with ``s`` uniform in ``1..C-1`` (a uniform other class); the realised
    accuracy is Binomial(N, accuracy) / N.
    """
    if n_classes < 2:
        raise ValueError("the random model needs at least 2 classes")
    generator = torch.Generator().manual_seed(int(seed))
    z = standard_logits(n, n_classes, generator)
    correct = torch.rand(n, generator=generator, dtype=F64) < accuracy
    shift = torch.randint(1, n_classes, (n,), generator=generator)
    top = z.argmax(dim=1)
    labels = torch.where(correct, top, (top + shift) % n_classes)
    c = torch.randn(n_classes, dim, generator=generator, dtype=F64)
    residuals = torch.randn(n, n_classes, dim, generator=generator, dtype=F64)
    unit = RandomModelDraw(z, torch.softmax(z, dim=1), labels, c, residuals, int(seed), 1.0, 1.0, 1.0)
    return rescale(unit, sigma_z, sigma_c, sigma_e)


def rescale(unit: RandomModelDraw, sigma_z: float, sigma_c: float, sigma_e: float) -> RandomModelDraw:
    """The draw with the same standard normals as ``unit`` (a draw with all sigmas 1) and new sigmas:
    ``rescale(draw(..., 1, 1, 1, ...), s_z, s_c, s_e)`` equals ``draw(..., s_z, s_c, s_e, ...)`` exactly
    (a sweep draws once). The labels are kept (the argmax of ``z`` does not depend on ``sigma_z > 0``)."""
    if (unit.sigma_z, unit.sigma_c, unit.sigma_e) != (1.0, 1.0, 1.0):
        raise ValueError("rescale needs a draw with unit sigmas")
    z = sigma_z * unit.z
    return RandomModelDraw(z, torch.softmax(z, dim=1), unit.labels, sigma_c * unit.c, sigma_e * unit.residuals,
                           unit.seed, float(sigma_z), float(sigma_c), float(sigma_e))


def logit_gradients(model: RandomModelDraw) -> Tensor:
    """Logit gradients ``dz_k^mu / dW_alpha = c_{k alpha} + E^mu_{k alpha}`` (Eq. 14), shape ``(N, C, D)``."""
    return model.c.unsqueeze(0) + model.residuals


def logit_hessians(p: Tensor) -> Tensor:
    """Per-example logit Hessians of the cross-entropy ``P^mu_kl = p_k (delta_kl - p_l)`` (Eq. 7),
    ``(N, C, C)``. Each is PSD and annihilates the all-ones vector (rows sum to 0)."""
    p = torch.as_tensor(p).to(F64)
    return torch.diag_embed(p) - p.unsqueeze(2) * p.unsqueeze(1)


def model_hessian(jacobians: Tensor, logit_hessians: Tensor) -> Tensor:
    """The model Hessian of Eq. 10, ``(1/N) sum_mu J^mu^T P^mu J^mu`` (the G-term of Eq. 9), ``(D, D)``.

    Computed as one GEMM (brief 6.1): ``(1/N) reshape(J, (N C, D))^T @ reshape(P @ J, (N C, D))``, then
    symmetrised against rounding.

    Args:
        jacobians: logit Jacobians ``J`` ``(N, C, D)`` (Eq. 14 in the random model).
        logit_hessians: ``P`` ``(N, C, C)`` (Eq. 7).
    """
    j = torch.as_tensor(jacobians).to(F64)
    n, c, d = j.shape
    pj = torch.matmul(torch.as_tensor(logit_hessians).to(F64), j)
    h = j.reshape(n * c, d).T @ pj.reshape(n * c, d) / n
    return 0.5 * (h + h.T)


def decomposed_hessian(c: Tensor, residuals: Tensor, logit_hessians: Tensor) -> Tensor:
    """Eq. 16: Eq. 10 with Eq. 14 inserted and the cross terms dropped,
    ``c^T P_bar c + (1/N) sum_mu E^mu^T P^mu E^mu`` with ``P_bar = (1/N) sum_mu P^mu`` (Sec. 4 (3)).

    The first term has rank ``<= C - 1`` because ``P_bar 1 = 0``; the second is the high-rank noise.
    """
    p = torch.as_tensor(logit_hessians).to(F64)
    c = torch.as_tensor(c).to(F64)
    low_rank = c.T @ p.mean(dim=0) @ c
    return 0.5 * (low_rank + low_rank.T) + model_hessian(residuals, p)


def model_gradient(jacobians: Tensor, p: Tensor, labels: Tensor) -> Tensor:
    """The loss gradient ``g_alpha = (1/N) sum_mu sum_k (p_k^mu - y_k^mu) dz_k^mu / dW_alpha``, ``(D,)``.

    Eq. 8 with the erratum of Eq. 6 corrected: the paper prints ``y - p``; the gradient of the
    cross-entropy is ``p - y`` (brief 2.4 item 1). One GEMM over the flattened ``(N C, D)`` Jacobian.
    """
    j = torch.as_tensor(jacobians).to(F64)
    n, c, d = j.shape
    p = torch.as_tensor(p).to(F64)
    y = torch.nn.functional.one_hot(torch.as_tensor(labels).long(), c).to(F64)
    return ((p - y).reshape(1, n * c) @ j.reshape(n * c, d)).squeeze(0) / n


def entropy_bits(p: Tensor) -> Tensor:
    """Entropy ``S = -sum_k p_k log2 p_k`` of each row of ``p`` ``(N, C)`` in bits (Sec. 3.3), ``0 log 0 = 0``:
    ``log2 C`` for the uniform distribution, 0 for a one-hot one."""
    p = torch.as_tensor(p).to(F64)
    return -torch.special.xlogy(p, p).sum(dim=-1) / math.log(2.0)


def sigma_c_schedule(
    sigma_z: float | ArrayLike,
    exponent: float,
    reference_sigma_z: float = 15.0,
    sigma_c_reference: float = 1.0,
) -> float | np.ndarray:
    """``sigma_c(sigma_z) = (sigma_z / reference_sigma_z)^exponent * sigma_c_reference`` for Fig. 7.

    The paper only says sigma_c increases monotonically with sigma_z (Sec. 4 (3), Fig. 7 caption); this
    power law is the brief's assumption (4, E2): it equals the base value (``1/sqrt(D)`` in the paper) at
    ``sigma_z = 15``; ``exponent = 0`` keeps sigma_c constant. With ``sigma_c_reference = 1`` it is the
    pure factor.
    """
    scaled = (np.asarray(sigma_z, dtype=float) / reference_sigma_z) ** exponent * sigma_c_reference
    return float(scaled) if scaled.ndim == 0 else scaled


def base_measurements(model: RandomModelDraw, max_rank: int | None = None) -> tuple[dict, pd.DataFrame]:
    """Everything of Figs. 5 and 6 for one draw (brief 4 E1, 5.1, 6.2, 6.6).

    Builds the Eq. 10 Hessian ``H``, its Eq. 16 form, the corrected Eq. 8 gradient ``g`` (``p - y``), both
    eigen-decompositions and the clustering of the logit gradients (Eqs. 11-13).

    Args:
        model: a ``draw``.
        max_rank: largest index of the gap search of ``outlier_count`` and the number of eigenvalues left
            out of ``bulk_edge``; default ``2C`` (brief 6.6).
    Returns:
        ``(summary, spectrum)``. ``summary`` has the keys of ``random_model/summary_s{seed}.parquet``:
        seed, n_classes, dim, n_examples, sigma_z, sigma_c, sigma_e, q_slsc, q_sl, q_dl, q_sl_theory
        (``SNR / (SNR + 1)``), mean_max_p, accuracy (realised), n_outliers, gap_ratio, bulk_edge,
        power_top_c_minus_1 / power_top_c / power_top_2c (gradient power in the top ``C - 1``, ``C``, ``2C``
        eigenvectors of Eq. 10), power_top_c_eq16 (top ``C`` of Eq. 16), curvature_ratio (Tr/||H||_F),
        trace_over_top (Tr/lambda_max), top_outlier_eq16_rel_diff (max over the top ``C - 1`` of
        ``|lambda_i^(16) - lambda_i| / |lambda_i|``). ``spectrum`` has one row per eigen-rank
        (``random_model/spectrum_s{seed}.parquet``): seed, rank (1..D, descending), eigenvalue (Eq. 10),
        eigenvalue_eq16, cosine (signed ``cos(g, v_rank)``; the sign of an eigenvector is arbitrary),
        cosine_eq16.
    """
    n, n_classes, dim = model.n_examples, model.n_classes, model.dim
    max_rank = 2 * n_classes if max_rank is None else int(max_rank)
    jacobians = logit_gradients(model)
    p_hessians = logit_hessians(model.p)
    h = model_hessian(jacobians, p_hessians)
    h16 = decomposed_hessian(model.c, model.residuals, p_hessians)
    g = model_gradient(jacobians, model.p, model.labels)
    values, vectors = descending_eigh(h)
    values16, vectors16 = descending_eigh(h16)
    cosines, cosines16 = eigenvector_cosines(g, vectors), eigenvector_cosines(g, vectors16)
    power, power16 = cosines.square().cumsum(0), cosines16.square().cumsum(0)
    n_outliers, gap = outlier_count(values, max_rank)
    clustering = logit_clustering(jacobians, model.labels)
    snr = model.sigma_c**2 / model.sigma_e**2
    top = values[: n_classes - 1]
    summary = {
        "seed": model.seed, "n_classes": n_classes, "dim": dim, "n_examples": n,
        "sigma_z": model.sigma_z, "sigma_c": model.sigma_c, "sigma_e": model.sigma_e,
        **clustering,
        "q_sl_theory": snr / (snr + 1.0),
        "mean_max_p": float(model.p.max(dim=1).values.mean()),
        "accuracy": float((model.labels == model.p.argmax(dim=1)).to(F64).mean()),
        "n_outliers": n_outliers, "gap_ratio": gap, "bulk_edge": bulk_edge(values, max_rank),
        "power_top_c_minus_1": float(power[n_classes - 2]),
        "power_top_c": float(power[min(n_classes, dim) - 1]),
        "power_top_2c": float(power[min(2 * n_classes, dim) - 1]),
        "power_top_c_eq16": float(power16[min(n_classes, dim) - 1]),
        "curvature_ratio": curvature_ratio(h),
        "trace_over_top": trace_over_top(h, float(values[0])),
        "top_outlier_eq16_rel_diff": float(((values16[: n_classes - 1] - top).abs() / top.abs()).max()),
    }
    spectrum = pd.DataFrame({
        "seed": model.seed, "rank": np.arange(1, dim + 1),
        "eigenvalue": values.numpy(), "eigenvalue_eq16": values16.numpy(),
        "cosine": cosines.numpy(), "cosine_eq16": cosines16.numpy(),
    })
    return summary, spectrum


def sweep_point(
    model: RandomModelDraw,
    projections: int,
    projection_dim: int,
    generator: torch.Generator | None = None,
) -> dict:
    """One point of the sigma_z sweep of Figs. 7 and 8 (brief 4 E2, 5.2, 6.3).

    Returns a dict with seed, sigma_z, sigma_c, sigma_e, lambda_max (top eigenvalue of Eq. 10),
    curvature_ratio (Tr/||H||_F), trace_over_top, projected_ratio and projected_ratio_sd (mean and sample
    sd of Tr/||H_d||_F over ``projections`` random ``projection_dim``-dim hyperplanes from ``generator``),
    mean_max_p and entropy_bits (mean over examples).
    """
    h = model_hessian(logit_gradients(model), logit_hessians(model.p))
    lambda_max = float(torch.linalg.eigvalsh(h)[-1])
    projected, projected_sd = projected_curvature_ratio(h, projection_dim, projections, generator)
    return {
        "seed": model.seed, "sigma_z": model.sigma_z, "sigma_c": model.sigma_c, "sigma_e": model.sigma_e,
        "lambda_max": lambda_max, "curvature_ratio": curvature_ratio(h),
        "trace_over_top": trace_over_top(h, lambda_max),
        "projected_ratio": projected, "projected_ratio_sd": projected_sd,
        "mean_max_p": float(model.p.max(dim=1).values.mean()),
        "entropy_bits": float(entropy_bits(model.p).mean()),
    }


def sigma_z_sweep(
    n: int,
    n_classes: int,
    dim: int,
    sigma_zs: ArrayLike,
    exponents: Sequence[float],
    sigma_c_reference: float,
    sigma_e_reference: float,
    accuracy: float,
    seed: int,
    projections: int,
    projection_dim: int,
    reference_sigma_z: float = 15.0,
) -> pd.DataFrame:
    """The sweep table ``random_model/sweep_s{seed}.parquet`` (Figs. 7, 8): a row per ``sigma_z`` and
    schedule exponent ``a``, with ``sigma_c = sigma_c_schedule(sigma_z, a, reference_sigma_z,
    sigma_c_reference)`` and ``sigma_E = sigma_c * sigma_e_reference / sigma_c_reference`` (``sigma_c /
    sigma_E`` fixed, Fig. 7 caption).

    Every point draws with the same ``seed`` (common random numbers: the same standard normals, rescaled)
    and projects onto the same hyperplanes (generator seeded with ``derive_seed(seed, "projections")``),
    so the curve is smooth in sigma_z. With ``sigma_E / sigma_c`` fixed the logit gradients scale with
    ``sigma_c``, so H = sigma_c^2 H(sigma_c = 1): each ``sweep_point`` is computed once at
    ``sigma_c_reference`` and every schedule follows exactly, ``lambda_max`` times
    ``(sigma_c / sigma_c_reference)^2``, every ratio unchanged. Columns: exponent, seed, sigma_z, sigma_c,
    sigma_e, lambda_max, curvature_ratio, trace_over_top, projected_ratio, projected_ratio_sd, mean_max_p,
    entropy_bits.
    """
    ratio = sigma_e_reference / sigma_c_reference
    unit = draw(n, n_classes, dim, 1.0, 1.0, 1.0, accuracy, seed)
    points = []
    for sigma_z in np.asarray(sigma_zs, dtype=float).ravel():
        model = rescale(unit, float(sigma_z), sigma_c_reference, sigma_e_reference)
        generator = torch.Generator().manual_seed(derive_seed(seed, "projections"))
        points.append(sweep_point(model, projections, projection_dim, generator))
    rows = []
    for exponent in exponents:
        for point in points:
            sigma_c = float(sigma_c_schedule(point["sigma_z"], exponent, reference_sigma_z, sigma_c_reference))
            rows.append({"exponent": float(exponent), **point, "sigma_c": sigma_c, "sigma_e": sigma_c * ratio,
                         "lambda_max": point["lambda_max"] * (sigma_c / sigma_c_reference) ** 2})
    return pd.DataFrame(rows)


def freezing_simplex(sigma_zs: ArrayLike, n_examples: int, seed: int) -> pd.DataFrame:
    """Fig. 3b (left): softmax probabilities of ``C = 3`` random logits ``z ~ N(0, sigma_z^2)`` on the
    2-simplex, for each ``sigma_z`` (Sec. 3.3). The same standard logits (from ``seed``) are rescaled for
    every ``sigma_z``, so each example moves from the centre towards a corner as ``sigma_z`` grows.
    Columns: sigma_z, example, p1, p2, p3."""
    base = standard_logits(n_examples, 3, torch.Generator().manual_seed(int(seed)))
    tables = []
    for sigma_z in np.asarray(sigma_zs, dtype=float).ravel():
        p = torch.softmax(sigma_z * base, dim=1).numpy()
        tables.append(pd.DataFrame({"sigma_z": sigma_z, "example": np.arange(n_examples),
                                    "p1": p[:, 0], "p2": p[:, 1], "p3": p[:, 2]}))
    return pd.concat(tables, ignore_index=True)


def entropy_curve(n_classes: list[int], sigma_zs: ArrayLike, n_examples: int, seed: int) -> pd.DataFrame:
    """Fig. 3b (right): mean and sample sd over ``n_examples`` of the entropy in bits (``entropy_bits``) of
    ``softmax(z)``, ``z ~ N(0, sigma_z^2)`` i.i.d. over ``C`` classes (the random energy model of Sec. 3.3).
    Per ``C`` the same standard logits (generator ``derive_seed(seed, "entropy", C)``) are rescaled for
    every ``sigma_z``. Columns: n_classes, sigma_z, entropy_bits, entropy_sd."""
    rows = []
    for classes in n_classes:
        generator = torch.Generator().manual_seed(derive_seed(seed, "entropy", int(classes)))
        base = standard_logits(n_examples, int(classes), generator)
        for sigma_z in np.asarray(sigma_zs, dtype=float).ravel():
            s = entropy_bits(torch.softmax(sigma_z * base, dim=1))
            rows.append({"n_classes": int(classes), "sigma_z": float(sigma_z), "entropy_bits": float(s.mean()),
                         "entropy_sd": float(s.std()) if n_examples > 1 else float("nan")})
    return pd.DataFrame(rows)
