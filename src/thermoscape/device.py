"""Compute device and threading: CUDA when present, otherwise CPU with a set number of threads."""

from __future__ import annotations

import torch


def select_device(preference: str = "auto") -> torch.device:
    """``auto`` picks ``cuda`` when available, else ``cpu``; ``cpu`` or ``cuda`` force one."""
    if preference == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if preference == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' was requested but no CUDA device is available")
    return torch.device(preference)


def configure_threads(threads: int) -> None:
    """Tiny networks run fastest single-threaded; the workflow runs jobs in parallel instead."""
    torch.set_num_threads(max(1, int(threads)))
