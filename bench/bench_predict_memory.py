"""Peak memory of whole-raster prediction against the raster's height: it should not grow with it.

Runs ``predict_raster`` (mask, probabilities and uncertainty) with a constant stand-in model (the model's own
memory is the same whatever the raster) on synthetic rasters of the same width and growing height, in fresh
processes, and prints the peak resident memory of each (ru_maxrss) minus that of a process that only imports
the modules, and the seconds of ``predict_raster`` (the stand-in model is instant: reading, blending and
writing). A checkout given as argument (e.g. a worktree of an older commit) runs its own engine, for a
before/after.

    .venv/bin/python -m bench.bench_predict_memory [CHECKOUT]
"""

from __future__ import annotations

import sys
from pathlib import Path

from bench.peak_memory import ROOT, print_peaks

CHILD = r"""
import resource, sys, json, time
import numpy as np
from pathlib import Path
from core.inference.predict import PredictConfig, predict_raster
height = int(sys.argv[1]); folder = Path(sys.argv[2])
seconds = 0.0
if height:
    import rasterio
    from affine import Affine
    path = folder / f"r{height}.tif"
    profile = dict(driver="GTiff", width=2048, height=height, count=3, dtype="uint8", crs="EPSG:32633")
    with rasterio.Env(GDAL_CACHEMAX=32 * 1024 * 1024), rasterio.open(path, "w", **profile,
                       transform=Affine(0.25, 0, 500000, 0, -0.25, 5600000), tiled=True, compress="deflate") as dst:
        for row in range(0, height, 512):
            n = min(512, height - row)
            dst.write(np.full((3, n, 2048), 120, np.uint8), window=((row, row + n), (0, 2048)))
    class Constant:
        size = 512
        def __call__(self, tiles):
            return np.full((len(tiles), 512, 512), 0.7, np.float32)
    start = time.perf_counter()
    predict_raster(path, Constant(), folder / f"m{height}.tif", PredictConfig(batch_size=4), folder / f"p{height}.tif",
                   uncertainty=folder / f"u{height}.tif")
    seconds = time.perf_counter() - start
print(json.dumps({"peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "seconds": seconds}))
"""


def main() -> None:
    checkout = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else ROOT
    print_peaks(CHILD, (2048, 8192, 16384), "raster 2048 px wide", checkout)


if __name__ == "__main__":
    main()
