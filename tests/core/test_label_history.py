"""What labels bought: runs on the same labels, side by side, and the sentence the analyst reads."""

from __future__ import annotations

import json

import pytest

from core.devtools.synthetic import SyntheticSceneConfig, write_synthetic_scene
from core.io.vectors import read_polygons, write_polygons
from core.training import run
from core.training.config import TrainConfig
from core.training.label_history import labels_bought, runs_on_same_labels


def row(objects: int, iou: float, finished: str) -> dict:
    return {"run": finished, "finished": finished, "objects": objects, "background": 0, "base_iou": 0.1, "iou": iou}


@pytest.mark.quick
def test_the_sentence_says_what_the_last_labels_added() -> None:
    assert labels_bought([row(5, 0.30, "1")]) is None
    assert labels_bought([row(5, 0.30, "1"), row(5, 0.40, "2")]) is None  # no more objects: nothing to say
    gained = labels_bought([row(5, 0.30, "1"), row(17, 0.34, "2")])
    assert gained is not None
    assert gained.startswith("the last 12 objects added +0.04 IoU (validation IoU 0.30 with 5 objects")
    little = labels_bought([row(5, 0.30, "1"), row(17, 0.34, "2"), row(37, 0.345, "3")])
    assert little is not None
    assert little.startswith("the last 20 objects added less than 0.01 IoU")
    assert "more labels of the same kind help little" in little
    dropped = labels_bought([row(5, 0.30, "1"), row(10, 0.25, "2")])
    assert dropped is not None
    assert "-0.05 IoU" in dropped
    assert "trend over several runs" in dropped


@pytest.mark.quick
def test_the_history_holds_the_runs_beside_it_on_the_same_labels_and_raster(tmp_path) -> None:
    def summary(name: str, raster: str, objects: int, iou: float, finished: str) -> dict:
        return {
            "labels": {"name": name, "objects": objects, "background": 1},
            "raster": raster,
            "finished": finished,
            "base": {"iou": 0.1},
            "best": {"iou": iou},
        }

    runs = {
        "a": summary("my trees", "/o.tif", 5, 0.3, "2026-12-01T10:00:00"),
        "b": summary("my trees", "/o.tif", 9, 0.35, "2026-12-01T11:00:00"),
        "c": summary("other labels", "/o.tif", 20, 0.9, "2026-12-01T12:00:00"),
        "d": summary("my trees", "/another.tif", 30, 0.9, "2026-12-01T13:00:00"),
    }
    for name, content in runs.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "summary.json").write_text(json.dumps(content))
    (tmp_path / "e").mkdir()
    (tmp_path / "e" / "summary.json").write_text("{not json")  # a damaged run is left out, not fatal
    current = summary("my trees", "/o.tif", 14, 0.41, "2026-12-01T14:00:00")
    (tmp_path / "f").mkdir()
    rows = runs_on_same_labels(tmp_path / "f", current)
    assert [(r["run"], r["objects"]) for r in rows] == [("a", 5), ("b", 9), ("f", 14)]
    said = labels_bought(rows)
    assert said is not None
    assert said.startswith("the last 5 objects added +0.06 IoU")


def test_two_runs_on_growing_labels_report_what_the_labels_bought(tiny_checkpoint, tmp_path) -> None:
    scene = write_synthetic_scene(SyntheticSceneConfig(width=512, height=512, seed=5), tmp_path / "scene")
    features, crs_wkt = read_polygons(scene.labels)
    buildings = [f for f in features if f.attributes.get("class_id") == 1]
    config = TrainConfig(
        tile_size=128, batch_size=4, epochs=1, mode="auto", trainable="decoder", classes=(1,),
        class_field="class_id", device="cpu", seed=0, labels_cover="partial",
    )  # fmt: skip
    summaries = []
    for number, count in enumerate((3, 6)):
        labels = write_polygons(tmp_path / f"labels{count}.gpkg", buildings[:count], crs_wkt)
        inputs = run.RunInputs(scene.image, labels, tiny_checkpoint.path, labels_name="my buildings")
        summaries.append(run.start(inputs, config, tmp_path / "runs" / f"run{number}"))
    first, second = summaries
    assert first["labels"]["objects"] == 3
    assert first["labels"]["name"] == "my buildings"
    assert first["labels_bought"] is None
    assert second["labels"]["objects"] == 6
    assert second["labels_bought"].startswith("the last 3 objects ")
    folder = tmp_path / "runs" / "run1"
    assert json.loads((folder / "summary.json").read_text())["labels_bought"] == second["labels_bought"]
    assert (folder / "labels_bought.png").stat().st_size > 1000
    page = (folder / "report.html").read_text()
    assert "What the labels bought" in page
    assert "labels_bought.png" in page
    assert "Learned from 6 objects and 0 background examples of my buildings" in page
    assert not (tmp_path / "runs" / "run0" / "labels_bought.png").exists()  # one run is no curve


@pytest.mark.quick
def test_the_labels_curve_is_a_run_output_an_input_may_not_be_and_overwrite_clears(tmp_path) -> None:
    from core.errors import OutputConflictError
    from core.training.run_lock import check_run_folder, clear_earlier_run

    run_dir = tmp_path / "run"
    run_dir.mkdir()
    labels = run_dir / "labels_bought.png"  # an input under the name a run writes: it would be overwritten
    labels.write_bytes(b"not ours to replace")
    with pytest.raises(OutputConflictError, match=r"where the run writes labels_bought\.png"):
        check_run_folder(run_dir, {"--labels": labels}, resume=False, overwrite=True)
    assert labels.read_bytes() == b"not ours to replace"
    labels.unlink()
    (run_dir / "labels_bought.png").write_bytes(b"an earlier run's curve")
    (run_dir / "notes.txt").write_text("the analyst's")
    with pytest.raises(OutputConflictError, match="already holds a run"):
        check_run_folder(run_dir, {}, resume=False, overwrite=False)
    clear_earlier_run(run_dir)  # --overwrite: a stale curve does not outlive its run
    assert sorted(p.name for p in run_dir.iterdir()) == ["notes.txt"]
