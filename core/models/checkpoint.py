"""Reading SAM 2 checkpoints safely and telling what they contain.

Accepted layouts (all read with ``torch.load(weights_only=True)``, which refuses pickles that would run code):
- the official release: ``{"model": state_dict}``;
- the seed pipeline's ``.torch`` files: a bare ``state_dict``;
- this project's checkpoints: ``{"model": state_dict, "sam2_qgis": {...metadata...}}``, or an official-format
  file with a ``<stem>.json`` beside it (the random-init checkpoints).
"""

from __future__ import annotations

import json
import pickle
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from core.errors import InvalidCheckpointError, MissingInputError
from core.models.registry import ARCHITECTURES, ModelSpec

METADATA_KEY = "sam2_qgis"
DEFAULT_IMAGE_SIZE = 1024


@dataclass(frozen=True)
class Checkpoint:
    """A loaded checkpoint: its weights, the architecture they fit, and what metadata said."""

    path: Path
    state_dict: dict[str, torch.Tensor]
    spec: ModelSpec
    image_size: int
    metadata: dict[str, Any]


def detect_spec(state_dict: dict[str, torch.Tensor], source: str = "checkpoint") -> ModelSpec:
    """SAM 2.0 or 2.1, and the size, from the keys and shapes of a state dict."""
    try:
        width = int(state_dict["image_encoder.trunk.patch_embed.proj.weight"].shape[0])
    except (KeyError, AttributeError, IndexError):
        raise InvalidCheckpointError(
            f"{source} has no SAM 2 image encoder weights (image_encoder.trunk.patch_embed.proj.weight): "
            "is it a SAM 2 checkpoint?"
        ) from None
    blocks = len({key.split(".")[3] for key in state_dict if key.startswith("image_encoder.trunk.blocks.")})
    size = ARCHITECTURES.get((width, blocks))
    if size is None:
        raise InvalidCheckpointError(
            f"{source} has a Hiera trunk of width {width} with {blocks} blocks, which is no SAM 2 size "
            f"(known: {', '.join(f'{w}/{b} {s}' for (w, b), s in ARCHITECTURES.items())})"
        )
    generation = "2.1" if "no_obj_embed_spatial" in state_dict else "2.0"
    return ModelSpec(generation, size)


def _read(path: Path) -> Any:
    if not path.exists():
        raise MissingInputError(f"checkpoint not found: {path}")
    if path.stat().st_size == 0:
        raise InvalidCheckpointError(f"checkpoint {path.name} is empty (0 bytes): download or copy it again")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        if "global" not in str(error):  # not a forbidden object, just bytes the safe unpickler cannot read
            raise InvalidCheckpointError(
                f"checkpoint {path.name} is truncated or corrupt, or was not written by torch.save: "
                "download or copy it again"
            ) from None
        raise InvalidCheckpointError(
            f"refused to load {path.name}: it contains Python objects other than tensors, and loading them "
            "could run code. Use checkpoints from a source you trust, saved as plain state dicts "
            f"({str(error).splitlines()[0][:160]})"
        ) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError) as error:
        raise InvalidCheckpointError(
            f"checkpoint {path.name} is truncated or corrupt ({str(error).splitlines()[0][:160]}): "
            "download or copy it again"
        ) from None


def _split(payload: Any, path: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    if not isinstance(payload, dict):
        raise InvalidCheckpointError(f"{path.name} holds a {type(payload).__name__}, not a state dict")
    metadata: dict[str, Any] = next(
        (payload[k] for k in (METADATA_KEY, "meta") if isinstance(payload.get(k), dict)), {}
    )
    if isinstance(payload.get("trained"), dict):
        return _apply_trained(payload["trained"], metadata, path), metadata
    state_dict = payload["model"] if isinstance(payload.get("model"), dict) else payload
    tensors = {k: v for k, v in state_dict.items() if isinstance(v, torch.Tensor)}
    if not tensors:
        raise InvalidCheckpointError(f"{path.name} contains no tensors: is it a SAM 2 checkpoint?")
    sidecar = path.with_suffix(".json")
    if not metadata and sidecar.exists():
        metadata = _read_sidecar(sidecar, path)
    return tensors, metadata


def _read_sidecar(sidecar: Path, path: Path) -> dict[str, Any]:
    """The ``<stem>.json`` beside a checkpoint (its model input size): a JSON object, or a clear error."""
    try:
        metadata = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise InvalidCheckpointError(
            f"{sidecar.name}, the description beside {path.name}, cannot be read ({error}): restore it, or remove "
            "it to use the checkpoint with the official input size (1024 px)"
        ) from None
    if not isinstance(metadata, dict) or not isinstance(metadata.get("image_size", 0), int):
        raise InvalidCheckpointError(
            f"{sidecar.name}, the description beside {path.name}, is not a JSON object with an integer image_size: "
            "restore it, or remove it to use the checkpoint with the official input size (1024 px)"
        )
    return metadata


def _apply_trained(trained: dict[str, torch.Tensor], metadata: dict[str, Any], path: Path) -> dict[str, torch.Tensor]:
    """Base weights (named in ``metadata``) with the trained tensors of a fine-tuning run applied."""
    base_path = Path(str(metadata.get("base_checkpoint", "")))
    if not base_path.is_file():
        raise InvalidCheckpointError(
            f"{path.name} holds only fine-tuned weights; their base checkpoint {base_path} is missing: "
            "put it back, or use the run's full checkpoint (best.pt)"
        )
    from core.io.atomic import sha256_file

    if metadata.get("base_sha256") and sha256_file(base_path) != metadata["base_sha256"]:
        raise InvalidCheckpointError(
            f"{path.name} was trained on another version of {base_path.name} (sha256 differs): use the run's "
            "full checkpoint (best.pt)"
        )
    state = dict(_split(_read(base_path), base_path)[0])
    for name, tensor in trained.items():
        if name.endswith(".lora_a"):
            layer = name.removesuffix(".lora_a")
            delta = trained[f"{layer}.lora_b"] @ tensor  # adapters scale by alpha / rank = 1
            state[f"{layer.removesuffix('.base')}.weight"] = state[f"{layer.removesuffix('.base')}.weight"] + delta
        elif not name.endswith(".lora_b"):
            state[name] = tensor
    return state


def read_checkpoint(path: str | Path) -> Checkpoint:
    """Load a checkpoint's weights on the CPU and identify its architecture and input size."""
    path = Path(path)
    state_dict, metadata = _split(_read(path), path)
    spec = detect_spec(state_dict, path.name)
    image_size = int(metadata.get("image_size", DEFAULT_IMAGE_SIZE))
    return Checkpoint(path, state_dict, spec, image_size, metadata)
