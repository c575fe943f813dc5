"""Encoder paths: the exact one gives the model's own embeddings bit for bit; int8 stays close and apart."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
import torch
from rasterio.windows import Window
from sam2.build_sam import build_sam2

from core.devtools.synthetic import SyntheticSceneConfig, write_synthetic_scene
from core.errors import InvalidConfigError
from core.inference.embeddings import image_features, tile_key
from core.io.raster import RasterSource
from core.jobs.worker import Worker
from core.models.loader import load_model
from core.models.registry import INT8_CHECKS, MODELS, SIZES, get_model, int8_warning

pytestmark = pytest.mark.quick  # make test-fast


def plain_model(checkpoint) -> torch.nn.Module:
    """The checkpoint in sam2's own build, untouched by the engine."""
    return build_sam2(
        "configs/sam2.1/sam2.1_hiera_t.yaml",
        ckpt_path=str(checkpoint.path),
        device="cpu",
        hydra_overrides_extra=["++model.image_size=256"],
    )


def same_to_rounding(ours: torch.Tensor, theirs: torch.Tensor) -> None:
    """Equal up to float32 rounding (the token layout changes the order of some sums): far below what any
    mask could notice, and far below what a wrong position encoding gives (tested to differ below)."""
    torch.testing.assert_close(ours, theirs, rtol=0, atol=1e-5)


def test_the_exact_encoder_gives_the_models_own_embeddings(tiny_checkpoint) -> None:
    loaded, plain = load_model(tiny_checkpoint.path, device="cpu"), plain_model(tiny_checkpoint)
    assert loaded.encoder == "exact"
    batch = torch.randn(2, 3, 256, 256, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        for _ in range(2):  # the second call answers from the remembered position encodings
            ours, theirs = image_features(loaded.model, batch), image_features(plain, batch)
            same_to_rounding(ours[0], theirs[0])
            for a, b in zip(ours[1], theirs[1], strict=True):
                same_to_rounding(a, b)
    # training changes the position embedding in place: the remembered one follows
    change = torch.randn(plain.image_encoder.trunk.pos_embed.shape, generator=torch.Generator().manual_seed(1))
    for model in (loaded.model, plain):
        with torch.no_grad():
            model.image_encoder.trunk.pos_embed.add_(change)
    with torch.inference_mode():
        changed = image_features(plain, batch)[0]
        assert (changed - ours[0]).abs().max() > 1e-3  # what a stale position embedding would give
        same_to_rounding(image_features(loaded.model, batch)[0], changed)


def test_gradients_still_reach_the_position_embedding_when_the_encoder_trains(tiny_checkpoint) -> None:
    model = load_model(tiny_checkpoint.path, device="cpu").model
    with torch.inference_mode():
        image_features(model, torch.zeros(1, 3, 256, 256))  # something remembered
    trunk = model.image_encoder.trunk
    embed, _ = image_features(model, torch.zeros(1, 3, 256, 256))
    embed.sum().backward()
    assert trunk.pos_embed.grad is not None
    assert trunk.pos_embed.grad.abs().sum() > 0


def test_int8_encoder_is_close_to_exact_and_cached_apart(tiny_checkpoint, tmp_path) -> None:
    exact = load_model(tiny_checkpoint.path, device="cpu")
    int8 = load_model(tiny_checkpoint.path, device="cpu", encoder="int8")
    assert int8.encoder == "int8"
    linears = [m for m in int8.model.image_encoder.trunk.modules() if type(m) is torch.nn.Linear]
    assert not linears  # every trunk linear layer runs in int8
    scene = write_synthetic_scene(SyntheticSceneConfig(width=256, height=256, seed=2), tmp_path)
    with RasterSource(scene.image) as raster:
        rgb, _ = raster.read_rgb(Window(0, 0, 256, 256))
        assert tile_key(exact, raster, Window(0, 0, 256, 256)) != tile_key(int8, raster, Window(0, 0, 256, 256))
    from core.inference.preprocess import to_model_input

    with torch.inference_mode():
        a, b = (image_features(m.model, to_model_input(rgb))[0].flatten().double() for m in (exact, int8))
    cosine = float(a @ b / (a.norm() * b.norm()))
    assert 0.99 < cosine < 1.0  # close, and not the same computation
    assert not np.isclose(cosine, 1.0, atol=1e-9)


def test_unknown_encoder_path_is_refused_with_the_choices(tiny_checkpoint) -> None:
    with pytest.raises(InvalidConfigError, match="encoder 'fast': choose one of exact, int8"):
        load_model(tiny_checkpoint.path, device="cpu", encoder="fast")


def test_int8_warns_on_every_size_not_checked_within_the_tolerance() -> None:
    for spec in MODELS.values():
        check = INT8_CHECKS.get(spec.size)
        warning = int8_warning(spec)
        assert (warning is None) == (check is not None and check.within), spec.name
        if check is not None and not check.within:
            assert f"{check.mean_iou:.3f}" in warning
            assert "use exact" in warning
    assert int8_warning(get_model("sam2.1_hiera_t")) is None  # the size the sample numbers are for


def test_the_worker_says_when_int8_was_not_checked_on_the_model(tiny_checkpoint, monkeypatch, tmp_path) -> None:
    monkeypatch.delitem(INT8_CHECKS, "tiny")
    worker = Worker(io.StringIO(), tmp_path)
    params = {"checkpoint": str(tiny_checkpoint.path), "device": "cpu"}
    assert "warning" not in worker.load_model(params, 1)
    loaded = worker.load_model({**params, "encoder": "int8"}, 2)
    assert loaded["encoder"] == "int8"
    assert "not checked on SAM 2.1 tiny" in loaded["warning"]


def test_the_plugin_settings_name_the_sizes_int8_was_checked_on(repo_root) -> None:
    source = (repo_root / "sam2_qgis_plugin" / "settings_dialog.py").read_text(encoding="utf-8")
    named = re.search(r'INT8_CHECKED = "([^"]+)"', source)
    assert named is not None
    within = [size for size in SIZES if size in INT8_CHECKS and INT8_CHECKS[size].within]
    assert named.group(1) == ", ".join(within[:-1]) + " and " + within[-1]
