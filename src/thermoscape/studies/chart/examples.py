"""Small example networks for the chart config examples (config/examples/chart_*.yaml; docs/chart.md)."""

from __future__ import annotations

import torch
from torch import nn


def digits_mlp(hidden: int = 16, seed: int = 0) -> nn.Module:
    """An MLP 64 -> ``hidden`` -> 10 (tanh) for scikit-learn's 8x8 digits (flattened, standardised);
    initialised from ``seed`` (PyTorch's default initialisation)."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, hidden), nn.Tanh(), nn.Linear(hidden, 10))


def fashion_cnn(channels: int = 4, seed: int = 0) -> nn.Module:
    """A small CNN for Fashion-MNIST as the project's IDX reader gives it (flattened 784 pixels in [0, 1]):
    conv 5x5 (``channels``) -> ReLU -> 4x4 max-pool -> linear to 10 classes."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Unflatten(1, (1, 28, 28)), nn.Conv2d(1, channels, 5), nn.ReLU(), nn.MaxPool2d(4),
                         nn.Flatten(), nn.Linear(channels * 6 * 6, 10))


def tiny_mlp(inputs: int = 64, hidden: int = 3, classes: int = 10, seed: int = 0) -> nn.Module:
    """A tiny MLP for smoke tests of the chart target."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(inputs, hidden), nn.Tanh(), nn.Linear(hidden, classes))
