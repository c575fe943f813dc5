"""Plugin tests run in a process with QGIS (pytest-qgis, offscreen) and never import torch or sam2.

The engine runs as a worker process with this test run's interpreter (the project's .venv); the tiny
model and the sample imagery come from the engine's command line, so this process stays torch-free.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def engine_files(repo_root: Path) -> dict[str, str]:
    def core(*args: str) -> dict[str, str]:
        done = subprocess.run(
            [sys.executable, "-m", "core", *args],
            cwd=repo_root,
            capture_output=True,
            text=True,
            check=True,
            timeout=600,
        )
        return json.loads(done.stdout)

    return {"checkpoint": core("weights", "init")["checkpoint"], "raster": core("sample-data")["osbs_image"]}
