"""The seed pipeline's tile folders: ``trai|vali|test/img_tiles|mask_tiles/<raster>_<n>.tif``, georeferenced."""

from __future__ import annotations

from pathlib import Path

import rasterio

from core.io.atomic import atomic_output
from core.io.labels import IGNORE
from core.io.raster import RasterSource
from core.training.tiles import TileSet

FOLDERS = {"train": "trai", "val": "vali", "test": "test"}


def write_seed_layout(tiles: TileSet, raster_path: Path, out: Path) -> dict[str, int]:
    """Write every tile's RGB image and class mask (nodata 255 = unlabelled); returns counts per folder."""
    with RasterSource(raster_path) as raster:
        crs = raster.crs
        transforms = {id(tile): raster.window_transform(tile.window) for tile in tiles.tiles}
    counts: dict[str, int] = {}
    for number, tile in enumerate(tiles.tiles):
        folder = out / FOLDERS[tile.split]
        size = tile.rgb.shape[0]
        common = dict(
            driver="GTiff", width=size, height=size, crs=crs, transform=transforms[id(tile)], compress="deflate"
        )
        name = f"{raster_path.stem}_{number}.tif"
        with (
            atomic_output(folder / "img_tiles" / name) as tmp,
            rasterio.open(tmp, "w", count=3, dtype="uint8", **common) as dst,
        ):
            dst.write(tile.rgb.transpose(2, 0, 1))
        with (
            atomic_output(folder / "mask_tiles" / name) as tmp,
            rasterio.open(tmp, "w", count=1, dtype="uint8", nodata=IGNORE, **common) as dst,
        ):
            dst.write(tile.classes, 1)
        counts[FOLDERS[tile.split]] = counts.get(FOLDERS[tile.split], 0) + 1
    return counts
