"""Augmentations applied to a tile and its labels together: the 8 flips/rotations and colour jitter.

Each tile has ``variants`` fixed augmented copies (variant 0 is the tile itself), seeded by (seed, tile,
variant): the frozen encoder sees each copy once and its embedding is reused every epoch.
"""

from __future__ import annotations

import numpy as np


def dihedral(array: np.ndarray, k: int) -> np.ndarray:
    """One of the 8 symmetries of the square on the first two axes (rows, cols): k % 4 quarter turns,
    mirrored when k >= 4."""
    out = np.rot90(array, k % 4, axes=(0, 1))
    return np.ascontiguousarray(out[:, ::-1] if k >= 4 else out)


def jitter_colours(rgb: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
    """Brightness, contrast and saturation each scaled by a factor in [1 - strength, 1 + strength]."""
    image = rgb.astype(np.float32)
    brightness, contrast, saturation = rng.uniform(1 - strength, 1 + strength, size=3)
    image = image * brightness
    mean = image.mean()
    image = (image - mean) * contrast + mean
    grey = image.mean(axis=2, keepdims=True)
    image = (image - grey) * saturation + grey
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def augment(
    arrays: tuple[np.ndarray, ...], rgb_index: int, variant: int, seed: tuple[int, ...], strength: float
) -> tuple[np.ndarray, ...]:
    """The same flip/rotation for every array (rows, cols, ...) and colour jitter for ``arrays[rgb_index]``.

    Variant 0 returns the arrays unchanged.
    """
    if variant == 0:
        return arrays
    rng = np.random.default_rng([*seed, variant])
    k = int(rng.integers(1, 8))
    out = [dihedral(a, k) for a in arrays]
    if strength > 0:
        out[rgb_index] = jitter_colours(out[rgb_index], rng, strength)
    return tuple(out)
