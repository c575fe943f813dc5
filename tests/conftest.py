"""Shared by every test process. Imports nothing heavy: core tests run without QGIS, plugin tests
without torch (see the Makefile's two pytest runs)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT
