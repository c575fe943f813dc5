"""Peak memory of ``evaluate`` against the mask's height: it should not grow with it (issue: a 20000 x 20000
mask needed more than 4 GB when it was read whole).

Writes a predicted mask and a true class mask of 2048 px width and growing height (a square object every
256 px, the prediction shifted by 8 px), evaluates them in fresh processes and prints the peak resident memory
of each (ru_maxrss) minus that of a process that only imports the modules, and the ratio to the smallest.

    .venv/bin/python -m bench.bench_evaluate_memory
"""

from __future__ import annotations

from bench.peak_memory import print_peaks

CHILD = r"""
import resource, sys, json
import numpy as np
from pathlib import Path
from core.evaluate import evaluate
height = int(sys.argv[1]); folder = Path(sys.argv[2])
if height:
    import rasterio
    from affine import Affine
    profile = dict(driver="GTiff", width=2048, count=1, dtype="uint8", crs="EPSG:32633", tiled=True,
                   compress="deflate", transform=Affine(0.5, 0, 500000, 0, -0.5, 5600000), nodata=255)
    for name, shift in (("truth", 0), ("pred", 8)):
        with rasterio.Env(GDAL_CACHEMAX=32), rasterio.open(folder / f"{name}{height}.tif", "w", height=height,
                                                           **profile) as dst:
            for row in range(0, height, 512):
                block = np.zeros((512, 2048), np.uint8)
                for r in range(64, 512, 256):
                    for c in range(64, 2048, 256):
                        block[r + shift : r + shift + 96, c : c + 96] = 1
                dst.write(block[: min(512, height - row)], 1, window=((row, min(row + 512, height)), (0, 2048)))
    evaluation = evaluate(folder / f"pred{height}.tif", folder / f"truth{height}.tif")[0]
    assert evaluation.objects["true"] == height // 256 * 8, evaluation.objects
print(json.dumps(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
"""


def main() -> None:
    print_peaks(CHILD, (2048, 8192, 16384, 32768), "mask 2048 px wide")


if __name__ == "__main__":
    main()
