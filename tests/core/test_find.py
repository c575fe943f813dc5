"""Find the rest: a short partial-label fine-tune on a few examples, then candidates for the other objects; its
time budget; and each bad input it refuses with what to do."""

from __future__ import annotations

import json

import pytest
from shapely.affinity import translate
from shapely.geometry import mapping, shape

from core.devtools.synthetic import SyntheticSceneConfig, write_synthetic_scene
from core.errors import InvalidInputError
from core.io.vectors import PolygonFeature, read_polygons, write_polygons
from core.training import budget as budget_module
from core.training.budget import TimeBudget
from core.workflows.find import FIND_DEFAULTS, FindInputs, find_rest

CONFIG = FIND_DEFAULTS.replace(tile_size=128, epochs=2, max_minutes=0.0, device="cpu", class_field="class")


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    return write_synthetic_scene(SyntheticSceneConfig(width=512, height=512, seed=3), tmp_path_factory.mktemp("find"))


@pytest.fixture(scope="module")
def buildings(scene) -> tuple[list, str]:
    features, crs_wkt = read_polygons(scene.labels)
    return [shape(f.geometry) for f in features if f.attributes["class_id"] == 1], crs_wkt


def examples(path, objects, crs_wkt, background=()):  # type: ignore[no-untyped-def]
    features = [PolygonFeature(mapping(o), {"class": "1"}) for o in objects]
    features += [PolygonFeature(mapping(b), {"class": "background"}) for b in background]
    return write_polygons(path, features, crs_wkt, fields={"class": str})


@pytest.mark.slow
def test_find_from_six_examples_proposes_candidates_that_are_not_the_examples(
    scene, buildings, tiny_checkpoint, core_cli, tmp_path
) -> None:
    objects, crs_wkt = buildings
    labels = examples(tmp_path / "six.gpkg", objects[:6], crs_wkt, background=[objects[6].buffer(-0.5)])
    events = tmp_path / "events.jsonl"
    out = tmp_path / "found"
    for _round in (1, 2):  # a second round replaces the first one's results in the same folder
        done = core_cli(
            "find", "--raster", scene.image, "--labels", labels, "--checkpoint", tiny_checkpoint.path, "--out", out,
            "--class-field", "class", "--tile-size", 128, "--epochs", 2, "--max-minutes", 0, "--device", "cpu",
            "--extent", "500000,5499744,500256,5500000", "--events", events,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in events.read_text().splitlines()]
    result = lines[-1]
    assert result["event"] == "result", lines[-3:]
    summary = result
    assert summary["examples"] == {"objects": 6, "objects_on_raster": 6, "background": 1}
    assert summary["labels"]["cover"] == "partial"
    assert summary["labels"]["object_pixels"] > 0
    progress = [e for e in lines if e["event"] == "progress"]
    assert all(0 <= e["fraction"] <= 1 for e in progress)
    finding = [e["fraction"] for e in progress if e.get("stage") == "finding"]
    assert finding
    assert min(finding) >= 0.8
    assert max(finding) == pytest.approx(1.0)
    assert sorted(p.name for p in out.iterdir()) == ["candidates.gpkg", "run", "summary.json"]  # no scratch left
    features, _ = read_polygons(out / "candidates.gpkg", "candidates")
    assert len(features) == summary["count"]
    scores = [f.attributes["score"] for f in features]
    assert scores == sorted(scores, reverse=True)
    assert {f.attributes["status"] for f in features} <= {"candidate"}
    assert [f.attributes["candidate_id"] for f in features] == list(range(1, len(features) + 1))
    labelled = [shape(g) for g in (mapping(o) for o in objects[:6])]
    for feature in features:
        candidate = shape(feature.geometry)
        inside = sum(candidate.intersection(o).area for o in labelled) / candidate.area
        assert inside < 0.3  # the examples are not proposed again (ALREADY_LABELLED)
        assert candidate.bounds[0] < 500_256
        assert candidate.bounds[1] > 5_499_744 - 1


def test_fewer_examples_than_the_minimum_are_refused(scene, buildings, tiny_checkpoint, tmp_path) -> None:
    objects, crs_wkt = buildings
    labels = examples(tmp_path / "two.gpkg", objects[:2], crs_wkt)
    with pytest.raises(InvalidInputError, match=r"holds 2 object.*at least 3 examples; outline a few more"):
        find_rest(FindInputs(scene.image, labels, tiny_checkpoint.path), tmp_path / "out", CONFIG)
    assert not (tmp_path / "out").exists()


def test_examples_off_the_raster_are_refused(scene, buildings, tiny_checkpoint, tmp_path) -> None:
    objects, crs_wkt = buildings
    far = [translate(o, 10_000, 0) for o in objects[:5]]
    labels = examples(tmp_path / "far.gpkg", [*far, *objects[:1]], crs_wkt)
    with pytest.raises(InvalidInputError, match=r"only 1 of the 6 examples .* lie on .*outline at least 3 objects"):
        find_rest(FindInputs(scene.image, labels, tiny_checkpoint.path), tmp_path / "out", CONFIG)


def test_a_layer_of_only_background_is_refused(scene, buildings, tiny_checkpoint, tmp_path) -> None:
    objects, crs_wkt = buildings
    labels = examples(tmp_path / "bg.gpkg", [], crs_wkt, background=objects[:4])
    with pytest.raises(InvalidInputError, match="only background examples: outline at least 3 objects"):
        find_rest(FindInputs(scene.image, labels, tiny_checkpoint.path), tmp_path / "out", CONFIG)


def test_an_extent_off_the_raster_is_refused(scene, buildings, tiny_checkpoint, tmp_path) -> None:
    objects, crs_wkt = buildings
    labels = examples(tmp_path / "five.gpkg", objects[:5], crs_wkt)
    inputs = FindInputs(scene.image, labels, tiny_checkpoint.path, extent=(0.0, 0.0, 10.0, 10.0))
    with pytest.raises(InvalidInputError, match=r"does not overlap .*: pan the map onto the raster"):
        find_rest(inputs, tmp_path / "out", CONFIG.replace(epochs=1))


def test_an_output_folder_holding_other_files_is_refused(scene, buildings, tiny_checkpoint, tmp_path) -> None:
    objects, crs_wkt = buildings
    labels = examples(tmp_path / "five.gpkg", objects[:5], crs_wkt)
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("the analyst's")
    with pytest.raises(InvalidInputError, match=r"holds other files \(notes.txt\).*choose another folder"):
        find_rest(FindInputs(scene.image, labels, tiny_checkpoint.path), out, CONFIG)
    assert (out / "notes.txt").read_text() == "the analyst's"


def test_a_time_budget_too_short_for_one_epoch_says_what_it_needs(scene, buildings, tiny_checkpoint, tmp_path) -> None:
    objects, crs_wkt = buildings
    labels = examples(tmp_path / "five.gpkg", objects[:8], crs_wkt)
    with pytest.raises(InvalidInputError, match=r"too short for one epoch of \d+ steps .*give at least [\d.]+ min"):
        find_rest(
            FindInputs(scene.image, labels, tiny_checkpoint.path), tmp_path / "out", CONFIG.replace(max_minutes=0.0005)
        )


def test_the_budget_trains_whole_epochs_while_the_next_one_fits(monkeypatch) -> None:
    now = [100.0]
    monkeypatch.setattr(budget_module.time, "monotonic", lambda: now[0])
    budget = TimeBudget(60.0)
    now[0] = 130.0  # 30 s in, the last epoch took 20 s: one more fits, ending at 50 s
    assert budget.next_epoch_fits(20.0)
    assert not budget.stopped
    now[0] = 150.0  # 50 s in: another 20 s would end at 70 s
    assert not budget.next_epoch_fits(20.0)
    assert budget.stopped
    assert budget.summary() == {"seconds": 60.0, "used_seconds": 50.0, "stopped_for_budget": True}
    budget.check_first_epoch(steps_done=1, steps_in_epoch=2, epoch_began=140.0, validation=0.0)  # ends at 60 s
    with pytest.raises(InvalidInputError, match=r"give at least 1\.5 min"):  # 70 s with a 20 % margin: 1.5 min
        budget.check_first_epoch(steps_done=1, steps_in_epoch=3, epoch_began=140.0, validation=0.0)
    assert TimeBudget(0).next_epoch_fits(1e9)  # 0: no limit


def test_an_input_inside_the_output_folder_is_refused_and_kept(scene, buildings, tiny_checkpoint, tmp_path) -> None:
    objects, crs_wkt = buildings
    out = tmp_path / "round1"
    out.mkdir()
    labels = examples(out / "candidates.gpkg", objects[:5], crs_wkt)  # last round's candidates given as labels
    before = labels.read_bytes()
    with pytest.raises(InvalidInputError, match=r"the labels .* lies in the output folder .*copy it elsewhere"):
        find_rest(FindInputs(scene.image, labels, tiny_checkpoint.path), out, CONFIG)
    assert labels.read_bytes() == before
