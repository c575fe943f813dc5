"""The seed's pipeline from one YAML: tiles, training and a merged prediction on a synthetic orthophoto."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio

from core.devtools.synthetic import SyntheticSceneConfig, write_synthetic_scene


@pytest.mark.slow
def test_pipeline_runs_end_to_end_with_the_seed_parameter_names(tmp_path, tiny_checkpoint, repo_root) -> None:
    scene = write_synthetic_scene(SyntheticSceneConfig(width=512, height=512, seed=5), tmp_path / "data")
    config = tmp_path / "pipeline.yaml"
    config.write_text(f"""
Create_tiles: true
Train: true
Predict: true
image_path: data/scene_image.tif
mask_path: data/scene_labels.gpkg
base_dir: out/tiles
model_path: out/model
checkpoint: {tiny_checkpoint.path}
patch_size: 128
patch_overlap: 0
max_empty: 0.2
split: [0.8, 0.2]
class_zero: false
classes: [1]
class_field: class_id
description: buildings
model_confg: tiny
mode: binary
LEARNING_RATE: 3.0e-4
EPOCHS: 2
VALID_SCENES: vali
threshold: 0.5
merge: true
predict_path: data/scene_image.tif
AOI: Testville
year: 2026
device: cpu
""")
    result = subprocess.run(
        [sys.executable, str(repo_root / "scripts" / "run_pipeline.py"), "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout)
    out = tmp_path / "out"
    assert summary["tiles"]["trai"] > 0
    assert any((out / "tiles" / "trai" / "img_tiles").glob("*.tif"))
    assert any((out / "tiles" / "vali" / "mask_tiles").glob("*.tif"))
    assert (out / "model" / "model_buildings_best.torch").exists()
    assert (out / "model" / "model_buildings_metrics.csv").exists()
    assert (out / "model" / "buildings" / "curves.png").exists()
    merged = out / "model" / "scene_image_Testville_2026_merged.tif"
    with rasterio.open(merged) as prediction, rasterio.open(scene.image) as image:
        assert (prediction.width, prediction.height, prediction.transform) == (
            image.width,
            image.height,
            image.transform,
        )


def test_pipeline_refuses_a_checkpoint_of_another_size(tmp_path, tiny_checkpoint, repo_root) -> None:
    scene = write_synthetic_scene(SyntheticSceneConfig(width=256, height=256, seed=5), tmp_path / "data")
    config = tmp_path / "pipeline.yaml"
    config.write_text(
        f"Create_tiles: false\nPredict: false\nimage_path: {scene.image}\nmask_path: {scene.labels}\n"
        f"checkpoint: {tiny_checkpoint.path}\nmodel_confg: large\npatch_size: 128\n"
    )
    result = subprocess.run(
        [sys.executable, str(repo_root / "scripts" / "run_pipeline.py"), "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert "model_confg is large but" in result.stderr
    assert "SAM 2.1 tiny" in result.stderr


def test_the_seeds_multi_label_mode_writes_a_class_raster(tmp_path, tiny_checkpoint, repo_root) -> None:
    write_synthetic_scene(SyntheticSceneConfig(width=512, height=512, seed=5), tmp_path / "data")
    config = tmp_path / "pipeline.yaml"
    config.write_text(f"""
Create_tiles: false
Train: true
Predict: true
image_path: data/scene_image.tif
mask_path: data/scene_labels.gpkg
model_path: out/model
checkpoint: {tiny_checkpoint.path}
patch_size: 128
class_field: class_id
description: landcover
model_confg: tiny
mode: multi-label
num_classes: 2
class_labels: [background, building, tree]
LEARNING_RATE: 1.0e-3
EPOCHS: 2
AOI: Testville
device: cpu
""")
    result = subprocess.run(
        [sys.executable, str(repo_root / "scripts" / "run_pipeline.py"), "--config", str(config)],
        capture_output=True, text=True, timeout=600, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    merged = Path(json.loads(result.stdout)["predict"]["merged"])
    with rasterio.open(merged) as prediction:
        assert json.loads(prediction.tags(1)["CLASS_NAMES"]) == {"1": "building", "2": "tree"}
        assert set(np.unique(prediction.read(1)).tolist()) <= {0, 1, 2, 255}
