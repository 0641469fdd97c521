"""The CIFAR-style residual networks: Yang et al.'s ResNet18-k and Bradley et al.'s Resnet10.

* ``ResNet18`` (``"resnet18"``, Yang et al., NeurIPS 2021, App. A, after Nakkiran et al. 2020): 3x3 stem conv
  (stride 1, no bias) -> BN -> ReLU; four stages of two ``BasicBlock`` with widths ``k, 2k, 4k, 8k`` and
  strides ``1, 2, 2, 2``; global average pooling; ``Linear(8k, n_classes)``; PyTorch's default init.
* ``ResNet10`` (``"resnet10"``, Bradley et al., brief §3.2): Shon's Haiku CIFAR ResNet v1
  (``hushon/JAX-ResNet-CIFAR10``, ``resnet_cifar.py``) with ``(2, 2, 2)`` basic blocks and **no batch norm**.
  3x3 stem conv (16 channels, no bias) -> ReLU; three groups of channels ``(16, 32, 64)``, strides
  ``(1, 2, 2)``; each block is conv3x3 -> ReLU -> conv3x3 (no biases), plus the shortcut, then ReLU; the
  "option-A" shortcut of a strided block is ``x[:, :, ::2, ::2]`` zero-padded by ``channels // 4`` on each
  side of the channel dimension (``option_a_shortcut``); global average pool; ``Linear(64, 10)`` with zero
  weights and bias. 171,578 parameters. Haiku's default init (``nets.inits``), the logits layer all zero
  (Shon's ``w_init=jnp.zeros``).

Padding of ``ResNet10``: Shon's convs use Haiku ``padding="SAME"``. For a stride-2 3x3 conv on an even-sized
map that pads **0 before and 1 after** (not 1 and 1 as ``nn.Conv2d(padding=1)`` would), which shifts the
sampling grid by one pixel relative to PyTorch's symmetric padding. ``SameConv2d`` reproduces Haiku's
padding exactly; for stride-1 3x3 convs it is the usual symmetric padding of 1.

A consequence of the zero logits layer: at initialisation the gradient of any loss with respect to every
ResNet10 body parameter is exactly zero (the body's output reaches the loss only through the zero matrix);
only the logits weight and bias get gradient, and the body starts learning after the first step.

Both draw from the global torch generator at construction; build them with ``nets.build``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from thermoscape.nets.inits import init_haiku_defaults

RESNET10_BLOCKS = (2, 2, 2)
RESNET10_CHANNELS = (16, 32, 64)
RESNET10_STRIDES = (1, 2, 2)


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


class ResNet10(nn.Module):
    """Bradley et al.'s "Resnet10": Shon's CIFAR ResNet v1, blocks ``(2, 2, 2)``, no BN, zero logits layer.

    Drawn from the global torch RNG at construction (Haiku default init, logits zero).
    """

    def __init__(self, n_classes: int = 10, in_channels: int = 3) -> None:
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
        self.logits = nn.Linear(RESNET10_CHANNELS[-1], n_classes)
        init_haiku_defaults(self)
        nn.init.zeros_(self.logits.weight)
        nn.init.zeros_(self.logits.bias)

    def forward(self, x: Tensor) -> Tensor:
        out = self.block_groups(F.relu(self.initial_conv(x)))
        return self.logits(out.mean(dim=(2, 3)))
