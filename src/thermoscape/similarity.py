"""Output similarity of independently trained models: linear CKA on mixup samples (Yang et al., Eq. 3).

``s(theta, theta') = Cov(F, F') / sqrt(Cov(F, F) Cov(F', F'))`` with
``Cov(X, Y) = (m - 1)^-2 tr(X X^T H_m Y Y^T H_m)`` and the centring matrix ``H_m = I - 1 1^T / m``:
linear CKA with the biased HSIC estimator (Kornblith et al. 2019). The ``(m - 1)^-2`` cancels, and since
``H_m`` is idempotent ``tr(X X^T H Y Y^T H) = ||Y_c^T X_c||_F^2`` for the column-centred ``X_c = H X``,
which is what is computed (``d_out x d_out`` products instead of ``m x m`` Gram matrices).

The outputs ``F`` are the softmax outputs on ``m = 640`` mixup samples, ``x = lam x_1 + (1 - lam) x_2``
with ``lam ~ Beta(16, 16)`` (paper footnote 2 and App. A.1; brief 3.3).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from scipy.special import betaincinv
from torch import Tensor


def _centred_features(x: Tensor) -> Tensor | None:
    """``x`` as ``(m, features)`` float64 with column means removed; ``None`` if it is constant over samples.

    "Constant" allows for the rounding of the mean: ``max |x - mean| <= m * eps * max |x|``.
    """
    x = torch.as_tensor(x).reshape(len(x), -1).to(torch.float64)
    xc = x - x.mean(dim=0)
    if xc.abs().max() <= len(x) * torch.finfo(torch.float64).eps * x.abs().max():
        return None
    return xc


def linear_cka(x: Tensor, y: Tensor) -> float:
    """Linear CKA (Eq. 3) between outputs ``x`` ``(m, ...)`` and ``y`` ``(m, ...)`` of two models on the same inputs.

    Trailing dimensions are flattened; the computation is in float64. Returns ``nan`` when either output
    is constant across the ``m`` samples (zero variance, so Eq. 3 is 0/0): the released results have such
    NaN cells for width-1 models, which callers average out with a NaN-safe mean (brief 3.3). Constant
    individual features are harmless (they vanish after centring).
    """
    if len(x) != len(y):
        raise ValueError(f"x and y must have the same number of samples, got {len(x)} and {len(y)}")
    xc, yc = _centred_features(x), _centred_features(y)
    if xc is None or yc is None:
        return math.nan
    cross = (yc.T @ xc).square().sum()
    return float(cross / ((xc.T @ xc).norm() * (yc.T @ yc).norm()))


def beta_samples(alpha: float, n: int, generator: torch.Generator | None = None) -> Tensor:
    """``n`` draws of ``Beta(alpha, alpha)`` by inverse-CDF of uniforms from ``generator`` (float64)."""
    u = torch.rand(n, generator=generator, dtype=torch.float64)
    return torch.from_numpy(betaincinv(alpha, alpha, u.numpy()))


def mixup_inputs(
    x: Tensor,
    n_samples: int = 640,
    alpha: float = 16.0,
    generator: torch.Generator | None = None,
    batch_size: int = 128,
) -> Tensor:
    """``n_samples`` mixup inputs ``lam x_i + (1 - lam) x_j`` from the training inputs ``x`` ``(n, ...)`` (App. A.1).

    As in the authors' code (brief 3.3): the samples are the first ``n_samples`` of a random permutation
    of ``x`` (further permutations are appended if ``n_samples > n``), taken in batches of
    ``batch_size``; each batch draws one ``lam ~ Beta(alpha, alpha)`` and pairs every sample with a
    random permutation of its own batch (a sample may be paired with itself). The paper's 640 is
    5 batches of 128 (the code's off-by-one used 6).
    """
    if not x.is_floating_point():
        x = x.to(torch.get_default_dtype())
    n = len(x)
    order = torch.cat([torch.randperm(n, generator=generator) for _ in range(-(-n_samples // n))])
    chosen = x[order[:n_samples].to(x.device)]
    starts = range(0, n_samples, batch_size)
    lams = beta_samples(alpha, len(starts), generator).to(dtype=x.dtype, device=x.device)
    mixed = []
    for lam, start in zip(lams, starts):
        batch = chosen[start : start + batch_size]
        partner = batch[torch.randperm(len(batch), generator=generator).to(x.device)]
        mixed.append(lam * batch + (1 - lam) * partner)
    return torch.cat(mixed)


def offdiagonal_nanmean(matrix: Tensor) -> float:
    """Mean of the ``i != j`` entries of a square matrix, ignoring NaNs (``nan`` if all are NaN)."""
    off = ~torch.eye(len(matrix), dtype=torch.bool, device=matrix.device)
    return float(torch.nanmean(matrix[off]))


def pairwise_cka(outputs: Sequence[Tensor]) -> tuple[float, Tensor]:
    """Linear CKA between every ordered pair of replicas' outputs on shared inputs.

    Args:
        outputs: ``R`` tensors ``(m, ...)``, model ``r``'s outputs on the same ``m`` samples.
    Returns:
        ``(mean, matrix)``: the ``(R, R)`` float64 matrix of ``linear_cka(outputs[i], outputs[j])`` (diagonal
        1, or NaN for constant outputs) and the NaN-safe mean over the ``R (R - 1)`` ordered pairs
        ``i != j`` (brief 3.3: 20 pairs for 5 models). With fresh samples per pair, as in the authors'
        code, build the matrix pair by pair and use ``offdiagonal_nanmean``.
    """
    n = len(outputs)
    matrix = torch.tensor(
        [[linear_cka(outputs[i], outputs[j]) for j in range(n)] for i in range(n)], dtype=torch.float64
    )
    return offdiagonal_nanmean(matrix), matrix
