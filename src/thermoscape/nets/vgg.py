"""Bradley et al.'s VGG networks for CIFAR-10 (brief §3.2, §3.3).

* ``VGG16`` (``"vgg16"``): Yoshida's Haiku VGG16 (``davisyoshida/vgg16-haiku``) for CIFAR-10, no BN, no
  dropout, no adaptive pooling: 13 conv3x3 (pad 1, bias) + ReLU with 2x2/2 max-pools, then
  ``Linear(512, 512)-ReLU-Linear(512, 512)-ReLU-Linear(512, 10)``. 15,245,130 parameters. Haiku's default
  init (``nets.inits``); Haiku's explicit ``padding=(1, 1)`` is ``nn.Conv2d(padding=1)``.
* ``VGG9`` (``"vgg9"``): Li et al.'s ``loss-landscape/cifar10/models/vgg.py`` VGG9, **with** batch norm: 7 x
  (conv3x3 pad 1 with bias + BatchNorm2d + ReLU), ``MaxPool2d(2, 2, ceil_mode=True)``, then
  ``Linear(4096, 256) + BatchNorm1d + ReLU``, ``Linear(256, 10)``. 2,789,706 trainable parameters; the
  brief's 2,789,194 is exactly this minus the 512 affine parameters of the ``BatchNorm1d`` (Li's code does
  have that layer, so it is kept here). Li et al.'s ``init_params``.

* ``VGG11`` (``"vgg11"``): Yang et al.'s VGG11-k (App. D.2, Fig. 16: "blocks with channel width {k, 2k, 4k, 4k,
  8k, 8k, 8k, 8k}"; not in their released code): the CIFAR VGG11 of ``kuangliu/pytorch-cifar`` (the source of
  their ResNet18) at stage widths scaled by k: 8 x (conv3x3 pad 1 with bias + BatchNorm2d + ReLU) with a 2x2/2
  max-pool after stages 1, 2, 4, 6, 8, then ``Linear(8k, n_classes)``; PyTorch's default init. k = 64 is the
  standard VGG11 (9,231,114 parameters on CIFAR-10). The pools use ``ceil_mode`` so that 28x28 images
  (Fashion-MNIST, the default-scale stand-in) also end at 1x1 (28-14-7-4-2-1); on 32x32 inputs it is the same
  network. Flat square samples ``(n, c * s * s)`` are unflattened to ``(n, c, s, s)``.

All draw from the global torch generator at construction; build them with ``nets.build``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from thermoscape.nets.inits import init_haiku_defaults, init_li

VGG16_CFG: tuple[int | str, ...] = (
    64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M",
)  # fmt: skip
VGG9_CFG: tuple[int | str, ...] = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M")
# VGG11-k: stage widths in units of k, "M" a max-pool (Yang et al. App. D.2)
VGG11_STAGES: tuple[int | str, ...] = (1, "M", 2, "M", 4, 4, "M", 8, 8, "M", 8, 8, "M")


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

    def __init__(self, n_classes: int = 10, in_channels: int = 3) -> None:
        super().__init__()
        self.features = _vgg_features(VGG16_CFG, in_channels, batch_norm=False, ceil_mode=False)
        self.classifier = nn.Sequential(
            nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, n_classes)
        )
        init_haiku_defaults(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(torch.flatten(self.features(x), 1))


class VGG9(nn.Module):
    """Li et al.'s loss-landscape VGG9 (with BatchNorm), initialised with their ``init_params``.

    Drawn from the global torch RNG at construction. Expects 32x32 inputs (three ceil-mode pools: 4x4 maps).
    """

    def __init__(self, n_classes: int = 10, in_channels: int = 3) -> None:
        super().__init__()
        self.features = _vgg_features(VGG9_CFG, in_channels, batch_norm=True, ceil_mode=True)
        n_maps = int(VGG9_CFG[-2])
        self.fc = nn.Sequential(nn.Linear(n_maps * 4 * 4, n_maps), nn.BatchNorm1d(n_maps), nn.ReLU())
        self.classifier = nn.Linear(n_maps, n_classes)
        init_li(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.fc(torch.flatten(self.features(x), 1)))


class VGG11(nn.Module):
    """Yang et al.'s VGG11-k (Fig. 16): stage widths k x (1, 2, 4, 4, 8, 8, 8, 8), BatchNorm, ceil-mode pools,
    one linear layer on the 8k pooled features. Drawn from the global torch RNG at construction."""

    def __init__(self, width: int, in_channels: int = 3, n_classes: int = 10) -> None:
        super().__init__()
        self.in_channels = in_channels
        cfg = tuple(item if item == "M" else int(item) * width for item in VGG11_STAGES)
        self.features = _vgg_features(cfg, in_channels, batch_norm=True, ceil_mode=True)
        self.classifier = nn.Linear(8 * width, n_classes)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim == 2:  # flat square images
            side = math.isqrt(x.shape[1] // self.in_channels)
            if self.in_channels * side * side != x.shape[1]:
                raise ValueError(f"VGG11 needs square images; got flat samples of {x.shape[1]} features")
            x = x.view(len(x), self.in_channels, side, side)
        return self.classifier(torch.flatten(self.features(x), 1))
