"""Exact closed-form Hessian of an MLP's mean cross-entropy, from the network's structure (no autograd).

Jules et al. Fig. 3a needs every eigenvalue of the full Hessian of the 10-20-20-10-3 ReLU MLP's loss
(883 parameters, 300 points) at many parameter snapshots (issue 3, "Hessians": faster than autograd,
exact). Any depth, with or without biases. With ``z_s`` the logits of sample ``s``,
``p_s = softmax(z_s)``, ``g_s = dl_s / dz_s = p_s - e_{y_s}`` and ``J_s = dz_s / dtheta``, the Hessian
of ``L = (1/n) sum_s l_s`` splits into

    H = (1/n) sum_s J_s^T (diag(p_s) - p_s p_s^T) J_s       (Gauss-Newton term)
      + (1/n) sum_s sum_c g_sc d^2 z_sc / dtheta^2          (residual).

*Gauss-Newton term.* ``H_GN = A^T A / n`` with ``C - 1`` rows ``u_sk^T J_s`` of ``A`` per sample, where
``sum_k u_k u_k^T = diag(p) - p p^T`` (the multinomial covariance has rank ``C - 1``; ``u_k`` is its
closed-form Cholesky factor, below). The rows are one batched backpropagation of the ``u_sk``; ``A^T A``
is one large GEMM. (The factor ``u_c = sqrt(p_c)(e_c - p)``, ``C`` rows, is equivalent but a third
more work for ``C = 3``.)

*Residual.* ReLU'' = 0 almost everywhere, so with the masks fixed the logits are affine in each
layer's ``(W_l, b_l)``: the diagonal blocks vanish, and for layers ``l > m`` (``phi = sum_s g_s . z_s / n``,
``delta_l = dphi / dz_l`` the usual backprop delta, ``h~_{m-1} = [h_{m-1}, 1]`` with the 1 for ``b_m``)

    d^2 phi / dW_l[a, b] d(W_m, b_m)[c, d] = sum_s delta_l[s, a] J^(l-1,m)[s, b, c] h~_{m-1}[s, d],

where ``J^(l-1,m)_s = dh_{l-1} / dz_m = D_{l-1} W_{l-1} D_{l-2} ... W_{m+1} D_m`` (``D`` the ReLU masks,
``J^(m,m) = D_m``). ``b_l`` has no cross term: ``dphi / db_l = sum_s delta_l[s]`` does not depend on
lower layers. Each block is one GEMM over the samples (a smaller one for adjacent layers, where
``J^(m,m)`` is diagonal).

No ``1 - p`` is ever formed by subtraction: ``g`` comes from ``losses.cross_entropy_per_sample`` (built
from the small wrong-class probabilities) and the Cholesky factor only uses sums of probabilities, so the
Hessian stays accurate near a minimum. Arithmetic is in the caller's dtype (float64 in the project); the
flat parameter layout is that of ``models`` (``nn.Linear`` order).
"""

from __future__ import annotations

import torch
from torch import Tensor

from thermoscape.nets.losses import cross_entropy_per_sample
from thermoscape.nets.mlp import MLPSpec, mlp_forward, unflatten

Layers = list[tuple[Tensor, Tensor | None]]


def _forward(spec: MLPSpec, x: Tensor, theta: Tensor) -> tuple[Layers, Tensor, list[Tensor]]:
    """Per-layer ``(W, b)``, the logits ``(n, C)`` and the inputs of every layer, sample-major ``(n, w)``."""
    logits, activations = mlp_forward(theta.unsqueeze(0), x, spec)
    inputs = [x] + [h[0].T for h in activations[1:]]
    layers = [(w[0], None if b is None else b[0]) for w, b in unflatten(theta.unsqueeze(0), spec)]
    return layers, logits[0], inputs


def covariance_factor(p: Tensor) -> Tensor:
    """``u`` ``(n, C - 1, C)`` with ``sum_k u[s, k] u[s, k]^T = diag(p_s) - p_s p_s^T`` for ``p`` ``(n, C)``.

    The Cholesky factor of the multinomial covariance: with the classes ordered by ascending ``p`` and
    ``T_k = sum_{j > k} p_j``, ``u_k[k] = sqrt(p_k T_k / T_{k-1})``, ``u_k[j] = -p_j sqrt(p_k / (T_{k-1} T_k))``
    for ``j > k`` and 0 below. The largest probability comes last, so every ``T_k >= 1 / C``: only sums
    of probabilities appear, never ``1 - p``, and nothing underflows.
    """
    n_classes = p.shape[1]
    p_sorted, order = p.sort(dim=1)
    tail = p_sorted.flip(1).cumsum(1).flip(1)  # tail[:, k] = sum_{j >= k} p_j
    head, after, before = p_sorted[:, :-1], tail[:, 1:], tail[:, :-1]
    strictly_upper = torch.ones(n_classes - 1, n_classes, dtype=p.dtype, device=p.device).triu(1)
    rows = -torch.sqrt(head / (before * after)).unsqueeze(2) * p_sorted.unsqueeze(1) * strictly_upper
    rows.diagonal(dim1=1, dim2=2).copy_(torch.sqrt(head * after / before))
    return torch.zeros_like(rows).scatter_(2, order.unsqueeze(1).expand_as(rows), rows)


def _backprop(layers: Layers, inputs: list[Tensor], delta: Tensor) -> list[Tensor]:
    """``d/dz_l`` for every layer given ``d/dz_L`` ``delta`` ``(n, ..., C)``; each result ``(n, ..., w_l)``."""
    deltas = [delta]
    for index in range(len(layers) - 1, 0, -1):
        h_prev = inputs[index]
        mask = (h_prev > 0).to(delta.dtype).reshape(h_prev.shape[0], *([1] * (delta.dim() - 2)), -1)
        delta = torch.matmul(delta, layers[index][0]) * mask
        deltas.append(delta)
    deltas.reverse()
    return deltas


def _slices(spec: MLPSpec) -> list[tuple[slice, slice | None]]:
    """The flat-vector slices of each layer's weight and bias (``None`` without biases)."""
    result, offset = [], 0
    for n_in, n_out in spec.layer_sizes():
        weight = slice(offset, offset + n_out * n_in)
        offset += n_out * n_in
        bias = None
        if spec.bias:
            bias = slice(offset, offset + n_out)
            offset += n_out
        result.append((weight, bias))
    return result


def gauss_newton_factor(layers: Layers, inputs: list[Tensor], p: Tensor) -> Tensor:
    """``A`` ``(n * (C - 1), N)`` with ``A^T A = sum_s J_s^T (diag p_s - p_s p_s^T) J_s``."""
    vectors = covariance_factor(p)  # (n, C - 1, C)
    n_rows = vectors.shape[0] * vectors.shape[1]
    pieces = []
    for delta, h_prev, (_, bias) in zip(_backprop(layers, inputs, vectors), inputs, layers):
        pieces.append((delta.unsqueeze(3) * h_prev[:, None, None, :]).reshape(n_rows, -1))  # dW = delta h^T
        if bias is not None:
            pieces.append(delta.reshape(n_rows, -1))
    return torch.cat(pieces, dim=1)


def _cross_block(delta: Tensor, jac_t: Tensor | None, mask: Tensor, h_tilde: Tensor) -> Tensor:
    """``block[a, b, c, d] = sum_s delta[s, a] J[s, b, c] h_tilde[s, d]`` with ``J[s] = jac_t[s]^T``, or
    ``J[s] = diag(mask[s])`` when ``jac_t`` is ``None`` (adjacent layers: only ``b == c`` is non-zero).

    One GEMM over the samples: ``(delta x h_tilde)^T`` ``(a * d, n)`` times ``J`` ``(n, c * b)``, so the
    only temporary is the small ``(n, a * d)`` outer product.
    """
    (n, width), n_out, n_tilde = mask.shape, delta.shape[1], h_tilde.shape[1]
    outer = (delta.unsqueeze(2) * h_tilde.unsqueeze(1)).reshape(n, -1)  # (n, a * d)
    if jac_t is None:
        block = delta.new_zeros(n_out, width, width, n_tilde)
        block.diagonal(dim1=1, dim2=2).copy_((outer.T @ mask).reshape(n_out, n_tilde, width))
        return block
    product = outer.T @ jac_t.reshape(n, -1)  # (a * d, c * b)
    return product.reshape(n_out, n_tilde, width, jac_t.shape[2]).permute(0, 3, 2, 1)


def _add_symmetric(hess: Tensor, rows: slice, cols: slice, block: Tensor) -> None:
    """``hess[rows, cols] += block`` and ``hess[cols, rows] += block^T``."""
    block = block.reshape(rows.stop - rows.start, cols.stop - cols.start)
    hess[rows, cols] += block
    hess[cols, rows] += block.T


def add_residual(hess: Tensor, spec: MLPSpec, layers: Layers, inputs: list[Tensor], g: Tensor) -> Tensor:
    """Add the residual ``(1/n) sum_s sum_c g_sc d^2 z_sc / dtheta^2`` (cross-layer blocks only) to ``hess``
    in place and return it; ``g`` ``(n, C)`` is ``dl_s / dz_s``."""
    n = g.shape[0]
    deltas = _backprop(layers, inputs, g / n)
    masks = [(h > 0).to(g.dtype) for h in inputs[1:]]  # masks[m]: ReLU mask of layer m's output
    slices = _slices(spec)
    for lower in range(len(layers) - 1):
        n_in = inputs[lower].shape[1]
        h_tilde = torch.cat([inputs[lower], torch.ones_like(g[:, :1])], dim=1) if spec.bias else inputs[lower]
        weight_cols, bias_cols = slices[lower]
        jac_t = None  # (dh_{upper - 1} / dz_lower)^T per sample; None stands for diag(masks[lower])
        for upper in range(lower + 1, len(layers)):
            block = _cross_block(deltas[upper], jac_t, masks[lower], h_tilde)
            rows = slices[upper][0]
            _add_symmetric(hess, rows, weight_cols, block[..., :n_in])
            if bias_cols is not None:
                _add_symmetric(hess, rows, bias_cols, block[..., n_in])
            if upper + 1 < len(layers):  # J^(upper, lower)^T = J^(upper - 1, lower)^T W_upper^T D_upper
                weight_t = layers[upper][0].T
                if jac_t is None:
                    product = weight_t * masks[lower].unsqueeze(2)
                else:  # one GEMM for all samples: (n * c, b) (b, w)
                    product = torch.matmul(jac_t, weight_t)
                jac_t = product * masks[upper].unsqueeze(1)
    return hess


def mlp_loss_hessian(spec: MLPSpec, x: Tensor, labels: Tensor, theta: Tensor) -> Tensor:
    """The exact ``(N, N)`` Hessian of ``MLPLandscape(spec, x, labels).loss`` at ``theta`` ``(N,)``.

    Gauss-Newton term ``A^T A / n`` plus the cross-layer residual (module docstring); equals
    ``torch.autograd.functional.hessian`` of the loss to rounding wherever no sample sits on a ReLU kink.
    """
    layers, logits, inputs = _forward(spec, x, theta)
    _, g = cross_entropy_per_sample(logits, labels)
    factor = gauss_newton_factor(layers, inputs, torch.softmax(logits, dim=1))
    return add_residual(torch.mm(factor.T, factor).div_(x.shape[0]), spec, layers, inputs, g)
