"""Multi-layer perceptrons on a flat parameter vector, batched over independent chains.

Every algorithm in the project (Adam, Langevin, Hessians) works on a flat vector ``theta`` of the
network's weights and biases. A batch of ``K`` chains is a ``(K, N)`` tensor; all chains share the data.
The layout of the vector matches ``torch.nn.Linear`` (weight, row-major, then bias, layer by layer), so
``torch.nn.utils.parameters_to_vector`` of the equivalent ``nn.Sequential`` gives the same vector.

The forward pass is differentiable (``torch.func`` uses it for Hessians); the gradient used for sampling
is derived by hand (``mlp_backward``), which avoids autograd's graph overhead in the hot loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class MLPSpec:
    """Layer widths ``(d_in, h_1, ..., d_out)``, ReLU after every hidden layer (Jules et al., S1b)."""

    widths: tuple[int, ...]
    bias: bool = True

    def layer_sizes(self) -> list[tuple[int, int]]:
        return list(zip(self.widths[:-1], self.widths[1:]))

    @property
    def n_params(self) -> int:
        return sum(o * i + (o if self.bias else 0) for i, o in self.layer_sizes())


def unflatten(theta: Tensor, spec: MLPSpec) -> list[tuple[Tensor, Tensor | None]]:
    """Split ``(K, N)`` parameters into per-layer ``(W (K, out, in), b (K, out) or None)`` views."""
    params, offset = [], 0
    k = theta.shape[0]
    for n_in, n_out in spec.layer_sizes():
        weight = theta[:, offset : offset + n_out * n_in].reshape(k, n_out, n_in)
        offset += n_out * n_in
        bias = None
        if spec.bias:
            bias = theta[:, offset : offset + n_out]
            offset += n_out
        params.append((weight, bias))
    return params


def xavier_normal_init(spec: MLPSpec, generator: torch.Generator, dtype=torch.float64) -> Tensor:
    """Xavier-normal weights (std sqrt(2 / (fan_in + fan_out))), zero biases (Jules et al., S1c)."""
    pieces = []
    for n_in, n_out in spec.layer_sizes():
        std = (2.0 / (n_in + n_out)) ** 0.5
        pieces.append(torch.randn(n_out * n_in, generator=generator, dtype=dtype) * std)
        if spec.bias:
            pieces.append(torch.zeros(n_out, dtype=dtype))
    return torch.cat(pieces)


def mlp_forward(theta: Tensor, x: Tensor, spec: MLPSpec) -> tuple[Tensor, list[Tensor]]:
    """Logits ``(K, D, C)`` of every chain on inputs ``x`` ``(D, d)``, and the hidden activations.

    Internally feature-major: each layer computes ``z^T = W h^T + b`` with the data index ``D`` as the
    contiguous last dimension, which keeps the small per-chain GEMMs about twice as fast as the
    sample-major layout on a CPU; the shared input layer is a single GEMM over all chains. The
    activations (``x^T`` first, then each post-ReLU hidden layer, all ``(..., features, D)``) are
    what ``mlp_backward`` needs. The returned logits are a transposed view.
    """
    h: Tensor = x.T
    activations = [h]
    layers = unflatten(theta, spec)
    for index, (weight, bias) in enumerate(layers):
        # (K, out, d) @ (d, D) for the shared input: one GEMM for every chain. The bias is added apart
        # (not baddbmm) so that torch.compile fuses it into the ReLU pass instead of copying it first.
        z = torch.matmul(weight, h)
        if bias is not None:
            z = z + bias.unsqueeze(2)
        if index == len(layers) - 1:
            return z.transpose(1, 2), activations
        h = torch.relu(z)
        activations.append(h)
    raise ValueError("an MLP needs at least one layer")


def mlp_backward(theta: Tensor, activations: list[Tensor], d_logits: Tensor, spec: MLPSpec) -> Tensor:
    """Gradient ``(K, N)`` of a loss with respect to ``theta`` given its gradient ``d_logits`` ``(K, D, C)``.

    Plain backpropagation through ``z_l = W_l h_{l-1} + b_l``, ``h_l = relu(z_l)`` in the feature-major
    layout of ``mlp_forward``: ``dL/dW_l = delta_l h_{l-1}^T``, ``dL/db_l = sum_D delta_l``,
    ``delta_{l-1} = (W_l^T delta_l) * [h_{l-1} > 0]``.
    """
    layers = unflatten(theta, spec)
    grads: list[Tensor] = []
    delta = d_logits.transpose(1, 2).contiguous()  # (K, C, D)
    for index in range(len(layers) - 1, -1, -1):
        weight, bias = layers[index]
        h_prev = activations[index]
        if bias is not None:
            grads.append(delta.sum(dim=2))
        grads.append(torch.matmul(delta, h_prev.transpose(-1, -2)).flatten(1))
        if index > 0:
            # the ReLU mask; threshold_backward is several times faster than multiplying by (h > 0)
            delta = torch.ops.aten.threshold_backward(torch.bmm(weight.transpose(1, 2), delta), h_prev, 0.0)
    grads.reverse()
    return torch.cat(grads, dim=1)
