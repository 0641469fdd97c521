"""Compute device and threading: CUDA when present, otherwise CPU with a set number of threads."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from typing import Any

import torch


def select_device(preference: str = "auto") -> torch.device:
    """``auto`` picks ``cuda`` when available, else ``cpu``; ``cpu`` or ``cuda`` force one."""
    if preference == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if preference == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' was requested but no CUDA device is available")
    return torch.device(preference)


def available_memory(device: torch.device | str) -> int:
    """Bytes that can still be allocated on ``device``: free memory of a CUDA device (``mem_get_info``), else
    the host's ``MemAvailable`` (``/proc/meminfo``; the free physical pages where that file does not exist)."""
    device = torch.device(device)
    if device.type == "cuda":
        return int(torch.cuda.mem_get_info(device)[0])
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))


def configure_threads(threads: int) -> None:
    """Tiny networks run fastest single-threaded; the workflow runs jobs in parallel instead."""
    torch.set_num_threads(max(1, int(threads)))


def try_compile(fn: Callable, *example) -> tuple[Callable, Any]:
    """``torch.compile(fn)`` (inductor, static shapes), compiled now on ``example`` inputs.

    Returns the compiled function and its value on ``example``; the eager ``fn`` and its value, with a
    warning, if compilation fails (no C++ compiler, an unsupported operator): compilation is an
    optimisation, never a requirement.
    """
    fast = torch.compile(fn, dynamic=False)
    try:
        return fast, fast(*example)
    except Exception as error:  # noqa: BLE001 -- inductor raises many types; any failure means eager
        warnings.warn(f"torch.compile failed ({type(error).__name__}: {error}); using the eager path",
                      stacklevel=2)
        return fn, fn(*example)
