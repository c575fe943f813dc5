#!/usr/bin/env python3
"""The SAM2_fine_tune pipeline from one YAML file: tile -> train -> predict (merged), with the seed's names.

    .venv/bin/python scripts/run_pipeline.py --config scripts/pipeline.example.yaml

Paths in the YAML may be relative (to the YAML's folder) and use either / or the platform's separator.
The seed's parameters keep their names and meaning; see scripts/pipeline.example.yaml.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere

import yaml

from core.errors import InvalidConfigError, Sam2QgisError

SIZES = {"large": "l", "base_plus": "b+", "small": "s", "tiny": "t"}
STEPS = ("Create_tiles", "Train", "Predict")


def _path(base: Path, value: str | None) -> Path | None:
    if value in (None, ""):
        return None
    path = Path(str(value).replace("\\", "/")).expanduser()
    return path if path.is_absolute() else (base / path).resolve()


def load(config_path: Path) -> dict[str, Any]:
    params = yaml.safe_load(config_path.read_text()) or {}
    base = config_path.resolve().parent
    for key in ("image_path", "mask_path", "base_dir", "model_path", "predict_path", "checkpoint", "aoi_path"):
        params[key] = _path(base, params.get(key))
    if params.get("model_confg") not in SIZES:
        raise InvalidConfigError(f"model_confg must be one of {list(SIZES)}, not {params.get('model_confg')!r}")
    if params.get("mode", "binary") not in ("binary", "multi-label"):
        raise InvalidConfigError(f"mode must be binary or multi-label, not {params.get('mode')!r}")
    if params.get("mode") == "multi-label" and not (params.get("num_classes") or params.get("classes")):
        raise InvalidConfigError("mode multi-label needs num_classes (the label values 1..num_classes) or classes")
    return params


def multi_label(params: dict[str, Any]) -> dict[str, Any]:
    """The seed's multi-label options as the engine's: classes 1..num_classes (or ``classes``) named by
    ``class_labels`` (in class order; a list one longer names background first, which is skipped)."""
    if params.get("mode") != "multi-label":
        return {}
    classes = tuple(params.get("classes") or range(1, int(params["num_classes"]) + 1))
    labels = [str(label) for label in params.get("class_labels") or []]
    if len(labels) == len(classes) + 1:
        labels = labels[1:]
    if labels and len(labels) != len(classes):
        raise InvalidConfigError(f"class_labels names {len(labels)} classes but there are {len(classes)}: {classes}")
    names = tuple(f"{c}={name}" for c, name in zip(classes, labels, strict=False))
    return {"multiclass": True, "classes": classes, "class_names": names}


def train_config(params: dict[str, Any]) -> Any:
    from core.training.config import TrainConfig

    split = list(params.get("split", [0.8, 0.2]))
    return TrainConfig(
        mode="auto",
        tile_size=int(params.get("patch_size", 256)),
        overlap=float(params.get("patch_overlap", 0)),
        max_nodata=float(params.get("max_empty", 0.2)),
        val_fraction=float(split[1]),
        test_fraction=float(split[2]) if len(split) > 2 else 0.0,
        class_zero=bool(params.get("class_zero", False)),
        lr=float(params.get("LEARNING_RATE", 1e-5)),
        epochs=int(params.get("EPOCHS", 30)),
        batch_size=int(params.get("batch_size", 4)),
        classes=tuple(params.get("classes") or ()),
        class_field=params.get("class_field"),
        best_metric="iou" if params.get("accuracy_metric", "iou") != "f1" else "f1",
        device=str(params.get("device", "auto")),
    ).replace(**multi_label(params))


def base_checkpoint(params: dict[str, Any]) -> Path:
    if params.get("checkpoint"):
        return Path(params["checkpoint"])
    from core.models.weights import download_model

    return download_model(f"sam2_hiera_{SIZES[params['model_confg']]}")  # the seed used SAM 2.0 weights


def run(params: dict[str, Any]) -> dict[str, Any]:
    from core.inference.predict_config import PredictConfig
    from core.models.checkpoint import read_checkpoint
    from core.training import run as training
    from core.training.export import write_seed_layout
    from core.training.tiles import build_tiles
    from core.workflows.prediction import PredictionJob, predict_to_files

    result: dict[str, Any] = {}
    config = train_config(params)
    description = params.get("description", "sam2_fine_tune")
    model_dir = Path(params.get("model_path") or "model")
    if params.get("Create_tiles", True):
        tiles = build_tiles(params["image_path"], params["mask_path"], config, params.get("aoi_path"))
        result["tiles"] = write_seed_layout(tiles, params["image_path"], Path(params["base_dir"]))
    best_model = model_dir / f"model_{description}_best.torch"
    if params.get("Train", True):
        checkpoint = base_checkpoint(params)
        found = read_checkpoint(checkpoint).spec
        if found.size != params["model_confg"]:
            raise InvalidConfigError(
                f"model_confg is {params['model_confg']} but {checkpoint.name} is {found.label}: make them agree"
            )
        run_dir = model_dir / description
        summary = training.start(
            training.RunInputs(params["image_path"], params["mask_path"], checkpoint, params.get("aoi_path")),
            config,
            run_dir,
            overwrite=bool(params.get("overwrite", False)),  # re-running a description replaces its run
        )
        shutil.copyfile(run_dir / "best.pt", best_model)
        shutil.copyfile(run_dir / "metrics.csv", model_dir / f"model_{description}_metrics.csv")
        result["train"] = {"best": summary["best"], "base": summary["base"], "model": str(best_model)}
    if params.get("Predict", True):
        raster = params.get("predict_path") or params["image_path"]
        model = params.get("predict_model") or best_model
        out = model_dir / f"{Path(raster).stem}_{params.get('AOI', 'aoi')}_{params.get('year', '')}_merged.tif"
        config = PredictConfig(threshold=float(params.get("threshold", 0.5)))
        job = PredictionJob(Path(raster), Path(model), out, config=config, device=str(params.get("device", "auto")))
        predicted = predict_to_files(job)  # in the mode the model was tuned for
        result["predict"] = {"merged": str(out), "windows": predicted["windows"]}
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, required=True)
    args = parser.parse_args()
    started = time.time()
    try:
        result = run(load(args.config))
    except Sam2QgisError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    result["minutes"] = round((time.time() - started) / 60, 2)
    print(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
