"""The tiny real model fixture: a seeded random-init SAM 2.1 hiera-tiny in the official format."""

from __future__ import annotations

import json
import os

import pytest
import torch
from sam2.build_sam import build_sam2

from core.errors import InvalidConfigError
from core.io.atomic import sha256_file
from core.models.random_init import (
    RandomInitSpec,
    build_random_init,
    image_size_override,
    state_dict_sha256,
    write_random_init_checkpoint,
)

pytestmark = pytest.mark.quick  # make test-fast


def test_checkpoint_is_official_format_with_metadata(tiny_checkpoint) -> None:
    payload = torch.load(tiny_checkpoint.path, map_location="cpu", weights_only=True)
    assert list(payload) == ["model"]
    assert state_dict_sha256(payload["model"]) == tiny_checkpoint.state_dict_sha256
    metadata = json.loads(tiny_checkpoint.metadata_path.read_text())
    assert metadata["config"] == "configs/sam2.1/sam2.1_hiera_t.yaml"
    assert (metadata["image_size"], metadata["seed"], metadata["generation"]) == (256, 0, "2.1")
    assert metadata["file_sha256"] == sha256_file(tiny_checkpoint.path)


def test_checkpoint_loads_strictly_into_build_sam2_and_encodes_at_its_size(tiny_checkpoint) -> None:
    spec = tiny_checkpoint.spec
    # build_sam2 loads with load_state_dict(strict=True) and raises on any missing or unexpected key.
    model = build_sam2(
        spec.config,
        ckpt_path=str(tiny_checkpoint.path),
        device="cpu",
        hydra_overrides_extra=image_size_override(spec.image_size),
    )
    assert model.image_size == 256
    assert state_dict_sha256(model.state_dict()) == tiny_checkpoint.state_dict_sha256
    with torch.no_grad():
        features = model.forward_image(torch.zeros(1, 3, 256, 256))["backbone_fpn"]
    assert [tuple(f.shape[-2:]) for f in features] == [(64, 64), (32, 32), (16, 16)]


def test_a_checkpoint_missing_weights_is_rejected_by_build_sam2(tiny_checkpoint, tmp_path) -> None:
    state = torch.load(tiny_checkpoint.path, map_location="cpu", weights_only=True)["model"]
    del state["sam_mask_decoder.iou_prediction_head.layers.0.weight"]
    broken = tmp_path / "broken.pt"
    torch.save({"model": state}, broken)
    with pytest.raises(RuntimeError, match="iou_prediction_head"):
        build_sam2(
            tiny_checkpoint.spec.config,
            ckpt_path=str(broken),
            device="cpu",
            hydra_overrides_extra=image_size_override(256),
        )


@pytest.mark.slow
def test_same_seed_gives_byte_identical_checkpoints(tiny_checkpoint, tmp_path) -> None:
    again = write_random_init_checkpoint(RandomInitSpec(), tmp_path)
    assert again.path.name == tiny_checkpoint.path.name
    assert sha256_file(again.path) == sha256_file(tiny_checkpoint.path)
    assert again.state_dict_sha256 == tiny_checkpoint.state_dict_sha256


def test_other_seed_gives_other_weights_and_leaves_the_global_rng_alone(tiny_checkpoint) -> None:
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    model = build_random_init(RandomInitSpec(seed=1))
    assert torch.equal(torch.rand(3), expected_next)
    assert state_dict_sha256(model.state_dict()) != tiny_checkpoint.state_dict_sha256


def test_cached_checkpoint_is_reused_and_a_corrupted_one_rebuilt(tmp_path) -> None:
    spec = RandomInitSpec(image_size=64)
    first = write_random_init_checkpoint(spec, tmp_path)
    stamp = first.path.stat().st_mtime_ns
    assert write_random_init_checkpoint(spec, tmp_path).path.stat().st_mtime_ns == stamp
    with open(first.path, "r+b") as handle:
        handle.seek(-16, os.SEEK_END)
        handle.write(b"\0" * 16)
    rebuilt = write_random_init_checkpoint(spec, tmp_path)
    assert sha256_file(rebuilt.path) == json.loads(rebuilt.metadata_path.read_text())["file_sha256"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{spec.file_stem}.json", f"{spec.file_stem}.pt"]


@pytest.mark.parametrize("size", [100, 32, 0])
def test_image_size_must_be_a_multiple_of_32(size: int) -> None:
    with pytest.raises(InvalidConfigError, match="multiple of 32"):
        RandomInitSpec(image_size=size)
