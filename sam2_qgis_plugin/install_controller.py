"""Installing the engine from the panel: engine_install.py run by QGIS's own Python in a background task, with
its progress, cancel (the next install continues) and QGIS's proxy; the installed environment then becomes the
engine's Python."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qgis.core import Qgis, QgsApplication, QgsSettings

from .i18n import tr
from .jobs import run_json_lines
from .settings import ENGINE_PYTHON

if TYPE_CHECKING:
    from collections.abc import Callable

    from .host import Messages
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

    def __init__(self, host: Messages, use_engine: Callable[[str], None]) -> None:
        self.host = host
        self.use_engine = use_engine  # make an installed Python the engine: the panel checks and shows it
        self.task: EngineTask | None = None

    def install(
        self, venv: Path | None = None, wheels: str | None = None, options: Sequence[str] = ()
    ) -> EngineTask | None:
        """Install into ``venv`` (default: the profile's sam2_engine), from PyPI or only from the folder of
        ``wheels``; ``options`` go to engine_install as they are."""
        if self.task is not None:
            self.host.report(tr("the engine is being installed already: wait for it or cancel it"))
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

        task = self.host.run_task("SAM 2: installing the engine", work, self.installed)
        task.taskTerminated.connect(self.ended)
        self.task = task
        return task

    def ended(self) -> None:
        self.task = None

    def installed(self, result: dict[str, Any]) -> None:
        """The new environment becomes the engine's Python."""
        self.task = None
        ENGINE_PYTHON.set_value(result["python"])
        self.use_engine(result["python"])  # the offer goes; the panel says what it has: torch, sam2, the device
        done = "installed" if result.get("installed") else "already installed"
        self.host.iface.messageBar().pushMessage(
            "SAM 2",
            tr("the engine is {done}: {python}").format(done=done, python=result["python"]),
            level=Qgis.MessageLevel.Success,
            duration=10,
        )


def run_installer(command: list[str], task: EngineTask) -> dict[str, Any]:
    """Run engine_install in ``task``: its progress shown, ``cancel`` on its stdin when the task is cancelled
    (the engine jobs' contract, jobs.run_json_lines)."""

    def progress(percent: float, event: dict[str, Any]) -> None:
        task.setProgress(percent)
        task.setDescription(tr("SAM 2: installing the engine: {stage}").format(stage=event.get("stage", "")))

    environment = {**os.environ, "PYTHONPATH": str(PACKAGE_PARENT)}
    return run_json_lines(command, "engine install", progress, task.isCanceled, cwd=PACKAGE_PARENT, env=environment)


__all__ = ["InstallController", "default_engine_folder", "installer_python", "qgis_proxy", "run_installer"]
