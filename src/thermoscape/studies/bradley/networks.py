"""The CIFAR-10 networks of Bradley et al., "Shift-Curvature, SGD, and Generalization" (brief §3.2, §3.3).

Three ``nn.Module`` classes, each initialised in its constructor, and a seeded builder:

* ``ResNet10`` ("Resnet10"): Shon's Haiku CIFAR ResNet v1 (``hushon/JAX-ResNet-CIFAR10``,
  ``resnet_cifar.py``) with ``(2, 2, 2)`` basic blocks and **no batch norm**. 3x3 stem conv (16 channels,
  no bias) -> ReLU; three groups of channels ``(16, 32, 64)``, strides ``(1, 2, 2)``; each block is
  conv3x3 -> ReLU -> conv3x3 (no biases), plus the shortcut, then ReLU; the "option-A" shortcut of a
  strided block is ``x[:, :, ::2, ::2]`` zero-padded by ``channels // 4`` on each side of the channel
  dimension (``option_a_shortcut``); global average pool; ``Linear(64, 10)`` with zero weights and bias.
  171,578 parameters.
* ``VGG16``: Yoshida's Haiku VGG16 (``davisyoshida/vgg16-haiku``) for CIFAR-10, no BN, no dropout, no
  adaptive pooling: 13 conv3x3 (pad 1, bias) + ReLU with 2x2/2 max-pools, then
  ``Linear(512, 512)-ReLU-Linear(512, 512)-ReLU-Linear(512, 10)``. 15,245,130 parameters.
* ``VGG9``: Li et al.'s ``loss-landscape/cifar10/models/vgg.py`` VGG9, **with** batch norm: 7 x
  (conv3x3 pad 1 with bias + BatchNorm2d + ReLU), ``MaxPool2d(2, 2, ceil_mode=True)``, then
  ``Linear(4096, 256) + BatchNorm1d + ReLU``, ``Linear(256, 10)``. 2,789,706 trainable parameters; the
  brief's 2,789,194 is exactly this minus the 512 affine parameters of the ``BatchNorm1d`` (Li's code does
  have that layer, so it is kept here).

Initialisation
--------------
``ResNet10`` and ``VGG16`` use Haiku's defaults for ``Conv2D`` and ``Linear``:
``TruncatedNormal(stddev=1/sqrt(fan_in))``, i.e. a normal of standard deviation ``1/sqrt(fan_in)``
truncated at +-2 of those standard deviations, **without** the ``/0.8796`` correction (Haiku only applies
that inside ``VarianceScaling``; ``Conv2D``/``Linear`` call ``TruncatedNormal`` directly). The realised
standard deviation is therefore ``0.8796/sqrt(fan_in)`` (variance ``0.774/fan_in``), not the
"variance 1/fan_in" the brief paraphrases. Here: ``nn.init.trunc_normal_(w, std=s, a=-2s, b=2s)`` with
``s = 1/sqrt(fan_in)``, ``fan_in = in_channels * kh * kw`` (conv) or ``in_features`` (linear); biases
zero; the ResNet logits layer all zero (Shon's ``w_init=jnp.zeros``, Haiku's zero ``b_init``).

``VGG9`` uses Li et al.'s ``init_params``: conv ``kaiming_normal_(mode="fan_in")`` (gain ``sqrt(2)``),
conv bias 0; BN weight 1, bias 0; every ``Linear`` weight ``normal(std=1e-3)``, bias 0.

Padding
-------
Shon's convs use Haiku ``padding="SAME"``. For a stride-2 3x3 conv on an even-sized map that pads
**0 before and 1 after** (not 1 and 1 as ``nn.Conv2d(padding=1)`` would), which shifts the sampling grid
by one pixel relative to PyTorch's symmetric padding. ``SameConv2d`` reproduces Haiku's padding exactly;
for stride-1 3x3 convs it is the usual symmetric padding of 1. VGG16 uses explicit ``padding=(1, 1)``
in Haiku, which is ``nn.Conv2d(padding=1)``.

A consequence of the zero logits layer: at initialisation the gradient of any loss with respect to every
ResNet10 body parameter is exactly zero (the body's output reaches the loss only through the zero matrix);
only the logits weight and bias get gradient, and the body starts learning after the first step.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, replace

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from thermoscape.data.tensors import Data, load_data
from thermoscape.nets.small import build_small_network

PAPER_NETWORKS = ("resnet10", "vgg16", "vgg9")

RESNET10_BLOCKS = (2, 2, 2)
RESNET10_CHANNELS = (16, 32, 64)
RESNET10_STRIDES = (1, 2, 2)
VGG16_CFG: tuple[int | str, ...] = (
    64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M",
)  # fmt: skip
VGG9_CFG: tuple[int | str, ...] = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M")

# Trainable-parameter counts of the modules built here (see the module docstring for VGG9 vs the brief).
PARAMETER_COUNTS = {"resnet10": 171_578, "vgg16": 15_245_130, "vgg9": 2_789_706}


# --------------------------------------------------------------------------------------------------
# Building blocks
# --------------------------------------------------------------------------------------------------


def haiku_same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """``(before, after)`` padding of Haiku/TensorFlow ``"SAME"`` along one spatial axis of length ``size``."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class SameConv2d(nn.Conv2d):
    """``nn.Conv2d`` with Haiku's ``"SAME"`` padding (asymmetric for strided convs: the extra pad goes after)."""

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, bias: bool = True
    ):
        super().__init__(in_channels, out_channels, kernel_size, stride=stride, padding=0, bias=bias)

    def forward(self, x: Tensor) -> Tensor:
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        top, bottom = haiku_same_padding(x.shape[-2], kh, sh)
        left, right = haiku_same_padding(x.shape[-1], kw, sw)
        if top or bottom or left or right:
            x = F.pad(x, (left, right, top, bottom))
        return super().forward(x)


def option_a_shortcut(x: Tensor, channels: int) -> Tensor:
    """Shon's option-A shortcut on an NCHW tensor: ``x[:, :, ::2, ::2]`` with ``channels // 4`` zero channels
    added on each side of the channel dimension (so ``C`` becomes ``C + 2 * (channels // 4)``)."""
    pad = channels // 4
    return F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, pad, pad))


class PlainBlock(nn.Module):
    """ResNet v1 basic block without BN: conv3x3 -> ReLU -> conv3x3, + shortcut, ReLU (Shon's ``BlockV1``)."""

    def __init__(self, in_channels: int, channels: int, stride: int) -> None:
        super().__init__()
        if stride != 1 and in_channels + 2 * (channels // 4) != channels:
            raise ValueError(f"option-A shortcut cannot map {in_channels} to {channels} channels")
        if stride == 1 and in_channels != channels:
            raise ValueError(f"identity shortcut needs equal channels, got {in_channels} -> {channels}")
        self.channels = channels
        self.stride = stride
        self.conv_0 = SameConv2d(in_channels, channels, 3, stride=stride, bias=False)
        self.conv_1 = SameConv2d(channels, channels, 3, stride=1, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        out = self.conv_1(F.relu(self.conv_0(x)))
        shortcut = option_a_shortcut(x, self.channels) if self.stride != 1 else x
        return F.relu(out + shortcut)


# --------------------------------------------------------------------------------------------------
# Initialisers
# --------------------------------------------------------------------------------------------------


def _fan_in(weight: Tensor) -> int:
    return math.prod(weight.shape[1:])


def haiku_default_init_(weight: Tensor) -> Tensor:
    """Haiku's default ``Conv2D``/``Linear`` init in place: ``TruncatedNormal(1/sqrt(fan_in))``, cut at +-2 std."""
    std = 1.0 / math.sqrt(_fan_in(weight))
    return nn.init.trunc_normal_(weight, mean=0.0, std=std, a=-2.0 * std, b=2.0 * std)


def _init_haiku_defaults(model: nn.Module) -> None:
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            haiku_default_init_(module.weight)
            if module.bias is not None:
                nn.init.zeros_(module.bias)


def _init_li(model: nn.Module) -> None:
    """Li et al.'s ``init_params`` (``loss-landscape/cifar10/main.py``); BatchNorm1d keeps its (1, 0) default."""
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_in")
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, (nn.BatchNorm2d, nn.BatchNorm1d)):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, std=1e-3)
            if module.bias is not None:
                nn.init.zeros_(module.bias)


# --------------------------------------------------------------------------------------------------
# Networks
# --------------------------------------------------------------------------------------------------


class ResNet10(nn.Module):
    """Bradley et al.'s "Resnet10": Shon's CIFAR ResNet v1, blocks ``(2, 2, 2)``, no BN, zero logits layer.

    Drawn from the global torch RNG at construction (Haiku default init, logits zero).
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 3) -> None:
        super().__init__()
        self.initial_conv = SameConv2d(in_channels, RESNET10_CHANNELS[0], 3, stride=1, bias=False)
        groups, channels_in = [], RESNET10_CHANNELS[0]
        for n_blocks, channels, stride in zip(RESNET10_BLOCKS, RESNET10_CHANNELS, RESNET10_STRIDES):
            blocks = []
            for i in range(n_blocks):
                blocks.append(PlainBlock(channels_in, channels, stride if i == 0 else 1))
                channels_in = channels
            groups.append(nn.Sequential(*blocks))
        self.block_groups = nn.Sequential(*groups)
        self.logits = nn.Linear(RESNET10_CHANNELS[-1], num_classes)
        _init_haiku_defaults(self)
        nn.init.zeros_(self.logits.weight)
        nn.init.zeros_(self.logits.bias)

    def forward(self, x: Tensor) -> Tensor:
        out = self.block_groups(F.relu(self.initial_conv(x)))
        return self.logits(out.mean(dim=(2, 3)))


def _vgg_features(
    cfg: tuple[int | str, ...], in_channels: int, batch_norm: bool, ceil_mode: bool
) -> nn.Sequential:
    layers: list[nn.Module] = []
    for item in cfg:
        if item == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2, ceil_mode=ceil_mode))
        else:
            layers.append(nn.Conv2d(in_channels, int(item), kernel_size=3, padding=1, bias=True))
            if batch_norm:
                layers.append(nn.BatchNorm2d(int(item)))
            layers.append(nn.ReLU())
            in_channels = int(item)
    return nn.Sequential(*layers)


class VGG16(nn.Module):
    """Yoshida's VGG16 adapted to CIFAR-10 (dense layers 512, no adaptive pool, no BN, no dropout).

    Drawn from the global torch RNG at construction (Haiku default init). Expects 32x32 inputs
    (five pools leave a 512x1x1 map).
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 3) -> None:
        super().__init__()
        self.features = _vgg_features(VGG16_CFG, in_channels, batch_norm=False, ceil_mode=False)
        self.classifier = nn.Sequential(
            nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, num_classes)
        )
        _init_haiku_defaults(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(torch.flatten(self.features(x), 1))


class VGG9(nn.Module):
    """Li et al.'s loss-landscape VGG9 (with BatchNorm), initialised with their ``init_params``.

    Drawn from the global torch RNG at construction. Expects 32x32 inputs (three ceil-mode pools: 4x4 maps).
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 3) -> None:
        super().__init__()
        self.features = _vgg_features(VGG9_CFG, in_channels, batch_norm=True, ceil_mode=True)
        n_maps = int(VGG9_CFG[-2])
        self.fc = nn.Sequential(nn.Linear(n_maps * 4 * 4, n_maps), nn.BatchNorm1d(n_maps), nn.ReLU())
        self.classifier = nn.Linear(n_maps, num_classes)
        _init_li(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.fc(torch.flatten(self.features(x), 1)))


def resnet10(num_classes: int = 10) -> ResNet10:
    """A ``ResNet10`` drawn from the global torch RNG."""
    return ResNet10(num_classes)


def vgg16(num_classes: int = 10) -> VGG16:
    """A ``VGG16`` drawn from the global torch RNG."""
    return VGG16(num_classes)


def vgg9(num_classes: int = 10) -> VGG9:
    """A ``VGG9`` drawn from the global torch RNG."""
    return VGG9(num_classes)


_FACTORIES: dict[str, Callable[[], nn.Module]] = {"resnet10": resnet10, "vgg16": vgg16, "vgg9": vgg9}


def build_paper_network(name: str, seed: int, dtype: torch.dtype = torch.float32) -> nn.Module:
    """The network ``name`` (one of ``PAPER_NETWORKS``) initialised deterministically from ``seed``.

    The draws come from the global CPU generator inside ``torch.random.fork_rng``, so the caller's random
    state is untouched. Initialisation is done in float32 and then cast to ``dtype``, so a float64 network
    holds exactly the float32 draws of the same seed. Returned on the CPU, in training mode.
    """
    if name not in _FACTORIES:
        raise ValueError(f"unknown paper network {name!r}; valid names: {', '.join(PAPER_NETWORKS)}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = _FACTORIES[name]()
    return model.to(dtype=dtype)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters of ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


# --------------------------------------------------------------------------------------------------
# The workflow's view: data and network of an experiment from its config block
# --------------------------------------------------------------------------------------------------


def experiment_data(data: dict, path: str | None) -> dict:
    """The train/test split of the config's ``bradley.networks.data`` as tensors (the bundled sets split with
    seed 0: the split is part of the data, shared by every temperature and seed), to be stored once by the
    workflow and read back with ``stored_data``."""
    loaded = load_data(data["dataset"], data["n_train"], data["n_test"], data["preprocess"], seed=0, path=path)
    return asdict(loaded)


def stored_data(tensors: dict, device: torch.device) -> Data:
    """``experiment_data``'s tensors as ``Data`` on ``device``: float32 inputs for CIFAR-10 (the paper
    networks), float64 otherwise (the curvature fits need the precision)."""
    data = Data(**tensors)
    return to_device(data, device, torch.float64 if data.x_train.shape[1:] != (3, 32, 32) else torch.float32)


def to_device(data: Data, device: torch.device, dtype: torch.dtype) -> Data:
    return replace(data, x_train=data.x_train.to(device, dtype), y_train=data.y_train.to(device),
                   x_test=data.x_test.to(device, dtype), y_test=data.y_test.to(device))


def experiment_network(network: dict, data: Data, seed: int) -> nn.Module:
    """The config's ``network`` (``arch``: one of ``PAPER_NETWORKS``, or Fort's ``mlp``/``cnn`` with
    ``activation``, ``widths``, ``channels``) seeded by ``seed``, in the data's dtype and on its device."""
    if network["arch"] in PAPER_NETWORKS:
        model = build_paper_network(network["arch"], seed)
    else:
        model = build_small_network(network["arch"], network.get("activation", "relu"), tuple(data.x_train.shape[1:]),
                              data.n_classes, network.get("widths", [32]), network.get("channels", []), seed)
    return model.to(data.x_train.device, data.x_train.dtype)
