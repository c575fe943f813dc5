"""The plugin zip: the product only. The engine inside it works without the development tools (synthetic
scenes, demo, sample data), and their commands say where to run them instead of failing with a traceback."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.quick  # make test-fast

DEVELOPMENT_FILES = ("core/devtools/",)


@pytest.fixture(scope="module")
def packager(repo_root):  # type: ignore[no-untyped-def]
    """scripts/package_plugin.py as a module."""
    spec = importlib.util.spec_from_file_location("package_plugin", repo_root / "scripts" / "package_plugin.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def packaged(packager, tmp_path_factory) -> tuple[Path, Path]:
    """(the zip, the folder it was extracted to)."""
    out = tmp_path_factory.mktemp("dist")
    archive = packager.build(out)
    with zipfile.ZipFile(archive) as opened:
        opened.extractall(out / "installed")
    return archive, out / "installed" / "sam2_qgis_plugin"


def test_the_zip_ships_the_product_without_development_tools(packaged) -> None:
    archive, _ = packaged
    names = zipfile.ZipFile(archive).namelist()
    assert "sam2_qgis_plugin/core/inference/predict.py" in names
    assert "sam2_qgis_plugin/metadata.txt" in names
    shipped_tools = [n for n in names if any(n.startswith(f"sam2_qgis_plugin/{d}") for d in DEVELOPMENT_FILES)]
    assert shipped_tools == []
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


def test_the_shipped_engine_imports_without_them(packaged) -> None:
    _, plugin = packaged
    script = (
        "import importlib, pkgutil, core\n"
        "for info in pkgutil.walk_packages(core.__path__, 'core.'):\n"
        "    if not info.name.endswith('__main__'):\n"
        "        importlib.import_module(info.name)\n"
        "print(core.__file__)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=plugin, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).is_relative_to(plugin)


@pytest.mark.parametrize("command", [["synthetic", "--out", "scene"], ["sample-data"], ["demo", "--out", "d"]])
def test_development_commands_say_where_to_run_them(packaged, command) -> None:
    _, plugin = packaged
    done = subprocess.run(
        [sys.executable, "-m", "core", *command], cwd=plugin, capture_output=True, text=True, check=False
    )
    assert done.returncode == 2, done.stderr
    assert "development tool that the installed plugin does not ship" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_package_is_fit_for_the_plugin_repository_and_qgis_4(packaged, packager, repo_root) -> None:
    archive, installed = packaged
    names = zipfile.ZipFile(archive).namelist()
    assert "sam2_qgis_plugin/LICENSE" in names
    assert "Apache License" in (installed / "LICENSE").read_text()
    module = packager
    general = module.metadata(installed / "metadata.txt")
    assert general["hasProcessingProvider"] == "yes"  # else qgis_process lists none of the algorithms
    assert general["qgisMaximumVersion"] == "4.99"
    assert general["supportsQt6"] == "True"
    assert general["changelog"].strip()
    assert module.problems(general, repo_root) == []


def test_metadata_the_repository_would_refuse_is_named(packager, repo_root, tmp_path) -> None:
    module = packager
    text = (repo_root / "metadata.txt").read_text()
    broken = text.replace("qgisMaximumVersion=4.99", "qgisMaximumVersion=3.99").replace("version=0.1.0", "version=1")
    broken = "\n".join(line for line in broken.splitlines() if not line.startswith("email="))
    (tmp_path / "metadata.txt").write_text(broken)
    found = module.problems(module.metadata(tmp_path / "metadata.txt"), tmp_path)
    assert "metadata.txt lacks email" in found
    assert "version '1' is not MAJOR.MINOR.PATCH" in found
    assert "qgisMaximumVersion below 4: QGIS 4 would hide the plugin" in found
    assert any("no LICENSE file" in problem for problem in found)
