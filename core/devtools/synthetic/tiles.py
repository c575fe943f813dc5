"""A synthetic region: a scene's image cut into GeoTIFF tiles, each on its own grid, as orthophotos are delivered
(for tests and benchmarks of region prediction, core.workflows.region)."""

from __future__ import annotations

from pathlib import Path

import rasterio
from rasterio.windows import Window


def cut_into_tiles(image: Path, folder: Path, tile: int) -> list[Path]:
    """``image`` cut into ``tile`` x ``tile`` px GeoTIFFs named ``tile_<row>_<col>.tif`` (zero-padded to two
    digits past 10 rows or columns), row by row; the image's edge beyond whole tiles is left out."""
    folder.mkdir(parents=True, exist_ok=True)
    tiles = []
    with rasterio.open(image) as source:
        rows, cols = source.height // tile, source.width // tile
        digits = 2 if max(rows, cols) > 10 else 1
        for row in range(rows):
            for col in range(cols):
                window = Window(col * tile, row * tile, tile, tile)
                grid = source.window_transform(window)
                profile = {**source.profile, "width": tile, "height": tile, "transform": grid}
                tiles.append(folder / f"tile_{row:0{digits}d}_{col:0{digits}d}.tif")
                with rasterio.open(tiles[-1], "w", **profile) as out:
                    out.write(source.read(window=window))
    return tiles
