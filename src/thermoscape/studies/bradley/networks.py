"""The networks of Bradley et al., "Shift-Curvature, SGD, and Generalization" (brief §3.2, §3.3), as the workflow
builds them: the CIFAR-10 paper networks ``resnet10``, ``vgg16``, ``vgg9`` (classes and initialisers in
``nets.resnet``, ``nets.vgg``, ``nets.inits``) or Fort & Ganguli's small ``mlp``/``cnn`` on the bundled data sets,
all through the one builder ``nets.build``; and the data of an experiment.
"""

from __future__ import annotations

from dataclasses import asdict, replace

import torch
from torch import nn

from thermoscape.data.tensors import Data, load_data
from thermoscape.nets import build
from thermoscape.nets.small import small_spec

PAPER_NETWORKS = ("resnet10", "vgg16", "vgg9")

# Trainable-parameter counts of the paper networks (see ``nets.vgg`` for VGG9 vs the brief).
PARAMETER_COUNTS = {"resnet10": 171_578, "vgg16": 15_245_130, "vgg9": 2_789_706}


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


def network_spec(network: dict, data: Data) -> dict:
    """The ``nets.build`` spec of the config's ``network``: ``arch`` one of ``PAPER_NETWORKS`` (CIFAR-10, 10
    classes), or Fort's ``mlp``/``cnn`` with ``activation``, ``widths``, ``channels`` for the data's samples."""
    if network["arch"] in PAPER_NETWORKS:
        return {"name": network["arch"]}
    return small_spec(network["arch"], network.get("activation", "relu"), tuple(data.x_train.shape[1:]),
                      data.n_classes, network.get("widths", [32]), network.get("channels", []))


def experiment_network(network: dict, data: Data, seed: int) -> nn.Module:
    """The config's ``network`` (``network_spec``) seeded by ``seed``, in the data's dtype and on its device
    (drawn in float32 and cast, as every ``nets.build`` network)."""
    return build(network_spec(network, data), seed).to(data.x_train.device, data.x_train.dtype)
