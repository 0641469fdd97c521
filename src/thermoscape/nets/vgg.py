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

Both draw from the global torch generator at construction; build them with ``nets.build``.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from thermoscape.nets.inits import init_haiku_defaults, init_li

VGG16_CFG: tuple[int | str, ...] = (
    64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M",
)  # fmt: skip
VGG9_CFG: tuple[int | str, ...] = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M")


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
