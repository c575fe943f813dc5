"""Masks to polygons: the engine's path (rasterio's polygonize, shapely clean-up, pyogrio writing) against GDAL's
bare polygonize of the same mask in the same process (the reference: what any path must at least do).

    .venv/bin/python -m bench.bench_polygons [--side 4096] [--repeat 3]

Two cases: a click-sized mask (1024 px, ``mask_to_polygons``) and a whole-raster prediction mask written to a
GeoPackage (``export_polygons`` from a GeoTIFF), both from a synthetic scene's buildings and trees. Prints the
seconds of each and its ratio to the reference.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import rasterio

from core.devtools.synthetic import SyntheticSceneConfig, write_synthetic_scene
from core.geometry.polygons import PolygonOptions, mask_to_polygons
from core.io.polygon_layers import export_polygons


def gdal_polygonize(path: Path) -> int:
    """GDAL's own polygonize of the non-zero pixels into a memory layer: the reference."""
    from osgeo import gdal, ogr

    gdal.UseExceptions()
    source = gdal.Open(str(path))
    band = source.GetRasterBand(1)
    store = ogr.GetDriverByName("Memory").CreateDataSource("")
    layer = store.CreateLayer("mask", geom_type=ogr.wkbPolygon)
    gdal.Polygonize(band, band, layer, -1, [])
    return layer.GetFeatureCount()


def best_of(repeat: int, run) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--side", type=int, default=4096, help="the whole-raster mask's side in pixels")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-polygons-") as tmp:
        folder = Path(tmp)
        scene = write_synthetic_scene(SyntheticSceneConfig(width=args.side, height=args.side, seed=11), folder)
        with rasterio.open(scene.mask) as src:
            classes = src.read(1)
            profile = src.profile | {"nodata": None}
        mask = np.isin(classes, (1, 2)).astype(np.uint8)  # buildings and trees
        mask_path = folder / "mask.tif"
        with rasterio.open(mask_path, "w", **profile) as dst:
            dst.write(mask, 1)
        transform = profile["transform"]

        click = mask[:1024, :1024].astype(bool)
        click_path = folder / "click.tif"
        with rasterio.open(click_path, "w", **(profile | {"width": 1024, "height": 1024})) as dst:
            dst.write(click.astype(np.uint8), 1)
        reference, parts = best_of(args.repeat, lambda: gdal_polygonize(click_path))
        ours, polygons = best_of(args.repeat, lambda: mask_to_polygons(click, transform, PolygonOptions()))
        print(f"click mask 1024 px: GDAL polygonize {reference:.3f} s ({parts} parts); "
              f"mask_to_polygons {ours:.3f} s ({len(polygons)} polygons); ratio {ours / reference:.2f}")  # fmt: skip

        reference, parts = best_of(args.repeat, lambda: gdal_polygonize(mask_path))
        out = folder / "objects.gpkg"
        ours, count = best_of(args.repeat, lambda: export_polygons(mask_path, out, options=PolygonOptions()))
        print(f"prediction mask {args.side} px: GDAL polygonize {reference:.3f} s ({parts} parts); "
              f"export_polygons to GeoPackage {ours:.3f} s ({count} polygons); "
              f"ratio {ours / reference:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
