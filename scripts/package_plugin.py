#!/usr/bin/env python3
"""Build the installable plugin zip: dist/sam2_qgis_plugin-<version>.zip.

It holds ``sam2_qgis_plugin/`` with ``metadata.txt`` (from the top level, the source of truth) and the
engine package ``core/`` inside it, where the worker (``python -m core worker``, run in the plugin folder)
imports it. Sources only: no caches, nothing compiled, and no development tools (synthetic scenes, the demo,
the sample-data fetcher), which stay runnable from the repository. The licence goes in too, and the metadata is
checked against the rules of the QGIS plugin repository first: a package it would refuse is not built.
"""

from __future__ import annotations

import configparser
import re
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLUGIN = "sam2_qgis_plugin"
SKIP_PARTS = {"__pycache__", ".mypy_cache", ".pytest_cache"}
SKIP_SUFFIXES = {".pyc", ".pyo", ".so", ".pyd"}
DEVELOPMENT_TOOLS = ("devtools",)  # under core/: not part of the product


#: What plugins.qgis.org requires of metadata.txt (and what QGIS 4 needs to show the plugin at all).
REQUIRED = ("name", "qgisMinimumVersion", "description", "about", "version", "author", "email", "repository")
RECOMMENDED = ("tracker", "homepage", "changelog", "qgisMaximumVersion", "supportsQt6", "hasProcessingProvider")


def metadata(path: Path = ROOT / "metadata.txt") -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive (qgisMinimumVersion)
    parser.read(path, encoding="utf-8")
    return parser["general"]


def problems(general: configparser.SectionProxy, root: Path = ROOT) -> list[str]:
    """Why the plugin repository (or QGIS 4) would refuse this package; empty when it is fit to upload."""
    found = [f"metadata.txt lacks {key}" for key in (*REQUIRED, *RECOMMENDED) if not general.get(key, "").strip()]
    if not re.fullmatch(r"\d+\.\d+\.\d+", general.get("version", "")):
        found.append(f"version {general.get('version')!r} is not MAJOR.MINOR.PATCH")
    low, high = (
        tuple(map(int, general.get(k, "0.0").split("."))) for k in ("qgisMinimumVersion", "qgisMaximumVersion")
    )
    if high < (4, 0):
        found.append("qgisMaximumVersion below 4: QGIS 4 would hide the plugin")
    if low > high:
        found.append("qgisMinimumVersion is above qgisMaximumVersion")
    if general.get("supportsQt6", "").lower() != "true":
        found.append("supportsQt6 is not True: QGIS 4 (Qt 6) would not load the plugin")
    if not (root / "LICENSE").is_file():
        found.append("no LICENSE file: the plugin repository refuses packages without one")
    if not (root / PLUGIN / general.get("icon", "icon.png")).is_file():
        found.append(f"the icon {general.get('icon')} is not in the plugin folder")
    return found


def version() -> str:
    return metadata()["version"]


def files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and not SKIP_PARTS & set(p.parts) and p.suffix not in SKIP_SUFFIXES and p.name != "metadata.txt"
    )


def build(out_dir: Path = ROOT / "dist") -> Path:
    found = problems(metadata())
    if found:
        raise SystemExit("the plugin package would be refused: " + "; ".join(found))
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
        archive.write(ROOT / "LICENSE", f"{PLUGIN}/LICENSE")
    return target


if __name__ == "__main__":
    print(build(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "dist"))
