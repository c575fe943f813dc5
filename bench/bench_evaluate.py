"""Speed and peak memory of ``evaluate`` on large masks, against the mask's height: Mpx/s should hold and
memory should stay flat (goal: >= 5 Mpx/s on 2 cores and <= 600 MB for a 20000 x 20000 mask).

For each height, a fresh process writes a predicted and a true mask (WIDTH px wide, a 96 px square object
every 256 px, the prediction shifted by 8 px; tiled, deflate), then evaluates them and prints the wall and CPU
seconds of ``evaluate`` alone and the process's peak resident memory (ru_maxrss), less that of a process that
only imports the modules. ``--checkout DIR`` runs another checkout's engine (e.g. a worktree of an older
commit) with the same masks, for a before/after.

    .venv/bin/python -m bench.bench_evaluate                      # 20000 px wide, heights 5000 10000 20000
    .venv/bin/python -m bench.bench_evaluate --width 2048 --heights 2048,8192,16384,32768
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
import numpy as np
from core.evaluation.evaluate import evaluate
width, height, folder = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
result = {}
if height:
    import rasterio
    from affine import Affine
    profile = dict(driver="GTiff", width=width, height=height, count=1, dtype="uint8", crs="EPSG:32633",
                   tiled=True, compress="deflate", transform=Affine(0.5, 0, 500000, 0, -0.5, 5600000), nodata=255)
    pattern = {}
    for name, shift in (("truth", 0), ("pred", 8)):
        block = np.zeros((512, width), np.uint8)
        for r in range(64, 512, 256):
            for c in range(64, width - 96, 256):
                block[r + shift : r + shift + 96, c : c + 96] = 1
        pattern[name] = block
    with rasterio.Env(GDAL_CACHEMAX=64 * 1024 * 1024):  # bytes: rasterio passes an integer to GDAL as is
        for name in ("truth", "pred"):
            with rasterio.open(folder / f"{name}.tif", "w", **profile) as dst:
                for row in range(0, height, 512):
                    rows = min(512, height - row)
                    dst.write(pattern[name][:rows], 1, window=((row, row + rows), (0, width)))
    wall, cpu = time.perf_counter(), time.process_time()
    evaluation = evaluate(folder / "pred.tif", folder / "truth.tif")[0]
    result = {"seconds": time.perf_counter() - wall, "cpu_seconds": time.process_time() - cpu,
              "objects": evaluation.objects["true"], "iou": evaluation.pixel["iou"]}
result["peak_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps(result))
"""


def measure(checkout: Path, width: int, height: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bench-evaluate-") as folder:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(width), str(height), folder],
            stdout=subprocess.PIPE, text=True, check=True, cwd=checkout,
        )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=20000)
    parser.add_argument("--heights", default="5000,10000,20000", help="comma-separated mask heights (px)")
    parser.add_argument("--checkout", type=Path, default=Path(__file__).resolve().parent.parent)
    args = parser.parse_args()
    baseline = measure(args.checkout, args.width, 0)["peak_kb"]
    print(
        f"evaluate in {args.checkout}, masks {args.width} px wide; each height in a fresh process "
        f"(an import-only process peaks at {baseline / 1024:.0f} MB)"
    )
    print("  height    Mpx   wall s   CPU s   Mpx/s  peak MB  above imports  objects  pixel IoU")
    for height in (int(h) for h in args.heights.split(",")):
        found = measure(args.checkout, args.width, height)
        mpx = args.width * height / 1e6
        above = (found["peak_kb"] - baseline) / 1024
        print(f"  {height:6d} {mpx:6.0f} {found['seconds']:8.1f} {found['cpu_seconds']:7.1f} "
              f"{mpx / found['seconds']:7.1f} {found['peak_kb'] / 1024:8.0f} {above:14.0f} "
              f"{found['objects']:8d} {found['iou']:10.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
