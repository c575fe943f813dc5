"""Where to label next (core/workflows/suggest.py, the suggest command): the most uncertain places first, a
minimum distance apart, clear of labels, never on nodata; the command predicts the uncertainty with a real model."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
import rasterio
from affine import Affine

from core.errors import InvalidInputError
from core.inference.uncertainty import UNCERTAINTY_NODATA
from core.io.vectors import PolygonFeature, read_layer, read_polygons, write_polygons
from core.workflows.suggest import SuggestConfig, SuggestInputs, suggest, suggest_places

pytestmark = pytest.mark.quick

ORIGIN = (500000.0, 5600000.0)
PIXEL = 0.5
CRS = "EPSG:32633"


def to_map(row: float, col: float) -> tuple[float, float]:
    return ORIGIN[0] + col * PIXEL, ORIGIN[1] - row * PIXEL


def uncertainty_raster(path, values: np.ndarray):  # type: ignore[no-untyped-def]
    profile = dict(
        driver="GTiff", width=values.shape[1], height=values.shape[0], count=1, dtype="float32", crs=CRS,
        transform=Affine(PIXEL, 0, ORIGIN[0], 0, -PIXEL, ORIGIN[1]), nodata=UNCERTAINTY_NODATA,
    )  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(values.astype(np.float32), 1)
        dst.update_tags(1, SIGNAL="entropy")
    return path


def square(row: int, col: int, side: int) -> dict:
    (x0, y0), (x1, y1) = to_map(row, col), to_map(row + side, col + side)
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


@pytest.fixture
def sure_but_for_one_block(tmp_path):  # type: ignore[no-untyped-def]
    """1024 x 1024 px, uncertainty 0.05 with noise; one unsure block (0.9) at rows/cols 600..700; a labelled
    object over an even more unsure block (0.95) at 100..200; a nodata band (columns 900..) whose edge is
    unsure (0.99) on the valid side too, in partly valid cells."""
    rng = np.random.default_rng(0)
    values = 0.05 + 0.02 * rng.random((1024, 1024))
    values[600:700, 600:700] = 0.9
    values[100:200, 100:200] = 0.95
    values[:, 890:900] = 0.99
    values[:, 900:] = UNCERTAINTY_NODATA
    return uncertainty_raster(tmp_path / "unsure.tif", values), [square(100, 100, 100)]


def test_the_top_place_is_in_the_unsure_block_and_places_keep_their_distance(sure_but_for_one_block) -> None:
    path, labelled = sure_but_for_one_block
    places = suggest_places(path, SuggestConfig(count=12, min_distance=60.0), labels=labelled)
    assert [p.rank for p in places] == list(range(1, len(places) + 1))
    assert len(places) == 12
    top = places[0]
    col, row = (top.x - ORIGIN[0]) / PIXEL, (ORIGIN[1] - top.y) / PIXEL
    assert 600 <= row < 700
    assert 600 <= col < 700
    assert top.score > 0.5
    assert "cannot tell object from background" in top.reason
    assert "from your nearest label" in top.reason
    assert [p.score for p in places] == sorted((p.score for p in places), reverse=True)
    for a, b in itertools.combinations(places, 2):
        assert np.hypot(a.x - b.x, a.y - b.y) >= 60.0 - 1e-6
    for place in places:
        col, row = (place.x - ORIGIN[0]) / PIXEL, (ORIGIN[1] - place.y) / PIXEL
        assert not (84 <= row < 216 and 84 <= col < 216), "a place on (or right beside) a labelled object"
        assert col < 900, "a place on nodata"
    assert all(p.to_labels is not None and p.to_labels > 0 for p in places)


def test_without_labels_the_most_unsure_block_comes_first(sure_but_for_one_block) -> None:
    path, _ = sure_but_for_one_block
    top = suggest_places(path, SuggestConfig(count=1))[0]
    col, row = (top.x - ORIGIN[0]) / PIXEL, (ORIGIN[1] - top.y) / PIXEL
    assert (100 <= row < 200 and 100 <= col < 200) or (col < 900 and top.score >= 0.9)
    assert top.to_labels is None


def test_where_the_model_is_sure_everywhere_there_is_no_place(tmp_path) -> None:
    path = uncertainty_raster(tmp_path / "sure.tif", np.full((256, 256), 0.001))
    assert suggest_places(path, SuggestConfig(count=5)) == []


def test_an_area_limits_where_places_are(sure_but_for_one_block) -> None:
    path, _ = sure_but_for_one_block
    places = suggest_places(path, SuggestConfig(count=50, min_distance=20.0), area=[square(0, 0, 400)])
    assert places
    for place in places:
        col, row = (place.x - ORIGIN[0]) / PIXEL, (ORIGIN[1] - place.y) / PIXEL
        assert row < 400
        assert col < 400


def test_suggest_command_predicts_the_uncertainty_with_a_real_model(core_cli, tiny_checkpoint, tmp_path) -> None:
    from core.devtools.synthetic import SyntheticSceneConfig, write_synthetic_scene

    scene = write_synthetic_scene(SyntheticSceneConfig(width=256, height=256, seed=2, nodata_border=True), tmp_path)
    features, crs_wkt = read_polygons(scene.labels)
    two = write_polygons(tmp_path / "two.gpkg", features[:2], crs_wkt)  # an analyst's first two labels
    out = tmp_path / "next.gpkg"
    common = (
        "suggest", "--raster", scene.image, "--checkpoint", tiny_checkpoint.path, "--labels", two,
        "--out", out, "--count", 5, "--min-distance", 20, "--device", "cpu",
    )  # fmt: skip
    refused = core_cli(*common)  # a base model: its uncertainty knows nothing of what is labelled
    assert refused.returncode != 0
    assert "is not tuned for whole-raster prediction" in refused.stdout + refused.stderr
    assert "tune it on your labels first" in refused.stdout + refused.stderr
    assert not out.exists()
    done = core_cli(*common, "--mode", "auto")  # measured anyway, as asked
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["count"] == len(result["places"]) >= 1
    assert result["uncertainty"] == str(tmp_path / "next_uncertainty.tif")
    features, _, fields = read_layer(out)
    assert {"rank", "score", "reason", "to_labels"} <= set(fields)
    assert [attributes["rank"] for _, attributes in features] == list(range(1, len(features) + 1))
    with rasterio.open(scene.image) as src:
        valid = src.read_masks(1) > 0
        for point, _ in features:
            row, col = src.index(point.x, point.y)
            assert valid[row, col], "a place on the image's nodata"
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".sam2-suggest")]


def test_bad_inputs_say_what_to_do(sure_but_for_one_block, tmp_path, core_cli) -> None:
    path, _ = sure_but_for_one_block
    with pytest.raises(InvalidInputError, match="give a checkpoint"):
        suggest(SuggestInputs(tmp_path / "none.tif"), tmp_path / "out.gpkg")
    with pytest.raises(InvalidInputError, match="does not overlap the raster: pan the map onto it"):
        suggest(SuggestInputs(path, extent=(0.0, 0.0, 10.0, 10.0)), tmp_path / "out.gpkg")
    rgb = tmp_path / "rgb.tif"
    with rasterio.open(
        rgb, "w", driver="GTiff", width=64, height=64, count=3, dtype="uint8", crs=CRS,
        transform=Affine(PIXEL, 0, ORIGIN[0], 0, -PIXEL, ORIGIN[1]),
    ) as dst:  # fmt: skip
        dst.write(np.zeros((3, 64, 64), np.uint8))
    with pytest.raises(InvalidInputError, match=r"is not an uncertainty raster .* predict --uncertainty"):
        suggest(SuggestInputs(rgb), tmp_path / "out.gpkg")
    with pytest.raises(InvalidInputError, match="ask for at least one place"):
        SuggestConfig(count=0)
    done = core_cli("suggest", "--out", tmp_path / "out.gpkg")
    assert done.returncode != 0
    assert "give --uncertainty" in done.stdout + done.stderr
    labels = write_polygons(tmp_path / "labels.gpkg", [PolygonFeature(square(0, 0, 10), {"class": 1})], CRS)
    done = core_cli("suggest", "--uncertainty", path, "--labels", labels, "--out", labels)
    assert done.returncode != 0
    assert labels.exists()
    assert not (tmp_path / "out.gpkg").exists()
