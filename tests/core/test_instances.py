"""One polygon per object (issue 17 item 3): touching objects of one class come out as separate polygons with an
``instance_id`` when whole-raster prediction is asked for instances; one object stays one polygon."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.crs import CRS
from rasterio.features import rasterize
from shapely.geometry import box, shape

from core.errors import InvalidConfigError
from core.geometry.instances import InstanceOptions, split_region
from core.inference.predict import PredictConfig, predict_raster
from core.io.polygon_layers import export_polygons
from core.io.vectors import read_polygons

pytestmark = pytest.mark.quick

PIXEL = 0.25
TRANSFORM = Affine(PIXEL, 0, 500_000.0, 0, -PIXEL, 5_500_000.0)


def parts_of(region: np.ndarray) -> list[int]:
    ids = split_region(region)
    assert (ids > 0).sum() == region.sum()  # every pixel of the region belongs to one object, none outside
    return sorted(int((ids == k).sum()) for k in range(1, ids.max() + 1))


def test_two_buildings_sharing_part_of_a_wall_are_two_objects() -> None:
    region = np.zeros((80, 100), dtype=bool)
    region[10:40, 10:50] = True  # 30 x 40 px
    region[25:70, 50:80] = True  # 45 x 30 px, against the first one's east wall
    assert len(parts_of(region)) == 2


def test_an_l_shaped_building_a_rectangle_and_a_ring_stay_one_object() -> None:
    l_shape = np.zeros((80, 100), dtype=bool)
    l_shape[10:30, 10:80] = True
    l_shape[10:70, 10:30] = True
    rectangle = np.zeros((80, 100), dtype=bool)
    rectangle[10:40, 10:90] = True  # long: its ridge is one plateau, not several peaks
    ring = rectangle.copy()
    ring[20:30, 40:60] = False  # a courtyard
    for region in (l_shape, rectangle, ring):
        assert len(parts_of(region)) == 1


def test_touching_crowns_are_separate_trees() -> None:
    rows, cols = np.mgrid[:80, :120]
    crowns = [(40, 30, 15), (40, 57, 13), (52, 82, 12)]  # each touches the next
    region = np.zeros(rows.shape, dtype=bool)
    for row, col, radius in crowns:
        region |= (rows - row) ** 2 + (cols - col) ** 2 < radius**2
    assert len(parts_of(region)) == 3


def test_bad_instance_options_are_refused() -> None:
    with pytest.raises(InvalidConfigError, match="neck_ratio"):
        InstanceOptions(neck_ratio=0)


class UnionPredictor:
    """The ideal semantic prediction: probability 1 exactly on the union of the objects, 0 elsewhere (so the
    test sees what instance splitting adds, not what a model gets wrong)."""

    size = 128

    def __init__(self, union: np.ndarray) -> None:
        self.union, self.calls = union, 0
        self.window_origins: list[tuple[int, int]] = []

    def __call__(self, tiles: np.ndarray) -> np.ndarray:
        # tiles are RGB windows read from a raster whose red band encodes row // 2 and green col // 2
        out = []
        for tile in tiles:
            row0, col0 = int(tile[0, 0, 0]) * 2, int(tile[0, 0, 1]) * 2
            window = np.zeros((self.size, self.size), dtype=np.float32)
            part = self.union[row0 : row0 + self.size, col0 : col0 + self.size]
            window[: part.shape[0], : part.shape[1]] = part
            out.append(window)
        return np.stack(out)


def test_a_prediction_of_their_exact_union_gives_one_polygon_per_building(tmp_path) -> None:
    """The issue's case: two buildings sharing a wall, a predictor that returns their union; instance output
    gives two polygons, each matching its building at IoU >= 0.9 (without instances: one polygon)."""
    height = width = 256
    west = box(*(TRANSFORM * (40, 150)), *(TRANSFORM * (120, 60)))  # (x, y) corners from (col, row)
    east = box(*(TRANSFORM * (120, 190)), *(TRANSFORM * (180, 100)))  # shares x = col 120 for rows 100-150
    union = rasterize([west, east], out_shape=(height, width), transform=TRANSFORM).astype(bool)
    raster = tmp_path / "ortho.tif"
    rows, cols = np.mgrid[:height, :width]
    image = np.stack([rows // 2, cols // 2, np.full_like(rows, 90)]).astype(np.uint8)  # where each pixel is
    profile = {"driver": "GTiff", "width": width, "height": height, "count": 3, "dtype": "uint8",
               "crs": CRS.from_epsg(32633), "transform": TRANSFORM}  # fmt: skip
    with rasterio.open(raster, "w", **profile) as dst:
        dst.write(image)
    mask = tmp_path / "mask.tif"
    predict_raster(raster, UnionPredictor(union), mask, PredictConfig(overlap=0.0))
    with rasterio.open(mask) as src:
        assert np.array_equal(src.read(1) == 1, union)  # the prediction is the union, exactly

    merged = export_polygons(mask, tmp_path / "merged.gpkg")
    assert merged == 1  # one region: what a semantic mask alone gives
    count = export_polygons(mask, tmp_path / "objects.gpkg", instances=InstanceOptions())
    features, _ = read_polygons(tmp_path / "objects.gpkg")
    assert count == len(features) == 2
    assert sorted(f.attributes["instance_id"] for f in features) == [1, 2]
    for building in (west, east):
        best = max(features, key=lambda f: shape(f.geometry).intersection(building).area)
        found = shape(best.geometry)
        iou = found.intersection(building).area / found.union(building).area
        assert iou >= 0.9, iou


def test_predict_command_with_instances_numbers_the_objects(core_cli, tiny_checkpoint, tmp_path) -> None:
    import json

    from core.devtools.synthetic import SyntheticSceneConfig, write_synthetic_scene

    scene = write_synthetic_scene(SyntheticSceneConfig(width=256, height=256, seed=4), tmp_path / "scene")
    vector = tmp_path / "objects.gpkg"
    result = core_cli(
        "predict", "--raster", scene.image, "--checkpoint", tiny_checkpoint.path, "--out", tmp_path / "mask.tif",
        "--vector", vector, "--instances", "--threshold", "0.3", "--device", "cpu",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    features, _ = read_polygons(vector)
    assert len(features) == json.loads(result.stdout)["polygons"]
    assert [f.attributes["instance_id"] for f in features] == list(range(1, len(features) + 1))
