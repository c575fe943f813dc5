"""Reading checkpoints: formats, architecture detection, and every bad file refused with advice."""

from __future__ import annotations

import os
import pathlib

import pytest
import torch

from core.errors import InvalidCheckpointError, MissingInputError
from core.io.atomic import sha256_file
from core.io.cache import sha256_of_file
from core.models.checkpoint import detect_spec, read_checkpoint
from core.models.loader import build_for, load_model
from core.models.registry import MODELS, ModelSpec, get_model

pytestmark = pytest.mark.quick  # make test-fast


def fake_state_dict(width: int, blocks: int, generation: str) -> dict[str, torch.Tensor]:
    state = {"image_encoder.trunk.patch_embed.proj.weight": torch.zeros(width, 3, 7, 7)}
    state |= {f"image_encoder.trunk.blocks.{i}.norm1.weight": torch.zeros(1) for i in range(blocks)}
    if generation == "2.1":
        state["no_obj_embed_spatial"] = torch.zeros(1, 64)
    return state


@pytest.mark.parametrize(
    ("width", "blocks", "generation", "name"),
    [
        (96, 12, "2.1", "sam2.1_hiera_t"),
        (96, 16, "2.0", "sam2_hiera_s"),
        (112, 24, "2.1", "sam2.1_hiera_b+"),
        (144, 48, "2.0", "sam2_hiera_l"),
    ],
)
def test_architecture_is_detected_from_keys_and_shapes(width, blocks, generation, name) -> None:
    assert detect_spec(fake_state_dict(width, blocks, generation)) == get_model(name)


def test_registry_has_every_official_checkpoint() -> None:
    assert len(MODELS) == 8
    spec = get_model("sam2.1_hiera_large.pt")
    assert spec.url.endswith("/092824/sam2.1_hiera_large.pt")
    assert spec.config == "configs/sam2.1/sam2.1_hiera_l.yaml"
    assert get_model("sam2_hiera_b+").url.endswith("/072824/sam2_hiera_base_plus.pt")


def test_official_bare_and_own_formats_all_load(tiny_checkpoint, tmp_path) -> None:
    state = torch.load(tiny_checkpoint.path, weights_only=True)["model"]
    official = read_checkpoint(tiny_checkpoint.path)
    assert (official.spec, official.image_size) == (get_model("sam2.1_hiera_t"), 256)  # size from the sidecar
    torch.save(state, tmp_path / "model.torch")  # the seed pipeline saves bare state dicts
    bare = read_checkpoint(tmp_path / "model.torch")
    assert (bare.spec.name, bare.image_size) == ("sam2.1_hiera_t", 1024)
    torch.save({"model": state, "sam2_qgis": {"image_size": 512, "task": "buildings"}}, tmp_path / "tuned.pt")
    tuned = read_checkpoint(tmp_path / "tuned.pt")
    assert (tuned.image_size, tuned.metadata["task"]) == (512, "buildings")


def test_loaded_model_reports_feature_sizes_from_its_image_size(tiny_checkpoint) -> None:
    loaded = load_model(tiny_checkpoint.path, model="sam2.1_hiera_t", device="cpu")
    assert loaded.image_size == 256
    assert loaded.feature_sizes == [(64, 64), (32, 32), (16, 16)]
    assert loaded.model.image_size == 256


def test_a_model_loads_the_checkpoints_weights_exactly_without_random_initialisation(tiny_checkpoint) -> None:
    kaiming = torch.nn.init.kaiming_uniform_
    loaded = load_model(tiny_checkpoint.path, device="cpu")
    assert torch.nn.init.kaiming_uniform_ is kaiming  # initialisation is back for everyone else
    state = torch.load(tiny_checkpoint.path, weights_only=True)["model"]
    model_state = loaded.model.state_dict()
    assert all(torch.equal(model_state[name], tensor) for name, tensor in state.items())
    spec = get_model("sam2.1_hiera_t")
    torch.manual_seed(3)
    uninitialised = build_for(spec, 256, torch.device("cpu"), initialise=False).state_dict()
    torch.manual_seed(3)
    initialised = build_for(spec, 256, torch.device("cpu")).state_dict()
    name = "image_encoder.trunk.blocks.0.mlp.layers.0.weight"
    assert not torch.equal(uninitialised[name], initialised[name])  # skipped: not the seeded random weights


def test_the_weights_digest_is_remembered_and_follows_a_replaced_file(tiny_checkpoint, tmp_path) -> None:
    path = tmp_path / "model.pt"
    path.write_bytes(tiny_checkpoint.path.read_bytes())
    first = sha256_of_file(path)
    assert first == sha256_file(path)
    assert sha256_of_file(path) == first  # from the memo
    replacement = tmp_path / "other.pt"
    replacement.write_bytes(b"x" * path.stat().st_size)  # the same size and time, written over by a rename
    os.utime(replacement, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns))
    replacement.replace(path)
    assert sha256_of_file(path) == sha256_file(path) != first
    assert load_model(tiny_checkpoint.path, device="cpu").weights_sha256 == sha256_file(tiny_checkpoint.path)


# --- bad checkpoints --------------------------------------------------------------------------------


def test_missing_file(tmp_path) -> None:
    with pytest.raises(MissingInputError, match="checkpoint not found"):
        read_checkpoint(tmp_path / "nope.pt")


def test_empty_file(tmp_path) -> None:
    (tmp_path / "empty.pt").write_bytes(b"")
    with pytest.raises(InvalidCheckpointError, match=r"is empty .* download or copy it again"):
        read_checkpoint(tmp_path / "empty.pt")


def test_truncated_file(tiny_checkpoint, tmp_path) -> None:
    (tmp_path / "cut.pt").write_bytes(tiny_checkpoint.path.read_bytes()[:1_000_000])
    with pytest.raises(InvalidCheckpointError, match="truncated or corrupt"):
        read_checkpoint(tmp_path / "cut.pt")


def test_corrupt_file(tmp_path) -> None:
    (tmp_path / "noise.pt").write_bytes(bytes(range(256)) * 100)
    with pytest.raises(InvalidCheckpointError, match="truncated or corrupt"):
        read_checkpoint(tmp_path / "noise.pt")


class WritesAFile:
    """A pickle payload that would create a file when unpickled."""

    def __init__(self, marker: pathlib.Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (pathlib.Path.write_text, (self.marker, "code ran"))


def test_pickle_that_would_run_code_is_refused_and_never_run(tmp_path) -> None:
    marker = tmp_path / "pwned"
    torch.save({"model": {"w": torch.zeros(1)}, "extra": WritesAFile(marker)}, tmp_path / "evil.pt")
    with pytest.raises(InvalidCheckpointError, match="could run code"):
        read_checkpoint(tmp_path / "evil.pt")
    assert not marker.exists()


def test_not_a_state_dict(tmp_path) -> None:
    torch.save([torch.zeros(1)], tmp_path / "list.pt")
    with pytest.raises(InvalidCheckpointError, match="holds a list, not a state dict"):
        read_checkpoint(tmp_path / "list.pt")


def test_not_sam2_weights(tmp_path) -> None:
    torch.save({"model": {"conv.weight": torch.zeros(3)}}, tmp_path / "resnet.pt")
    with pytest.raises(InvalidCheckpointError, match="no SAM 2 image encoder weights"):
        read_checkpoint(tmp_path / "resnet.pt")


def test_sam2_checkpoint_with_a_sam21_model_names_both(tmp_path) -> None:
    torch.save({"model": fake_state_dict(144, 48, "2.0")}, tmp_path / "sam2_hiera_large.pt")
    with pytest.raises(
        InvalidCheckpointError,
        match=r"is SAM 2\.0 large but the model asked for is SAM 2\.1 tiny: "
        r"pass --model sam2_hiera_l",
    ):
        load_model(tmp_path / "sam2_hiera_large.pt", model="sam2.1_hiera_t")


def test_checkpoint_missing_weights_is_refused(tiny_checkpoint, tmp_path) -> None:
    state = torch.load(tiny_checkpoint.path, weights_only=True)["model"]
    del state["sam_mask_decoder.iou_token.weight"]
    torch.save({"model": state}, tmp_path / "partial.pt")
    with pytest.raises(InvalidCheckpointError, match=r"does not fit SAM 2\.1 tiny: 1 missing keys"):
        load_model(tmp_path / "partial.pt", device="cpu", image_size=256)


def test_unknown_model_name() -> None:
    with pytest.raises(ValueError, match="unknown model 'sam3'"):
        get_model("sam3")


def test_labels_read_like_the_papers() -> None:
    assert ModelSpec("2.1", "base_plus").label == "SAM 2.1 base+"
