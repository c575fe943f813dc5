"""The synthetic orthophoto generator: determinism, georeferencing, exact ground truth, bad configs."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import rasterio
from rasterio.crs import CRS
from rasterio.features import rasterize

from core.devtools.synthetic import (
    CLASS_NAMES,
    MASK_NODATA,
    SyntheticSceneConfig,
    generate_scene,
    write_synthetic_scene,
)
from core.devtools.synthetic.config import BUILDING, ROAD, TREE
from core.devtools.synthetic.scene import STRIP_ROWS
from core.errors import InvalidConfigError
from core.io.vectors import read_polygons

pytestmark = pytest.mark.quick  # make test-fast


def test_same_seed_same_scene_other_seed_other_scene() -> None:
    config = SyntheticSceneConfig(width=160, height=128, seed=7)
    first, second = generate_scene(config), generate_scene(config)
    np.testing.assert_array_equal(first.image, second.image)
    np.testing.assert_array_equal(first.mask, second.mask)
    assert [o.geometry for o in first.objects] == [o.geometry for o in second.objects]
    other = generate_scene(SyntheticSceneConfig(width=160, height=128, seed=8))
    assert not np.array_equal(first.mask, other.mask)


def test_written_rasters_are_georeferenced_on_one_grid(make_scene) -> None:
    scene, paths = make_scene(width=300, height=200, pixel_size=0.3, crs="EPSG:25832", origin=(400_000.0, 5_600_000.0))
    with rasterio.open(paths.image) as image, rasterio.open(paths.mask) as mask:
        assert image.crs == CRS.from_epsg(25832) == mask.crs
        assert (image.width, image.height, image.count) == (300, 200, 3)
        assert image.transform == mask.transform
        assert image.transform.a == pytest.approx(0.3)
        assert image.transform.e == pytest.approx(-0.3)
        assert (image.transform.c, image.transform.f) == (400_000.0, 5_600_000.0)
        np.testing.assert_array_equal(image.read(), scene.image)
        np.testing.assert_array_equal(mask.read(1), scene.mask)


def test_mask_is_exactly_the_rasterized_label_layer(make_scene) -> None:
    scene, paths = make_scene(width=400, height=320, seed=3, nodata_border=True)
    features, crs_wkt = read_polygons(paths.labels, "labels")
    assert CRS.from_wkt(crs_wkt) == CRS.from_user_input(scene.config.crs)
    assert len(features) == len(scene.objects)
    with rasterio.open(paths.mask) as src:
        mask, transform = src.read(1), src.transform
    burned = rasterize(
        [(f.geometry, f.attributes["class_id"]) for f in features], out_shape=mask.shape, transform=transform
    )
    valid = mask != MASK_NODATA
    np.testing.assert_array_equal(burned[valid], mask[valid])
    assert not burned[~valid].any(), "labels reach into the nodata border"
    assert {f.attributes["class_name"] for f in features} == {CLASS_NAMES[k] for k in (BUILDING, TREE, ROAD)}


def test_classes_never_overlap_each_other() -> None:
    scene = generate_scene(SyntheticSceneConfig(width=400, height=400, seed=5))
    shape = scene.mask.shape
    per_class = [
        rasterize([o.geometry for o in scene.objects if o.class_id == c], out_shape=shape, transform=scene.transform)
        for c in (BUILDING, TREE, ROAD)
    ]
    assert (np.sum(per_class, axis=0) <= 1).all()


def test_scene_has_l_shaped_buildings_trees_and_roads_at_the_asked_density() -> None:
    config = SyntheticSceneConfig(width=800, height=800, pixel_size=0.25, seed=11, roads=2)
    scene = generate_scene(config)
    counts = {c: sum(o.class_id == c for o in scene.objects) for c in (BUILDING, TREE, ROAD)}
    assert counts[ROAD] == 2
    assert counts[BUILDING] >= 0.7 * config.buildings_per_ha * config.area_ha
    assert counts[TREE] >= 0.7 * config.trees_per_ha * config.area_ha
    ring_sizes = [
        len(o.geometry["coordinates"][0])
        for o in scene.objects
        if o.class_id == BUILDING and o.geometry["type"] == "Polygon"
    ]
    assert 5 in ring_sizes, "expected rectangles (4 corners and the closing point)"
    assert 7 in ring_sizes, "expected L-shapes (6 corners and the closing point)"


def test_nodata_border_is_nodata_in_every_band_and_in_the_mask() -> None:
    scene = generate_scene(SyntheticSceneConfig(width=256, height=256, nodata_border=True, seed=2))
    nodata = scene.mask == MASK_NODATA
    assert 0.05 < nodata.mean() < 0.5
    assert (scene.image[:, nodata] == 0).all()
    assert (scene.image[:, ~nodata].min(axis=0) > 0).all(), "a valid pixel took the nodata value"


def test_rgbi_uint16_has_12_bit_values_and_a_bright_vegetation_nir_band(make_scene) -> None:
    scene, paths = make_scene(width=320, height=320, bands="RGBI", dtype="uint16", seed=4)
    assert scene.image.shape == (4, 320, 320)
    assert scene.image.dtype == np.uint16
    assert scene.image.max() <= 4095
    red, nir = scene.image[0].astype(float), scene.image[3].astype(float)
    ndvi = (nir - red) / (nir + red + 1)
    assert ndvi[scene.mask == TREE].mean() > ndvi[scene.mask == ROAD].mean() + 0.3
    with rasterio.open(paths.image) as src:
        assert src.count == 4
        assert src.dtypes[0] == "uint16"
        assert src.descriptions == ("red", "green", "blue", "nir")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"pixel_size": 1.0}, "outside 0.1-0.5 m"),
        ({"crs": "EPSG:4326"}, "geographic"),
        ({"crs": "EPSG:999999"}, "unknown CRS"),
        ({"width": 8}, "too small"),
        ({"bands": "RGBN"}, "bands must be"),
        ({"dtype": "float32"}, "dtype must be"),
        ({"trees_per_ha": -1.0}, "cannot be negative"),
    ],
)
def test_bad_config_is_refused_with_a_message(overrides: dict, message: str) -> None:
    with pytest.raises(InvalidConfigError, match=message):
        generate_scene(SyntheticSceneConfig(**overrides))


def test_cli_writes_a_scene_and_reports_bad_input_without_a_traceback(tmp_path, repo_root) -> None:
    ok = subprocess.run(
        [sys.executable, "-m", "core", "synthetic", "--out", str(tmp_path), "--width", "96", "--height", "64"],
        capture_output=True,
        text=True,
        cwd=repo_root,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "scene.json",
        "scene_image.tif",
        "scene_labels.gpkg",
        "scene_mask.tif",
    ]
    bad = subprocess.run(
        [sys.executable, "-m", "core", "synthetic", "--out", str(tmp_path / "bad"), "--pixel-size", "2"],
        capture_output=True,
        text=True,
        cwd=repo_root,
        check=False,
    )
    assert bad.returncode == 2
    assert "pixel_size 2.0 m is outside 0.1-0.5 m" in bad.stderr
    assert "Traceback" not in bad.stderr
    assert not (tmp_path / "bad").exists() or not any((tmp_path / "bad").iterdir())


def test_streamed_scene_equals_the_in_memory_scene(tmp_path) -> None:
    # 600 rows: two full strips and a partial one, with shadows cast across strip borders.
    config = SyntheticSceneConfig(width=300, height=600, seed=12, nodata_border=True, bands="RGBI")
    scene = generate_scene(config)
    paths = write_synthetic_scene(config, tmp_path)
    with rasterio.open(paths.image) as image, rasterio.open(paths.mask) as mask:
        np.testing.assert_array_equal(image.read(), scene.image)
        np.testing.assert_array_equal(mask.read(1), scene.mask)
    assert len(read_polygons(paths.labels)[0]) == len(scene.objects)


def test_strips_do_not_show_seams() -> None:
    # Neighbouring rows across a strip border differ no more than neighbouring rows inside a strip.
    image = generate_scene(
        SyntheticSceneConfig(width=256, height=512, seed=6, buildings_per_ha=0, trees_per_ha=0, roads=0)
    ).image.astype(float)
    row_steps = np.abs(np.diff(image, axis=1)).mean(axis=(0, 2))
    assert row_steps[STRIP_ROWS - 1] < 2 * np.median(row_steps)
