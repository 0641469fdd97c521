"""Initialisers of the paper networks that do not use PyTorch's defaults (Bradley et al.'s CIFAR-10 networks, brief
§3.2): Haiku's default ``Conv2D``/``Linear`` init (Resnet10, VGG16) and Li et al.'s ``init_params`` (VGG9)."""

from __future__ import annotations

import math

from torch import Tensor, nn


def _fan_in(weight: Tensor) -> int:
    return math.prod(weight.shape[1:])


def haiku_default_init_(weight: Tensor) -> Tensor:
    """Haiku's default ``Conv2D``/``Linear`` init in place: ``TruncatedNormal(1/sqrt(fan_in))``, cut at +-2 std.

    Without the ``/0.8796`` correction (Haiku only applies that inside ``VarianceScaling``; ``Conv2D``/``Linear``
    call ``TruncatedNormal`` directly), so the realised standard deviation is ``0.8796/sqrt(fan_in)`` (variance
    ``0.774/fan_in``), not the "variance 1/fan_in" the brief paraphrases; ``fan_in = in_channels * kh * kw``
    (conv) or ``in_features`` (linear)."""
    std = 1.0 / math.sqrt(_fan_in(weight))
    return nn.init.trunc_normal_(weight, mean=0.0, std=std, a=-2.0 * std, b=2.0 * std)


def init_haiku_defaults(model: nn.Module) -> None:
    """Every conv and linear weight by ``haiku_default_init_``, every bias zero (Haiku's ``b_init``)."""
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            haiku_default_init_(module.weight)
            if module.bias is not None:
                nn.init.zeros_(module.bias)


def init_li(model: nn.Module) -> None:
    """Li et al.'s ``init_params`` (``loss-landscape/cifar10/main.py``): conv ``kaiming_normal_(mode="fan_in")``
    (gain ``sqrt(2)``), conv bias 0; BN weight 1, bias 0 (BatchNorm1d too); every ``Linear`` weight
    ``normal(std=1e-3)``, bias 0."""
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
