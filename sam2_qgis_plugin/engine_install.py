"""Install the engine into its own virtual environment, from the plugin: no terminal, no torch inside QGIS.

Qt-free (the standard library only), so that the panel's task, support staff and tests run the same code:

    python3 -m sam2_qgis_plugin.engine_install --venv DIR [--find-links DIR --no-index] [--device auto|cpu|cuda]

It creates ``DIR`` with the running Python's ``venv``, installs the pinned engine requirements
(``engine_requirements.txt``, or the file $SAM2_ENGINE_REQUIREMENTS names: a site's own pins or mirror) with pip:
torch's CUDA build where an NVIDIA GPU answers, PyPI's (with MPS) on Apple silicon, else its CPU build
(``--device`` chooses instead of ``auto``), checks that ``DIR``'s Python can start the engine, and only then writes
``DIR/.sam2-engine-ready`` with the digest of what was installed. A second run with the same plan finds the marker
and returns at once; a cancelled or failed run never writes it, and the next run continues (pip skips what is
already there). Progress is printed as JSON lines (``progress`` with ``done``/``total`` packages, then ``result``
or ``error``); exit 0 when the engine can run, 2 on an error the analyst can fix (no network, an unwritable
folder), 130 when cancelled.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .folders import writable_folder

REQUIREMENTS = Path(__file__).with_name("engine_requirements.txt")
#: A requirements file that replaces ours, for sites that pin their own builds or mirror them (support staff).
REQUIREMENTS_ENV = "SAM2_ENGINE_REQUIREMENTS"
READY = ".sam2-engine-ready"
CPU_TORCH_INDEX = "https://download.pytorch.org/whl/cpu"  # Linux's PyPI torch is the CUDA build: GBs more
CUDA_TORCH_INDEX = "https://download.pytorch.org/whl/cu128"  # Windows' PyPI torch is the CPU build
TORCH_BUILDS = ("auto", "cpu", "cuda", "mps")  # which torch wheels to install (not where it runs)
#: What ``DIR``'s Python must import for the engine to run.
ENGINE_CHECK = (
    "import torch, torchvision, sam2, hydra, rasterio, pyogrio, shapely, yaml, numpy; print(torch.__version__)"
)
COLLECTING = re.compile(r"^(Collecting|Processing|Requirement already satisfied:)\s+(\S+)")
DOWNLOADING = re.compile(r"^Downloading\s+(\S+)\s+\(([\d.]+)\s*(bytes|kB|MB|GB)\)")
UNITS = {"bytes": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9}
DEPENDENCIES_PER_REQUIREMENT = 3  # the engine's 15 pins become about 35 packages (CPU torch) to 51 (CUDA)

Events = Callable[[dict[str, Any]], None]


class InstallError(Exception):
    """The install cannot go on; the message says why and what to do."""


class InstallCancelledError(Exception):
    """Cancelled: nothing is marked ready; the next run continues."""


@dataclass(frozen=True)
class InstallPlan:
    """What to install where: ``requirements`` (pip specifiers) into ``venv`` from PyPI or ``find_links``
    (``no_index``: from them only), torch for ``device``, through ``proxy``; ``check`` is the Python code that
    must run in the new environment."""

    venv: Path
    requirements: tuple[str, ...]
    find_links: tuple[str, ...] = ()
    no_index: bool = False
    device: str = "cpu"
    proxy: str | None = None
    check: str = ENGINE_CHECK
    system_site_packages: bool = False  # the engine's own packages only: QGIS's Python has other versions
    python_version: str = field(default_factory=lambda: ".".join(map(str, sys.version_info[:2])))

    def digest(self) -> str:
        """Changes whenever a different environment would be installed (not with the proxy)."""
        content = {k: v for k, v in asdict(self).items() if k not in ("venv", "proxy")}
        return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()

    def python(self) -> Path:
        """The environment's interpreter (Windows and POSIX layouts)."""
        windows = self.venv / "Scripts" / "python.exe"
        return windows if os.name == "nt" else self.venv / "bin" / "python"

    def pip_command(self) -> list[str]:
        command = [str(self.python()), "-m", "pip", "install", "--disable-pip-version-check", "--progress-bar", "off"]
        for folder in self.find_links:
            command += ["--find-links", folder]
        if self.no_index:
            command.append("--no-index")
        elif self.device == "cpu":
            command += ["--extra-index-url", CPU_TORCH_INDEX]
        elif self.device == "cuda" and sys.platform == "win32":
            command += ["--extra-index-url", CUDA_TORCH_INDEX]
        if self.proxy:
            command += ["--proxy", self.proxy]
        return command + list(self.requirements)


def detect_device() -> str:
    """``cuda`` where an NVIDIA driver lists a GPU (``nvidia-smi -L``), ``mps`` on Apple silicon, else ``cpu``."""
    if sys.platform == "darwin" and platform.machine() == "arm64":
        return "mps"
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return "cpu"
    try:
        listed = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return "cpu"
    return "cuda" if listed.returncode == 0 and "GPU" in listed.stdout else "cpu"


def requirements_file() -> Path:
    """Ours, or the file $SAM2_ENGINE_REQUIREMENTS names."""
    return Path(os.environ.get(REQUIREMENTS_ENV) or REQUIREMENTS)


def engine_requirements(path: Path = REQUIREMENTS) -> tuple[str, ...]:
    """The pinned requirements, comments and blank lines left out."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return tuple(line for line in lines if line)


def is_ready(plan: InstallPlan) -> bool:
    """Whether ``plan`` was installed completely before (its digest in the marker, its Python there)."""
    marker = plan.venv / READY
    try:
        return plan.python().exists() and json.loads(marker.read_text())["digest"] == plan.digest()
    except (OSError, ValueError, KeyError):
        return False


def check_writable(folder: Path) -> None:
    reason = writable_folder(folder)
    if reason is not None:
        raise InstallError(f"cannot write {folder} ({reason}): choose a folder you can write for the engine")


def install(plan: InstallPlan, events: Events, cancelled: Callable[[], bool] = lambda: False) -> dict[str, Any]:
    """Make ``plan.venv`` an environment that runs the engine; returns its Python and whether anything was
    installed. InstallError, InstallCancelledError otherwise (the environment is then never marked ready)."""
    if is_ready(plan):
        events({"event": "progress", "fraction": 1.0, "stage": "the engine is installed already"})
        return {"python": str(plan.python()), "installed": False}
    check_writable(plan.venv)
    if not plan.python().exists():
        events({"event": "progress", "fraction": 0.0, "stage": "creating the environment"})
        system = ["--system-site-packages"] if plan.system_site_packages else []
        made = subprocess.run([sys.executable, "-m", "venv", *system, str(plan.venv)], capture_output=True, text=True)
        if made.returncode != 0:
            raise InstallError(f"cannot create a Python environment in {plan.venv}: {made.stderr.strip()[-400:]}")
    _run_pip(plan, events, cancelled)
    events({"event": "progress", "fraction": 0.99, "stage": "checking the engine"})
    checked = subprocess.run([str(plan.python()), "-c", plan.check], capture_output=True, text=True)
    if checked.returncode != 0:
        last = (checked.stderr.strip().splitlines() or ["no message"])[-1]
        raise InstallError(f"the packages are installed but the engine cannot start ({last}); run the install again")
    marker = plan.venv / f"{READY}.tmp"
    marker.write_text(json.dumps({"digest": plan.digest(), "check": checked.stdout.strip()}))
    marker.replace(plan.venv / READY)
    events({"event": "progress", "fraction": 1.0, "stage": "the engine is installed"})
    return {"python": str(plan.python()), "installed": True}


def _run_pip(plan: InstallPlan, events: Events, cancelled: Callable[[], bool]) -> None:
    """pip install, reporting each package it takes up and each download; stopped when ``cancelled()`` turns
    true. The fraction: up to 0.7 while pip collects and downloads (about DEPENDENCIES_PER_REQUIREMENT packages
    per requirement are expected), 0.75 once it installs (install() then checks the engine at 0.99)."""
    expected = max(1, DEPENDENCIES_PER_REQUIREMENT * len(plan.requirements))
    process = subprocess.Popen(
        plan.pip_command(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, encoding="utf-8",
        errors="replace",
    )  # fmt: skip
    stop = threading.Event()

    def watch() -> None:
        while process.poll() is None and not stop.wait(0.2):
            if cancelled():
                process.terminate()
                return

    threading.Thread(target=watch, daemon=True).start()
    seen: list[str] = []
    tail: list[str] = []
    downloaded = 0  # bytes of the downloads pip has started (each is done when the next line comes)
    assert process.stdout is not None
    for raw in process.stdout:
        line = raw.strip()
        tail = [*tail[-20:], line]
        found, download = COLLECTING.match(line), DOWNLOADING.match(line)
        if line.startswith("Installing collected packages:"):
            count = line.count(",") + 1
            packages = "1 package" if count == 1 else f"{count} packages"
            stage, fraction = f"installing {packages} (the largest take minutes)", 0.75
        elif (match := download or found) is not None:
            name = package_name(match.group(1 if match is download else 2))
            if name not in seen:
                seen.append(name)
            if download:
                size = float(download.group(2)) * UNITS[download.group(3)]
                downloaded += int(size)
                stage = f"downloading {name} ({size / 1e6:.1f} MB)"
            else:
                stage = f"collecting {name}"
            fraction = 0.7 * min(len(seen) / expected, 0.98)
        else:
            continue
        events({"event": "progress", "fraction": fraction, "stage": stage, "done": len(seen),
                "total": max(expected, len(seen)), "bytes": downloaded})  # fmt: skip
    process.wait()
    stop.set()
    if cancelled():
        raise InstallCancelledError("the engine install was cancelled: run it again to continue where it stopped")
    if process.returncode != 0:
        reason = next((line for line in reversed(tail) if line.startswith("ERROR")), tail[-1] if tail else "")
        raise InstallError(
            f"pip could not install the engine ({reason}); check the network or proxy (or use --find-links with a "
            "folder of wheels) and run the install again: it continues where it stopped"
        )


def package_name(token: str) -> str:
    """``torch`` from what pip names: ``torch==2.14.1``, ``torch>=2`` or a wheel's path."""
    if token.endswith((".whl", ".tar.gz", ".zip")):
        return Path(token).name.split("-")[0].lower()
    return re.split(r"[=<>!~\[;]", token, maxsplit=1)[0].lower()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m sam2_qgis_plugin.engine_install", description=__doc__)
    parser.add_argument("--venv", type=Path, required=True, help="the environment's folder (created if needed)")
    parser.add_argument("--find-links", action="append", default=[], help="a folder of wheels (repeatable)")
    parser.add_argument("--no-index", action="store_true", help="install from --find-links only (offline)")
    parser.add_argument(
        "--device", choices=TORCH_BUILDS, default="auto", help="torch build (auto: cuda with an NVIDIA GPU, else cpu)"
    )
    parser.add_argument("--proxy", default=None, help="http(s) proxy for pip, e.g. QGIS's")
    parser.add_argument("--requirement", action="append", default=None, help="instead of the engine's (tests)")
    parser.add_argument("--check", default=ENGINE_CHECK, help="Python code that must run in the environment")
    args = parser.parse_args(argv)
    plan = InstallPlan(
        args.venv.resolve(),
        tuple(args.requirement) if args.requirement else engine_requirements(requirements_file()),
        tuple(args.find_links),
        args.no_index,
        detect_device() if args.device == "auto" else args.device,
        args.proxy,
        args.check,
    )
    cancel = threading.Event()

    def read_cancel() -> None:  # a line "cancel" on stdin, as for the engine's jobs
        for line in sys.stdin:
            if line.strip() == "cancel":
                cancel.set()

    threading.Thread(target=read_cancel, daemon=True).start()
    emit = lambda event: print(json.dumps(event), flush=True)  # noqa: E731
    try:
        emit({"event": "result", **install(plan, emit, cancel.is_set)})
        return 0
    except InstallCancelledError as error:
        emit({"event": "error", "message": str(error), "expected": True, "cancelled": True})
        return 130
    except InstallError as error:
        emit({"event": "error", "message": str(error), "expected": True, "cancelled": False})
        return 2


if __name__ == "__main__":
    sys.exit(main())
