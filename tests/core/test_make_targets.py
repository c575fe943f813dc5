"""The README's plugin commands, run for real: ``make install-plugin`` links the plugin into a QGIS profile;
``make qgis OPEN=...`` prepares a profile with the plugin enabled and starts QGIS on those files (QGIS itself
replaced by ``echo`` here; the real desktop is started by tests/e2e)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def make(*args: str) -> subprocess.CompletedProcess[str]:
    """``make ARGS`` as a user types it (not as a sub-make of `make test`, which would print directory lines)."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES")}
    return subprocess.run(
        ["make", "--no-print-directory", "-o", "setup", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def test_install_plugin_links_the_plugin_into_the_profile(tmp_path) -> None:
    done = make("install-plugin", f"QGIS_PROFILES={tmp_path}")
    assert done.returncode == 0, done.stderr
    link = tmp_path / "profiles" / "default" / "python" / "plugins" / "sam2_qgis_plugin"
    assert link.resolve() == ROOT / "sam2_qgis_plugin"
    assert (link / "metadata.txt").is_file()


def test_make_qgis_enables_the_plugin_and_opens_the_files(tmp_path) -> None:
    profiles = tmp_path / "profiles-root"
    done = make("qgis", "QGIS_BIN=echo", f"DEV_PROFILES={profiles}", "OPEN=a.tif b.gpkg")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == f"--profiles-path {profiles} a.tif b.gpkg"
    settings = (profiles / "profiles" / "default" / "QGIS" / "QGIS3.ini").read_text()
    assert "sam2_qgis_plugin=true" in settings
    assert (profiles / "profiles" / "default" / "python" / "plugins" / "sam2_qgis_plugin").resolve() == (
        ROOT / "sam2_qgis_plugin"
    )


def test_make_test_lints_and_type_checks_before_the_suite() -> None:
    """CI runs `make test`: what the README says of lint and types is enforced there, before the suite."""
    done = make("-n", "test")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    steps = [
        next((i for i, line in enumerate(lines) if needle in line), -1)
        for needle in ("ruff check", "ruff format --check", "mypy", "scripts/run_tests.sh")
    ]
    assert -1 not in steps, done.stdout
    assert steps == sorted(steps), done.stdout
