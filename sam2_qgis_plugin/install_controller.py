"""Installing the engine from the panel: engine_install.py run by QGIS's own Python in a background task, with
its progress, cancel (the next install continues) and QGIS's proxy; the installed environment then becomes the
engine's Python."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qgis.core import Qgis, QgsApplication, QgsSettings

from .engine import NO_WINDOW, SETTINGS_KEY

if TYPE_CHECKING:
    from .plugin import Sam2Plugin
    from .tasks import EngineTask

PACKAGE_PARENT = Path(__file__).resolve().parent.parent  # where ``-m sam2_qgis_plugin.engine_install`` resolves


def default_engine_folder() -> Path:
    """Where the engine's environment goes unless the analyst chooses: a folder of the QGIS profile."""
    return Path(QgsApplication.qgisSettingsDirPath()) / "sam2_engine"


def installer_python() -> str:
    """A Python that can make virtual environments: QGIS's own (``sys.executable`` is QGIS itself on Windows
    and macOS, whose Python lives under ``sys.prefix``)."""
    name = Path(sys.executable).name.lower()
    if name.startswith("python"):
        return sys.executable
    for candidate in (Path(sys.prefix) / "python.exe", Path(sys.prefix) / "bin" / "python3", Path("/usr/bin/python3")):
        if candidate.exists():
            return str(candidate)
    return sys.executable


def qgis_proxy() -> str | None:
    """QGIS's HTTP proxy (Settings > Options > Network) as pip takes it, or None."""
    settings = QgsSettings()
    if str(settings.value("proxy/proxyEnabled", "false")).lower() != "true":
        return None
    host, port = settings.value("proxy/proxyHost", ""), settings.value("proxy/proxyPort", "")
    user, password = settings.value("proxy/proxyUser", ""), settings.value("proxy/proxyPassword", "")
    if not host:
        return None
    credentials = f"{user}:{password}@" if user else ""
    return f"http://{credentials}{host}{f':{port}' if port else ''}"


class InstallController:
    """One engine install at a time, started from the settings dialog."""

    def __init__(self, plugin: Sam2Plugin) -> None:
        self.plugin = plugin
        self.task: EngineTask | None = None

    def install(
        self, venv: Path | None = None, wheels: str | None = None, options: Sequence[str] = ()
    ) -> EngineTask | None:
        """Install into ``venv`` (default: the profile's sam2_engine), from PyPI or only from the folder of
        ``wheels``; ``options`` go to engine_install as they are."""
        if self.task is not None:
            self.plugin.report("the engine is being installed already: wait for it or cancel it")
            return None
        venv = venv or default_engine_folder()
        command = [installer_python(), "-m", "sam2_qgis_plugin.engine_install", "--venv", str(venv)]
        if wheels:
            command += ["--find-links", wheels, "--no-index"]
        proxy = qgis_proxy()
        if proxy:
            command += ["--proxy", proxy]
        command += list(options)

        def work(task: EngineTask) -> dict[str, Any]:
            return run_installer(command, task)

        task = self.plugin.run_task("SAM 2: installing the engine", work, self.installed)
        task.taskTerminated.connect(self.ended)
        self.task = task
        return task

    def ended(self) -> None:
        self.task = None

    def installed(self, result: dict[str, Any]) -> None:
        """The new environment becomes the engine's Python."""
        self.task = None
        QgsSettings().setValue(SETTINGS_KEY, result["python"])
        if self.plugin.dock is not None:
            self.plugin.dock.python_widget.setFilePath(result["python"])
        done = "installed" if result.get("installed") else "already installed"
        self.plugin.iface.messageBar().pushMessage(
            "SAM 2", f"the engine is {done}: {result['python']}", level=Qgis.MessageLevel.Success, duration=10
        )


def run_installer(command: list[str], task: EngineTask) -> dict[str, Any]:
    """Run engine_install, following its events; ``cancel`` on its stdin when the task is cancelled."""
    process = subprocess.Popen(
        command, cwd=PACKAGE_PARENT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        text=True, encoding="utf-8", errors="replace", creationflags=NO_WINDOW,
        env={**os.environ, "PYTHONPATH": str(PACKAGE_PARENT)},
    )  # fmt: skip
    finished = threading.Event()

    def watch() -> None:
        while not finished.wait(0.2):
            if task.isCanceled():
                try:
                    assert process.stdin is not None
                    process.stdin.write("cancel\n")
                    process.stdin.flush()
                except (OSError, ValueError):
                    pass
                return

    threading.Thread(target=watch, daemon=True).start()
    ending: dict[str, Any] = {}
    assert process.stdout is not None
    for line in process.stdout:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if event.get("event") == "progress":
            task.setProgress(100 * float(event.get("fraction", 0)))
            task.setDescription(f"SAM 2: installing the engine: {event.get('stage', '')}")
        elif event.get("event") in ("result", "error"):
            ending = event
    process.wait()
    finished.set()
    for pipe in (process.stdin, process.stdout):
        if pipe is not None:
            pipe.close()
    if ending.get("event") == "result":
        return ending
    if ending.get("cancelled"):
        raise InterruptedError(ending.get("message", "the engine install was cancelled"))
    from .engine import EngineError

    raise EngineError("InstallFailed", str(ending.get("message", f"the installer ended ({process.returncode})")), True)


__all__ = ["InstallController", "default_engine_folder", "installer_python", "qgis_proxy", "run_installer"]
