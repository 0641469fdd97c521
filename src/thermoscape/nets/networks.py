"""The flat view of a module network (built by ``nets.build``) that the measurements work on.

The metrics (Hessian by ``torch.func`` HVPs, CKA, Bezier mode connectivity, the curvature fits) see a network
through a flat vector ``theta`` of its trainable parameters (``flat_parameters`` / ``parameter_loss``), in
evaluation mode, i.e. with batch-norm running statistics (``recompute_batchnorm`` refreshes them, as Garipov et
al. do for points on a curve).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call


def _trainable(model: nn.Module) -> list[tuple[str, nn.Parameter]]:
    return [(name, p) for name, p in model.named_parameters() if p.requires_grad]


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters of ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def flat_parameters(model: nn.Module) -> Tensor:
    """Detached copy of the trainable parameters as one ``(N,)`` vector (``parameters_to_vector`` order)."""
    return nn.utils.parameters_to_vector([p for _, p in _trainable(model)]).detach()


def set_flat_parameters(model: nn.Module, theta: Tensor) -> None:
    """Copy the ``(N,)`` vector ``theta`` into the trainable parameters (inverse of ``flat_parameters``).

    The values are copied, so the model never aliases ``theta``.
    """
    params = [p for _, p in _trainable(model)]
    n = sum(p.numel() for p in params)
    if theta.dim() != 1 or theta.numel() != n:
        raise ValueError(f"theta must have shape ({n},), got {tuple(theta.shape)}")
    with torch.no_grad():
        offset = 0
        for p in params:
            p.copy_(theta[offset : offset + p.numel()].view_as(p))
            offset += p.numel()


def has_batchnorm(model: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())


def functional_logits(model: nn.Module, train: bool = False) -> Callable[[Tensor, Tensor], Tensor]:
    """``(theta, x) -> logits`` of the model with its trainable parameters replaced by ``theta``.

    Built on ``torch.func.functional_call``: the trainable parameters come from ``theta`` (in
    ``flat_parameters`` order), frozen parameters and buffers from the model. ``train=False`` runs in
    evaluation mode (batch norm on its running statistics, never updated), so the logits are a
    deterministic function of ``theta``; ``train=True`` uses batch statistics and updates the model's
    running statistics in place. The model's own mode is restored after each call.
    """
    trainable = _trainable(model)
    names = [name for name, _ in trainable]
    shapes = [p.shape for _, p in trainable]
    sizes = [p.numel() for _, p in trainable]
    trainable_names = set(names)
    fixed = {name: p.detach() for name, p in model.named_parameters() if name not in trainable_names}
    fixed.update(dict(model.named_buffers()))

    def logits(theta: Tensor, x: Tensor) -> Tensor:
        tensors = dict(fixed)
        for name, shape, piece in zip(names, shapes, theta.split(sizes)):
            tensors[name] = piece.view(shape)
        was_training = model.training
        model.train(train)
        try:
            return functional_call(model, tensors, (x,))
        finally:
            model.train(was_training)

    return logits


def parameter_loss(model: nn.Module, x: Tensor, y: Tensor) -> Callable[[Tensor], Tensor]:
    """``theta -> mean cross-entropy`` of the model on ``(x, y)`` in evaluation mode (``functional_logits``):
    a deterministic function of ``theta`` that ``torch.func.grad`` / ``jvp`` / ``hessian`` differentiate
    (Yang et al., Sec. 2 "Hessian": PyHessian's HVPs). No weight-decay term.
    """
    logits = functional_logits(model)
    return lambda theta: F.cross_entropy(logits(theta, x), y)


def recompute_batchnorm(model: nn.Module, x: Tensor, batch_size: int = 128) -> None:
    """Recompute every batch-norm layer's running statistics on ``x`` (Garipov et al. 2018's ``bn_update``,
    used by Yang et al. for points on a mode-connectivity curve).

    Running statistics are reset and the data are forwarded in training mode under ``no_grad`` in
    batches of ``batch_size`` (all samples, the last batch possibly smaller). Each batch's statistics are
    weighted by its size (``momentum = b / (n_seen + b)``, as Garipov et al.), so ``running_mean`` is the
    exact mean over ``x``; with equal batches this is PyTorch's cumulative average (``momentum=None``).
    ``running_var`` is the size-weighted mean of the batches' unbiased variances. Afterwards the
    momenta are restored and the model is left in evaluation mode.
    """
    layers = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not layers:
        model.eval()
        return
    momenta = [m.momentum for m in layers]
    for m in layers:
        m.reset_running_stats()
    model.train()
    seen = 0
    try:
        with torch.no_grad():
            for start in range(0, x.shape[0], batch_size):
                batch = x[start : start + batch_size]
                b = batch.shape[0]
                for m in layers:
                    m.momentum = b / (seen + b)
                model(batch)
                seen += b
    finally:
        for m, momentum in zip(layers, momenta):
            m.momentum = momentum
        model.eval()


def outputs(model: nn.Module, x: Tensor, batch_size: int = 1000) -> Tensor:
    """Evaluation-mode logits ``(n, n_classes)`` under ``no_grad``; the model's mode is restored afterwards."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            return torch.cat([model(x[start : start + batch_size]) for start in range(0, x.shape[0], batch_size)])
    finally:
        model.train(was_training)


def evaluate(model: nn.Module, x: Tensor, y: Tensor, batch_size: int = 1000) -> tuple[float, float]:
    """``(mean cross-entropy, accuracy in %)`` over all samples, in evaluation mode under ``no_grad``.

    Sequence outputs ``(n, classes, T)`` with targets ``(n, T)`` count per token: the mean and the accuracy
    run over the targets that are not ``-100`` (cross_entropy's ignore_index, the padding)."""
    was_training = model.training
    model.eval()
    total_loss = torch.zeros((), dtype=torch.float64, device=x.device)
    correct = torch.zeros((), dtype=torch.int64, device=x.device)
    try:
        with torch.no_grad():
            for start in range(0, x.shape[0], batch_size):
                logits = model(x[start : start + batch_size])
                labels = y[start : start + batch_size]
                total_loss += F.cross_entropy(logits, labels, reduction="sum").double()
                correct += (logits.argmax(dim=1) == labels).sum()
    finally:
        model.train(was_training)
    n = int((y != -100).sum())
    return float(total_loss) / n, 100.0 * int(correct) / n
