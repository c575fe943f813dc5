"""End to end: the real QGIS desktop (Debian's 3.22) under Xvfb, the plugin installed from the package zip,
a click-to-segment through the map tool, one epoch of fine-tuning from a label layer as a QgsTask, the raster
predicted with the tuned model, screenshots, unload with nothing left running."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

HERE = Path(__file__).parent
#: Hover work never blocks the map: a decode or an encode on the GUI thread would stall it 40 ms to seconds.
#: The 16 ms goal of issue 31 is a speed target, so it is measured, not asserted (result.json's
#: hover_longest_stall_ms; bench/RESULTS.md): a CI run beside other work measured 18 ms once.
HOVER_BLOCK_MS = 35
needs_desktop = pytest.mark.skipif(
    shutil.which("xvfb-run") is None or shutil.which("qgis") is None,
    reason="needs Debian's qgis and xvfb (make setup installs them)",
)


def _install_from_zip(repo_root: Path, profiles: Path) -> None:
    """Build the zip as `make package` does and unpack it into a fresh profile, as QGIS's installer does."""
    built = subprocess.run(
        [sys.executable, str(repo_root / "scripts" / "package_plugin.py"), str(profiles / "dist")],
        capture_output=True,
        text=True,
        check=True,
    )
    plugins = profiles / "profiles" / "default" / "python" / "plugins"
    plugins.mkdir(parents=True)
    with zipfile.ZipFile(built.stdout.strip()) as archive:
        archive.extractall(plugins)


def _run_qgis(profiles: Path, script: Path, env: dict[str, str]) -> tuple[dict, str, bool, int | None]:
    """QGIS desktop under Xvfb on ``profiles``, running ``script``; its result.json (in SAM2_E2E_OUT), stderr,
    whether it hung (then killed), its exit code."""
    env = {key: value for key, value in env.items() if key != "QT_QPA_PLATFORM"}  # a real (virtual) screen
    env["SAM2_E2E_SCRIPTS"] = str(HERE)  # where the scripts find desktop_helpers
    command = [
        "xvfb-run", "-a", "-s", "-screen 0 1400x900x24", "qgis", "--nologo", "--noversioncheck",
        "--profiles-path", str(profiles), "--code", str(script),
    ]  # fmt: skip
    # Its own process group, so that a hang kills QGIS too, not only xvfb-run: nothing may be left running.
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        _, stderr = process.communicate(timeout=600)
        hung = False
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        _, stderr = process.communicate()
        hung = True
    result_file = Path(env["SAM2_E2E_OUT"]) / "result.json"
    assert result_file.exists(), f"QGIS exited {process.returncode} without a result:\n{stderr[-3000:]}"
    return json.loads(result_file.read_text()), stderr, hung, process.returncode


#: The README's screenshots, from the end-to-end test's: regenerated whenever the panel shows something else.
README_SCREENSHOTS = {
    "preview.png": "qgis-click-preview.png",
    "tuned.png": "qgis-fine-tuned.png",
    "predicted.png": "qgis-predicted.png",
}


def refresh_readme_screenshots(repo_root: Path, taken: Path, panel: list[str]) -> list[str]:
    """Copy the screenshots just ``taken`` over the README's when the panel (``panel``: what it shows, as text)
    differs from the one they show (docs/screenshots/panel.json); returns the files written (none: current)."""
    folder = repo_root / "docs" / "screenshots"
    recorded = folder / "panel.json"
    if recorded.exists() and json.loads(recorded.read_text()) == panel:
        return []
    for source, target in README_SCREENSHOTS.items():
        shutil.copyfile(taken / source, folder / target)
    recorded.write_text(json.dumps(panel, indent=1) + "\n")
    return [*README_SCREENSHOTS.values(), recorded.name]


def test_the_screenshots_are_refreshed_only_when_the_panel_changes(tmp_path) -> None:
    taken, repo = tmp_path / "taken", tmp_path / "repo"
    taken.mkdir()
    (repo / "docs" / "screenshots").mkdir(parents=True)
    for name in README_SCREENSHOTS:
        (taken / name).write_bytes(name.encode())
    assert refresh_readme_screenshots(repo, taken, ["tab Segment"])  # nothing recorded: written
    assert (repo / "docs" / "screenshots" / "qgis-fine-tuned.png").read_bytes() == b"tuned.png"
    assert refresh_readme_screenshots(repo, taken, ["tab Segment"]) == []  # the same panel: left alone
    assert refresh_readme_screenshots(repo, taken, ["tab Segment", "tab Learn"])  # changed: written again


@needs_desktop
def test_real_qgis_segments_fine_tunes_and_predicts_with_the_packaged_plugin(
    repo_root, tmp_path, engine_files, serve_folder
) -> None:
    profiles, out = tmp_path / "profiles", repo_root / ".cache" / "artifacts" / "e2e"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    _install_from_zip(repo_root, profiles)
    tiles = [sys.executable, "/usr/bin/gdal2tiles.py", "--xyz", "-z", "19-21", "-q", engine_files["raster"]]
    subprocess.run([*tiles, str(tmp_path / "tiles")], check=True, capture_output=True, timeout=300)
    env = {
        **os.environ,
        "SAM2_E2E_XYZ": serve_folder(tmp_path / "tiles"),  # the orthophoto as XYZ tiles from a web server
        "SAM2_E2E_RASTER": engine_files["raster"],
        "SAM2_E2E_LABELS": engine_files["labels"],
        "SAM2_E2E_WORK": str(tmp_path / "work"),
        "SAM2_E2E_CHECKPOINT": engine_files["checkpoint"],
        "SAM2_E2E_PYTHON": sys.executable,
        "SAM2_E2E_OUT": str(out),
    }
    result, stderr, hung, returncode = _run_qgis(profiles, HERE / "qgis_desktop_script.py", env)
    assert "error" not in result, result["error"]
    assert not hung, "QGIS did not quit (a dialog on exit?)"
    assert returncode == 0, stderr[-3000:]
    assert result["layer_valid"]
    assert result["layer_crs"] == "EPSG:32617"
    assert result["metadata"] == {"name": "SAM 2 Segmentation", "qgisMinimumVersion": "3.22", "icon": "icons/sam2.svg"}
    assert result["loaded"]
    assert result["started"]
    assert "&SAM 2" in result["menu_after_start"]
    assert result["dock_visible"]
    assert result["engine_checked"]  # Settings > Check the engine, then Use this checkpoint, as an analyst does
    assert result["model_loaded"]
    assert result["offer_after_engine_works"] is False  # no stale "no engine found. Install it now?" bar
    assert result["dock_overflow_px"] == 0  # the panel fits the dock QGIS gives it: nothing cut off at the right
    assert "tab Learn" in result["panel"]
    assert result["settings_cut_texts"] == []  # the Settings window shows all it says
    assert result["cut_texts"] == []  # no choice or status line cut off ("SAM 2.1 t", half a line)
    assert result["top_share"] <= 0.4, result["top_share"]  # the tabs get most of the dock at a 900 px window
    assert result["tool_active"]
    assert result["preview_empty"] is False
    assert result["output_features"] >= 1
    assert result["output_crs"] == "EPSG:32617"
    assert result["output_class"] == "tree"
    assert result["features_after_second_click"] == 1
    assert result["hover_shown"]  # resting the mouse over an encoded tile shows the outline
    assert "click to take this outline" in result["hover_status"]
    assert result["click_took_hover"]  # a click there takes it (no second decode)
    assert result["hover_cleared"]  # leaving the map clears it
    assert result["hover_longest_stall_ms"] <= HOVER_BLOCK_MS, result["hover_longest_stall_ms"]
    messages = result["accept_messages"]  # distinct texts shown: each accept says what changed (QGIS shows
    assert len(messages) >= 2, messages  # a repeated message once)
    assert all(result["output_name"] in m and "?" not in m for m in messages), messages  # the layer's name
    assert result["qgis_undo_listens"] == [[True, "Ctrl+Z"]]  # the conflict is real there
    assert result["after_first_undo"] == [0, 1]  # the pending click went, not QGIS's last edit
    assert result["features_after_undo"] == 0  # Ctrl+Z on the canvas took back the last accepted segment
    assert result["edits_saved"]
    assert result["find_button"] == "Find the rest (up to 1 min)"  # the budget, before it starts
    assert result["find_started"]
    assert result["find_finished"], result.get("find_result")
    assert result["find_candidates"] >= 2, result["find_result"]
    assert "from 12 examples and 0 background marks" in result["find_result"]
    assert result["review_label"].startswith(f"Candidate 1 of {result['find_candidates']}")
    assert result["classes_added"] == ["background", "tree"]  # rejected: background; accepted: the examples' class
    assert result["added_after_decisions"] == 2
    assert result["added_after_undo"] == 1  # Ctrl+Z on the canvas took the accept back
    assert result["index_after_undo"] == 1  # ... and its candidate is the current one again
    assert result["added_after_accepting_again"] == 2
    assert result["find_again_finished"]
    assert "from 13 examples and 1 background marks" in result["find_again_result"]
    assert result["find_again_examples"] == {"objects": 13, "objects_on_raster": 13, "background": 1}
    assert result["review_edits_saved"]
    assert result["suggest_started"]
    assert result["suggest_finished"], result["place_label"]
    assert 1 <= result["places"] <= 6
    assert result["place_label"].startswith(f"Place 1 of {result['places']}: the model cannot tell object from ")
    assert result["heat_layer"]
    if result["places"] > 1:
        assert result["next_place_label"].startswith(f"Place 2 of {result['places']}")
    assert result["places_renewed"]  # a fine-tuning's end proposed the places anew
    assert result["places_after_tuning"] >= 1, result["place_label_after_tuning"]
    assert result["training_started"]
    assert result["training_finished"], result["result_label"]
    assert "validation IoU" in result["result_label"]
    assert result["tuned_models"][0] == str(tmp_path / "work" / "run" / "best.pt")
    assert result["report_written"]
    assert result["xyz_preview_empty"] is False  # a click on the web layer segments
    assert result["xyz_source"] == "OSBS_029 as XYZ tiles"
    assert result["xyz_renders"] == 1
    assert result["tuned_after_restart"] == str(tmp_path / "work" / "run" / "best.pt")
    assert result["tuned_model_used"]
    assert result["engine_after_restart"] == "Engine: not checked yet"  # honest before it answers
    assert result["engine_with_tuned_model"].startswith("Engine: torch ")  # not "not connected" with a model
    assert [entry.split()[0] for entry in result["predicted_layers"]] == ["EPSG:32617", "EPSG:32617"]
    assert result["unloaded"]
    assert result["worker_ended"], "unloading must end the engine worker"
    assert "&SAM 2" not in result["menu_after_unload"]
    assert result["torch_loaded"] is False
    for name in ("dock.png", "preview.png", "accepted.png", "find_candidates.png", "find_reviewed.png",
                 "find_again.png", "label_next.png", "label_next_place2.png", "tuned.png",
                 "predicted.png"):  # fmt: skip
        assert (out / name).stat().st_size > 10_000
    regenerated = refresh_readme_screenshots(repo_root, out, result["panel"])
    assert not regenerated, (
        "the panel changed since the README's screenshots were taken: they were regenerated in "
        f"docs/screenshots ({', '.join(regenerated)}): look at them and commit them"
    )


@needs_desktop
def test_a_fresh_profile_installs_the_engine_from_the_offer_and_segments_a_click(
    repo_root, tmp_path, engine_files, linked_engine_wheels
) -> None:
    """Only the zip in a new profile, no engine anywhere: the message bar offers the install, its button runs it
    as a task (offline from a folder of wheels), and the first click segments with the new engine."""
    profiles, out = tmp_path / "profiles", repo_root / ".cache" / "artifacts" / "e2e-fresh"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    _install_from_zip(repo_root, profiles)
    env = {key: value for key, value in os.environ.items() if key != "SAM2_QGIS_PYTHON"}
    env.update(
        SAM2_E2E_RASTER=engine_files["raster"],
        SAM2_E2E_CHECKPOINT=engine_files["checkpoint"],
        SAM2_E2E_WHEELS=str(linked_engine_wheels),
        SAM2_E2E_OUT=str(out),
        SAM2_ENGINE_REQUIREMENTS=str(linked_engine_wheels / "requirements.txt"),
    )
    result, stderr, hung, returncode = _run_qgis(profiles, HERE / "qgis_fresh_profile_script.py", env)
    assert "error" not in result, result["error"]
    assert not hung, "QGIS did not quit (a dialog on exit?)"
    assert returncode == 0, stderr[-3000:]
    assert result["started"]
    assert result["engine_before"] == ""  # nothing found: no engine configured
    assert "no engine found" in result["offer"]
    assert result["install_started"]
    assert result["installed"]
    engine = profiles / "profiles" / "default" / "sam2_engine"
    assert result["engine_python"] == str(engine / "bin" / "python")  # the profile's own environment
    assert result["engine_ready"]
    assert any("the engine is installed" in message for message in result["messages"])
    assert "torch" in result["engine_label"]  # the panel checked the new engine and says what it has
    assert result["worker_python"] == result["engine_python"]
    assert result["preview"]
    assert result["features"] == 1
    assert result["unloaded"]
    for name in ("offer.png", "installed.png"):
        assert (out / name).stat().st_size > 10_000


@needs_desktop
def test_the_temporal_controller_steps_through_the_followed_years(repo_root, tmp_path, flights) -> None:
    """Three flights as polygon layers, followed from the panel, which sets QGIS's Temporal Controller to them; its
    frames then step through the flights, the map drawing one flight's state per frame. Its screenshot is the
    README's."""
    profiles, out = tmp_path / "profiles", repo_root / ".cache" / "artifacts" / "e2e-years"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    _install_from_zip(repo_root, profiles)
    env = {
        **os.environ,
        "SAM2_E2E_FLIGHTS": str(flights),
        "SAM2_E2E_PYTHON": sys.executable,
        "SAM2_E2E_WORK": str(tmp_path / "work"),
        "SAM2_E2E_OUT": str(out),
    }
    result, stderr, hung, returncode = _run_qgis(profiles, HERE / "qgis_years_script.py", env)
    assert "error" not in result, result["error"]
    assert not hung, "QGIS did not quit (a dialog on exit?)"
    assert returncode == 0, stderr[-3000:]
    assert result["started"]
    assert result["follow_started"]
    assert result["followed"]
    assert result["time_aware"]
    assert result["navigation"] == "QgsTemporalNavigationObject"
    assert result["animated"]  # Follow across years set the controller: a flight per frame, ready to step
    assert result["frame_years"] == 3
    steps = result["steps"][:3]  # from the eve of the first flight (2019-06-30) in steps of 3 years
    assert result["frames"] >= 3
    assert [step["from"] for step in steps] == ["2019-06-30", "2022-06-30", "2025-06-30"]
    assert all(step["map_is_temporal"] for step in steps)
    by_year = result["by_year"]
    assert [sum(step["shown"].values()) for step in steps] == [by_year["2019"], by_year["2022"], by_year["2025"]]
    assert set(steps[0]["shown"]) == {"new"}
    assert min(steps[1]["shown"].get(s, 0) for s in ("new", "gone", "unchanged")) > 0
    assert result["unloaded"]
    shot = out / "years.png"
    assert shot.stat().st_size > 10_000
    readme_copy = repo_root / "docs" / "screenshots" / "qgis-years.png"
    if not readme_copy.exists():
        shutil.copyfile(shot, readme_copy)
        pytest.fail(f"the README's Temporal Controller screenshot was missing: written to {readme_copy}; commit it")
