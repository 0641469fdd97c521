"""Data sets as tidy tables: one row per sample, feature columns ``x0 ... x{d-1}`` and ``label``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import Tensor


def gaussian_classification(n_samples: int, dim: int, n_classes: int, seed: int) -> pd.DataFrame:
    """Inputs ``x ~ N(0, I_d)``, labels drawn uniformly at random over ``n_classes`` (Jules et al., S1a)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n_samples, dim))
    labels = rng.integers(0, n_classes, size=n_samples)
    table = pd.DataFrame(x, columns=[f"x{i}" for i in range(dim)])
    table["label"] = labels.astype(np.int64)
    return table


def table_to_tensors(table: pd.DataFrame, dtype=torch.float64, device="cpu") -> tuple[Tensor, Tensor]:
    """Feature matrix ``(D, d)`` and integer labels ``(D,)`` of a data table."""
    features = [c for c in table.columns if c.startswith("x")]
    x = torch.tensor(table[features].to_numpy(), dtype=dtype, device=device)
    labels = torch.tensor(table["label"].to_numpy(), dtype=torch.int64, device=device)
    return x, labels
