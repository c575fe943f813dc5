"""GDAL's block cache is the size the engine means inside prediction and evaluation (megabytes, not bytes):
with a cache of a few bytes GDAL decompresses every tile again for each read (24 minutes for a 400 Mpx
evaluation instead of seconds)."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from osgeo import gdal

import core.evaluation.evaluate
import core.inference.predict
from core.devtools.synthetic import SyntheticSceneConfig, write_synthetic_scene
from core.evaluation.evaluate import evaluate
from core.inference.predict import predict_raster
from core.io.raster import gdal_block_cache

pytestmark = pytest.mark.quick

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    return write_synthetic_scene(SyntheticSceneConfig(width=256, height=256, seed=3), tmp_path_factory.mktemp("cache"))


def test_the_block_cache_is_counted_in_megabytes_and_restored_after() -> None:
    before = gdal.GetCacheMax()
    with gdal_block_cache(32):
        assert gdal.GetCacheMax() == 32 * MIB
    assert gdal.GetCacheMax() == before


class CacheWatcher:
    """A stand-in model (constant 0.9) that records GDAL's cache size each time it is called."""

    size, classes = 128, ()

    def __init__(self) -> None:
        self.seen: list[int] = []

    def __call__(self, tiles: np.ndarray) -> np.ndarray:
        self.seen.append(gdal.GetCacheMax())
        return np.full((len(tiles), self.size, self.size), 0.9, dtype=np.float32)


def test_prediction_runs_with_its_block_cache_in_megabytes(scene, tmp_path) -> None:
    model = CacheWatcher()
    predict_raster(scene.image, model, tmp_path / "mask.tif", probabilities=tmp_path / "probabilities.tif")
    assert model.seen
    assert min(model.seen) >= core.inference.predict.write_cache_megabytes(256, 1) * MIB


def test_the_prediction_cache_holds_two_rows_of_blocks_of_every_output() -> None:
    assert core.inference.predict.write_cache_megabytes(2048, 1) == 32  # the floor
    assert (
        core.inference.predict.write_cache_megabytes(40_000, 1) == 99
    )  # 2 rows x 157 blocks x (256 KiB float32 + 64 KiB)
    assert core.inference.predict.write_cache_megabytes(40_000, 3) >= 2 * 157 * 3 * 256 * 1024 // (1 << 20)
    assert core.inference.predict.write_cache_megabytes(10**6, 8) == 1024  # the ceiling


def test_evaluation_polygonizes_with_its_block_cache_in_megabytes(scene, tmp_path, monkeypatch) -> None:
    with rasterio.open(scene.mask) as src:
        profile, buildings = src.profile, (src.read(1) == 1)
    pred = tmp_path / "pred.tif"
    with rasterio.open(pred, "w", **profile) as dst:
        dst.write(buildings.astype(np.uint8), 1)
    seen, polygonize = [], core.evaluation.evaluate.polygons_of_file

    def watched(path):  # type: ignore[no-untyped-def]
        seen.append(gdal.GetCacheMax())
        return polygonize(path)

    monkeypatch.setattr(core.evaluation.evaluate, "polygons_of_file", watched)
    evaluate(pred, scene.labels, classes=(1,), class_field="class_id")
    assert len(seen) == 2
    assert min(seen) >= core.evaluation.evaluate.GDAL_CACHE_MB * MIB
