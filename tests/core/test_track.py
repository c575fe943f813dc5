"""``python -m core track`` over three synthetic years given as layers: every status as the truth says, every
identity kept through the years, written as one time-aware GeoPackage; bad inputs refused with what to do."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from shapely.geometry import shape

from core.devtools.synthetic import SyntheticSceneConfig
from core.devtools.synthetic.years import YearsConfig, write_year_sequence
from core.io.vectors import read_layer

pytestmark = pytest.mark.quick


@pytest.fixture(scope="module")
def years(tmp_path_factory):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("years")
    return write_year_sequence(YearsConfig(SyntheticSceneConfig(width=384, height=384, pixel_size=0.5, seed=3)), folder)


def truth_of(changes_path, geometry):  # type: ignore[no-untyped-def]
    """The truth object that ``geometry`` overlaps most: (object_id, status)."""
    truth, _, _ = read_layer(changes_path, "changes")
    best = max(truth, key=lambda t: t[0].intersection(geometry).area / max(t[0].union(geometry).area, 1e-9))
    return best[1]["object_id"], best[1]["status"]


def test_three_years_come_out_as_the_truth_says_with_identities_kept(years, core_cli, tmp_path) -> None:
    sources = [item for y in reversed(years) for item in ("--year", y.scene.labels)]  # any order: dates sort them
    done = core_cli("track", *sources, "--out", tmp_path / "tracks.gpkg")
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(done.stdout)
    assert summary["years"] == ["2019-07-01", "2022-07-01", "2025-07-01"]
    objects, _, _ = read_layer(tmp_path / "tracks.gpkg", "objects")
    ours_to_truth: dict[int, int] = {}
    for written in years:
        ours = [(g, a) for g, a in objects if a["year"] == written.year and a["class_id"] != 3]  # roads: not tracked
        statuses: Counter[str] = Counter()
        for geometry, attributes in ours:
            truth_id, truth_status = truth_of(written.changes, geometry)
            assert attributes["status"] == truth_status
            assert ours_to_truth.setdefault(attributes["object_id"], truth_id) == truth_id  # one identity throughout
            statuses[truth_status] += 1
        if written.year > 2019:
            assert min(statuses["new"], statuses["gone"], statuses["unchanged"]) > 0
    until = {a["year"]: a["until"] for _, a in objects}  # each flight's state lasts to the next flight's eve
    assert {year: str(day) if day else None for year, day in until.items()} == {
        2019: "2022-06-30",
        2022: "2025-06-30",
        2025: None,
    }
    changes, _, _ = read_layer(tmp_path / "tracks.gpkg", "changes")
    assert {a["status"] for _, a in changes if a["year"] > 2019} <= {"new", "changed", "gone"}
    assert all(shape(g).is_valid for g, _ in objects)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tracks.gpkg"]  # its working folder is gone


@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        (["--year", "{a}"], "two or more years"),
        (["--year", "{a}", "--year", "{b}", "--date", "2019"], "1 dates for 2 rasters"),
        (["--year", "{a}", "--year", "{missing}"], "does not exist"),
        (["--year", "{image}", "--year", "{b}"], "give --checkpoint"),
        (["--year", "{a}", "--year", "{b}", "--out-shp"], "written as a GeoPackage"),
        (["--year", "{a}", "--year", "{b}", "--min-iou", "0.9"], "min_iou"),
    ],
)
def test_what_cannot_be_followed_is_refused_with_what_to_do(years, core_cli, tmp_path, arguments, said) -> None:
    names = {
        "a": years[0].scene.labels,
        "b": years[1].scene.labels,
        "missing": tmp_path / "ortho_2030.gpkg",
        "image": years[0].scene.image,
    }
    out = tmp_path / ("tracks.shp" if "--out-shp" in arguments else "tracks.gpkg")
    filled = [a.format(**names) for a in arguments if a != "--out-shp"]
    done = core_cli("track", *filled, "--out", out)
    assert done.returncode != 0
    assert said in done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists()


def test_orthophotos_are_predicted_with_the_model_then_followed(tiny_checkpoint, core_cli, tmp_path) -> None:
    """The same path with each year's orthophoto predicted (random-init weights: what it finds is noise, so only
    the plumbing is asserted: every year predicted, matched and written, nothing left behind)."""
    years = write_year_sequence(
        YearsConfig(SyntheticSceneConfig(width=128, height=128, pixel_size=0.5, seed=1), years=(2019, 2022)),
        tmp_path / "years",
    )
    out = tmp_path / "out" / "tracks.gpkg"
    out.parent.mkdir()
    sources = [item for y in years for item in ("--year", y.scene.image)]
    done = core_cli(
        "track", *sources, "--checkpoint", tiny_checkpoint.path, "--mode", "auto", "--device", "cpu", "--out", out
    )
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(done.stdout)
    assert list(summary["counts"]) == ["2019-07-01", "2022-07-01"]
    objects, _, _ = read_layer(out, "objects")
    assert {a["year"] for _, a in objects} == {2019, 2022}
    assert sorted(p.name for p in out.parent.iterdir()) == ["tracks.gpkg"]  # predictions were temporary
