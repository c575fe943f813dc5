"""The engine runs without GDAL's Python bindings (``osgeo``), as in an environment built from PyPI wheels only
(rasterio and pyogrio carry their own GDAL): Windows and macOS have no official ``osgeo`` wheel (issue 16 item 2).

Every command runs in a process where ``import osgeo`` fails: a folder first on PYTHONPATH holds an ``osgeo``
package that raises ImportError, as if it were not installed.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from osgeo import ogr  # the test itself reads the outputs with QGIS's GDAL, as the plugin will

BLOCKER = 'raise ImportError("osgeo is blocked: the engine must run from PyPI wheels alone")\n'


@pytest.fixture(scope="module")
def no_osgeo(tmp_path_factory) -> dict[str, str]:
    """An environment in which ``import osgeo`` fails."""
    folder = tmp_path_factory.mktemp("no-osgeo")
    (folder / "osgeo").mkdir()
    (folder / "osgeo" / "__init__.py").write_text(BLOCKER)
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(folder), os.environ.get("PYTHONPATH", "")])}


def run(repo_root: Path, env: dict[str, str], *args: object, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *map(str, args)], cwd=repo_root, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_the_blocker_blocks(repo_root, no_osgeo) -> None:
    result = run(repo_root, no_osgeo, "-c", "import osgeo")
    assert result.returncode != 0
    assert "osgeo is blocked" in result.stderr


def test_every_engine_module_imports_without_osgeo(repo_root, no_osgeo) -> None:
    code = (
        "import importlib, pkgutil, sys, core\n"
        "names = [m.name for m in pkgutil.walk_packages(core.__path__, 'core.') if not m.name.endswith('__main__')]\n"
        "for name in names: importlib.import_module(name)\n"
        "assert 'osgeo' not in sys.modules\n"
        "print(len(names))\n"
    )
    result = run(repo_root, no_osgeo, "-c", code)
    assert result.returncode == 0, result.stderr[-2000:]
    assert int(result.stdout) > 40  # every module of the engine, not a few


@pytest.mark.slow
def test_the_whole_path_runs_without_osgeo(repo_root, tmp_path, tiny_checkpoint, no_osgeo) -> None:
    """synthetic scene -> fine-tune -> predict with polygons -> evaluate -> click, all in the blocked process."""

    def core(*args: object) -> dict:
        result = run(repo_root, no_osgeo, "-m", "core", *args)
        assert result.returncode == 0, result.stderr[-2000:]
        return json.loads(result.stdout)

    scene = core("synthetic", "--out", tmp_path / "scene", "--width", 512, "--height", 512, "--seed", 3)
    raster, labels = Path(scene["image"]), Path(scene["labels"])
    assert raster.exists()
    assert labels.exists()
    summary = core(
        "train", "--raster", raster, "--labels", labels, "--class-field", "class_id", "--classes", "1",
        "--checkpoint", tiny_checkpoint.path, "--out", tmp_path / "run", "--tile-size", 128, "--epochs", 1,
        "--batch-size", 4, "--device", "cpu", "--mode", "auto",
    )  # fmt: skip
    tuned = Path(summary["best_checkpoint"] or summary["checkpoint"])
    assert tuned.exists()
    predicted = core(
        "predict", "--raster", raster, "--checkpoint", tuned, "--out", tmp_path / "mask.tif",
        "--vector", tmp_path / "objects.gpkg", "--device", "cpu", "--label", "building",
    )  # fmt: skip
    assert (tmp_path / "mask.tif").exists()
    objects = ogr.Open(str(tmp_path / "objects.gpkg"))  # kept: its layers belong to it
    layer = objects.GetLayer(0)
    assert layer.GetFeatureCount() == predicted.get("polygons", layer.GetFeatureCount())
    assert {field.GetName() for field in layer.schema} >= {"class", "score", "area_m2", "model", "source"}
    report = core(
        "evaluate", "--pred", tmp_path / "mask.tif", "--truth", labels, "--class-field", "class_id",
        "--classes", "1", "--out", tmp_path / "report",
    )  # fmt: skip
    assert 0.0 <= report["pixel"]["iou"] <= 1.0
    assert "f1" in report["objects"]
    segments = tmp_path / "click.gpkg"
    core(
        "segment", "--raster", raster, "--checkpoint", tiny_checkpoint.path, "--point", "500020,5499980",
        "--out", segments, "--label", "tree",
    )  # fmt: skip
    clicks = ogr.Open(str(segments))
    clicked = clicks.GetLayer(0)
    assert clicked.GetFeatureCount() >= 1
    assert clicked.GetNextFeature().GetField("class") == "tree"


def _distribution_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirements_closure(pinned: set[str]) -> set[str]:
    """``pinned`` distributions and everything they require (in this environment), normalised names."""
    from importlib import metadata

    found, todo = set(), list(pinned)
    while todo:
        name = todo.pop()
        if name in found:
            continue
        found.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for requirement in requires:
            if "extra ==" not in requirement:
                todo.append(_distribution_name(re.split(r"[\s;<>=!~\[(]", requirement, maxsplit=1)[0]))
    return found


def test_the_engine_requirements_cover_every_library_the_engine_imports(repo_root) -> None:
    """Every third-party module imported anywhere in core (lazily too: matplotlib for the reports) comes with
    the engine's pinned requirements, so an environment made by the installer from them runs every command."""
    from importlib import metadata

    imported = set()
    for path in (repo_root / "core").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    third_party = {name for name in imported if name not in sys.stdlib_module_names and name != "core"}
    lines = (repo_root / "sam2_qgis_plugin" / "engine_requirements.txt").read_text(encoding="utf-8").splitlines()
    pinned = {_distribution_name(line.split("==")[0]) for line in lines if "==" in line and not line.startswith("#")}
    provided = _requirements_closure(pinned)
    distributions = metadata.packages_distributions()
    missing = {
        module: distributions.get(module)
        for module in third_party
        if not {_distribution_name(d) for d in distributions.get(module, [module])} & provided
    }
    assert missing == {}, f"add these to engine_requirements.txt: {missing}"
    assert {"matplotlib", "pyogrio", "shapely", "rasterio", "torch"} <= third_party  # the scan saw the imports
