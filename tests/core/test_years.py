"""A synthetic scene over several years: identities kept, changes exact, each year misregistered by 1-3 px,
and the files of each year agreeing with its truth."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest
import rasterio
from rasterio.features import rasterize
from shapely import affinity, unary_union
from shapely.geometry import shape

from core.devtools.synthetic import SyntheticSceneConfig
from core.devtools.synthetic.config import BUILDING
from core.devtools.synthetic.years import YearsConfig, write_year_sequence, year_sequence
from core.errors import InvalidConfigError
from core.io.vectors import read_polygons

pytestmark = pytest.mark.quick

CONFIG = YearsConfig(SyntheticSceneConfig(width=384, height=384, pixel_size=0.5, seed=3))


def test_every_object_keeps_its_identity_and_its_outline_unless_it_changed() -> None:
    _, years = year_sequence(CONFIG)
    assert [y.year for y in years] == [2019, 2022, 2025]
    standing = {o.object_id: o for o in years[0].truth}
    assert {o.status for o in years[0].truth} == {"new"}
    seen = set(standing)
    for year in years[1:]:
        ids = [o.object_id for o in year.truth]
        assert len(ids) == len(set(ids))  # each object once a year: standing, or gone since the year before
        statuses = Counter(o.status for o in year.truth)
        assert min(statuses["gone"], statuses["new"], statuses["unchanged"]) > 0
        for obj in year.truth:
            if obj.status == "new":
                assert obj.object_id not in seen  # a fresh identity, never reused
            else:
                before = standing[obj.object_id]
                if obj.status in ("unchanged", "gone"):
                    assert obj.geometry.equals_exact(before.geometry, 0.0)
                else:  # changed: a building extended from its old outline
                    assert obj.class_id == BUILDING
                    assert obj.geometry.area > 1.2 * before.geometry.area
                    assert obj.geometry.buffer(1e-6).contains(before.geometry)
        standing = {o.object_id: o for o in year.truth if o.status != "gone"}
        seen |= set(standing)
    assert any(o.status == "changed" for y in years for o in y.truth)
    assert year_sequence(CONFIG)[1][2].truth == years[2].truth  # the same config, the same years


def test_each_later_year_is_misregistered_by_one_to_three_pixels() -> None:
    _, years = year_sequence(CONFIG)
    assert years[0].shift_px == (0.0, 0.0)
    for year in years[1:]:
        assert 1.0 - 0.01 <= float(np.hypot(*year.shift_px)) <= 3.0 + 0.01


def test_the_files_of_each_year_show_its_truth_where_its_image_has_it(tmp_path) -> None:
    written = write_year_sequence(CONFIG, tmp_path)
    _, years = year_sequence(CONFIG)
    grids = set()
    for paths, year in zip(written, years, strict=True):
        changes, _ = read_polygons(paths.changes, "changes")
        assert sorted(f.attributes["object_id"] for f in changes) == sorted(o.object_id for o in year.truth)
        assert {f.attributes["date"] for f in changes} == {f"{year.year}-06-01"}
        with rasterio.open(paths.scene.mask) as source:
            mask = source.read(1)
            grids.add((source.transform, source.crs.to_wkt(), source.shape))
            transform = source.transform
        standing = unary_union([shape(f.geometry) for f in changes if f.attributes["status"] != "gone"])
        for feature in changes:
            outline = shape(feature.geometry)
            if feature.attributes["status"] == "gone":  # no longer there, where no other object covers it
                outline = outline.difference(standing.buffer(1.0))
            if outline.buffer(-1.0).is_empty:
                continue
            inner = rasterize([outline.buffer(-1.0)], out_shape=mask.shape, transform=transform) == 1
            if not inner.any():
                continue
            same_class = mask[inner] == feature.attributes["class_id"]
            if feature.attributes["status"] == "gone":
                assert not same_class.any()
            else:
                assert same_class.mean() > 0.95  # drawn where its truth is
    assert len(grids) == 1  # the same grid every year: the misregistration is in the content


def test_unchanged_objects_are_drawn_shifted_by_the_years_misregistration(tmp_path) -> None:
    written = write_year_sequence(CONFIG, tmp_path)
    _, years = year_sequence(CONFIG)
    first = {f.attributes["object_id"]: shape(f.geometry) for f in read_polygons(written[0].changes, "changes")[0]}
    later = {f.attributes["object_id"]: f for f in read_polygons(written[1].changes, "changes")[0]}
    dx, dy = years[1].shift_px
    pixel = CONFIG.scene.pixel_size
    unchanged = [i for i, f in later.items() if f.attributes["status"] == "unchanged"]
    assert unchanged
    for object_id in unchanged:
        moved = affinity.translate(first[object_id], dx * pixel, -dy * pixel)
        assert shape(later[object_id].geometry).equals_exact(moved, 1e-6)


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        ({"years": (2019,)}, "two or more"),
        ({"years": (2022, 2019)}, "ascending"),
        ({"demolished": 0.9}, "between 0 and 0.5"),
        ({"max_shift_px": 0.5}, "between 1 and 10 pixels"),
    ],
)
def test_a_sequence_that_is_not_one_is_refused(changes, said) -> None:
    with pytest.raises(InvalidConfigError, match=said):
        YearsConfig(CONFIG.scene, **changes)


def test_the_command_line_writes_the_years_and_refuses_a_bad_list(core_cli, tmp_path) -> None:
    done = core_cli("synthetic", "--out", tmp_path, "--years", "2019,2022", "--width", "128", "--height", "128")
    assert done.returncode == 0, done.stderr[-2000:]
    assert [y["year"] for y in json.loads(done.stdout)["years"]] == [2019, 2022]
    assert (tmp_path / "year_2022_changes.gpkg").is_file()
    assert (tmp_path / "year_2022_image.tif").is_file()
    bad = core_cli("synthetic", "--out", tmp_path / "bad", "--years", "2019,x")
    assert bad.returncode != 0
    assert "must be years separated by commas" in bad.stderr
    assert "Traceback" not in bad.stderr
