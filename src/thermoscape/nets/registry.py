"""One builder for every module network of the workflow: ``build(spec, seed)``, one name per architecture.

A spec is plain JSON-able data, ``{"name": <architecture>, **its arguments}``, so it can be stored next to the
weights in a torch file loaded with ``weights_only=True`` and rebuilt from there. The architectures:

===========  =====================================================  ==========================================
name         arguments                                              network
===========  =====================================================  ==========================================
mlp          in_features, n_classes, widths (or width and depth),   Yang et al.'s d-w-...-w-C; Fort & Ganguli's
             activation="relu"                                      and Bradley et al.'s small MLPs
cnn          sample_shape, channels, width, n_classes,              Fort & Ganguli's SmallCNN (brief 5.3)
             activation="relu"
resnet18     width, in_channels=3, n_classes=10                     Yang et al.'s ResNet18-k
resnet10     n_classes=10, in_channels=3                            Bradley et al.'s Resnet10 (no BN)
vgg16        n_classes=10, in_channels=3                            Bradley et al.'s VGG16 (Haiku, no BN)
vgg9         n_classes=10, in_channels=3                            Li et al.'s VGG9 (BN), Bradley et al.
vgg11        width, in_channels=3, n_classes=10                     Yang et al.'s VGG11-k (BN; Fig. 16)
lenet        variant ("mnist" or "cifar")                           Feng & Tu's LeNets
transformer  width, source_vocab, target_vocab, source_len,         Yang et al.'s translation Transformer
             target_len, layers=1, heads=2, ff_multiplier=2         (App. D.4; width = embedding dimension)
===========  =====================================================  ==========================================

(``nets.small``, ``nets.resnet``, ``nets.vgg``, ``nets.lenet``, ``nets.transformer``.) A new study adds its
network by ``register(name, factory)``: a callable of keyword arguments that builds the module, drawing its
initial weights from the global torch generator. The flat-vector MLPs of the Langevin engine (``nets.mlp``:
Jules et al., Feng & Tu) are not modules and have their own spec, ``MLPSpec``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import nn

from thermoscape.nets import lenet, resnet, small, transformer, vgg

Factory = Callable[..., nn.Module]

_ARCHITECTURES: dict[str, Factory] = {
    "mlp": small.mlp,
    "cnn": small.cnn,
    "resnet18": resnet.ResNet18,
    "resnet10": resnet.ResNet10,
    "vgg16": vgg.VGG16,
    "vgg9": vgg.VGG9,
    "vgg11": vgg.VGG11,
    "lenet": lenet.LeNet,
    "transformer": transformer.Seq2SeqTransformer,
}


def architectures() -> tuple[str, ...]:
    """The registered names, sorted."""
    return tuple(sorted(_ARCHITECTURES))


def register(name: str, factory: Factory) -> None:
    """Add the architecture ``name``: ``factory(**arguments)`` builds it (its keyword parameters are the
    spec's keys, those without a default required)."""
    if name in _ARCHITECTURES:
        raise ValueError(f"architecture {name!r} is registered already")
    _ARCHITECTURES[name] = factory


def _check_value(name: str, key: str, value: Any) -> None:
    """Integers (alone or in lists) are sizes: positive. Other values are the factory's to check."""
    values = value if isinstance(value, (list, tuple)) else [value]
    for item in values:
        if isinstance(item, bool) or (isinstance(item, int) and item < 1) or (
                isinstance(value, (list, tuple)) and not isinstance(item, int)):
            raise ValueError(f"architecture {name!r}: {key} must be a positive integer or a list of them,"
                             f" got {value!r}")


def resolve(spec: Mapping[str, Any]) -> tuple[Factory, dict[str, Any]]:
    """The factory of ``spec["name"]`` and its arguments, checked: no key missing, none unknown, sizes positive."""
    name = spec.get("name")
    if name not in _ARCHITECTURES:
        raise ValueError(f"unknown architecture {name!r}; valid names: {', '.join(architectures())}")
    factory = _ARCHITECTURES[name]
    parameters = inspect.signature(factory).parameters
    required = [key for key, p in parameters.items() if p.default is inspect.Parameter.empty]
    arguments = {key: value for key, value in spec.items() if key != "name"}
    missing = [key for key in required if key not in arguments]
    unknown = sorted(set(arguments) - set(parameters))
    if missing or unknown:
        raise ValueError(f"architecture {name!r} takes the keys {', '.join(parameters)}"
                         f" (missing: {missing or 'none'}; unknown: {unknown or 'none'})")
    for key, value in arguments.items():
        _check_value(name, key, value)
    return factory, arguments


def build(spec: Mapping[str, Any], seed: int, dtype: torch.dtype = torch.float32) -> nn.Module:
    """The network ``spec`` describes, initialised deterministically from ``seed``, on the CPU, in training mode.

    The initial weights are drawn from the global CPU generator seeded with ``seed`` inside
    ``torch.random.fork_rng``, so the caller's random state is left untouched. They are drawn in float32
    (PyTorch's default) and the model is then cast to ``dtype``: a float64 network holds exactly the float32
    draws of the same seed.
    """
    factory, arguments = resolve(spec)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = factory(**arguments)
    return model.to(dtype=dtype)
