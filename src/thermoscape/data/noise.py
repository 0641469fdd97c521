"""Input noise as a load (Yang et al., "Taxonomizing local versus global structure in neural network loss
landscapes", NeurIPS 2021, App. D.6 and Fig. 21): uniform additive noise on every training pixel.

The label-noise counterpart is :func:`thermoscape.data.readers.corrupt_labels`.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from thermoscape.data.readers import Split

PIXEL_SCALE = 255.0  # u is given on the 0-255 scale of 8-bit pixels (the paper's and Fig. 10's convention)


def add_pixel_noise(split: Split, magnitude: float, seed: int = 12345, scale: float = PIXEL_SCALE) -> Split:
    """The split with ``U[0, magnitude)`` added to every training pixel on the 0-``scale`` pixel range and
    clipped to that range (App. D.6: "a random additive noise with uniform distribution in [0, u] to each
    pixel"); test inputs and all labels unchanged.

    One field ``U[0, 1)`` per training image and pixel is drawn by ``np.random.default_rng(seed)`` and scaled
    by ``magnitude``, so every ``u`` adds proportionally more of the same noise (the authors' code draws
    ``U[0, 1) * u`` once, seed 12345; it adds in wrapping uint8, here in float before the clip, brief 2.3).
    Features here are scaled (standardised, [0, 1], per-channel normalised), so, as for Fig. 10's CKA inputs,
    the pixel range of feature ``f`` is its training range ``[min_f, max_f]``: the noise is
    ``U[0, 1) * magnitude / scale * (max_f - min_f)`` and the result is clipped at ``max_f``. A feature that
    is constant over the training set gets no noise.
    """
    if not 0.0 <= magnitude <= scale:
        raise ValueError(f"pixel noise magnitude {magnitude} must lie in [0, {scale:g}]")
    x = np.asarray(split.x_train, dtype=np.float32)
    if magnitude == 0.0 or len(x) == 0:
        return split
    low, high = x.min(axis=0), x.max(axis=0)
    field = np.random.default_rng(seed).random(x.shape, dtype=np.float32)
    noisy = np.minimum(x + field * np.float32(magnitude / scale) * (high - low), high)
    return dataclasses.replace(split, x_train=noisy.astype(np.float32))
