"""The engine installer (sam2_qgis_plugin/engine_install.py) from a local folder of wheels, offline: it creates the
environment, reports each package, marks it ready only when the check runs, does nothing the second time,
continues after a cancel and refuses a folder it cannot write."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sam2_qgis_plugin.engine_install import (
    READY,
    InstallCancelledError,
    InstallError,
    InstallPlan,
    engine_requirements,
    install,
    is_ready,
)
from tests.conftest import write_wheel

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheels(tmp_path_factory) -> Path:
    """A folder holding one small wheel, ``tinyengine 1.0`` (what pip installs offline here)."""
    folder = tmp_path_factory.mktemp("wheels")
    write_wheel(folder, "tinyengine", "1.0", {"tinyengine/__init__.py": "VERSION = '1.0'\n"})
    return folder


def plan(venv: Path, wheels: Path, check: str = "import tinyengine; print(tinyengine.VERSION)") -> InstallPlan:
    return InstallPlan(venv, ("tinyengine==1.0",), (str(wheels),), no_index=True, check=check)


def test_an_environment_is_made_checked_and_marked_ready_then_left_alone(wheels, tmp_path) -> None:
    events: list[dict] = []
    target = plan(tmp_path / "engine", wheels)
    result = install(target, events.append)
    assert result == {"python": str(target.python()), "installed": True}
    assert any(e.get("stage") == "collecting tinyengine" and e["done"] == 1 for e in events)
    assert any(e.get("stage", "").startswith("installing 1 package ") for e in events)
    fractions = [e["fraction"] for e in events if "fraction" in e]
    assert fractions == sorted(fractions)  # the bar only moves forward
    assert fractions[-1] == 1.0
    assert is_ready(target)
    ran = subprocess.run([str(target.python()), "-c", "import tinyengine"], capture_output=True)
    assert ran.returncode == 0
    again: list[dict] = []
    assert install(target, again.append)["installed"] is False  # the same plan: nothing to do
    assert [e["stage"] for e in again] == ["the engine is installed already"]


def test_a_cancelled_install_is_not_ready_and_the_next_run_finishes_it(wheels, tmp_path) -> None:
    target = plan(tmp_path / "engine", wheels)
    with pytest.raises(InstallCancelledError, match="run it again to continue"):
        install(target, lambda event: None, cancelled=lambda: True)
    assert not (target.venv / READY).exists()
    assert install(target, lambda event: None)["installed"] is True


def test_a_failing_check_never_marks_the_environment_ready(wheels, tmp_path) -> None:
    target = plan(tmp_path / "engine", wheels, check="import torch_that_is_not_there")
    with pytest.raises(InstallError, match="the engine cannot start"):
        install(target, lambda event: None)
    assert not is_ready(target)


def test_missing_packages_offline_say_what_to_do(wheels, tmp_path) -> None:
    target = InstallPlan(tmp_path / "engine", ("not-a-package==9",), (str(wheels),), no_index=True)
    with pytest.raises(InstallError, match="check the network or proxy"):
        install(target, lambda event: None)
    assert not is_ready(target)


def test_an_unwritable_folder_is_refused(wheels, tmp_path) -> None:
    blocker = tmp_path / "a file"
    blocker.write_text("")
    with pytest.raises(InstallError, match="choose a folder you can write"):
        install(plan(blocker / "engine", wheels), lambda event: None)


def test_the_command_line_streams_progress_and_exits_0(wheels, tmp_path, repo_root) -> None:
    venv = tmp_path / "engine"
    done = subprocess.run(
        [sys.executable, "-m", "sam2_qgis_plugin.engine_install", "--venv", str(venv), "--find-links", str(wheels),
         "--no-index", "--requirement", "tinyengine==1.0", "--check", "import tinyengine"],
        cwd=repo_root, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(repo_root)},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert events[-1]["event"] == "result"
    assert events[-1]["installed"] is True


def test_the_engine_requirements_are_pinned() -> None:
    requirements = engine_requirements()
    assert "rf-sam-2==1.0.3" in requirements
    assert all("==" in requirement for requirement in requirements)


def test_the_panel_installs_the_engine_in_a_task_and_uses_it(qgis_iface, qgis_app, wheels, tmp_path, qtbot) -> None:
    from qgis.core import Qgis, QgsSettings
    from qgis.PyQt.QtCore import QEvent

    import sam2_qgis_plugin
    from sam2_qgis_plugin.settings import ENGINE_PYTHON

    plugin = sam2_qgis_plugin.classFactory(qgis_iface)
    plugin.initGui()
    before = QgsSettings().value(ENGINE_PYTHON.key)
    try:
        bar = qgis_iface.messageBar()
        bar.clear_messages()
        venv = tmp_path / "engine"
        task = plugin.engine.installing.install(
            venv, str(wheels), ["--requirement", "tinyengine==1.0", "--check", "import tinyengine"]
        )
        assert task is not None
        qtbot.waitUntil(lambda: plugin.engine.installing.task is None, timeout=300_000)
        expected = str(plan(venv, wheels).python())
        assert plugin.dock.engine.python_widget.filePath() == expected  # the new environment is the engine now
        assert QgsSettings().value(ENGINE_PYTHON.key) == expected
        assert any("the engine is installed" in m for m in bar.get_messages(Qgis.Success))
        assert (venv / READY).exists()
    finally:
        plugin.unload()
        qgis_app.sendPostedEvents(None, QEvent.DeferredDelete)
        QgsSettings().setValue(ENGINE_PYTHON.key, before or "")


def stand_in_nvidia_smi(folder: Path, output: str, code: int = 0) -> str:
    """A folder holding an ``nvidia-smi`` that prints ``output`` and exits ``code`` (what the driver's does),
    to put first on PATH."""
    folder.mkdir(exist_ok=True)
    script = folder / "nvidia-smi"
    script.write_text(f"#!/bin/sh\necho '{output}'\nexit {code}\n")
    script.chmod(0o755)
    return f"{folder}{os.pathsep}{os.environ['PATH']}"


@pytest.mark.skipif(sys.platform != "linux", reason="a shell-script nvidia-smi")
def test_an_nvidia_gpu_gets_the_cuda_build_and_no_gpu_the_cpu_build(tmp_path, monkeypatch) -> None:
    from sam2_qgis_plugin.engine_install import CPU_TORCH_INDEX, detect_device

    monkeypatch.setenv("PATH", stand_in_nvidia_smi(tmp_path / "gpu", "GPU 0: NVIDIA H200 (UUID: GPU-1234)"))
    assert detect_device() == "cuda"
    cuda = InstallPlan(tmp_path / "e", ("torch==2.14.1",), device="cuda").pip_command()
    assert CPU_TORCH_INDEX not in cuda  # Linux's PyPI torch is the CUDA build
    monkeypatch.setenv("PATH", stand_in_nvidia_smi(tmp_path / "no-driver", "NVIDIA-SMI has failed", code=9))
    assert detect_device() == "cpu"
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert detect_device() == "cpu"
    cpu = InstallPlan(tmp_path / "e", ("torch==2.14.1",), device="cpu").pip_command()
    assert cpu[cpu.index("--extra-index-url") + 1] == CPU_TORCH_INDEX


def test_a_site_requirements_file_replaces_ours(wheels, tmp_path, repo_root) -> None:
    site = tmp_path / "site-requirements.txt"
    site.write_text("# our mirror's build\ntinyengine==1.0\n")
    venv = tmp_path / "engine"
    done = subprocess.run(
        [sys.executable, "-m", "sam2_qgis_plugin.engine_install", "--venv", str(venv), "--find-links", str(wheels),
         "--no-index", "--check", "import tinyengine"],
        cwd=repo_root, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(repo_root), "SAM2_ENGINE_REQUIREMENTS": str(site)},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout.splitlines()[-1])["installed"] is True
    assert (venv / READY).exists()


def test_without_an_engine_the_panel_offers_the_install_and_its_button_installs_a_working_engine(
    qgis_iface, qgis_app, linked_engine_wheels, tmp_path, qtbot, monkeypatch
) -> None:
    from qgis.core import QgsSettings
    from qgis.PyQt.QtCore import QEvent
    from qgis.PyQt.QtWidgets import QPushButton

    import sam2_qgis_plugin
    import sam2_qgis_plugin.engine_controller as engine_controller
    import sam2_qgis_plugin.install_controller as install_controller
    from sam2_qgis_plugin.engine import probe
    from sam2_qgis_plugin.settings import ENGINE_PYTHON

    monkeypatch.setattr(engine_controller, "candidate_pythons", lambda configured=None: [])  # as on a fresh machine
    venv = tmp_path / "profile" / "sam2_engine"
    monkeypatch.setattr(install_controller, "default_engine_folder", lambda: venv)
    monkeypatch.setenv("SAM2_ENGINE_REQUIREMENTS", str(linked_engine_wheels / "requirements.txt"))
    before = QgsSettings().value(ENGINE_PYTHON.key)
    plugin = sam2_qgis_plugin.classFactory(qgis_iface)
    plugin.initGui()
    try:
        offer = plugin.engine.install_offer
        assert offer is not None
        assert "no engine found" in offer.text()
        plugin.dock.engine.settings.wheels_widget.setFilePath(str(linked_engine_wheels))  # offline: a folder of wheels
        offer.findChild(QPushButton, "sam2_install_engine").click()
        assert plugin.engine.install_offer is None  # taken down: the task shows the progress now
        assert plugin.engine.installing.task is not None
        qtbot.waitUntil(lambda: plugin.engine.installing.task is None, timeout=300_000)
        python = plugin.dock.engine.python_widget.filePath()
        assert python == str(venv / "bin" / "python")
        assert (venv / READY).exists()
        assert probe(python).versions["torch"]  # the installed environment runs the engine's own check
    finally:
        plugin.unload()
        qgis_app.sendPostedEvents(None, QEvent.DeferredDelete)
        QgsSettings().setValue(ENGINE_PYTHON.key, before or "")


def test_a_successful_check_of_the_engine_takes_the_install_offer_down(
    qgis_iface, qgis_app, qtbot, monkeypatch
) -> None:
    """No engine found at start: the offer shows; the analyst then points Settings at a working Python and presses
    Check the engine: the offer must not stay up once an engine answered."""
    import sys

    from qgis.core import QgsSettings
    from qgis.PyQt.QtCore import QEvent

    import sam2_qgis_plugin
    import sam2_qgis_plugin.engine_controller as engine_controller
    from sam2_qgis_plugin.settings import ENGINE_PYTHON

    monkeypatch.setattr(engine_controller, "candidate_pythons", lambda configured=None: [])  # as on a fresh machine
    before = QgsSettings().value(ENGINE_PYTHON.key)
    plugin = sam2_qgis_plugin.classFactory(qgis_iface)
    plugin.initGui()
    try:
        assert plugin.engine.install_offer is not None
        assert plugin.dock.engine.engine_label.text() == "Engine: none found (Settings... > Install engine)"
        plugin.dock.engine.python_widget.setFilePath(sys.executable)  # this venv: torch and sam2
        plugin.dock.engine.check_button.click()
        qtbot.waitUntil(lambda: "torch" in plugin.dock.engine.engine_label.text(), timeout=120_000)
        assert plugin.engine.install_offer is None
        label = plugin.dock.engine.engine_label
        assert "cached in" not in label.text()  # one short line in the panel: a path cannot wrap in a narrow dock
        assert "cached in" in label.toolTip()  # everything else on hover and in Settings
    finally:
        plugin.unload()
        qgis_app.sendPostedEvents(None, QEvent.DeferredDelete)
        QgsSettings().setValue(ENGINE_PYTHON.key, before or "")


def test_downloads_are_reported_in_bytes(wheels, tmp_path, serve_folder) -> None:
    """From a wheel index served over HTTP (127.0.0.1), as from PyPI: the progress says what is downloaded."""
    events: list[dict] = []
    index = serve_folder(wheels)  # its folder listing is a page of links, which pip's --find-links reads
    install(InstallPlan(tmp_path / "engine", ("tinyengine==1.0",), (index,), no_index=True, check="import tinyengine"),
            events.append)  # fmt: skip
    downloads = [event for event in events if event.get("stage", "").startswith("downloading tinyengine")]
    assert downloads, events
    wheel_size = (wheels / "tinyengine-1.0-py3-none-any.whl").stat().st_size
    assert abs(downloads[-1]["bytes"] - wheel_size) <= max(100, wheel_size * 0.1)  # pip rounds (e.g. "1.1 kB")
