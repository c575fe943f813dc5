#!/usr/bin/env python3
"""Build the installable plugin zip: dist/sam2_qgis_plugin-<version>.zip.

It holds ``sam2_qgis_plugin/`` with ``metadata.txt`` (from the top level, the source of truth) and the
engine package ``core/`` inside it, where the worker (``python -m core worker``, run in the plugin folder)
imports it. Sources only: no caches, nothing compiled, and no development tools (synthetic scenes, the demo,
the sample-data fetcher), which stay runnable from the repository.
"""

from __future__ import annotations

import configparser
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLUGIN = "sam2_qgis_plugin"
SKIP_PARTS = {"__pycache__", ".mypy_cache", ".pytest_cache"}
SKIP_SUFFIXES = {".pyc", ".pyo", ".so", ".pyd"}
DEVELOPMENT_TOOLS = ("synthetic", "demo.py", "sample_data.py")  # under core/: not part of the product


def version() -> str:
    parser = configparser.ConfigParser()
    parser.read(ROOT / "metadata.txt")
    return parser["general"]["version"]


def files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and not SKIP_PARTS & set(p.parts) and p.suffix not in SKIP_SUFFIXES and p.name != "metadata.txt"
    )


def build(out_dir: Path = ROOT / "dist") -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{PLUGIN}-{version()}.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files(ROOT / PLUGIN):
            archive.write(path, f"{PLUGIN}/{path.relative_to(ROOT / PLUGIN)}")
        for path in files(ROOT / "core"):
            if path.relative_to(ROOT / "core").parts[0] in DEVELOPMENT_TOOLS:
                continue
            archive.write(path, f"{PLUGIN}/core/{path.relative_to(ROOT / 'core')}")
        archive.write(ROOT / "metadata.txt", f"{PLUGIN}/metadata.txt")
    return target


if __name__ == "__main__":
    print(build(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "dist"))
