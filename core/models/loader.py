"""Build a SAM 2 model from a checkpoint: architecture checked, weights loaded strictly, on a device."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from sam2.build_sam import build_sam2
from sam2.modeling.sam2_base import SAM2Base

from core.errors import InvalidCheckpointError, InvalidInputError
from core.io.cache import sha256_of_file
from core.models.allocator import give_back_freed_memory
from core.models.checkpoint import read_checkpoint
from core.models.device import choose_device
from core.models.encoder_speed import encoder_path_for, speed_up_encoder
from core.models.registry import ModelSpec, get_model, int8_warning


@dataclass(frozen=True)
class LoadedModel:
    """A model ready for inference, with what identifies its weights (for embedding cache keys)."""

    model: SAM2Base
    spec: ModelSpec
    image_size: int
    device: torch.device
    checkpoint: Path
    weights_sha256: str
    metadata: dict[str, Any] = field(default_factory=dict)  # what the checkpoint says of itself (mode, epoch...)
    encoder: str = "exact"  # the encoder path (core.models.encoder_speed): int8 embeddings are cached apart

    @property
    def encoder_warning(self) -> str | None:
        """Why the int8 encoder may be too far from exact on this model (core.models.registry.INT8_CHECKS)."""
        return int8_warning(self.spec) if self.encoder == "int8" else None

    @property
    def feature_sizes(self) -> list[tuple[int, int]]:
        """(height, width) of the backbone feature maps used by the decoder, finest first.

        Derived from the model: stride 4, 8 and 16 of ``image_size`` (256/128/64 at 1024, 64/32/16 at 256).
        """
        strides = (4, 8, 16)
        return [(self.image_size // s, self.image_size // s) for s in strides]


#: torch.nn.init functions that fill parameters in place; skipped while building a model whose weights are
#: loaded next (random-initialising hiera-large takes seconds that the checkpoint then overwrites).
WEIGHT_INIT_FUNCTIONS = (
    "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "xavier_uniform_", "xavier_normal_",
    "kaiming_uniform_", "kaiming_normal_", "orthogonal_",
)  # fmt: skip
_init_lock = threading.Lock()


@contextlib.contextmanager
def without_weight_init() -> Iterator[None]:
    """Within the block, ``torch.nn.init``'s fill functions leave tensors as allocated (uninitialised memory).

    Only for models whose every parameter and buffer is then loaded strictly: ``load_model`` refuses a
    checkpoint with missing keys, so nothing uninitialised survives.
    """
    init = torch.nn.init
    with _init_lock:
        saved = {name: getattr(init, name) for name in WEIGHT_INIT_FUNCTIONS}
        try:
            for name in WEIGHT_INIT_FUNCTIONS:
                setattr(init, name, _leave_as_is)
            yield
        finally:
            for name, function in saved.items():
                setattr(init, name, function)


def _leave_as_is(tensor: torch.Tensor, *args: object, **kwargs: object) -> torch.Tensor:
    return tensor


VIDEO_PREDICTOR = "sam2.sam2_video_predictor.SAM2VideoPredictor"


def build_for(
    spec: ModelSpec, image_size: int, device: torch.device, initialise: bool = True, video: bool = False
) -> SAM2Base:
    """A model of ``spec`` for ``image_size`` input pixels: random weights, or with ``initialise=False`` weights
    left uninitialised for a checkpoint to fill (seconds faster for the large models). ``video``: SAM 2's video
    predictor (the same weights, with its memory used across frames)."""
    overrides = [f"++model.image_size={image_size}"] + ([f"++model._target_={VIDEO_PREDICTOR}"] if video else [])
    with contextlib.nullcontext() if initialise else without_weight_init():
        return build_sam2(spec.config, ckpt_path=None, device=str(device), mode="eval", hydra_overrides_extra=overrides)


IMAGE_STRIDE = 32  # the image encoder halves the input five times (patch embedding and stages)


def check_image_size(size: int) -> None:
    """The model input size must be a positive multiple of 32 px (its window embeddings tile the input)."""
    if size <= 0 or size % IMAGE_STRIDE:
        raise InvalidInputError(
            f"image size {size} px: SAM 2 needs a positive multiple of {IMAGE_STRIDE} (e.g. 256, 512 or 1024)"
        )


def check_finite(state_dict: dict[str, torch.Tensor], name: str) -> None:
    """Refuse weights holding NaN or infinity (a training that diverged): they would predict nothing."""
    for key, tensor in state_dict.items():
        # a sum is NaN or infinite when any element is (one pass, no mask); only then look element by element
        if (
            tensor.is_floating_point()
            and not bool(torch.isfinite(tensor.sum()))
            and not bool(torch.isfinite(tensor).all())
        ):
            raise InvalidCheckpointError(
                f"checkpoint {name} has weights that are not numbers (NaN or infinite, e.g. {key}): a training "
                "that diverged saved it; use an earlier checkpoint or train again with a lower learning rate"
            )


def load_model(
    checkpoint: str | Path,
    model: str | None = None,
    device: str = "auto",
    image_size: int | None = None,
    encoder: str = "exact",
    video: bool = False,
) -> LoadedModel:
    """Load ``checkpoint``; ``model`` (e.g. ``sam2.1_hiera_t``), if given, must match what the weights are.

    ``image_size`` overrides the input size recorded with the checkpoint (1024 for official weights);
    ``encoder``: ``exact`` or ``int8``, faster and approximate, for inference on a CPU (on other devices the
    exact path runs; ``LoadedModel.encoder`` says which did; core.models.encoder_speed); ``video``: the model is
    SAM 2's video predictor (``SAM2VideoPredictor``), for following objects through frames.
    """
    try:
        return _load(checkpoint, model, device, image_size, encoder, video)
    finally:
        give_back_freed_memory()  # the checkpoint's state dict, freed: else the engine's heap keeps it (allocator)


def _load(
    checkpoint: str | Path, model: str | None, device: str, image_size: int | None, encoder: str, video: bool
) -> LoadedModel:
    loaded = read_checkpoint(checkpoint)
    if model is not None:
        wanted = get_model(model)
        if wanted != loaded.spec:
            raise InvalidCheckpointError(
                f"checkpoint {loaded.path.name} is {loaded.spec.label} but the model asked for is {wanted.label}: "
                f"pass --model {loaded.spec.name} (or use a {wanted.label} checkpoint)"
            )
    size = loaded.image_size if image_size is None else image_size
    check_image_size(size)
    check_finite(loaded.state_dict, loaded.path.name)
    target = choose_device(device)
    sam = build_for(loaded.spec, size, torch.device("cpu"), initialise=False, video=video)
    try:
        result = sam.load_state_dict(loaded.state_dict, strict=False)
    except RuntimeError as error:  # a tensor of the wrong shape
        mismatch = next((line.strip() for line in str(error).splitlines() if "size mismatch" in line), str(error))
        raise InvalidCheckpointError(
            f"checkpoint {loaded.path.name} does not fit {loaded.spec.label}: {mismatch[:300]} (a damaged or "
            "edited file: use the original checkpoint)"
        ) from None
    if result.missing_keys or result.unexpected_keys:
        raise InvalidCheckpointError(
            f"checkpoint {loaded.path.name} does not fit {loaded.spec.label}: "
            f"{len(result.missing_keys)} missing keys (e.g. {result.missing_keys[:2]}), "
            f"{len(result.unexpected_keys)} unexpected keys (e.g. {result.unexpected_keys[:2]})"
        )
    sam = sam.to(target).eval()
    encoder = encoder_path_for(encoder, target)
    speed_up_encoder(sam, encoder, target)
    digest = sha256_of_file(loaded.path)
    return LoadedModel(sam, loaded.spec, size, target, loaded.path, digest, loaded.metadata, encoder)
