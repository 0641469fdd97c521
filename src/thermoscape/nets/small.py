"""Small classifiers on flat inputs or images, built through ``nets.build``: the fully connected ``"mlp"`` (Yang et
al.'s d-w-...-w-C, Fort & Ganguli's and Bradley et al.'s small networks) and Fort & Ganguli's SmallCNN ``"cnn"``
(brief 5.3), PyTorch's default initialisation; the config form Fort & Ganguli and Bradley et al. share
(``small_spec``); and the mean cross-entropy of a functional network as a function of its flat parameters."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn

LogitsFn = Callable[[Tensor, Tensor], Tensor]
ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh}
SMALL_ARCHITECTURES = ("mlp", "cnn")


def _activation(activation: str) -> type[nn.Module]:
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {tuple(ACTIVATIONS)}, got {activation!r}")
    return ACTIVATIONS[activation]


def _image_shape(sample_shape: tuple[int, ...]) -> tuple[int, int, int]:
    if len(sample_shape) == 3:
        return sample_shape  # type: ignore[return-value]
    side = math.isqrt(sample_shape[0])
    if len(sample_shape) != 1 or side * side != sample_shape[0]:
        raise ValueError(f"a CNN needs square images; got samples of shape {sample_shape}")
    return (1, side, side)


def mlp(in_features: int, n_classes: int, widths: Sequence[int] | None = None, width: int | None = None,
        depth: int | None = None, activation: str = "relu") -> nn.Sequential:
    """``Flatten``, ``(Linear, activation)`` per hidden width, ``Linear`` to the logits.

    The hidden widths are ``widths`` (Fort & Ganguli brief 5.3: 64-32-32-10), or ``depth`` layers of
    ``width`` units (Yang et al., App. A: ``depth`` hidden ReLU layers, no batch normalisation; the form their
    trained weights are stored with); one of the two forms.
    """
    if widths is None:
        if width is None or depth is None:
            raise ValueError("an mlp needs widths, or width and depth")
        widths = [width] * depth
    elif width is not None or depth is not None:
        raise ValueError("an mlp takes widths, or width and depth, not both")
    sizes = [in_features, *widths]
    act = _activation(activation)
    layers: list[nn.Module] = [nn.Flatten()]
    for fan_in, fan_out in itertools.pairwise(sizes):
        layers += [nn.Linear(fan_in, fan_out), act()]
    layers.append(nn.Linear(sizes[-1], n_classes))
    return nn.Sequential(*layers)


def cnn(sample_shape: Sequence[int], channels: Sequence[int], width: int, n_classes: int,
        activation: str = "relu") -> nn.Sequential:
    """The SmallCNN of ref. [29] as the brief proposes: per channel count a 3x3 'same' convolution, the
    activation and 2x2 max pooling, then global average pooling, ``Linear(channels[-1], width)``, the
    activation and ``Linear`` to the logits. Flat square samples are unflattened to one channel. No dropout:
    every measurement is in evaluation mode anyway."""
    act = _activation(activation)
    shape = _image_shape(tuple(sample_shape))
    layers: list[nn.Module] = [nn.Unflatten(1, shape)] if len(sample_shape) == 1 else []
    sizes = [shape[0], *channels]
    for c_in, c_out in itertools.pairwise(sizes):
        layers += [nn.Conv2d(c_in, c_out, 3, padding=1), act(), nn.MaxPool2d(2, ceil_mode=True)]
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(sizes[-1], width), act(),
               nn.Linear(width, n_classes)]
    return nn.Sequential(*layers)


def small_spec(arch: str, activation: str, sample_shape: Sequence[int], n_classes: int, widths: Sequence[int],
               channels: Sequence[int]) -> dict[str, Any]:
    """The ``nets.build`` spec of the network config Fort & Ganguli and Bradley et al. share: ``arch`` ``mlp``
    (hidden ``widths``) or ``cnn`` (``channels``, dense width ``widths[0]``), ``activation``, for samples of
    ``sample_shape``."""
    if arch == "mlp":
        return {"name": "mlp", "in_features": math.prod(sample_shape), "widths": list(widths),
                "n_classes": n_classes, "activation": activation}
    if arch == "cnn":
        return {"name": "cnn", "sample_shape": list(sample_shape), "channels": list(channels),
                "width": widths[0], "n_classes": n_classes, "activation": activation}
    raise ValueError(f"arch must be one of {SMALL_ARCHITECTURES}, got {arch!r}")


def loss_fn(logits_fn: LogitsFn, x: Tensor, y: Tensor) -> Callable[[Tensor], Tensor]:
    """``theta -> L(W)``, the mean cross-entropy of Eq. 3 on ``(x, y)``."""
    return lambda theta: F.cross_entropy(logits_fn(theta, x), y)
