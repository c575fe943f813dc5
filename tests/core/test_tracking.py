"""Objects matched year to year: on exact outlines of a synthetic scene over three years (misregistered by 1-3
px), every identity is kept and every change is found; the misregistration is measured and taken out."""

from __future__ import annotations

from collections import Counter

import pytest
from shapely import affinity
from shapely.geometry import box

from core.devtools.synthetic import SyntheticSceneConfig
from core.devtools.synthetic.years import YearsConfig, year_sequence
from core.errors import InvalidConfigError
from core.tracking.match import MatchConfig, Tracked, match_year, reappeared

pytestmark = pytest.mark.quick


def drawn_years(seed: int, pixel: float = 0.5):  # type: ignore[no-untyped-def]
    """Each year's truth as its image shows it (shifted by its misregistration), and the shifts in metres."""
    config = YearsConfig(SyntheticSceneConfig(width=384, height=384, pixel_size=pixel, seed=seed))
    _, years = year_sequence(config)
    drawn = []
    for year in years:
        dx, dy = year.shift_px[0] * pixel, -year.shift_px[1] * pixel
        drawn.append(([(o, affinity.translate(o.geometry, dx, dy)) for o in year.truth], (dx, dy)))
    return drawn


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_exact_outlines_keep_every_identity_and_find_every_change(seed) -> None:
    years = drawn_years(seed)
    first, _ = years[0]
    tracked = [Tracked(o.object_id, o.class_id, "new", g) for o, g in first]
    ours_to_truth = {t.object_id: t.object_id for t in tracked}
    next_id = max(ours_to_truth) + 1
    for (truth, (dx, dy)), (_, (px, py)) in zip(years[1:], years[:-1], strict=True):
        standing = [(o, g) for o, g in truth if o.status != "gone"]
        result, shift = match_year(tracked, [g for _, g in standing], [o.class_id for o, _ in standing], next_id)
        assert shift == pytest.approx((dx - px, dy - py), abs=0.05)  # the misregistration against the year before
        for ours, (truth_object, _) in zip(result, standing, strict=False):
            if ours.status == "new":
                ours_to_truth[ours.object_id] = truth_object.object_id
            assert ours_to_truth[ours.object_id] == truth_object.object_id  # the same object, the same identity
            assert ours.status == truth_object.status
        gone = {ours_to_truth[t.object_id] for t in result if t.status == "gone"}
        assert gone == {o.object_id for o, _ in truth if o.status == "gone"}
        next_id = max(t.object_id for t in result) + 1
        tracked = [t for t in result if t.status != "gone"]


def test_an_extension_is_changed_and_its_area_change_is_measured() -> None:
    from shapely.geometry import box

    before = [Tracked(1, 1, "new", box(0, 0, 10, 10)), Tracked(2, 1, "new", box(30, 0, 40, 10))]
    after = [box(0, 0, 14, 10), box(30.5, 0.5, 40.5, 10.5)]  # one extended by 4 m, the other 0.5 m off
    result, _ = match_year(before, after, [1, 1], 3, MatchConfig(max_shift_m=0.1))
    assert [(t.object_id, t.status) for t in result] == [(1, "changed"), (2, "unchanged")]
    assert result[0].area_change_m2 == pytest.approx(40.0)


def test_another_class_at_the_same_place_is_not_the_same_object() -> None:
    from shapely.geometry import box

    result, _ = match_year([Tracked(1, 2, "new", box(0, 0, 6, 6))], [box(0, 0, 6, 6)], [1], 2)
    assert [(t.object_id, t.status) for t in result] == [(2, "new"), (1, "gone")]


def test_overlaps_that_contradict_each_other_are_refused() -> None:
    with pytest.raises(InvalidConfigError, match="min_iou"):
        MatchConfig(min_iou=0.8, changed_iou=0.5)


def test_the_years_are_written_as_a_time_aware_layer_and_a_change_layer(tmp_path) -> None:
    import datetime

    import pyogrio

    from core.io.track_layers import write_tracks
    from core.io.vectors import read_layer

    years = drawn_years(2)
    first, _ = years[0]
    tracked = [Tracked(o.object_id, o.class_id, "new", g) for o, g in first]
    written = [("2019-07-01", tracked)]
    truth, _ = years[1]
    standing = [(o, g) for o, g in truth if o.status != "gone"]
    result, _ = match_year(tracked, [g for _, g in standing], [o.class_id for o, _ in standing], 10_000)
    written.append(("2022-07-01", result))
    counts = write_tracks(tmp_path / "tracks.gpkg", written, "EPSG:32633", {1: "building", 2: "tree"})
    assert counts["2019-07-01"] == {"new": len(first)}
    assert counts["2022-07-01"] == dict(Counter(t.status for t in result))
    assert {name for name, _ in pyogrio.list_layers(tmp_path / "tracks.gpkg")} == {"objects", "changes"}
    info = pyogrio.read_info(tmp_path / "tracks.gpkg", layer="objects")
    assert dict(zip(info["fields"], info["dtypes"], strict=True))["date"] == "datetime64[D]"  # a Date field
    objects, crs, _ = read_layer(tmp_path / "tracks.gpkg", "objects")
    assert "32633" in crs
    assert len(objects) == len(first) + len(result)
    assert {a["date"] for _, a in objects} == {datetime.date(2019, 7, 1), datetime.date(2022, 7, 1)}
    changes, _, _ = read_layer(tmp_path / "tracks.gpkg", "changes")
    assert len(changes) == len(first) + sum(t.status != "unchanged" for t in result)
    later = [a for _, a in changes if a["year"] == 2022]
    assert {a["status"] for a in later} <= {"new", "changed", "gone"}
    assert all(a["class"] in ("building", "tree") for a in later)


def test_a_layer_that_cannot_be_written_leaves_no_geopackage(tmp_path) -> None:
    from core.errors import InvalidInputError
    from core.io.vectors import PolygonFeature, write_polygon_layers

    square = PolygonFeature({"type": "Polygon", "coordinates": [[(0, 0), (1, 0), (1, 1), (0, 0)]]}, {"n": 1})
    broken = PolygonFeature({"type": "Point", "coordinates": (0, 0)}, {"n": 2})
    layers = {"objects": ([square], {"n": int}), "changes": ([broken], {"n": int})}
    with pytest.raises(InvalidInputError):
        write_polygon_layers(tmp_path / "tracks.gpkg", layers, "EPSG:32633")
    assert list(tmp_path.iterdir()) == []  # neither the file nor a temporary
    with pytest.raises(InvalidInputError, match="GeoPackage"):
        write_polygon_layers(tmp_path / "tracks.shp", layers, "EPSG:32633")


def test_an_object_missed_for_a_year_keeps_its_identity_and_a_rebuilt_one_does_not() -> None:
    config = MatchConfig()
    last = [
        Tracked(1, 1, "gone", box(0, 0, 10, 10)),  # missed in last year's image
        Tracked(2, 1, "gone", box(20, 0, 30, 10)),  # demolished
        Tracked(3, 1, "unchanged", box(40, 0, 50, 10)),
    ]
    shift = (1.0, 0.0)
    now = [
        Tracked(7, 1, "new", box(1, 0, 11, 10.5)),  # object 1 again, seen 1 m east (the misregistration)
        Tracked(8, 1, "new", box(21, 0, 28, 16)),  # a house rebuilt on object 2's site: IoU 0.49
        Tracked(3, 1, "unchanged", box(41, 0, 51, 10)),
    ]
    before, after = reappeared(last, now, shift, config)
    assert [(t.object_id, t.status) for t in before] == [(1, "unchanged"), (2, "gone"), (3, "unchanged")]
    assert before[0].geometry.equals(last[0].geometry)  # it stood where it was last seen
    assert [(t.object_id, t.status) for t in after] == [(1, "unchanged"), (8, "new"), (3, "unchanged")]
    assert after[0].geometry.equals(now[0].geometry)
    other_class = [Tracked(7, 2, "new", box(1, 0, 11, 10.5)), *now[1:]]
    assert reappeared(last, other_class, shift, config)[1][0].object_id == 7  # a tree is not the house
