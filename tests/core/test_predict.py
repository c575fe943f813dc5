"""Whole-raster prediction: exact output grid, seamless blending, AOI and nodata, cancel, a real model."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio

from core.devtools.synthetic import SyntheticSceneConfig, write_synthetic_scene
from core.errors import CancelledError
from core.inference.predict import PredictConfig, SamAutoPredictor, predict_raster, taper
from core.io.vectors import PolygonFeature, write_polygons
from core.models.loader import load_model

pytestmark = pytest.mark.quick  # make test-fast


class Constant:
    """A stand-in model that says ``value`` everywhere; counts its calls."""

    def __init__(self, value: float, size: int = 128) -> None:
        self.value, self.size, self.calls = value, size, 0

    def __call__(self, tiles: np.ndarray) -> np.ndarray:
        self.calls += 1
        return np.full((len(tiles), self.size, self.size), self.value, dtype=np.float32)


@pytest.fixture(scope="module")
def odd_scene(tmp_path_factory):
    """A 300 x 220 px scene: not a multiple of the 128 px window in either direction."""
    return write_synthetic_scene(SyntheticSceneConfig(width=300, height=220, seed=9), tmp_path_factory.mktemp("odd"))


def test_output_has_the_input_grid_and_a_constant_model_gives_a_constant_output(odd_scene, tmp_path) -> None:
    mask, probs = tmp_path / "mask.tif", tmp_path / "probs.tif"
    summary = predict_raster(odd_scene.image, Constant(0.7), mask, PredictConfig(overlap=0.4, batch_size=3), probs)
    with rasterio.open(odd_scene.image) as src, rasterio.open(mask) as out, rasterio.open(probs) as p:
        assert (out.width, out.height, out.crs, out.transform) == (src.width, src.height, src.crs, src.transform)
        assert p.transform == src.transform
        assert out.profile["tiled"]
        assert out.compression.name.lower() == "deflate"
        assert (out.read(1) == 1).all()
        np.testing.assert_allclose(p.read(1), 0.7, atol=1e-6)  # no seam anywhere
    # 128 px windows, 40 % overlap (stride 77): columns at 0, 77, 154, 172 and rows at 0, 77, 92.
    assert summary.windows == 4 * 3


class Brightness:
    """A stand-in model whose probability is each pixel's mean brightness: windows disagree where they overlap."""

    size = 128

    def __call__(self, tiles: np.ndarray) -> np.ndarray:
        return tiles.mean(axis=-1).astype(np.float32) / 255.0


def reference_blend(image: np.ndarray, size: int, overlap: float) -> np.ndarray:
    """The blended probabilities (rows, cols) computed the plain way: every window accumulated into whole-raster
    arrays in memory (what predict_raster must equal while holding one band of windows)."""
    from core.io.tiling import grid_origins

    height, width = image.shape[:2]
    stride = size - round(size * overlap)
    weights = taper(size, round(size * overlap) // 2)
    total = np.zeros((height, width)), np.zeros((height, width))
    for row in grid_origins(height, size, stride):
        for col in grid_origins(width, size, stride):
            tile = np.zeros((size, size, 3), dtype=np.uint8)
            part = image[row : row + size, col : col + size]
            tile[: part.shape[0], : part.shape[1]] = part
            prob = Brightness()(tile[None])[0][: part.shape[0], : part.shape[1]]
            w = weights[: part.shape[0], : part.shape[1]]
            total[0][row : row + size, col : col + size] += prob * w
            total[1][row : row + size, col : col + size] += w
    return total[0] / total[1]


@pytest.mark.parametrize("batch_size", [1, 3])
def test_streamed_prediction_equals_blending_the_whole_raster_in_memory(odd_scene, tmp_path, batch_size) -> None:
    mask, probs = tmp_path / "mask.tif", tmp_path / "probs.tif"
    config = PredictConfig(overlap=0.4, batch_size=batch_size, threshold=0.45)
    summary = predict_raster(odd_scene.image, Brightness(), mask, config, probs)
    with rasterio.open(odd_scene.image) as src:
        image = src.read([1, 2, 3]).transpose(1, 2, 0)
    expected = reference_blend(image, 128, 0.4)
    with rasterio.open(probs) as p, rasterio.open(mask) as m:
        np.testing.assert_allclose(p.read(1), expected, atol=1e-5)
        np.testing.assert_array_equal(m.read(1), (expected >= 0.45).astype(np.uint8))
    assert summary.object_pixels == int((expected >= 0.45).sum())
    assert {"wait for reads", "model", "blend", "read (helper threads)", "write (helper thread)"} <= set(
        summary.stage_seconds
    )
    assert 0 < summary.stage_seconds["model"] <= summary.seconds


def test_threshold_is_per_pixel(odd_scene, tmp_path) -> None:
    predict_raster(odd_scene.image, Constant(0.3), tmp_path / "low.tif", PredictConfig(threshold=0.5))
    with rasterio.open(tmp_path / "low.tif") as out:
        assert (out.read(1) == 0).all()


def test_blending_weights_fall_towards_window_edges() -> None:
    weights = taper(128, 16)
    assert weights[64, 64] == 1.0
    assert weights[0, 64] < weights[8, 64] < weights[16, 64]
    assert weights.min() > 0


def test_aoi_and_nodata_are_respected(tmp_path) -> None:
    scene = write_synthetic_scene(SyntheticSceneConfig(width=256, height=256, seed=2, nodata_border=True), tmp_path)
    with rasterio.open(scene.image) as src:
        left, bottom, right, top = src.bounds
        crs = src.crs.to_wkt()
        image_valid = src.read_masks(1) > 0
    middle = (left + right) / 2
    ring = [[left, bottom], [middle, bottom], [middle, top], [left, top], [left, bottom]]
    aoi = write_polygons(
        tmp_path / "aoi.gpkg", [PolygonFeature({"type": "Polygon", "coordinates": [ring]})], crs, fields={}
    )
    predict_raster(scene.image, Constant(0.9), tmp_path / "mask.tif", aoi=aoi)
    with rasterio.open(tmp_path / "mask.tif") as out:
        mask = out.read(1)
    assert (mask[:, 128:] == 255).all()  # outside the AOI
    assert (mask[:, :128][~image_valid[:, :128]] == 255).all()  # image nodata
    assert (mask[:, :128][image_valid[:, :128]] == 1).all()


def test_cancel_leaves_no_output(odd_scene, tmp_path) -> None:
    with pytest.raises(CancelledError):
        predict_raster(odd_scene.image, Constant(0.5), tmp_path / "mask.tif", cancelled=lambda: True)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("mode", ["auto", "grid"])
def test_real_model_predicts_probabilities(odd_scene, tiny_checkpoint, tmp_path, mode) -> None:
    model = SamAutoPredictor(load_model(tiny_checkpoint.path, device="cpu"), mode=mode, grid_points=2, min_grid_iou=0.0)
    probs = tmp_path / "p.tif"
    predict_raster(odd_scene.image, model, tmp_path / "mask.tif", PredictConfig(mode=mode), probs)
    with rasterio.open(probs) as p:
        values = p.read(1)
    assert values.shape == (220, 300)
    assert 0.0 <= values.min() <= values.max() <= 1.0
    assert values.std() > 0  # a real model, not a constant


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".shp"])
def test_export_writes_polygons_with_attributes(suffix, tmp_path) -> None:
    from core.io.polygon_layers import export_polygons
    from core.io.vectors import read_polygons

    scene = write_synthetic_scene(SyntheticSceneConfig(width=200, height=200, seed=3), tmp_path / "scene")
    with rasterio.open(scene.mask) as src:
        profile = src.profile
        buildings = (src.read(1) == 1).astype(np.uint8)
    mask, probs = tmp_path / "mask.tif", tmp_path / "probs.tif"
    with rasterio.open(mask, "w", **profile) as dst:
        dst.write(buildings, 1)
    with rasterio.open(probs, "w", **{**profile, "dtype": "float32", "nodata": -1.0}) as dst:
        dst.write(np.where(buildings == 1, 0.8, 0.1).astype(np.float32), 1)
    out = tmp_path / f"buildings{suffix}"
    count = export_polygons(
        mask, out, probs, class_name="building", model="sam2.1_hiera_t", source_name="county orthophoto 2024"
    )
    features, _ = read_polygons(out)
    assert count == len(features) > 0
    first = features[0].attributes
    assert first["class"] == "building"
    assert first["model"] == "sam2.1_hiera_t"
    assert first["source"] == "county orthophoto 2024"  # the imagery it came from
    assert first["score"] == pytest.approx(0.8, abs=0.05)
    total = sum(f.attributes["area_m2"] for f in features)
    assert total == pytest.approx(buildings.sum() * 0.25**2, rel=0.05)  # 0.25 m pixels
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_predict_command_writes_mask_and_polygons(core_cli, odd_scene, tiny_checkpoint, tmp_path) -> None:
    import json

    result = core_cli(
        "predict",
        "--raster",
        str(odd_scene.image),
        "--checkpoint",
        str(tiny_checkpoint.path),
        "--out",
        str(tmp_path / "mask.tif"),
        "--vector",
        str(tmp_path / "objects.gpkg"),
        "--probabilities",
        str(tmp_path / "p.tif"),
        "--device",
        "cpu",
        "--threshold",
        "0.3",
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["windows"] >= 1
    assert (tmp_path / "objects.gpkg").exists()
    assert summary["polygons"] >= 0
    assert summary["encoder"] == "exact"
    assert 0 < summary["stage_seconds"]["encode"] < summary["seconds"]
    probabilities = {}
    for encoder in ("exact", "int8"):  # promptless, so that the probabilities come from the embeddings alone
        run = core_cli(
            "predict", "--raster", str(odd_scene.image), "--checkpoint", str(tiny_checkpoint.path), "--out",
            str(tmp_path / f"{encoder}.tif"), "--probabilities", str(tmp_path / f"p_{encoder}.tif"), "--device", "cpu",
            "--mode", "auto", "--encoder", encoder, timeout=300,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        assert json.loads(run.stdout)["encoder"] == encoder
        with rasterio.open(tmp_path / f"p_{encoder}.tif") as dataset:
            probabilities[encoder] = dataset.read(1)
    difference = np.abs(probabilities["exact"] - probabilities["int8"])
    assert difference.max() > 0  # int8 ran
    assert difference.mean() < 0.02 * probabilities["exact"].std() + 1e-3  # and stays close to exact


class DiskPredictor:
    """Stands in for the model (a random-init SAM 2 predicts no objects): a disk of probability 0.8 in the middle
    of every window, 0.1 elsewhere, so that the polygons' scores can be checked."""

    def __init__(self, loaded, **options) -> None:  # type: ignore[no-untyped-def]
        self.size = loaded.image_size

    def __call__(self, tiles: np.ndarray) -> np.ndarray:
        rows, cols = np.mgrid[: self.size, : self.size]
        disk = ((rows - self.size / 2) ** 2 + (cols - self.size / 2) ** 2 < (self.size / 6) ** 2) * 0.7 + 0.1
        return np.repeat(disk[None], len(tiles), axis=0).astype(np.float32)


def test_predicted_polygons_have_scores_without_asking_for_probabilities(
    tiny_checkpoint, tmp_path, monkeypatch
) -> None:
    import core.inference.predict
    from core.cli.runner import main
    from core.io.vectors import read_polygons

    scene = write_synthetic_scene(SyntheticSceneConfig(width=256, height=256, seed=1), tmp_path / "scene")
    monkeypatch.setattr(core.inference.predict, "SamAutoPredictor", DiskPredictor)
    out = tmp_path / "out"
    argv = ["predict", "--raster", str(scene.image), "--checkpoint", str(tiny_checkpoint.path), "--out",
            str(out / "mask.tif"), "--vector", str(out / "objects.gpkg"), "--device", "cpu"]  # fmt: skip
    assert main(argv) == 0
    features, _ = read_polygons(out / "objects.gpkg")
    assert features
    assert all(f.attributes["score"] == pytest.approx(0.8, abs=0.02) for f in features)
    assert sorted(p.name for p in out.iterdir()) == ["mask.tif", "objects.gpkg"]  # the scores' file is gone
