"""Networks of the width x batch-size grid (Yang et al., NeurIPS 2021, Sec. 3 and App. A) and their flat view.

An architecture is a plain JSON-able dict, so it can be stored next to the weights in a torch file loaded
with ``weights_only=True``:

* ``{"name": "mlp", "in_features": 64, "width": 16, "depth": 2, "n_classes": 10}``: ``depth`` hidden
  ReLU layers of ``width`` units, no batch normalisation, PyTorch's default initialisation;
* ``{"name": "resnet18", "width": 4, "in_channels": 3, "n_classes": 10}``: the CIFAR-style ResNet18-k
  of Yang et al. (after Nakkiran et al. 2020), stage widths ``k, 2k, 4k, 8k``;
* ``{"name": "transformer", "width": 32, "source_vocab": .., "target_vocab": .., "source_len": ..,
  "target_len": .., "layers": 1, "heads": 2, "ff_multiplier": 2}``: the encoder-decoder Transformer of the
  machine-translation diagram (App. D.4; ``nets.transformer``), width = the embedding dimension.

The metrics (Hessian by ``torch.func`` HVPs, CKA, Bezier mode connectivity) see a network through a flat
vector ``theta`` of its trainable parameters (``flat_parameters`` / ``parameter_loss``), in evaluation
mode, i.e. with batch-norm running statistics (``recompute_batchnorm`` refreshes them, as Garipov et al.
do for points on a curve).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call

from thermoscape.nets.transformer import Seq2SeqTransformer

ARCHITECTURES = ("mlp", "resnet18", "transformer")

_REQUIRED_KEYS = {
    "mlp": ("in_features", "width", "depth", "n_classes"),
    "resnet18": ("width", "in_channels", "n_classes"),
    "transformer": ("width", "source_vocab", "target_vocab", "source_len", "target_len", "layers", "heads",
                    "ff_multiplier"),
}


class BasicBlock(nn.Module):
    """Two 3x3 conv-BN layers with an identity (or 1x1 conv + BN, where the shape changes) shortcut."""

    def __init__(self, in_planes: int, planes: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False), nn.BatchNorm2d(planes)
            )

    def forward(self, x: Tensor) -> Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet18(nn.Module):
    """ResNet18-k for 32x32 images (Yang et al., App. A; Nakkiran et al. 2020's width-``k`` family).

    3x3 stem conv (stride 1, no bias) -> BN -> ReLU; four stages of two ``BasicBlock`` with widths
    ``k, 2k, 4k, 8k`` and strides ``1, 2, 2, 2``; global average pooling (the 4x4 pool on 32x32 inputs);
    ``Linear(8k, n_classes)``. ``k = 64`` is the standard ResNet18.
    """

    def __init__(self, width: int, in_channels: int = 3, n_classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, width, 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        stages, in_planes = [], width
        for multiplier, stride in zip((1, 2, 4, 8), (1, 2, 2, 2)):
            planes = multiplier * width
            stages.append(nn.Sequential(BasicBlock(in_planes, planes, stride), BasicBlock(planes, planes, 1)))
            in_planes = planes
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.linear = nn.Linear(8 * width, n_classes)

    def forward(self, x: Tensor) -> Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        return self.linear(torch.flatten(self.pool(out), 1))


def _mlp(in_features: int, width: int, depth: int, n_classes: int) -> nn.Sequential:
    """``Linear(in, w) ReLU (Linear(w, w) ReLU) x (depth - 1) Linear(w, n_classes)``; inputs are flattened."""
    if depth < 1:
        raise ValueError(f"mlp depth must be >= 1, got {depth}")
    layers: list[nn.Module] = [nn.Flatten(), nn.Linear(in_features, width), nn.ReLU()]
    for _ in range(depth - 1):
        layers += [nn.Linear(width, width), nn.ReLU()]
    layers.append(nn.Linear(width, n_classes))
    return nn.Sequential(*layers)


def _check_arch(arch: dict) -> str:
    name = arch.get("name")
    if name not in _REQUIRED_KEYS:
        raise ValueError(f"unknown architecture {name!r}; valid names: {', '.join(ARCHITECTURES)}")
    required = _REQUIRED_KEYS[name]
    missing = [key for key in required if key not in arch]
    unknown = sorted(set(arch) - set(required) - {"name"})
    if missing or unknown:
        raise ValueError(
            f"architecture {name!r} needs exactly the keys {', '.join(required)}"
            f" (missing: {missing or 'none'}; unknown: {unknown or 'none'})"
        )
    for key in required:
        value = arch[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"architecture {name!r}: {key} must be a positive integer, got {value!r}")
    return name


def build_network(arch: dict, seed: int) -> nn.Module:
    """The float32 network described by ``arch``, initialised deterministically from ``seed``.

    The initialisation draws from the global CPU generator inside ``torch.random.fork_rng``, so the
    caller's random state is left untouched. The model is returned on the CPU, in training mode.
    """
    name = _check_arch(arch)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if name == "mlp":
            model: nn.Module = _mlp(arch["in_features"], arch["width"], arch["depth"], arch["n_classes"])
        elif name == "transformer":
            model = Seq2SeqTransformer(**{k: arch[k] for k in _REQUIRED_KEYS["transformer"]})
        else:
            model = ResNet18(arch["width"], arch["in_channels"], arch["n_classes"])
    return model.float()


def _trainable(model: nn.Module) -> list[tuple[str, nn.Parameter]]:
    return [(name, p) for name, p in model.named_parameters() if p.requires_grad]


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
