"""Partial labels: a few objects labelled teach the class without teaching that the unlabelled ones are
background; background is only what the analyst marked and a ring around each object."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.windows import Window
from shapely.geometry import box, shape

from core.devtools.synthetic import SyntheticSceneConfig, write_synthetic_scene
from core.errors import InvalidInputError
from core.io.labels import BACKGROUND_POINT_PIXELS, IGNORE, LabelReader
from core.io.vectors import PolygonFeature, read_polygons, write_polygons
from core.training.config import TrainConfig
from core.training.tiles import build_tiles

pytestmark = pytest.mark.quick

CONFIG = TrainConfig(tile_size=128, classes=(1,), class_field="class_id", val_fraction=0.25, seed=0)
TRANSFORM = Affine(0.5, 0, 500_000, 0, -0.5, 5_500_000)  # 0.5 m pixels, EPSG:32633
CRS_URN = "urn:ogc:def:crs:EPSG::32633"


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    return write_synthetic_scene(SyntheticSceneConfig(width=512, height=512, seed=3), tmp_path_factory.mktemp("few"))


@pytest.fixture(scope="module")
def five_buildings(scene, tmp_path_factory):
    """5 of the scene's buildings as the only labels."""
    features, crs_wkt = read_polygons(scene.labels)
    buildings = [f for f in features if f.attributes["class_id"] == 1]
    assert len(buildings) >= 15  # most stay unlabelled
    path = tmp_path_factory.mktemp("labels") / "five.gpkg"
    chosen = [PolygonFeature(f.geometry, {"class_id": 1}) for f in buildings[:5]]
    return write_polygons(path, chosen, crs_wkt, fields={"class_id": int})


def pixels_of_unlabelled_buildings(scene, five_buildings, tile) -> np.ndarray:
    """Bool (S, S): the tile's pixels of buildings that are not among the five labelled ones."""
    with rasterio.open(scene.mask) as src:
        truth = src.read(1, window=tile.window) == 1
    return truth & (tile.instances == 0)


def unlabelled_pixels_in_the_loss(scene, five_buildings, tiles) -> int:  # type: ignore[no-untyped-def]
    """Pixels of the buildings that are not among the five that carry loss (labelled: object or background;
    core.training.trainer weighs the loss by Sample.labelled)."""
    return sum(
        int((tile.labelled & pixels_of_unlabelled_buildings(scene, five_buildings, tile)).sum()) for tile in tiles.tiles
    )


def test_partial_labels_leave_the_unlabelled_objects_out_of_the_loss(scene, five_buildings) -> None:
    complete = build_tiles(scene.image, five_buildings, CONFIG.replace(labels_cover="complete"))
    narrow = build_tiles(scene.image, five_buildings, CONFIG.replace(labels_cover="partial", ring=0.15))
    partial = build_tiles(scene.image, five_buildings, CONFIG.replace(labels_cover="partial"))  # ring 0.5
    for tile in complete.tiles:
        assert not (tile.target & pixels_of_unlabelled_buildings(scene, five_buildings, tile)).any()  # background
    taught_down = unlabelled_pixels_in_the_loss(scene, five_buildings, complete)
    assert taught_down > 1000  # complete labels: every unlabelled building is taught as background
    assert unlabelled_pixels_in_the_loss(scene, five_buildings, narrow) == 0  # no ring reaches a neighbour here
    # The default ring (half of each object's size, what the held-out bench chose) may touch a close neighbour's
    # edge: a small share, never the unlabelled buildings as a whole.
    assert unlabelled_pixels_in_the_loss(scene, five_buildings, partial) < 0.05 * taught_down
    counts = partial.label_pixels()
    assert counts["object_pixels"] == complete.label_pixels()["object_pixels"] > 0  # the examples stay objects
    assert 0 < counts["background_pixels"] < complete.label_pixels()["background_pixels"]


def write_geojson(path, features: list[tuple[dict, object]]) -> None:
    """(geometry, class value) features in EPSG:32633."""
    path.write_text(
        json.dumps({
            "type": "FeatureCollection",
            "crs": {"type": "name", "properties": {"name": CRS_URN}},
            "features": [{"type": "Feature", "geometry": g, "properties": {"cls": v}} for g, v in features],
        })
    )  # fmt: skip


def reader(path, **options) -> LabelReader:  # type: ignore[no-untyped-def]
    return LabelReader(path, crs=rasterio.crs.CRS.from_epsg(32633), transform=TRANSFORM, shape=(200, 200),
                       class_field="cls", **options)  # fmt: skip


def at(x: float, y: float) -> tuple[int, int]:
    """Row and column of map point (x, y)."""
    col, row = ~TRANSFORM * (x, y)
    return int(row), int(col)


def test_background_polygons_points_and_rings_are_background_and_the_rest_is_left_out(tmp_path) -> None:
    x0, y0 = 500_000, 5_500_000
    building = box(x0 + 20, y0 - 40, x0 + 36, y0 - 24)  # 16 m square: a 0.5 ring is 8 m wide
    field = box(x0 + 60, y0 - 90, x0 + 80, y0 - 70)
    point = (x0 + 10, y0 - 90)
    path = tmp_path / "examples.geojson"
    write_geojson(path, [(building.__geo_interface__, 1), (field.__geo_interface__, "background"),
                         ({"type": "Point", "coordinates": point}, 0)])  # fmt: skip
    classes, instances = reader(path, cover="partial", ring=0.5).read(Window(0, 0, 200, 200))
    assert classes[at(x0 + 28, y0 - 32)] == 1  # the object
    assert instances[at(x0 + 28, y0 - 32)] == 1
    width = 0.5 * math.sqrt(building.area)
    assert classes[at(x0 + 36 + width - 1, y0 - 32)] == 0  # inside the ring
    assert classes[at(x0 + 36 + width + 1, y0 - 32)] == IGNORE  # beyond it
    assert classes[at(x0 + 70, y0 - 80)] == 0  # the background polygon
    assert classes[at(*point)] == 0  # the background point, a small disc
    assert classes[at(point[0] + (BACKGROUND_POINT_PIXELS + 1) * 0.5, point[1])] == IGNORE
    assert classes[at(x0 + 95, y0 - 5)] == IGNORE  # nothing said there
    labelled = classes != IGNORE
    assert labelled.mean() < 0.25
    complete, _ = reader(path).read(Window(0, 0, 200, 200))
    assert set(np.unique(complete)) == {0, 1}  # complete labels: everything else is background
    assert (complete == 1).sum() == (classes == 1).sum()
    assert shape(building.__geo_interface__).area == 256


def test_a_layer_with_only_background_examples_says_to_draw_objects(tmp_path) -> None:
    path = tmp_path / "background.geojson"
    write_geojson(path, [(box(500_010, 5_499_950, 500_020, 5_499_940).__geo_interface__, "background")])
    with pytest.raises(InvalidInputError, match=r"holds no polygon labels \(only background examples\): draw some"):
        reader(path, cover="partial")


def test_partial_labels_from_a_mask_raster_are_refused_with_what_to_do(scene) -> None:
    with pytest.raises(InvalidInputError, match=r"partial labels come from a vector layer .*--class-zero"):
        LabelReader(scene.mask, crs=None, transform=TRANSFORM, shape=(10, 10), cover="partial")


def test_an_unknown_labels_cover_or_ring_is_refused() -> None:
    from core.errors import InvalidConfigError

    with pytest.raises(InvalidConfigError, match="labels_cover must be auto, complete or partial"):
        TrainConfig(labels_cover="some")  # type: ignore[arg-type]
    with pytest.raises(InvalidConfigError, match=r"ring 0 must be in \(0, 5\]"):
        TrainConfig(ring=0)


def test_labels_cover_auto_is_complete_inside_an_area_of_interest_and_partial_without(
    scene, five_buildings, tmp_path
) -> None:
    from core.io.aoi import write_rectangle

    with rasterio.open(scene.image) as src:
        aoi = write_rectangle(tmp_path / "aoi.gpkg", tuple(src.bounds), src.crs.to_wkt())
    auto = CONFIG.replace(labels_cover="auto")
    assert auto.cover_for(None, five_buildings) == "partial"
    assert auto.cover_for(aoi, five_buildings) == "complete"
    assert auto.cover_for(None, scene.mask) == "complete"  # a mask raster says what is background itself
    assert CONFIG.replace(labels_cover="partial").cover_for(aoi, five_buildings) == "partial"  # a choice stands
    without, inside = (
        build_tiles(scene.image, five_buildings, auto),
        build_tiles(scene.image, five_buildings, auto, aoi),
    )
    complete = build_tiles(scene.image, five_buildings, CONFIG.replace(labels_cover="complete"))
    assert without.label_pixels()["ignored_pixels"] > 0  # partial: the unlabelled are left out
    assert inside.label_pixels() == complete.label_pixels()  # complete inside the AOI
