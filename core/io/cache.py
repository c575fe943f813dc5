"""Where the engine keeps downloaded and generated files (weights, sample data, random-init models)."""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

from core.io.atomic import atomic_output, sha256_file

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


def sha256_of_file(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file, remembered in the cache by its resolved path, size, modification time and inode (a
    file replaced by an atomic rename is a new inode): a model of a gigabyte is hashed once, not at every load."""
    path = Path(path)
    stat = path.stat()
    identity = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{stat.st_ino}"
    memo = cache_dir("digests") / f"{hashlib.sha256(identity.encode()).hexdigest()}.sha256"
    try:
        known = memo.read_text().strip()
        if len(known) == 64:
            return known
    except OSError:
        pass
    digest = sha256_file(path)
    try:
        with atomic_output(memo) as tmp:
            tmp.write_text(digest)
    except OSError:
        pass  # a read-only cache only costs the next load a hash
    return digest
