"""The demo's choice of base model, its bad input (a SAM2_CHECKPOINT that is not there), and its held-out areas."""

from __future__ import annotations

from pathlib import Path

import pytest
import rasterio
from rasterio.windows import bounds as window_bounds
from shapely.geometry import box, shape

from core.devtools.demo import DemoConfig, choose_base_model, scene_plans
from core.errors import MissingInputError
from core.io.vectors import read_polygons
from core.training.tiles import build_tiles


def test_a_missing_sam2_checkpoint_says_what_to_set(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("SAM2_CHECKPOINT", str(tmp_path / "sam2.1_hiera_large.pt"))
    with pytest.raises(MissingInputError, match=r"set SAM2_CHECKPOINT to a SAM 2 \.pt file"):
        choose_base_model()


def test_sam2_checkpoint_is_used_as_pretrained(monkeypatch, tiny_checkpoint) -> None:
    monkeypatch.setenv("SAM2_CHECKPOINT", str(tiny_checkpoint.path))
    chosen = choose_base_model()
    assert chosen.path == Path(tiny_checkpoint.path)
    assert chosen.pretrained


def test_without_weights_the_random_init_model_is_used_and_said_so(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("SAM2_CHECKPOINT", raising=False)
    monkeypatch.setenv("SAM2_QGIS_CACHE", str(tmp_path / "empty-cache"))
    chosen = choose_base_model()
    assert not chosen.pretrained
    assert "NO PRETRAINED WEIGHTS FOUND" in chosen.note
    assert chosen.path.is_file()


def test_the_demo_command_fails_cleanly_on_a_missing_checkpoint(core_cli, tmp_path) -> None:
    done = core_cli("demo", "--out", tmp_path / "out", "--checkpoint", tmp_path / "none.pt")
    assert done.returncode == 2
    assert "checkpoint not found" in done.stderr
    assert not (tmp_path / "out").exists()  # nothing written


def test_no_training_tile_reaches_the_area_each_scene_is_scored_in(sample_data, tmp_path) -> None:
    """The demo's held-out IoU is measured where the model never trained: every tile the run would train or
    validate on lies inside the scene's training area, none inside its held-out area (footprints compared)."""
    plans = scene_plans(DemoConfig(out=tmp_path, scene_size=512, train_share=0.74), sample_data)  # a split in a tile
    assert [plan.name for plan in plans] == ["synthetic", "osbs"]
    for plan in plans:
        tiles = build_tiles(plan.raster, plan.labels, plan.train_config, aoi=plan.train_area)
        (held_out,), _ = read_polygons(plan.heldout_area)
        (trained,), _ = read_polygons(plan.train_area)
        held, train = (shape(f.geometry) for f in (held_out, trained))
        with rasterio.open(plan.raster) as src:
            footprints = [box(*window_bounds(t.window, src.transform)) for t in tiles.tiles]
        assert len(footprints) >= 4, plan.name
        assert all(f.intersection(held).area == 0 for f in footprints), plan.name
        assert all(f.within(train) for f in footprints), plan.name
        assert held.area >= 0.15 * (held.area + train.area), plan.name  # a real share is held out
