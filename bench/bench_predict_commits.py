"""Whole-raster prediction wall time of one checkout of this repository, to compare two commits on CPU.

Run it once per checkout (e.g. a ``git worktree`` of the older commit) on the same machine, alternating:
it builds the same seeded random-init hiera-tiny and the same tiled synthetic orthophoto with that
checkout's own code and prints the load time, the prediction time and Mpx/s.

    git worktree add --detach /tmp/before <commit>
    .venv/bin/python -m bench.bench_predict_commits /tmp/before 256 2048
    .venv/bin/python -m bench.bench_predict_commits . 256 2048
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    repo, size, side = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    sys.path.insert(0, str(Path(repo).resolve()))
    for name in [m for m in sys.modules if m == "core" or m.startswith("core.")]:
        del sys.modules[name]  # the checkout's own engine, not this one's
    import rasterio
    from affine import Affine

    from core.devtools.synthetic import SyntheticSceneConfig, write_synthetic_scene
    from core.inference.predict import PredictConfig, SamAutoPredictor, predict_raster
    from core.models.loader import load_model
    from core.models.random_init import RandomInitSpec, save_random_init
    from core.models.registry import get_model

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        scene = write_synthetic_scene(SyntheticSceneConfig(width=2048, height=2048, seed=1), folder / "scene")
        with rasterio.open(scene.image) as src:
            block = src.read([1, 2, 3])
        path = folder / "ortho.tif"
        profile = dict(driver="GTiff", width=side, height=side, count=3, dtype="uint8", crs="EPSG:32633")
        transform = Affine(0.2, 0, 500_000, 0, -0.2, 5_600_000)
        with rasterio.open(path, "w", **profile, tiled=True, compress="deflate", transform=transform) as dst:
            for row in range(0, side, 2048):
                for col in range(0, side, 2048):
                    h, w = min(2048, side - row), min(2048, side - col)
                    dst.write(block[:, :h, :w], window=((row, row + h), (col, col + w)))
        spec = RandomInitSpec(get_model("sam2.1_hiera_t").config, size, 0)
        checkpoint = save_random_init(spec, folder / "model.pt").path
        start = time.perf_counter()
        loaded = load_model(checkpoint, device="cpu")
        load = time.perf_counter() - start
        start = time.perf_counter()
        summary = predict_raster(path, SamAutoPredictor(loaded), folder / "mask.tif", PredictConfig(batch_size=8))
        wall = time.perf_counter() - start
    print(
        f"{repo}: load {load:.2f} s, predict {wall:.1f} s, {side * side / 1e6 / wall:.3f} Mpx/s, "
        f"windows {summary.windows}"
    )


if __name__ == "__main__":
    main()
