"""Loss landscapes behind one interface: a network's cross-entropy, or an analytic quadratic.

A landscape maps a batch of parameter vectors ``theta`` ``(K, N)`` to the full-batch loss of every chain.
The Langevin engine, the trainers and the measurements only see this interface, so the analytic
quadratic landscape (Jules et al., Sec. I) runs through exactly the same code as the network and serves
as the pipeline's closed-form validation target.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Protocol

import torch
from torch import Tensor

from thermoscape.nets.mlp import MLPSpec, mlp_backward, mlp_forward, xavier_normal_init


def cross_entropy_per_sample(logits: Tensor, labels: Tensor, class_dim: int = -1) -> tuple[Tensor, Tensor]:
    """Per-sample cross-entropy ``l = -log p_y`` (Eq. 5-6) and its gradient with respect to the logits.

    Written as ``l = softplus(lambda)`` with ``lambda = logsumexp_{k != y}(z_k - z_y)``, so a well
    classified sample (``lambda`` very negative) keeps its tiny loss exactly instead of rounding
    ``1 - p_y`` to zero; likewise ``dl/dz_k = p_k`` for ``k != y`` and ``dl/dz_y = -sum_{k != y} p_k``
    are formed from the small probabilities directly (brief section 7). Differentiable (used by
    ``torch.func`` for Hessians); the returned gradient is for the hand-derived backward pass.

    Args:
        logits: ``(..., D, C)``, or ``(..., C, D)`` with ``class_dim=-2`` (the Langevin engine's
            feature-major layout: every operation then runs along the contiguous data index).
        labels: ``(D,)`` integer classes.
    Returns:
        losses ``(..., D)`` and ``d l / d logits`` in the layout of ``logits``.
    """
    is_label = torch.nn.functional.one_hot(labels, logits.shape[class_dim]).bool()  # (D, C)
    if class_dim in (-2, logits.dim() - 2):
        is_label = is_label.T
    label_logit = torch.where(is_label, logits, 0.0).sum(dim=class_dim, keepdim=True)
    margins = torch.where(is_label, float("-inf"), logits - label_logit)
    # lambda = M + log sum_k e_k with e_k = exp(margin_k - M) <= 1 (logsumexp), and exp(margin_k - lambda)
    # = e_k / sum e: C + 3 transcendental functions per sample instead of 2 C + 4 (the hot loop's cost)
    shift = margins.amax(dim=class_dim, keepdim=True)
    scaled = torch.exp(margins - shift)
    total = scaled.sum(dim=class_dim, keepdim=True)
    lam = shift + torch.log(total)
    tail = torch.exp(-lam.abs())  # softplus(lam) = max(lam, 0) + log1p(tail); sigmoid from the same tail
    losses = (torch.clamp(lam, min=0.0) + torch.log1p(tail)).squeeze(class_dim)
    sigmoid = torch.where(lam >= 0, 1.0 / (1.0 + tail), tail / (1.0 + tail))
    p_wrong = sigmoid * scaled / total
    d_logits = torch.where(is_label, -p_wrong.sum(dim=class_dim, keepdim=True), p_wrong)
    return losses, d_logits


class Landscape(Protocol):
    """What the engine, the trainers and the measurements need from a loss."""

    n_params: int

    def loss(self, theta: Tensor) -> Tensor:
        """Differentiable full-batch loss ``(K,)`` of ``(K, N)`` parameters."""

    def per_sample_loss(self, theta: Tensor) -> Tensor:
        """Terms ``l_i`` ``(K, D)`` whose mean is the loss (samples for a network, modes for a quadratic)."""

    def loss_and_grad(self, theta: Tensor) -> tuple[Tensor, Tensor]:
        """Loss ``(K,)`` and its gradient ``(K, N)``, fast (no autograd graph)."""

    def initial_parameters(self, generator: torch.Generator) -> Tensor:
        """A starting point ``(N,)`` for training."""


@dataclass
class MLPLandscape:
    """Mean cross-entropy of an MLP on a fixed data set (Jules et al., Eq. 6), full batch."""

    spec: MLPSpec
    x: Tensor
    labels: Tensor

    @property
    def n_params(self) -> int:
        return self.spec.n_params

    def per_sample_loss(self, theta: Tensor) -> Tensor:
        logits, _ = mlp_forward(theta, self.x, self.spec)
        return cross_entropy_per_sample(logits, self.labels)[0]

    def loss(self, theta: Tensor) -> Tensor:
        return self.per_sample_loss(theta).mean(dim=-1)

    def loss_and_grad(self, theta: Tensor) -> tuple[Tensor, Tensor]:
        logits, activations = mlp_forward(theta, self.x, self.spec)
        # class-major (K, C, D): the logits' memory layout, so no pass runs across the 3 classes' stride
        losses, d_logits = cross_entropy_per_sample(logits.transpose(1, 2), self.labels, class_dim=-2)
        n_samples = self.x.shape[0]
        grad = mlp_backward(theta, activations, (d_logits / n_samples).transpose(1, 2), self.spec)
        return losses.mean(dim=-1), grad

    def initial_parameters(self, generator: torch.Generator) -> Tensor:
        return xavier_normal_init(self.spec, generator, dtype=self.x.dtype).to(self.x.device)


@dataclass
class QuadraticLandscape:
    """``L = sum_{i <= N_c} k_i Theta_i^2 / 2`` in ``N >= N_c`` dimensions (Jules et al., Sec. I).

    The remaining ``N - N_c`` directions are exactly flat. Langevin dynamics on it is an
    Ornstein-Uhlenbeck process: ``L ~ Gamma(N_c / 2, 1 / T)`` and ``chi_{Theta_i}(t) = exp(-k_i t)``.
    The "per-sample" terms are the ``N_c`` mode energies ``k_i Theta_i^2 / 2`` (so their sum, not mean,
    is the loss; ``per_sample_loss`` is scaled by ``N_c`` to keep the interface's mean convention).
    """

    stiffness: Tensor
    n_params: int

    @property
    def n_stiff(self) -> int:
        return self.stiffness.shape[0]

    def per_sample_loss(self, theta: Tensor) -> Tensor:
        stiff = theta[..., : self.n_stiff]
        return 0.5 * self.stiffness * stiff**2 * self.n_stiff

    def loss(self, theta: Tensor) -> Tensor:
        return self.per_sample_loss(theta).mean(dim=-1)

    def loss_and_grad(self, theta: Tensor) -> tuple[Tensor, Tensor]:
        grad = torch.zeros_like(theta)
        grad[..., : self.n_stiff] = self.stiffness * theta[..., : self.n_stiff]
        return self.loss(theta), grad

    def initial_parameters(self, generator: torch.Generator) -> Tensor:
        return torch.randn(self.n_params, generator=generator, dtype=self.stiffness.dtype).to(
            self.stiffness.device
        )


@dataclass
class MixedPrecision:
    """A float64 landscape whose Langevin gradient is computed in float32 (``jules.langevin.precision: mixed``).

    The chains' state, the update of Eq. 7, ``loss`` and ``per_sample_loss`` stay in float64; only
    ``loss_and_grad``, the hot loop's forward/backward, runs in float32 on a float32 copy of the data and
    returns float64 (so the engine's recorded loss series, which comes from it, has a relative error of
    ~1e-5, far below its thermal fluctuations). The engine also draws this landscape's noise in ``noise_dtype``
    (float32 normals, ~4x cheaper than float64 on a CPU) before scaling it in float64.

    Why the statistics do not change: near a minimum the float32 rounding of the gradient (relative
    ~1e-7 of the per-sample terms, and of ``theta`` itself) acts as an extra noise many orders of magnitude
    below the thermal step ``sqrt(2 eta T)``, and float32 normals have the same variance (their tails are
    cut near 5.6 sigma). ``tests/test_langevin.py`` checks that, with the same noise, the trajectories follow
    float64-gradient ones, and that the quadratic's loss keeps its Gamma law.
    """

    exact: Landscape
    fast: Landscape
    compute_dtype: torch.dtype = torch.float32  # the dtype of ``fast``
    noise_dtype: torch.dtype = torch.float32

    @property
    def n_params(self) -> int:
        return self.exact.n_params

    def per_sample_loss(self, theta: Tensor) -> Tensor:
        return self.exact.per_sample_loss(theta)

    def loss(self, theta: Tensor) -> Tensor:
        return self.exact.loss(theta)

    def loss_and_grad(self, theta: Tensor) -> tuple[Tensor, Tensor]:
        loss, grad = self.fast.loss_and_grad(theta.to(self.compute_dtype))
        return loss.to(theta.dtype), grad.to(theta.dtype)

    def initial_parameters(self, generator: torch.Generator) -> Tensor:
        return self.exact.initial_parameters(generator)


def mixed_precision(landscape: Landscape) -> MixedPrecision:
    """``landscape`` with its Langevin gradient in float32 (see ``MixedPrecision``): the MLP, the quadratic, or
    any landscape with a ``with_dtype(dtype)`` copy (``module_landscape.ModuleLandscape``)."""
    with_dtype = getattr(landscape, "with_dtype", None)
    if with_dtype is not None:
        return MixedPrecision(landscape, with_dtype(torch.float32))
    if isinstance(landscape, MLPLandscape):
        return MixedPrecision(landscape, dataclasses.replace(landscape, x=landscape.x.to(torch.float32)))
    if isinstance(landscape, QuadraticLandscape):
        return MixedPrecision(landscape, dataclasses.replace(landscape, stiffness=landscape.stiffness.to(torch.float32)))
    raise TypeError(f"no float32 version of {type(landscape).__name__}")
