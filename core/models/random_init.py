"""Seeded random-init SAM 2 models saved as checkpoints in the official format.

Official weights cannot be downloaded everywhere (CI, air-gapped sites), yet tests and benchmarks need a
real SAM 2: the packaged config built with ``build_sam2`` and seeded weights. The same spec gives
byte-identical checkpoints: weights depend only on the seed, and the archive is written through a file
handle so that the temporary file name is not recorded inside it.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from sam2.build_sam import build_sam2
from sam2.modeling.sam2_base import SAM2Base

from core.errors import InvalidConfigError
from core.io.atomic import atomic_output, sha256_file
from core.io.cache import cache_dir

FORMAT = "sam2-qgis/random-init/1"


@dataclass(frozen=True)
class RandomInitSpec:
    """Which packaged config to build, at what input size, from which seed.

    ``config`` is a sam2 package config name, e.g. ``configs/sam2.1/sam2.1_hiera_t.yaml``.
    ``image_size`` must be a multiple of 32 (the encoder's total stride); 1024 is the official size,
    256 gives feature maps of 64/32/16 and is about 16 times cheaper.
    """

    config: str = "configs/sam2.1/sam2.1_hiera_t.yaml"
    image_size: int = 256
    seed: int = 0

    def __post_init__(self) -> None:
        if self.image_size < 64 or self.image_size % 32:
            raise InvalidConfigError(f"image_size {self.image_size} must be a multiple of 32, at least 64")

    @property
    def file_stem(self) -> str:
        return f"{Path(self.config).stem}-img{self.image_size}-seed{self.seed}"


@dataclass(frozen=True)
class RandomInitCheckpoint:
    """A checkpoint file ``{"model": state_dict}`` and its JSON metadata beside it."""

    path: Path
    metadata_path: Path
    spec: RandomInitSpec
    state_dict_sha256: str


def image_size_override(image_size: int) -> list[str]:
    """Hydra overrides that build a model for ``image_size`` input pixels."""
    return [f"++model.image_size={image_size}"]


def build_random_init(spec: RandomInitSpec, device: str = "cpu") -> SAM2Base:
    """Build the model of ``spec`` with seeded random weights, leaving the caller's RNG state alone."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(spec.seed)
        return build_sam2(
            spec.config,
            ckpt_path=None,
            device=device,
            mode="eval",
            hydra_overrides_extra=image_size_override(spec.image_size),
        )


def state_dict_sha256(state_dict: dict[str, torch.Tensor]) -> str:
    """sha256 over names, dtypes, shapes and bytes of every tensor, in name order."""
    digest = hashlib.sha256()
    for name in sorted(state_dict):
        tensor = state_dict[name].detach().cpu().contiguous()
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def _metadata(spec: RandomInitSpec, model: SAM2Base, digest: str) -> dict[str, object]:
    generation = "2.1" if "sam2.1" in spec.config else "2.0"
    return {
        "format": FORMAT,
        **asdict(spec),
        "generation": generation,
        "parameters": sum(p.numel() for p in model.parameters()),
        "state_dict_sha256": digest,
        "torch": torch.__version__,
        "rf_sam_2": importlib.metadata.version("rf-sam-2"),
    }


def write_random_init_checkpoint(spec: RandomInitSpec, folder: Path | None = None) -> RandomInitCheckpoint:
    """Write (or reuse from ``folder``, by default the cache) the checkpoint of ``spec``.

    An existing file is reused when its metadata names the same spec and its bytes match the recorded
    sha256; otherwise it is rebuilt. Both files are written atomically.
    """
    folder = folder if folder is not None else cache_dir("models", "random-init")
    path = folder / f"{spec.file_stem}.pt"
    metadata_path = folder / f"{spec.file_stem}.json"
    if path.exists() and metadata_path.exists():
        metadata = json.loads(metadata_path.read_text())
        if (
            metadata.get("format") == FORMAT
            and metadata.get("config") == spec.config
            and metadata.get("image_size") == spec.image_size
            and metadata.get("seed") == spec.seed
            and metadata.get("file_sha256") == sha256_file(path)
        ):
            return RandomInitCheckpoint(path, metadata_path, spec, str(metadata["state_dict_sha256"]))

    return save_random_init(spec, path)


def save_random_init(spec: RandomInitSpec, path: Path) -> RandomInitCheckpoint:
    """Build the model of ``spec`` and write it to ``path`` with ``path.with_suffix('.json')`` beside it."""
    model = build_random_init(spec)
    state_dict = model.state_dict()
    digest = state_dict_sha256(state_dict)
    metadata_path = path.with_suffix(".json")
    with atomic_output(path) as tmp:
        with open(tmp, "wb") as handle:  # a handle, not a name: torch would record the temp name
            torch.save({"model": state_dict}, handle)
        file_sha256 = sha256_file(tmp)
    with atomic_output(metadata_path) as tmp:
        tmp.write_text(json.dumps({**_metadata(spec, model, digest), "file_sha256": file_sha256}, indent=2))
    return RandomInitCheckpoint(path, metadata_path, spec, digest)
