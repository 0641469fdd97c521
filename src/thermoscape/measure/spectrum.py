"""Hessian-structure measures of Fort & Ganguli (2019), shared by the random model and real networks.

The four properties of Sec. 1 are measured on a symmetric ``(D, D)`` Hessian ``H`` (Eq. 5, or the model
Hessian of Eq. 10 / Eq. 16) and a gradient ``g`` (Eq. 4 / Eq. 8):

* bulk + outliers (property 1): ``outlier_count`` (largest gap ratio ``lambda_i / lambda_{i+1}``, brief 6.6)
  and ``bulk_edge`` (95th percentile of ``|lambda|`` below the outliers);
* gradient confinement (property 2): ``eigenvector_cosines`` ``cos(g, v_i)`` (Fig. 6) and
  ``gradient_power`` ``sum_{i <= k} cos_i^2`` (brief 6.2);
* the top eigenvalue (property 3) is ``descending_eigh(h)[0][0]``;
* the Goldilocks statistic (property 4) ``Trace(H) / ||H||``: the paper never defines ``||H||``; following
  Fort & Scherlis [17] (brief 2.3) ``curvature_ratio`` uses the Frobenius norm, so the ratio lies in
  ``[-sqrt(D), sqrt(D)]`` and equals ``sqrt(r)`` for a PSD matrix with ``r`` equal nonzero eigenvalues;
  ``trace_over_top`` is the spectral-norm variant ``Tr(H) / lambda_max``; ``projected_curvature_ratio`` is
  the same statistic on random ``d``-dimensional projections ``A^T H A`` (Sec. 4 (4), brief 6.3).

Everything is computed in float64.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

F64 = torch.float64

#: ``H @ A`` for a ``(D, m)`` block ``A``: a matrix-free Hessian (e.g. ``m`` Hessian-vector products).
MatMul = Callable[[Tensor], Tensor]


def _symmetric(h: Tensor) -> Tensor:
    h = torch.as_tensor(h).to(F64)
    if h.ndim != 2 or h.shape[0] != h.shape[1]:
        raise ValueError(f"expected a square matrix, got shape {tuple(h.shape)}")
    return 0.5 * (h + h.T)


def descending_eigh(h: Tensor) -> tuple[Tensor, Tensor]:
    """Eigen-decomposition of the symmetric part of ``h``: eigenvalues in **descending** order and the
    matching unit eigenvectors as the **columns** of the second tensor (brief 6.2).

    ``h`` is symmetrised (``(h + h^T) / 2``) first, which removes the rounding asymmetry of a GEMM-built
    Hessian (Eq. 10) before ``torch.linalg.eigh``.
    """
    values, vectors = torch.linalg.eigh(_symmetric(h))
    return values.flip(0), vectors.flip(1)


def outlier_count(eigenvalues_desc: Tensor, max_rank: int) -> tuple[int, float]:
    """Number of outlier eigenvalues by the largest gap ratio (brief 6.6).

    ``n_out = argmax_{1 <= i <= max_rank} lambda_i / lambda_{i+1}`` over the descending eigenvalues, and that
    ratio. Choice for non-positive eigenvalues: a ratio is only formed where ``lambda_{i+1} > 0``; indices
    with ``lambda_{i+1} <= 0`` are **skipped** (the ratio is negative or infinite and says nothing about a
    bulk/outlier gap). A PSD spectrum of exact rank ``r <= max_rank`` therefore does not report its jump to
    zero; the count is then taken among the positive eigenvalues. Ties go to the smallest ``i``. Returns
    ``(0, nan)`` when no ratio can be formed (fewer than two positive eigenvalues among the first
    ``max_rank + 1``).

    Args:
        eigenvalues_desc: eigenvalues sorted in descending order, e.g. ``descending_eigh(h)[0]``.
        max_rank: the largest ``i`` considered (``2C`` in brief 6.6); clipped to ``len - 1``.
    """
    lam = torch.as_tensor(eigenvalues_desc).to(F64).flatten()
    top = min(int(max_rank), lam.numel() - 1)
    if top < 1:
        return 0, float("nan")
    upper, lower = lam[:top], lam[1 : top + 1]
    valid = lower > 0
    if not bool(valid.any()):
        return 0, float("nan")
    ratios = torch.where(valid, upper / torch.where(valid, lower, 1.0), -torch.inf)
    i = int(torch.argmax(ratios))
    return i + 1, float(ratios[i])


def bulk_edge(eigenvalues_desc: Tensor, exclude: int) -> float:
    """95th percentile of ``|lambda|`` over the descending eigenvalues without the top ``exclude``
    (brief 6.6: ``exclude = 2C``); ``nan`` if nothing is left."""
    lam = torch.as_tensor(eigenvalues_desc).to(F64).flatten()[int(exclude):]
    if lam.numel() == 0:
        return float("nan")
    return float(torch.quantile(lam.abs(), 0.95))


def eigenvector_cosines(g: Tensor, vectors: Tensor) -> Tensor:
    """Signed ``cos(g, v_i)`` for every column ``v_i`` of ``vectors`` ``(D, m)`` (Fig. 6, brief 6.2).

    Columns need not be unit vectors (each is normalised). A zero gradient gives NaN cosines.
    """
    g = torch.as_tensor(g).to(F64).flatten()
    v = torch.as_tensor(vectors).to(F64)
    if v.ndim != 2 or v.shape[0] != g.numel():
        raise ValueError(f"vectors must be (D, m) with D = {g.numel()}, got {tuple(v.shape)}")
    return (v.T @ g) / (v.norm(dim=0) * g.norm())


def gradient_power(g: Tensor, vectors: Tensor, k: int) -> float:
    """Fraction of ``||g||^2`` in the span of the first ``k`` columns of ``vectors``:
    ``sum_{i <= k} cos^2(g, v_i)`` (brief 6.2; Fig. 6 reports k = 10). The columns must be orthonormal
    (eigenvectors from ``descending_eigh``) for this to be a fraction."""
    cos = eigenvector_cosines(g, torch.as_tensor(vectors)[:, : int(k)])
    return float(cos.square().sum())


def curvature_ratio(h: Tensor) -> float:
    """``Trace(H) / ||H||_F`` (Sec. 1 and Sec. 4 (4); Frobenius norm as in [17], brief 2.3).

    Equals ``sum_i lambda_i / sqrt(sum_i lambda_i^2)``: ``sqrt(r)`` for ``r`` equal positive eigenvalues,
    0 for a spectrum symmetric about 0, bounded by ``sqrt(D)`` in absolute value; ``nan`` for ``H = 0``.
    """
    h = _symmetric(h)
    norm = torch.linalg.matrix_norm(h)
    return float(torch.trace(h) / norm) if norm > 0 else float("nan")


def trace_over_top(h: Tensor, lambda_max: float | None = None) -> float:
    """``Trace(H) / lambda_max`` (the spectral-norm variant of the Goldilocks statistic, brief 2.3).

    ``lambda_max`` is the top (signed) eigenvalue; pass it when it is already known to skip ``eigvalsh``.
    """
    h = _symmetric(h)
    top = float(torch.linalg.eigvalsh(h)[-1]) if lambda_max is None else float(lambda_max)
    return float(torch.trace(h)) / top if top != 0 else float("nan")


def random_orthonormal(dim: int, d: int, generator: torch.Generator | None = None) -> Tensor:
    """A ``(dim, d)`` float64 matrix with orthonormal columns spanning a uniformly random (Haar)
    ``d``-dimensional subspace: QR of a standard Gaussian matrix, signs fixed by ``diag(R) > 0``
    (brief 6.3)."""
    if d > dim:
        raise ValueError(f"cannot draw {d} orthonormal columns in dimension {dim}")
    q, r = torch.linalg.qr(torch.randn(dim, d, generator=generator, dtype=F64))
    return q * torch.sign(torch.diagonal(r)).where(torch.diagonal(r) != 0, 1.0)


def projected_curvature_ratio(
    h: Tensor | MatMul,
    d: int,
    n_projections: int,
    generator: torch.Generator | None = None,
    dim: int | None = None,
) -> tuple[float, float]:
    """``Trace(H_d) / ||H_d||_F`` for ``H_d = A^T H A`` on random ``d``-dim hyperplanes (brief 6.3).

    Sec. 4 (4): "we project our Hessian to a random d = 10 dimensional hyperplane". ``A`` comes from
    ``random_orthonormal`` (``n_projections`` independent draws from ``generator``, in order).

    Args:
        h: the ``(D, D)`` Hessian, or a function returning ``H @ A`` for a ``(D, m)`` block (e.g. built from
            Hessian-vector products; then give ``dim = D``). The block is float64 on the CPU (moving it to
            another device and back is the function's job).
        d: dimension of each hyperplane.
        n_projections: number of random hyperplanes (brief: >= 10).
        generator: random source of the hyperplanes.
        dim: ``D``, required when ``h`` is a function.
    Returns:
        ``(mean, sd)`` over the projections; ``sd`` is the sample standard deviation (``ddof = 1``), NaN for
        a single projection.
    """
    if callable(h):
        if dim is None:
            raise ValueError("dim is required when h is a function")
        matmul = h
    else:
        h = _symmetric(h)
        dim = h.shape[0]

        def matmul(a: Tensor) -> Tensor:
            return h @ a

    ratios = []
    for _ in range(int(n_projections)):
        a = random_orthonormal(dim, d, generator)
        ratios.append(curvature_ratio(a.T @ matmul(a)))
    values = torch.tensor(ratios, dtype=F64)
    sd = float(values.std()) if len(values) > 1 else float("nan")
    return float(values.mean()), sd
