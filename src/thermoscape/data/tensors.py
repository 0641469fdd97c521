"""Train/test tensors of an offline data set with recorded preprocessing (Fort & Ganguli brief E4; also the data
of Bradley et al.'s networks): float64 features, int64 labels, a class subset and subsample sizes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from thermoscape.core.grids import BUNDLED_SPLITS
from thermoscape.data.readers import CIFAR_MEAN, CIFAR_STD, Split, load_split

PREPROCESSING = ("unit", "zscore")

@dataclass(frozen=True)
class Data:
    """Training and test tensors (float64 features, int64 labels) and the preprocessing applied."""

    x_train: Tensor
    y_train: Tensor
    x_test: Tensor
    y_test: Tensor
    n_classes: int
    preprocess: str


def _unit_pixels(split: Split, dataset: str) -> tuple[np.ndarray, np.ndarray]:
    """Pixels in [0, 1]: the CIFAR loader normalises per channel, which is undone here."""
    if not dataset.startswith("cifar"):
        return split.x_train, split.x_test
    mean = np.asarray(CIFAR_MEAN, dtype=np.float32).reshape(1, 3, 1, 1)
    std = np.asarray(CIFAR_STD, dtype=np.float32).reshape(1, 3, 1, 1)
    return split.x_train * std + mean, split.x_test * std + mean


def _keep_classes(x: np.ndarray, y: np.ndarray, classes: Sequence[int] | None, n: int) -> tuple[Tensor, Tensor]:
    """The first ``n`` samples, or with ``classes`` at most ``n`` samples of those classes, relabelled
    0..len(classes)-1 in the listed order."""
    if classes:
        keep = np.isin(y, classes)
        relabel = {label: k for k, label in enumerate(classes)}
        x, y = x[keep], np.array([relabel[label] for label in y[keep]])
        n = min(n, len(y))
    if n > len(y):
        raise ValueError(f"asked for {n} samples but only {len(y)} are available")
    return torch.as_tensor(x[:n], dtype=torch.float64), torch.as_tensor(y[:n], dtype=torch.int64)


def load_data(dataset: str, n_train: int, n_test: int, preprocess: str, seed: int = 0,
              classes: Sequence[int] | None = None, path: str | None = None) -> Data:
    """A train/test subset of an offline data set with recorded preprocessing (brief E4: it changes q^SL).

    ``preprocess``: ``"unit"`` keeps pixels in [0, 1] (not centred; the setting of the paper's q^SL ~ 0.67 in
    the brief's probe), ``"zscore"`` standardises every feature with the training subset's mean and std
    (constant features are only centred). ``classes`` keeps those classes, relabelled in the given order
    (Fig. 3a's 3-class subset). The bundled sets split with ``seed``; file sets keep their own split.
    """
    if preprocess not in PREPROCESSING:
        raise ValueError(f"preprocess must be one of {PREPROCESSING}, got {preprocess!r}")
    options = {"digits": {"n_train": BUNDLED_SPLITS["digits"][0], "seed": seed, "scaling": "unit"},
               "mnist5k": {"n_test": BUNDLED_SPLITS["mnist5k"][1], "seed": seed}}
    split = load_split(dataset, path, **options.get(dataset, {}))
    x_train, x_test = _unit_pixels(split, dataset)
    x_train, y_train = _keep_classes(x_train, split.y_train, classes, n_train)
    x_test, y_test = _keep_classes(x_test, split.y_test, classes, n_test)
    if preprocess == "zscore":
        mean, std = x_train.mean(dim=0), x_train.std(dim=0)
        std = torch.where(std > 0, std, torch.ones_like(std))
        x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    n_classes = len(classes) if classes else split.n_classes
    return Data(x_train, y_train, x_test, y_test, n_classes, preprocess)
