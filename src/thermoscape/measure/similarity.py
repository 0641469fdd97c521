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
from dataclasses import dataclass, field

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


# --------------------------------------------------------------------------------------------------
# Logit-gradient clustering (Fort & Ganguli, Eqs. 11-13; brief 6.4)
# --------------------------------------------------------------------------------------------------


@dataclass
class ClusteringSums:
    """Streaming sums for the logit-gradient clustering measures of Fort & Ganguli, Eqs. 11-13.

    With unit rows ``u_k^mu = J^mu_k / ||J^mu_k||`` of the per-example logit Jacobians ``J^mu`` ``(C, D)``
    (``J^mu_k = dz_k^mu / dW``), the pairwise cosine sums follow from
    ``sum_{mu != nu} u^mu . u^nu = ||sum_mu u^mu||^2 - sum_mu ||u^mu||^2`` (brief 6.4), so only
    ``S_k = sum_mu u_k^mu``, ``S_{k|k} = sum_{mu in k} u_k^mu`` (both ``(C, D)``) and
    ``T_kl = sum_mu u_k^mu . u_l^mu`` ``(C, C)`` are kept: O(C D) memory, exact for any batching::

        q_SLSC = (1/C') sum_k (||S_{k|k}||^2 - N_k) / (N_k (N_k - 1))              (Eq. 11)
        q_SL   = (1/C)  sum_k (||S_k||^2 - N) / (N (N - 1))                        (Eq. 12)
        q_DL   = 1/(C (C - 1)) sum_{k != l} (S_k . S_l - T_kl) / (N (N - 1))       (Eq. 13)

    Choices (not in the paper):

    * **Zero-norm rows** (a logit gradient that is exactly 0, e.g. a bias-free network with dead units):
      the cosine is undefined, so such rows are **skipped**: they add nothing to the sums and every
      normalisation counts only the pairs in which both rows are nonzero (for ``q_DL`` the number of pairs
      ``mu != nu`` with ``u_k^mu`` and ``u_l^nu`` defined is ``n_k n_l - m_kl``). Without zero rows this is
      exactly Eqs. 11-13. ``zero_rows`` counts the skipped rows.
    * **Classes with fewer than 2 examples** (``N_k < 2``, no pair) are **excluded** from the ``q_SLSC``
      mean, so ``C'`` is the number of classes with at least one pair; ``q_SLSC`` is NaN if there is none.
      Likewise ``q_SL`` / ``q_DL`` are NaN before two examples have been added.

    Tensors are created on the first ``add`` (float64, on the device of the first batch).
    """

    n_classes: int | None = None
    dim: int | None = None
    n_examples: int = 0
    zero_rows: int = 0
    sums: Tensor | None = field(default=None, repr=False)  # S_k (C, D)
    class_sums: Tensor | None = field(default=None, repr=False)  # S_{k|k} (C, D)
    dots: Tensor | None = field(default=None, repr=False)  # T_kl (C, C)
    counts: Tensor | None = field(default=None, repr=False)  # n_k: nonzero rows of logit k (C,)
    class_counts: Tensor | None = field(default=None, repr=False)  # nonzero rows of logit k in class k (C,)
    joint_counts: Tensor | None = field(default=None, repr=False)  # m_kl: examples with rows k and l nonzero

    def add(self, jacobians: Tensor, labels: Tensor) -> ClusteringSums:
        """Accumulate a batch: ``jacobians`` ``(B, C, D)`` (``dz_k / dW`` flattened over all weights) and
        integer ``labels`` ``(B,)`` in ``[0, C)``. Returns ``self``."""
        j = torch.as_tensor(jacobians)
        if j.ndim != 3:
            raise ValueError(f"jacobians must be (B, C, D), got shape {tuple(j.shape)}")
        j = j.to(torch.float64)
        b, c, d = j.shape
        labels = torch.as_tensor(labels, device=j.device).long().flatten()
        if len(labels) != b:
            raise ValueError(f"{b} Jacobians but {len(labels)} labels")
        if b and (int(labels.min()) < 0 or int(labels.max()) >= c):
            raise ValueError(f"labels must lie in [0, {c})")
        if self.sums is None:
            self.n_classes, self.dim = c, d
            zeros = {"dtype": torch.float64, "device": j.device}
            self.sums, self.class_sums = torch.zeros(c, d, **zeros), torch.zeros(c, d, **zeros)
            self.dots, self.joint_counts = torch.zeros(c, c, **zeros), torch.zeros(c, c, **zeros)
            self.counts, self.class_counts = torch.zeros(c, **zeros), torch.zeros(c, **zeros)
        elif (c, d) != (self.n_classes, self.dim):
            raise ValueError(f"batch has C, D = {c}, {d}; earlier batches had {self.n_classes}, {self.dim}")
        norms = j.norm(dim=2, keepdim=True)
        nonzero = (norms > 0).squeeze(2).to(torch.float64)  # (B, C)
        u = j / torch.where(norms > 0, norms, 1.0)  # zero rows stay zero
        own = torch.nn.functional.one_hot(labels, c).to(torch.float64)  # (B, C): row k of class-k examples
        self.sums += u.sum(dim=0)
        self.class_sums += torch.einsum("bk,bkd->kd", own, u)
        self.dots += torch.einsum("bkd,bld->kl", u, u)
        self.counts += nonzero.sum(dim=0)
        self.class_counts += (own * nonzero).sum(dim=0)
        self.joint_counts += nonzero.T @ nonzero
        self.n_examples += b
        self.zero_rows += int(b * c - nonzero.sum())
        return self

    def values(self) -> dict[str, float]:
        """``{"q_slsc": Eq. 11, "q_sl": Eq. 12, "q_dl": Eq. 13}`` from the sums so far."""
        nan = float("nan")
        if self.sums is None:
            return {"q_slsc": nan, "q_sl": nan, "q_dl": nan}
        s, n = self.sums, self.counts
        own_norms = torch.diagonal(self.dots)  # sum_mu ||u_k^mu||^2 (= n_k up to rounding)
        pairs = n * (n - 1)
        sl = (s.square().sum(dim=1) - own_norms) / pairs
        q_sl = float(sl[pairs > 0].mean()) if bool((pairs > 0).any()) else nan
        nk = self.class_counts
        class_pairs = nk * (nk - 1)
        slsc = (self.class_sums.square().sum(dim=1) - nk) / class_pairs
        q_slsc = float(slsc[class_pairs > 0].mean()) if bool((class_pairs > 0).any()) else nan
        cross_pairs = n[:, None] * n[None, :] - self.joint_counts
        off = ~torch.eye(len(n), dtype=torch.bool, device=n.device) & (cross_pairs > 0)
        dl = (s @ s.T - self.dots) / torch.where(cross_pairs > 0, cross_pairs, 1.0)
        q_dl = float(dl[off].mean()) if bool(off.any()) else nan
        return {"q_slsc": q_slsc, "q_sl": q_sl, "q_dl": q_dl}


def logit_clustering(jacobians: Tensor, labels: Tensor) -> dict[str, float]:
    """``q_SLSC``, ``q_SL``, ``q_DL`` (Fort & Ganguli Eqs. 11-13) of per-example logit Jacobians
    ``(N, C, D)`` with labels ``(N,)`` in one call (``ClusteringSums().add(...).values()``)."""
    return ClusteringSums().add(jacobians, labels).values()
