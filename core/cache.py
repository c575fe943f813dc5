"""Where the engine keeps downloaded and generated files (weights, sample data, random-init models)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

CACHE_ENV = "SAM2_QGIS_CACHE"


def cache_root() -> Path:
    """The cache folder: $SAM2_QGIS_CACHE, else the platform's user cache folder + 'sam2-qgis'.

    Linux: $XDG_CACHE_HOME or ~/.cache; macOS: ~/Library/Caches; Windows: %LOCALAPPDATA%.
    """
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "sam2-qgis"


def cache_dir(*parts: str) -> Path:
    """A sub-folder of the cache root, created if missing."""
    path = cache_root().joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path
