"""How things look: procedural textures and colours painted onto the class and object rasters.

Colours are reflectances in 0..1 per band (R, G, B, NIR); arrays are (rows, cols) = (y, x), row 0 north.
"""

from __future__ import annotations

import numpy as np

from core.synthetic.config import BUILDING, ROAD, TREE

#: Reflectance (R, G, B, NIR) of the materials.
GRASS = np.array([0.22, 0.30, 0.14, 0.45], dtype=np.float32)
SOIL = np.array([0.42, 0.36, 0.27, 0.33], dtype=np.float32)
ASPHALT = np.array([0.33, 0.33, 0.35, 0.20], dtype=np.float32)
CANOPY = np.array([0.10, 0.23, 0.08, 0.55], dtype=np.float32)
ROOFS = np.array(
    [
        [0.56, 0.27, 0.20, 0.30],  # terracotta tiles
        [0.25, 0.26, 0.29, 0.21],  # dark slate
        [0.63, 0.63, 0.61, 0.45],  # light concrete (flat roof)
        [0.40, 0.31, 0.23, 0.27],  # brown shingles
    ],
    dtype=np.float32,
)
FLAT_ROOF_STYLE = 2


class ObjectTable:
    """Per-object attributes as arrays indexed by object id (row 0 is 'no object')."""

    def __init__(self, count: int) -> None:
        self.style = np.zeros(count + 1, dtype=np.int64)
        self.brightness = np.ones(count + 1, dtype=np.float32)
        self.col = np.zeros(count + 1, dtype=np.float32)
        self.row = np.zeros(count + 1, dtype=np.float32)
        self.angle = np.zeros(count + 1, dtype=np.float32)
        self.radius_px = np.ones(count + 1, dtype=np.float32)


def value_noise(rng: np.random.Generator, height: int, width: int, cell: float) -> np.ndarray:
    """Smooth noise in 0..1, (height, width) float32, with features about ``cell`` pixels wide."""
    cell = max(cell, 1.0)
    grid = rng.random((int(np.ceil(height / cell)) + 2, int(np.ceil(width / cell)) + 2), dtype=np.float32)
    ys, xs = (np.arange(height, dtype=np.float32) + 0.5) / cell, (np.arange(width, dtype=np.float32) + 0.5) / cell
    y0, x0 = ys.astype(np.int64), xs.astype(np.int64)
    fy, fx = ys - y0, xs - x0
    fy, fx = (fy * fy * (3 - 2 * fy))[:, None], (fx * fx * (3 - 2 * fx))[None, :]
    top = grid[y0][:, x0] * (1 - fx) + grid[y0][:, x0 + 1] * fx
    bottom = grid[y0 + 1][:, x0] * (1 - fx) + grid[y0 + 1][:, x0 + 1] * fx
    return (top * (1 - fy) + bottom * fy).astype(np.float32)


def fractal_noise(rng: np.random.Generator, height: int, width: int, cell: float, octaves: int = 3) -> np.ndarray:
    """Sum of ``octaves`` value noises, each half the size of the last, normalised to 0..1."""
    total = np.zeros((height, width), dtype=np.float32)
    weight_sum = 0.0
    for octave in range(octaves):
        weight = 0.5**octave
        total += weight * value_noise(rng, height, width, cell / 2**octave)
        weight_sum += weight
    return total / weight_sum


def _shift(mask: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """``mask`` moved by (rows, cols) pixels, filled with False where it moved away."""
    out = np.zeros_like(mask)
    h, w = mask.shape
    out[max(rows, 0) : h + min(rows, 0), max(cols, 0) : w + min(cols, 0)] = mask[
        max(-rows, 0) : h + min(-rows, 0), max(-cols, 0) : w + min(-cols, 0)
    ]
    return out


def render(
    classes: np.ndarray,
    object_ids: np.ndarray,
    objects: ObjectTable,
    pixel_size: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Reflectance image (4, rows, cols) float32 in 0..1, bands R, G, B, NIR.

    ``classes`` holds class ids per pixel, ``object_ids`` the index+1 of the object painted there (0 none),
    ``objects`` the per-object attributes indexed by that id.
    """
    h, w = classes.shape
    metres = 1.0 / pixel_size
    cols = np.arange(w, dtype=np.float32)[None, :] + 0.5
    rows = np.arange(h, dtype=np.float32)[:, None] + 0.5

    mix = fractal_noise(rng, h, w, 30 * metres)[None]
    grain = fractal_noise(rng, h, w, 1.5 * metres, octaves=2)[None]
    image = (GRASS[:, None, None] * (1 - mix) + SOIL[:, None, None] * mix) * (0.85 + 0.3 * grain)

    road = classes == ROAD
    wear = value_noise(rng, h, w, 4 * metres)[None]
    image = np.where(road[None], ASPHALT[:, None, None] * (0.85 + 0.2 * wear + 0.1 * grain), image)

    building = classes == BUILDING
    ids = object_ids
    roof = ROOFS[objects.style[ids]].transpose(2, 0, 1) * objects.brightness[ids][None]
    # Pitched roofs: the two sides of the ridge catch the sun differently.
    dx, dy = cols - objects.col[ids], rows - objects.row[ids]
    side = dx * -np.sin(objects.angle[ids]) - dy * np.cos(objects.angle[ids])
    pitched = objects.style[ids] != FLAT_ROOF_STYLE
    shade = np.where(pitched, np.where(side > 0, 1.12, 0.78), 0.95 + 0.1 * grain[0])
    image = np.where(building[None], roof * shade[None], image)

    tree = classes == TREE
    distance = np.hypot(cols - objects.col[ids], rows - objects.row[ids]) / np.maximum(objects.radius_px[ids], 1.0)
    crown = 1.15 - 0.5 * np.clip(distance, 0, 1) ** 2
    leaves = value_noise(rng, h, w, 0.4 * metres)
    image = np.where(tree[None], CANOPY[:, None, None] * (crown * (0.75 + 0.5 * leaves))[None], image)

    # Shadows fall to the north-west of buildings and trees, onto ground and roads.
    casters = building | tree
    shadow = _shift(casters, -round(2.5 * metres), -round(2.0 * metres)) & ~casters
    image = np.where(shadow[None], image * 0.45, image)

    image += rng.normal(0.0, 0.008, size=image.shape).astype(np.float32)
    return np.clip(image, 0.0, 1.0).astype(np.float32)
