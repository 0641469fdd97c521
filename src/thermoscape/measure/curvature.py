"""Hessian curvature of a scalar loss of a flat parameter vector (Yang et al., Sec. 2 "Hessian", App. B.4).

Every function takes ``loss_fn``, a map from ``theta`` of shape ``(N,)`` to a scalar tensor (for a network,
build it with ``torch.func.functional_call``), and differentiates it with ``torch.func``.

* exact: ``full_hessian`` / ``hessian_eigenvalues`` / ``batched_hessian_eigenvalues`` for small models;
  ``landscape_hessian_eigenvalues`` uses the closed form of ``mlp_hessian`` for an ``MLPLandscape``;
* matrix-free, as PyHessian does for the paper's Figs. 2c-d: ``top_eigenvalue`` (power iteration) and
  ``hutchinson_trace`` (Rademacher probes), both with the paper's "maximum number of iterations ... 100"
  and "relative tolerance level of 1e-3" (App. B.4; brief 3.2).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor
from torch.func import grad, hessian, jvp, vmap

from thermoscape.core.device import try_compile
from thermoscape.nets.losses import Landscape, MLPLandscape
from thermoscape.measure.mlp_hessian import mlp_loss_hessian

LossFn = Callable[[Tensor], Tensor]

_EPS = 1e-6  # PyHessian's guard in the relative-change denominators (brief 3.2)


def hvp(loss_fn: LossFn, theta: Tensor, v: Tensor) -> Tensor:
    """Hessian-vector product ``H(theta) v`` by forward-over-reverse differentiation (jvp of grad)."""
    return jvp(grad(loss_fn), (theta,), (v,))[1]


def full_hessian(loss_fn: LossFn, theta: Tensor) -> Tensor:
    """The explicit ``(N, N)`` Hessian ``nabla^2 L(theta)`` (``torch.func.hessian`` = jacfwd(jacrev))."""
    return hessian(loss_fn)(theta)


def _symmetric_eigvalsh(h: Tensor) -> Tensor:
    """Ascending eigenvalues of the symmetric part (removes rounding asymmetry before ``eigvalsh``)."""
    return torch.linalg.eigvalsh(0.5 * (h + h.transpose(-1, -2)))


def hessian_eigenvalues(loss_fn: LossFn, theta: Tensor) -> Tensor:
    """All ``N`` Hessian eigenvalues at ``theta``, ascending."""
    return _symmetric_eigvalsh(full_hessian(loss_fn, theta))


def batched_hessian_eigenvalues(
    loss_fn: LossFn, thetas: Tensor, chunk_size: int | None = None, compile: bool = False
) -> Tensor:
    """Hessian eigenvalues at each row of ``thetas`` ``(P, N)``; returns ``(P, N)``, each row ascending.

    Eager: the Hessians are formed with ``vmap`` (``chunk_size`` rows at a time, to bound memory; on
    one CPU thread ``chunk_size=1`` was about twice as fast as vmapping all rows for the 883-parameter
    MLP) and diagonalised as one batch. ``compile=True`` runs ``torch.compile(hessian(loss_fn))``
    point by point instead: ~4x faster for that MLP after a one-off compilation of ~15 s
    (benchmarks/README.md, "Hessians"), worth it from a few tens of points on. For an ``MLPLandscape``
    ``landscape_hessian_eigenvalues`` (closed form) is faster still.
    """
    hess = hessian(loss_fn)
    if compile:
        hess, first = try_compile(hess, thetas[0])
        return _symmetric_eigvalsh(torch.stack([first] + [hess(theta) for theta in thetas[1:]]))
    return _symmetric_eigvalsh(vmap(hess, chunk_size=chunk_size)(thetas))


def landscape_hessian_eigenvalues(
    landscape: Landscape, thetas: Tensor, chunk_size: int | None = None, compile: bool = False
) -> Tensor:
    """Hessian eigenvalues of ``landscape.loss`` at each row of ``thetas`` ``(P, N)``; ``(P, N)``, ascending.

    An ``MLPLandscape`` gets the exact closed-form Hessian of ``mlp_hessian.mlp_loss_hessian`` (no
    autograd, no compilation): for the paper's 883-parameter MLP on one thread ~0.05 s to form, half of
    what ``eigvalsh`` then takes, and ~4x the throughput of the compiled ``torch.func`` path, ~10x that of
    ``torch.autograd.functional.hessian`` (benchmarks/README.md, "Hessians"). One point at a time, so
    memory stays at one ``N x N`` matrix; ``chunk_size`` and ``compile`` then do nothing. Any other
    landscape (the quadratic) goes through ``batched_hessian_eigenvalues`` of its loss.
    """
    if isinstance(landscape, MLPLandscape):
        rows = [
            _symmetric_eigvalsh(mlp_loss_hessian(landscape.spec, landscape.x, landscape.labels, theta))
            for theta in thetas
        ]
        return torch.stack(rows) if rows else thetas.new_zeros(0, thetas.shape[1])
    return batched_hessian_eigenvalues(
        lambda theta: landscape.loss(theta.unsqueeze(0))[0], thetas, chunk_size=chunk_size, compile=compile
    )


def top_eigenvalue(
    loss_fn: LossFn,
    theta: Tensor,
    max_iter: int = 100,
    rel_tol: float = 1e-3,
    generator: torch.Generator | None = None,
) -> tuple[float, Tensor, int]:
    """Dominant Hessian eigenvalue ``lambda_max`` by power iteration with HVPs (PyHessian; brief 3.2).

    Starts from a normalised ``v ~ N(0, I)``; each iteration sets ``lambda = <Hv, v>`` and
    ``v = Hv / ||Hv||``, and stops once ``|lambda_prev - lambda| / (|lambda_prev| + 1e-6) < rel_tol``.
    This finds the eigenvalue of largest magnitude (the top one for trained networks).

    Returns:
        ``(lambda, v, n_iter)``: the last Rayleigh quotient (PyHessian returns the one before it, a
        difference below ``rel_tol``), the unit eigenvector estimate after the last step, and the number
        of HVPs used.
    """
    if max_iter < 1:
        raise ValueError("max_iter must be at least 1")
    v = torch.randn(theta.shape, generator=generator, dtype=theta.dtype, device=theta.device)
    v = v / v.norm()
    eigenvalue: float | None = None
    for n_iter in range(1, max_iter + 1):
        hv = hvp(loss_fn, theta, v)
        rayleigh = float(torch.dot(hv, v))
        v = hv / hv.norm().clamp_min(torch.finfo(hv.dtype).tiny)
        converged = eigenvalue is not None and abs(eigenvalue - rayleigh) / (abs(eigenvalue) + _EPS) < rel_tol
        eigenvalue = rayleigh
        if converged:
            break
    return eigenvalue, v, n_iter


def rademacher(
    shape: tuple[int, ...],
    dtype: torch.dtype,
    device: torch.device | str = "cpu",
    generator: torch.Generator | None = None,
) -> Tensor:
    """A tensor of independent ``+-1`` entries, each with probability 1/2."""
    bits = torch.randint(0, 2, shape, generator=generator, device=device)
    return (2 * bits - 1).to(dtype)


def hutchinson_trace(
    loss_fn: LossFn,
    theta: Tensor,
    max_iter: int = 100,
    rel_tol: float = 1e-3,
    generator: torch.Generator | None = None,
) -> tuple[float, int]:
    """Hessian trace ``tr H = E[v^T H v]`` over Rademacher probes ``v`` (Hutchinson; PyHessian; brief 3.2).

    Probes are added one at a time; after each the running mean is compared with the previous one and
    the loop stops once ``|mean - prev_mean| / (|prev_mean| + 1e-6) < rel_tol`` (the first probe is
    compared with 0, so at least two are used unless the trace is ~0). PyHessian's denominator has no
    ``abs``, which would stop at once whenever the running mean is negative; ``abs`` is used here.
    ``rel_tol=0`` uses exactly ``max_iter`` probes.

    Returns:
        ``(trace estimate, n_probes)``.
    """
    if max_iter < 1:
        raise ValueError("max_iter must be at least 1")
    total, mean = 0.0, 0.0
    for n_probes in range(1, max_iter + 1):
        v = rademacher(tuple(theta.shape), theta.dtype, theta.device, generator)
        total += float(torch.dot(hvp(loss_fn, theta, v), v))
        prev_mean, mean = mean, total / n_probes
        if abs(mean - prev_mean) / (abs(prev_mean) + _EPS) < rel_tol:
            break
    return mean, n_probes


def lanczos_eigenpairs(
    product: Callable[[Tensor], Tensor],
    dim: int,
    k: int,
    which: str = "LA",
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """``k`` extreme eigenpairs of a symmetric ``dim x dim`` operator given only ``v -> H v`` (HVPs), by
    implicitly restarted Lanczos (``scipy.sparse.linalg.eigsh``); the start vector comes from ``generator``
    so results are reproducible. ``which="LA"`` gives the largest, ``"SA"`` the smallest eigenvalues.

    Returns float64 eigenvalues sorted descending (``"LA"``) or ascending (``"SA"``), and the matching unit
    eigenvectors as columns ``(dim, k)``.
    """
    import numpy as np
    from scipy.sparse.linalg import LinearOperator, eigsh

    if not 0 < k < dim:
        raise ValueError(f"k must lie in [1, dim - 1 = {dim - 1}], got {k}")
    start = torch.randn(dim, generator=generator, dtype=torch.float64).numpy()
    operator = LinearOperator(
        (dim, dim), matvec=lambda v: product(torch.from_numpy(np.ascontiguousarray(v).ravel())).numpy(),
        dtype=np.float64,
    )
    values, vectors = eigsh(operator, k=k, which=which, v0=start)
    order = np.argsort(-values if which == "LA" else values)
    return torch.from_numpy(values[order].copy()), torch.from_numpy(vectors[:, order].copy())
