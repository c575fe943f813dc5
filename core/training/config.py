"""The training configuration: one typed dataclass, loadable from YAML, overridable field by field.

It is the one place for the names, defaults, choices and help of the training options: the command line's
flags are made from it, and the plugin's panel and Processing algorithm read them from
``sam2_qgis_plugin/job_defaults.json``, written by ``python -m core describe`` (a test keeps the two equal).
Pure Python (no torch), so any process may import it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Literal

from core.errors import InvalidConfigError

Mode = Literal["click", "auto"]
Trainable = Literal["decoder", "lora", "full"]
LabelsCover = Literal["auto", "complete", "partial"]  # auto: from the AOI (core.io.labels.LabelsCover: the other two)
VECTOR_LABELS = (".gpkg", ".shp", ".geojson", ".json")  # core.io.labels.VECTOR_SUFFIXES (that module needs GDAL)


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a training run (paths are given separately).

    Tiles: ``tile_size`` pixels (the model input size unless ``image_size`` differs: tiles are then resized),
    ``overlap`` fraction, tiles with more than ``max_nodata`` nodata are skipped; ``val_fraction`` and
    ``test_fraction`` of spatial blocks of ``block_tiles`` x ``block_tiles`` tiles go to validation/test.
    """

    mode: Mode = "auto"  # auto: promptless masks for whole-raster prediction; click: a mask per prompt
    trainable: Trainable = "decoder"
    epochs: int = 10
    batch_size: int = 4
    lr: float = 1e-4
    weight_decay: float = 0.01
    warmup_fraction: float = 0.05
    grad_clip: float = 1.0
    lora_rank: int = 4
    tile_size: int = 1024
    image_size: int | None = None
    overlap: float = 0.0
    max_nodata: float = 0.2
    val_fraction: float = 0.2
    test_fraction: float = 0.0
    block_tiles: int = 2
    bands: tuple[int, ...] = ()  # the raster's bands read as R, G, B (1-based; one band: grey); empty: 1, 2, 3
    classes: tuple[int, ...] = ()  # foreground classes; empty: every labelled class
    class_field: str | None = None  # attribute of vector labels holding the class (default: all class 1)
    class_zero: bool = False  # mask rasters: value 0 is a class (background), nodata is unlabelled
    multiclass: bool = False  # one model that tells the classes apart (auto mode), not one merged "object"
    name_field: str | None = None  # attribute of vector labels holding each class's name (multiclass)
    class_names: tuple[str, ...] = ()  # "id=name" entries, e.g. ("1=building", "2=tree"); win over name_field
    labels_cover: LabelsCover = "auto"  # complete: every object labelled; partial: some examples; auto: see cover_for
    ring: float = 0.5  # partial labels: background ring around each object, this times its size (sqrt of its area)
    augment_variants: int = 4  # augmented copies per tile (dihedral + colour), each encoded once
    colour_jitter: float = 0.1
    objects_per_tile: int = 16  # click mode: prompts (objects) per tile and step, sharing the tile's embedding
    multimask_fraction: float = 0.5  # click mode: share of each tile's prompts that are a lone click (3 masks)
    points_per_object: int = 1
    background_points: int = 1
    box_probability: float = 0.5
    correction_clicks: int = 1
    best_metric: Literal["iou", "f1"] = "iou"
    min_gain: float = 0.005  # an epoch replaces the base only if it beats it by more than this (validation noise)
    pixel_loss: Literal["balanced", "sam"] = "balanced"  # click mode's pixel term: balanced BCE or SAM's 20 x focal
    max_minutes: float = 0.0  # time budget: train whole epochs while they fit in it (0: no limit)
    patience: int = 3  # stop after this many epochs without beating the best so far (base included); 0: never
    seed: int = 0
    device: str = "auto"

    def __post_init__(self) -> None:
        problems = []
        if self.mode not in ("click", "auto"):
            problems.append(f"mode must be click or auto, not {self.mode!r}")
        if self.trainable not in ("decoder", "lora", "full"):
            problems.append(f"trainable must be decoder, lora or full, not {self.trainable!r}")
        if self.epochs < 1 or self.batch_size < 1:
            problems.append("epochs and batch_size must be at least 1")
        if not 0 < self.lr < 1:
            problems.append(f"lr {self.lr} is not a learning rate: use something like 1e-4")
        if self.tile_size < 32 or self.tile_size % 16:
            problems.append(f"tile_size {self.tile_size} must be a multiple of 16, at least 32")
        if self.image_size is not None and self.image_size % 32:
            problems.append(f"image_size {self.image_size} must be a multiple of 32")
        if not 0 <= self.overlap < 1 or not 0 <= self.max_nodata <= 1:
            problems.append("overlap must be in [0, 1) and max_nodata in [0, 1]")
        if not 0 < self.val_fraction < 1 or not 0 <= self.test_fraction < 1 - self.val_fraction:
            problems.append("val_fraction must be in (0, 1), test_fraction in [0, 1 - val_fraction)")
        if self.max_minutes < 0:
            problems.append(f"max_minutes {self.max_minutes} must be 0 (no limit) or more minutes")
        if self.patience < 0:
            problems.append(f"patience {self.patience} must be 0 (no early stopping) or more epochs")
        if not 0 <= self.min_gain < 1:
            problems.append(f"min_gain {self.min_gain} must be in [0, 1): an IoU or F1 difference such as 0.005")
        if len(self.bands) not in (0, 1, 3) or any(band < 1 for band in self.bands):
            problems.append(f"bands {list(self.bands)} must be three band numbers (R, G, B, from 1) or one")
        if self.multiclass and self.mode != "auto":
            problems.append("multiclass training is for whole-raster prediction: use mode auto")
        if any("=" not in entry or not entry.split("=", 1)[0].strip().isdigit() for entry in self.class_names):
            problems.append(f"class_names {list(self.class_names)} must be id=name entries, e.g. 1=building,2=tree")
        if self.labels_cover not in ("auto", "complete", "partial"):
            problems.append(f"labels_cover must be auto, complete or partial, not {self.labels_cover!r}")
        if not 0 < self.ring <= 5:
            problems.append(f"ring {self.ring} must be in (0, 5]: the ring's width as a share of each object's size")
        if min(self.lora_rank, self.augment_variants, self.block_tiles, self.objects_per_tile) < 1:
            problems.append("lora_rank, augment_variants, block_tiles and objects_per_tile must be at least 1")
        if problems:
            raise InvalidConfigError("invalid training configuration: " + "; ".join(problems))

    def cover_for(self, aoi: Path | None, labels: Path) -> Literal["complete", "partial"]:
        """The kind of labels a run learns from: as chosen, or (auto) complete inside an area of interest and for a
        mask raster (it says what is background itself), partial for a vector layer without one."""
        if self.labels_cover != "auto":
            return self.labels_cover
        vector = Path(labels).suffix.lower() in VECTOR_LABELS
        return "partial" if aoi is None and vector else "complete"

    def with_cover_for(self, aoi: Path | None, labels: Path) -> TrainConfig:
        """This config with ``labels_cover`` decided (``cover_for``), as a run records it."""
        return self.replace(labels_cover=self.cover_for(aoi, labels))

    @property
    def model_size(self) -> int:
        return self.image_size or self.tile_size

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["classes"] = list(self.classes)
        data["bands"] = list(self.bands)
        data["class_names"] = list(self.class_names)
        return data

    def names_given(self) -> dict[int, str]:
        """The class names given as ``class_names`` (id -> name)."""
        pairs = (entry.split("=", 1) for entry in self.class_names)
        return {int(number.strip()): name.strip() for number, name in pairs}

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with ``changes`` (None values are ignored, so unset command-line flags change nothing)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    @classmethod
    def from_yaml(cls, path: Path) -> TrainConfig:
        """Load a YAML mapping of field names; unknown names are an error that lists the known ones."""
        import yaml

        try:
            data = yaml.safe_load(Path(path).read_text()) or {}
        except (OSError, yaml.YAMLError) as error:
            raise InvalidConfigError(f"cannot read training config {path}: {error}") from None
        if not isinstance(data, dict):
            raise InvalidConfigError(f"{path} must hold a mapping of option: value")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known - RETIRED_OPTIONS)
        if unknown:
            raise InvalidConfigError(f"{path}: unknown options {unknown}; known options: {sorted(known)}")
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """A config from ``to_dict``'s output, also one written by an earlier version (retired options dropped)."""
        data = {k: v for k, v in data.items() if k not in RETIRED_OPTIONS}
        for name in ("classes", "bands", "class_names"):
            if name in data:
                data[name] = tuple(data[name] or ())
        return cls(**data)


#: Options earlier versions wrote into run folders and configs, now ignored.
RETIRED_OPTIONS = frozenset({"num_workers"})

#: What each option means, in the analyst's words (command-line help, panel tooltips).
HELP: dict[str, str] = {
    "mode": "auto: learn to outline every object of the class without prompts, for whole-raster prediction; "
    "click: learn to outline the object at a click or box, for segmenting on the map",
    "trainable": "decoder: only the mask decoder (fast, small memory); lora: low-rank adapters in the encoder "
    "too; full: every weight (needs a large GPU)",
    "epochs": "passes over the training tiles (early stopping may end the run sooner)",
    "batch_size": "tiles per training step (lower it when the GPU runs out of memory)",
    "lr": "learning rate",
    "tile_size": "tile width and height in pixels",
    "bands": "the raster's bands read as red, green, blue, e.g. 4,1,2 (one band: grey; default 1,2,3)",
    "image_size": "model input size (default: the tile size)",
    "overlap": "tile overlap fraction",
    "max_nodata": "skip tiles with more nodata than this fraction",
    "val_fraction": "share of spatial blocks of tiles kept apart to score each epoch",
    "patience": "stop after this many epochs without beating the best so far, the base model included "
    "(0: never stop early)",
    "max_minutes": "time budget in minutes: the run trains whole epochs while the next one fits in it, so it ends "
    "within it (0: no limit); a budget too short for one epoch is refused with the time one needs",
    "min_gain": "a tuned epoch replaces the base model only if it beats it on validation by more than this "
    "(IoU or F1; keeps the base when the gain is validation noise)",
    "lora_rank": "rank of the LoRA adapters",
    "seed": "random seed (same seed, same run)",
    "device": "auto, cuda, mps or cpu",
    "weight_decay": "AdamW weight decay",
    "warmup_fraction": "share of the steps over which the learning rate ramps up",
    "grad_clip": "largest gradient norm (steadies training)",
    "test_fraction": "share of spatial blocks kept apart for a final test (never trained, never validated)",
    "block_tiles": "spatial blocks are this many tiles on a side (neighbouring tiles share a split)",
    "augment_variants": "augmented copies of each tile (flips, rotations, colour), each encoded once",
    "colour_jitter": "strength of the colour augmentation",
    "objects_per_tile": "click mode: objects prompted per tile and step",
    "multimask_fraction": "click mode: share of the prompts that are a lone click (trained with 3 candidate masks)",
    "points_per_object": "click mode: foreground clicks per object",
    "background_points": "click mode: background clicks per object",
    "box_probability": "click mode: chance that an object is also prompted with its box",
    "correction_clicks": "click mode: clicks on the first answer's errors, trained as a second round",
    "best_metric": "the validation score that picks the best epoch",
    "pixel_loss": "click mode's pixel loss: balanced cross-entropy or SAM's focal loss",
    "multiclass": "one model for all the classes, told apart (each class gets a learned prompt); without it the "
    "classes chosen are learned as one kind of object",
    "name_field": "attribute of the label polygons holding each class's name (multiclass)",
    "class_names": "class names as id=name, e.g. 1=building,2=tree (multiclass; default: the name field, else "
    "'class N')",
    "labels_cover": "complete: every object inside the training area is labelled (the rest is background); "
    "partial: only some examples are labelled: background is what is marked so (class 0 or 'background', "
    "polygons or points) and a ring around each object, every other pixel is left out; auto: complete inside an "
    "area of interest (and for a mask raster), partial without one",
    "ring": "partial labels: the background ring's width around each labelled object, as a share of the object's "
    "size (the square root of its area); an unlabelled object closer than that would be taught as background",
}
#: Labels of the labels_cover choices in the panel and Processing, in the analyst's words.
LABELS_COVER_LABELS: dict[str, str] = {
    "auto": "Every object inside the area of interest; some examples without one",
    "complete": "I labelled every object in the area",
    "partial": "I labelled some examples",
}
#: Labels of the mode choices in the panel and Processing.
MODE_LABELS: dict[str, str] = {"auto": "for whole-raster prediction", "click": "for clicking on the map"}


def describe() -> dict[str, dict[str, Any]]:
    """Every option of TrainConfig: ``{name: {"default", "choices" (Literal fields), "help"}}``, JSON-ready."""
    from core.options import describe_options

    return describe_options(
        TrainConfig, HELP, {"mode": {"labels": MODE_LABELS}, "labels_cover": {"labels": LABELS_COVER_LABELS}}
    )


__all__ = ["HELP", "LABELS_COVER_LABELS", "MODE_LABELS", "LabelsCover", "Mode", "TrainConfig", "Trainable", "describe"]
