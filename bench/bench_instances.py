"""What instance splitting adds: object scores of polygons made from an ideal semantic mask (the ground truth's
class, as a perfect model would predict it), as connected regions and as instances (``--instances``).

    .venv/bin/python -m bench.bench_instances [--side 1024] [--seeds 0 1 2]

For each synthetic scene (sparse and dense), each class (buildings, trees) and each seed: the true objects, the
polygons each way, object precision, recall and F1 at IoU >= 0.5
(core.evaluation.evaluate.match_objects), and the time of each export relative to the plain one in the same process.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import rasterio
from shapely.geometry import shape

from core.devtools.synthetic import SyntheticSceneConfig, write_synthetic_scene
from core.evaluation.evaluate import match_objects
from core.geometry.instances import InstanceOptions
from core.io.polygon_layers import export_polygons
from core.io.vectors import read_polygons

SCENES = {"sparse": {"buildings_per_ha": 6, "trees_per_ha": 20}, "dense": {"buildings_per_ha": 40, "trees_per_ha": 300}}
CLASSES = {1: "building", 2: "tree"}


def scores(folder: Path, mask: Path, truth: list, instances: InstanceOptions | None) -> tuple[dict, float]:
    out = folder / f"objects-{'instances' if instances else 'regions'}.gpkg"
    start = time.perf_counter()
    export_polygons(mask, out, instances=instances)
    elapsed = time.perf_counter() - start
    features, _ = read_polygons(out)
    return match_objects([shape(f.geometry) for f in features], truth), elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--side", type=int, default=1024)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    print("scene  class     seed  objects  regions: n  F1     instances: n  F1     time: regions  instances  ratio")
    for scene_name, density in SCENES.items():
        for seed in args.seeds:
            with tempfile.TemporaryDirectory(prefix="bench-instances-") as tmp:
                folder = Path(tmp)
                config = SyntheticSceneConfig(width=args.side, height=args.side, seed=seed, **density)
                scene = write_synthetic_scene(config, folder)
                labels, _ = read_polygons(scene.labels)
                with rasterio.open(scene.mask) as src:
                    classes, profile = src.read(1), src.profile | {"nodata": None}
                for class_id, class_name in CLASSES.items():
                    truth = [shape(f.geometry) for f in labels if f.attributes["class_id"] == class_id]
                    mask = folder / f"{class_name}.tif"
                    with rasterio.open(mask, "w", **profile) as dst:
                        dst.write((classes == class_id).astype(np.uint8), 1)
                    plain, plain_time = scores(folder, mask, truth, None)
                    split, split_time = scores(folder, mask, truth, InstanceOptions())
                    print(f"{scene_name:6} {class_name:9} {seed:4}  {len(truth):7}  {plain['predicted']:10}  "
                          f"{plain['f1']:.3f}  {split['predicted']:12}  {split['f1']:.3f}  "
                          f"{plain_time:12.2f} s {split_time:8.2f} s {split_time / plain_time:6.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
