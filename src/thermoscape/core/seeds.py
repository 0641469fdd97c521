"""Seeds derived from the configuration, never from time: one base seed plus named keys."""

from __future__ import annotations

import zlib

import numpy as np


def derive_seed(base: int, *keys: float | str) -> int:
    """A 63-bit seed determined by ``base`` and ``keys`` (e.g. ``"langevin", replica, T, eta``).

    Keys are hashed through their ``repr`` (CRC32), so ``1e-06`` and ``1.0e-6`` give the same seed and
    the result does not depend on how runs are grouped into jobs.
    """
    entropy = [int(base)] + [zlib.crc32(repr(k).encode()) for k in keys]
    return int(np.random.SeedSequence(entropy).generate_state(2, dtype=np.uint32).view(np.uint64)[0] >> 1)
