"""Small classifiers on flat inputs or images (Fort & Ganguli brief 5.3; reused by Bradley et al.'s grid): an MLP
and the SmallCNN, float64, PyTorch's default initialisation under a given seed; and the mean cross-entropy
of a functional network as a function of its flat parameters."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

LogitsFn = Callable[[Tensor, Tensor], Tensor]
ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh}
ARCHITECTURES = ("mlp", "cnn")

def _image_shape(sample_shape: tuple[int, ...]) -> tuple[int, int, int]:
    if len(sample_shape) == 3:
        return sample_shape  # type: ignore[return-value]
    side = math.isqrt(sample_shape[0])
    if len(sample_shape) != 1 or side * side != sample_shape[0]:
        raise ValueError(f"a CNN needs square images; got samples of shape {sample_shape}")
    return (1, side, side)


def build_small_network(arch: str, activation: str, sample_shape: tuple[int, ...], n_classes: int,
                  widths: Sequence[int], channels: Sequence[int], seed: int) -> nn.Module:
    """A float64 network with PyTorch's default initialisation, seeded by ``seed``.

    ``mlp``: Flatten, (Linear, activation) per width, Linear to the logits (brief 5.3: 64-32-32-10).
    ``cnn``: the SmallCNN of ref. [29] as the brief proposes: per channel count a 3x3 'same' convolution,
    the activation and 2x2 max pooling, then global average pooling, Linear(channels[-1], widths[0]), the
    activation and Linear to the logits. No dropout: every measurement is in evaluation mode anyway.
    """
    if arch not in ARCHITECTURES:
        raise ValueError(f"arch must be one of {ARCHITECTURES}, got {arch!r}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {tuple(ACTIVATIONS)}, got {activation!r}")
    act = ACTIVATIONS[activation]
    layers: list[nn.Module] = []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if arch == "mlp":
            sizes = [math.prod(sample_shape), *widths]
            layers.append(nn.Flatten())
            for fan_in, fan_out in itertools.pairwise(sizes):
                layers += [nn.Linear(fan_in, fan_out), act()]
            layers.append(nn.Linear(sizes[-1], n_classes))
        else:
            shape = _image_shape(sample_shape)
            if len(sample_shape) == 1:
                layers.append(nn.Unflatten(1, shape))
            sizes = [shape[0], *channels]
            for c_in, c_out in itertools.pairwise(sizes):
                layers += [nn.Conv2d(c_in, c_out, 3, padding=1), act(), nn.MaxPool2d(2, ceil_mode=True)]
            layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(sizes[-1], widths[0]), act(),
                       nn.Linear(widths[0], n_classes)]
        model = nn.Sequential(*layers)
    return model.double()


def loss_fn(logits_fn: LogitsFn, x: Tensor, y: Tensor) -> Callable[[Tensor], Tensor]:
    """``theta -> L(W)``, the mean cross-entropy of Eq. 3 on ``(x, y)``."""
    return lambda theta: F.cross_entropy(logits_fn(theta, x), y)
