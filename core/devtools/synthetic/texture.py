"""How things look: procedural textures and colours painted onto the class and object rasters.

Colours are reflectances in 0..1 per band (R, G, B, NIR); arrays are (rows, cols) = (y, x), row 0 north.
Rendering works on horizontal strips of the scene; every random field is defined over the whole scene
(or seeded per fixed strip), so a scene rendered strip by strip equals the scene rendered at once.
"""

from __future__ import annotations

import numpy as np

from core.devtools.synthetic.config import BUILDING, ROAD, TREE

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
#: Shadows fall this far (metres) north and west of buildings and trees.
SHADOW_NORTH_M, SHADOW_WEST_M = 2.5, 2.0


class ObjectTable:
    """Per-object attributes as arrays indexed by object id (row 0 is 'no object')."""

    def __init__(self, count: int) -> None:
        self.style = np.zeros(count + 1, dtype=np.int64)
        self.brightness = np.ones(count + 1, dtype=np.float32)
        self.col = np.zeros(count + 1, dtype=np.float32)
        self.row = np.zeros(count + 1, dtype=np.float32)
        self.angle = np.zeros(count + 1, dtype=np.float32)
        self.radius_px = np.ones(count + 1, dtype=np.float32)


class ValueNoise:
    """Smooth noise in 0..1 over a (height, width) scene with features about ``cell`` pixels wide."""

    def __init__(self, rng: np.random.Generator, height: int, width: int, cell: float) -> None:
        self.cell = max(cell, 1.0)
        self.grid = rng.random(
            (int(np.ceil(height / self.cell)) + 2, int(np.ceil(width / self.cell)) + 2), dtype=np.float32
        )
        self.width = width

    def rows(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop`` of the field, (stop - start, width) float32."""
        ys = (np.arange(start, stop, dtype=np.float64) + 0.5) / self.cell
        xs = (np.arange(self.width, dtype=np.float64) + 0.5) / self.cell
        y0, x0 = ys.astype(np.int64), xs.astype(np.int64)
        fy, fx = (ys - y0).astype(np.float32), (xs - x0).astype(np.float32)
        fy, fx = (fy * fy * (3 - 2 * fy))[:, None], (fx * fx * (3 - 2 * fx))[None, :]
        top = self.grid[y0][:, x0] * (1 - fx) + self.grid[y0][:, x0 + 1] * fx
        bottom = self.grid[y0 + 1][:, x0] * (1 - fx) + self.grid[y0 + 1][:, x0 + 1] * fx
        return (top * (1 - fy) + bottom * fy).astype(np.float32)


class FractalNoise:
    """Sum of ``octaves`` value noises, each half the size of the last, normalised to 0..1."""

    def __init__(self, rng: np.random.Generator, height: int, width: int, cell: float, octaves: int = 3) -> None:
        self.layers = [(0.5**o, ValueNoise(rng, height, width, cell / 2**o)) for o in range(octaves)]

    def rows(self, start: int, stop: int) -> np.ndarray:
        total = sum(weight * layer.rows(start, stop) for weight, layer in self.layers)
        return np.asarray(total / sum(weight for weight, _ in self.layers), dtype=np.float32)


class SceneTextures:
    """The scene's random fields, drawn once from ``rng`` in a fixed order."""

    def __init__(self, rng: np.random.Generator, height: int, width: int, pixel_size: float, seed: int) -> None:
        metres = 1.0 / pixel_size
        self.mix = FractalNoise(rng, height, width, 30 * metres)  # grass versus bare soil
        self.grain = FractalNoise(rng, height, width, 1.5 * metres, octaves=2)
        self.wear = ValueNoise(rng, height, width, 4 * metres)  # patched asphalt
        self.leaves = ValueNoise(rng, height, width, 0.4 * metres)
        self.shadow_rows, self.shadow_cols = round(SHADOW_NORTH_M * metres), round(SHADOW_WEST_M * metres)
        self.seed = seed

    def sensor_noise(self, strip: int, shape: tuple[int, ...]) -> np.ndarray:
        """Gaussian sensor noise of strip number ``strip``, seeded by (scene seed, strip)."""
        return np.random.default_rng([self.seed, strip]).normal(0.0, 0.008, size=shape).astype(np.float32)


def _shift(mask: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """``mask`` moved by (rows, cols) pixels, filled with False where it moved away."""
    out = np.zeros_like(mask)
    h, w = mask.shape
    out[max(rows, 0) : h + min(rows, 0), max(cols, 0) : w + min(cols, 0)] = mask[
        max(-rows, 0) : h + min(-rows, 0), max(-cols, 0) : w + min(-cols, 0)
    ]
    return out


def render_strip(
    classes: np.ndarray,
    object_ids: np.ndarray,
    objects: ObjectTable,
    textures: SceneTextures,
    start: int,
    rows: int,
    strip: int,
) -> np.ndarray:
    """Reflectance of scene rows ``start:start + rows``, (4, rows, cols) float32 in 0..1, bands R, G, B, NIR.

    ``classes`` and ``object_ids`` (index + 1 of the object painted there, 0 none) cover rows
    ``start:start + rows + textures.shadow_rows`` (fewer at the bottom of the scene): shadows fall
    north, so the rows below the strip cast some of its shadows.
    """
    casters_all = (classes == BUILDING) | (classes == TREE)
    shadow = (_shift(casters_all, -textures.shadow_rows, -textures.shadow_cols) & ~casters_all)[:rows]
    classes, ids = classes[:rows], object_ids[:rows]
    w = classes.shape[1]
    cols_px = np.arange(w, dtype=np.float32)[None, :] + 0.5
    rows_px = np.arange(start, start + rows, dtype=np.float32)[:, None] + 0.5

    mix, grain = textures.mix.rows(start, start + rows)[None], textures.grain.rows(start, start + rows)[None]
    image = (GRASS[:, None, None] * (1 - mix) + SOIL[:, None, None] * mix) * (0.85 + 0.3 * grain)

    wear = textures.wear.rows(start, start + rows)[None]
    image = np.where((classes == ROAD)[None], ASPHALT[:, None, None] * (0.85 + 0.2 * wear + 0.1 * grain), image)

    roof = ROOFS[objects.style[ids]].transpose(2, 0, 1) * objects.brightness[ids][None]
    # Pitched roofs: the two sides of the ridge catch the sun differently.
    dx, dy = cols_px - objects.col[ids], rows_px - objects.row[ids]
    side = dx * -np.sin(objects.angle[ids]) - dy * np.cos(objects.angle[ids])
    pitched = objects.style[ids] != FLAT_ROOF_STYLE
    shade = np.where(pitched, np.where(side > 0, 1.12, 0.78), 0.95 + 0.1 * grain[0])
    image = np.where((classes == BUILDING)[None], roof * shade[None], image)

    distance = np.hypot(dx, dy) / np.maximum(objects.radius_px[ids], 1.0)
    crown = 1.15 - 0.5 * np.clip(distance, 0, 1) ** 2
    leaves = textures.leaves.rows(start, start + rows)
    image = np.where((classes == TREE)[None], CANOPY[:, None, None] * (crown * (0.75 + 0.5 * leaves))[None], image)

    image = np.where(shadow[None], image * 0.45, image)
    image += textures.sensor_noise(strip, image.shape)
    return np.clip(image, 0.0, 1.0).astype(np.float32)
