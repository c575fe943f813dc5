"""The official SAM 2 / 2.1 checkpoints: names, configs, download addresses and sizes.

Names follow the packaged config files (``sam2.1_hiera_t`` uses ``configs/sam2.1/sam2.1_hiera_t.yaml``);
the checkpoint file stems (``sam2.1_hiera_tiny``) are accepted as aliases.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.errors import InvalidConfigError

SIZES = ("tiny", "small", "base_plus", "large")
_SIZE_CODES = {"tiny": "t", "small": "s", "base_plus": "b+", "large": "l"}
_RELEASES = {
    "2.0": "https://dl.fbaipublicfiles.com/segment_anything_2/072824",
    "2.1": "https://dl.fbaipublicfiles.com/segment_anything_2/092824",
}
# Approximate sizes of the published files in bytes (the server's Content-Length is authoritative).
_APPROX_BYTES = {
    ("2.1", "tiny"): 156_000_000,
    ("2.1", "small"): 184_400_000,
    ("2.1", "base_plus"): 323_600_000,
    ("2.1", "large"): 898_100_000,
    ("2.0", "tiny"): 155_900_000,
    ("2.0", "small"): 184_300_000,
    ("2.0", "base_plus"): 323_500_000,
    ("2.0", "large"): 897_900_000,
}
#: Architecture fingerprints: trunk embedding width and number of Hiera blocks.
ARCHITECTURES = {(96, 12): "tiny", (96, 16): "small", (112, 24): "base_plus", (144, 48): "large"}


@dataclass(frozen=True)
class ModelSpec:
    """One SAM 2 variant. ``sha256`` and ``bytes`` are pinned where the published file is known (SAM 2.0): every
    download must match them. Where they are None (SAM 2.1) the weights manager records the hash of the first
    verified download in its manifest and checks later copies against it (trust on first download)."""

    generation: str  # "2.0" or "2.1"
    size: str  # one of SIZES
    sha256: str | None = field(default=None, compare=False)  # what is known of the file, not what the model is
    bytes: int | None = field(default=None, compare=False)

    @property
    def name(self) -> str:
        prefix = "sam2.1" if self.generation == "2.1" else "sam2"
        return f"{prefix}_hiera_{_SIZE_CODES[self.size]}"

    @property
    def filename(self) -> str:
        prefix = "sam2.1" if self.generation == "2.1" else "sam2"
        return f"{prefix}_hiera_{self.size}.pt"

    @property
    def config(self) -> str:
        folder = "sam2.1" if self.generation == "2.1" else "sam2"
        return f"configs/{folder}/{self.name}.yaml"

    @property
    def url(self) -> str:
        return f"{_RELEASES[self.generation]}/{self.filename}"

    @property
    def approx_bytes(self) -> int:
        return _APPROX_BYTES[(self.generation, self.size)]

    @property
    def label(self) -> str:
        """Human name, e.g. 'SAM 2.1 tiny'."""
        return f"SAM {self.generation} {self.size.replace('_plus', '+')}"


#: The published SAM 2.0 checkpoints (sha256, bytes), from the LFS pointers of the original pipeline.
PINNED: dict[tuple[str, str], tuple[str, int]] = {
    ("2.0", "tiny"): ("65b50056e05bcb13694174f51bb6da89c894b57b75ccdf0ba6352c597c5d1125", 155906050),
    ("2.0", "small"): ("95949964d4e548409021d47b22712d5f1abf2564cc0c3c765ba599a24ac7dce3", 184309650),
    ("2.0", "base_plus"): ("d0bb7f236400a49669ffdd1be617959a8b1d1065081789d7bbff88eded3a8071", 323493298),
    ("2.0", "large"): ("7442e4e9b732a508f80e141e7c2913437a3610ee0c77381a66658c3a445df87b", 897952466),
}

MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(generation, size, *PINNED.get((generation, size), (None, None)))
        for generation in ("2.1", "2.0")
        for size in SIZES
    )
}


def get_model(name: str) -> ModelSpec:
    """The spec for a name like ``sam2.1_hiera_t``, ``sam2.1_hiera_tiny`` or ``sam2_hiera_large.pt``."""
    key = name.removesuffix(".pt").removesuffix(".yaml")
    for spec in MODELS.values():
        if key in (spec.name, spec.filename.removesuffix(".pt")):
            return spec
    raise InvalidConfigError(f"unknown model {name!r}: use one of {', '.join(MODELS)}")


#: How the image encoder runs for inference (core.models.encoder_speed): ``exact`` everywhere, ``int8`` on a CPU.
ENCODER_PATHS: tuple[str, ...] = ("exact", "int8")
#: The click masks' mean IoU to exact's that int8 must keep on a model size for it to be offered without a warning.
INT8_TOLERANCE = 0.98


@dataclass(frozen=True)
class Int8Check:
    """int8 against exact on one model size: the click masks' mean and minimum IoU to exact's, as
    ``bench/bench_int8.py`` printed them (3 tiles x 16 clicks at 1024 px, seeded random-init weights)."""

    mean_iou: float
    min_iou: float

    @property
    def within(self) -> bool:
        return self.mean_iou >= INT8_TOLERANCE


#: ``python -m bench.bench_int8`` on 2026-12-02 (SAM 2.1 configs; SAM 2.0's share each size's architecture).
#: Random-init weights: real weights need the same command run with ``--checkpoint-dir``.
INT8_CHECKS: dict[str, Int8Check] = {
    "tiny": Int8Check(mean_iou=0.996, min_iou=0.986),
    "small": Int8Check(mean_iou=0.987, min_iou=0.926),
    "base_plus": Int8Check(mean_iou=0.978, min_iou=0.921),
    "large": Int8Check(mean_iou=0.987, min_iou=0.940),
}


def int8_warning(spec: ModelSpec) -> str | None:
    """Why int8 may be too far from exact on ``spec``'s size (measured outside the tolerance, or not measured);
    None where it was checked within it."""
    check = INT8_CHECKS.get(spec.size)
    if check is None:
        return f"the int8 encoder was not checked on {spec.label}: its masks may differ from exact's; use exact"
    if not check.within:
        return (
            f"the int8 encoder drifts on {spec.label}: click masks' mean IoU {check.mean_iou:.3f} to exact's (min "
            f"{check.min_iou:.3f}, measured with random-init weights), below {INT8_TOLERANCE}; use exact for this model"
        )
    return None


def _int8_checked() -> str:
    sizes = [size for size in SIZES if size in INT8_CHECKS and INT8_CHECKS[size].within]
    return ", ".join(sizes) or "none"


ENCODER_HELP = (
    "exact: the model's own encoder (its embeddings to float rounding); int8: on a CPU only, int8 linear layers, "
    "about 2x exact's speed on hiera-tiny and approximate: click masks within a mean IoU of "
    f"{INT8_TOLERANCE} of exact's on the sizes checked ({_int8_checked()}; other sizes warn; bench/RESULTS.md); "
    "other devices run exact"
)
