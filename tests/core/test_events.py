"""The one event stream of long commands (``--events -``): progress, warnings, then ``result`` or ``error`` as
the last line; ``cancel`` on stdin stops the job at a safe point."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time

import pytest

from core.devtools.synthetic import SyntheticSceneConfig, write_synthetic_scene
from core.jobs.events import JobEvents


def events_of(stdout: str) -> list[dict]:
    """Every stdout line parsed: the stream must hold JSON events only."""
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    return write_synthetic_scene(SyntheticSceneConfig(width=384, height=384, seed=3), tmp_path_factory.mktemp("ev"))


def predict_args(scene, checkpoint, out) -> list[str]:  # type: ignore[no-untyped-def]
    return ["predict", "--raster", scene.image, "--checkpoint", checkpoint, "--out", out, "--device", "cpu"]


def test_predict_streams_progress_then_its_result(core_cli, scene, tiny_checkpoint, tmp_path) -> None:
    done = core_cli(*predict_args(scene, tiny_checkpoint.path, tmp_path / "m.tif"), "--events", "-")
    assert done.returncode == 0, done.stderr
    events = events_of(done.stdout)
    progress = [e for e in events if e["event"] == "progress"]
    assert progress, events
    fractions = [e["fraction"] for e in progress]
    assert fractions == sorted(fractions)
    assert fractions[-1] == pytest.approx(1.0)
    assert all(e["stage"] == "predicting windows" for e in progress)
    assert events[-1]["event"] == "result"
    assert events[-1]["mask"] == str(tmp_path / "m.tif")
    assert [e["event"] for e in events].count("result") == 1
    assert (
        "INFO core.inference.predict: predicting" in done.stderr
    )  # the engine's log, which the plugin copies into QGIS


def test_an_expected_error_is_the_last_event(core_cli, tiny_checkpoint, tmp_path) -> None:
    missing = tmp_path / "none.tif"
    done = core_cli("predict", "--raster", missing, "--checkpoint", tiny_checkpoint.path, "--out", tmp_path / "m.tif",
                    "--events", "-")  # fmt: skip
    assert done.returncode == 2
    last = events_of(done.stdout)[-1]
    assert last["event"] == "error"
    assert last["expected"] is True
    assert last["cancelled"] is False
    assert "not found" in last["message"]
    assert "Traceback" not in done.stderr


def test_an_unknown_model_is_an_expected_error(core_cli, tmp_path) -> None:
    done = core_cli("weights", "download", "no-such-model", "--cache-dir", tmp_path, "--events", "-")
    assert done.returncode == 2
    last = events_of(done.stdout)[-1]
    assert last["event"] == "error"
    assert last["expected"] is True
    assert "no-such-model" in last["message"]


def test_a_bug_is_an_unexpected_error_event_and_keeps_its_traceback(monkeypatch, capsys, tmp_path) -> None:
    from core.cli import runner as cli
    from core.cli import weights

    def broken(args):  # type: ignore[no-untyped-def]
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(weights, "download", broken)
    with pytest.raises(ZeroDivisionError):
        cli.main(["weights", "download", "sam2.1_hiera_t", "--cache-dir", str(tmp_path), "--events", "-"])
    last = events_of(capsys.readouterr().out)[-1]
    assert last["event"] == "error"
    assert last["expected"] is False
    assert "ZeroDivisionError" in last["message"]


def test_events_to_a_file_keep_the_json_result_on_stdout(core_cli, scene, tiny_checkpoint, tmp_path) -> None:
    log = tmp_path / "events.jsonl"
    done = core_cli(*predict_args(scene, tiny_checkpoint.path, tmp_path / "m.tif"), "--events", log)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["mask"] == str(tmp_path / "m.tif")
    assert events_of(log.read_text())[-1]["event"] == "result"


def test_cancel_on_stdin_stops_prediction_and_keeps_nothing(repo_root, scene, tiny_checkpoint, tmp_path) -> None:
    out = tmp_path / "m.tif"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "core",
            *map(str, predict_args(scene, tiny_checkpoint.path, out)),
            "--events",
            "-",
            "--overlap",
            "0.85",
        ],
        cwd=repo_root,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    seen = []
    for line in process.stdout:  # cancel once the work has started
        seen.append(line)
        if json.loads(line)["event"] == "progress":
            process.stdin.write("cancel\n")
            process.stdin.flush()
            break
    rest, err = process.communicate(timeout=120)
    assert process.returncode == 2, err
    last = events_of("".join(seen) + rest)[-1]
    assert last["event"] == "error"
    assert last["cancelled"] is True
    assert last["expected"] is True
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == []


def test_the_control_reader_sees_cancel() -> None:
    job = JobEvents("-", stdin=io.StringIO("hello\ncancel\n"))
    deadline = time.monotonic() + 5
    while not job.cancelled() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert job.cancelled()
    assert not JobEvents(None).cancelled()


def test_warnings_inside_progress_become_warning_events(capsys) -> None:
    job = JobEvents("-", stdin=io.StringIO(""))
    job(0.5, warning="only 2 objects")
    job(0.75, epoch=1)
    job.result({"done": True})
    events = events_of(capsys.readouterr().out)
    assert [e["event"] for e in events] == ["warning", "progress", "result"]
    assert events[0]["message"] == "only 2 objects"
    assert events[1] == {"event": "progress", "fraction": 0.75, "epoch": 1}


def test_a_driven_training_stops_and_saves_when_its_driver_goes(
    scene, tiny_checkpoint, train_request, tmp_path, repo_root
):
    """QGIS closed or crashed: the job's stdin ends; a job that read its request there stops at a safe point."""
    run_dir = tmp_path / "run"
    request = train_request(scene.image, scene.labels, tiny_checkpoint.path, run_dir, 20, 2)
    log = (tmp_path / "stderr.txt").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "core", "train", "--request", "-", "--events", "-"],
        cwd=repo_root, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True,
    )  # fmt: skip
    process.stdin.write(json.dumps(request) + "\n")
    process.stdin.flush()
    for line in process.stdout:  # wait until it trains
        if '"step"' in line:
            break
    process.stdin.close()  # the driver is gone
    out = process.stdout.read()
    process.wait(timeout=120)
    log.close()
    assert process.returncode == 0, (tmp_path / "stderr.txt").read_text()
    assert events_of(out)[-1]["stopped"] is True
    assert (run_dir / "resume.pt").exists()


def test_a_job_with_its_request_in_a_file_ignores_a_closed_stdin(core_cli, scene, tiny_checkpoint, tmp_path, repo_root):
    request = tmp_path / "request.json"
    options = {"raster": scene.image, "checkpoint": tiny_checkpoint.path, "out": tmp_path / "m.tif", "device": "cpu"}
    request.write_text(json.dumps(options, default=str))
    done = subprocess.run(
        [sys.executable, "-m", "core", "predict", "--request", str(request), "--events", "-"],
        cwd=repo_root, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert events_of(done.stdout)[-1]["event"] == "result"  # a script with no stdin is not a driver that left
