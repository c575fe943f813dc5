"""``train`` and ``tile``: fine-tune SAM 2 on an orthophoto and its labels (core.training.run), or write the
training tiles in the seed pipeline's folder layout. Both read the same labels and tile options."""

from __future__ import annotations

import argparse
import logging
from dataclasses import fields
from pathlib import Path
from typing import Any

from core.cli.args import bands_flag, classes_arg, config_flags, job_options, train_help
from core.errors import InvalidInputError

#: TrainConfig fields given as flags: for ``tile`` and ``train``; the class options and bands (flags of their
#: own: lists, switches); ``train_options()``: every other field, for ``train``.
TILE_OPTIONS = ("tile_size", "overlap", "max_nodata", "val_fraction", "test_fraction", "block_tiles", "seed")
CLASS_OPTIONS = ("classes", "class_field", "class_zero", "multiclass", "name_field", "class_names")
BAND_OPTIONS = ("bands",)


def train_options() -> tuple[str, ...]:
    from core.training.config import TrainConfig

    excluded = (*TILE_OPTIONS, *CLASS_OPTIONS, *BAND_OPTIONS)
    return tuple(f.name for f in fields(TrainConfig) if f.name not in excluded)


def train_config(args: argparse.Namespace) -> Any:
    """The TrainConfig of a command line: --config's YAML (or the defaults) with the flags given over it."""
    from core.training.config import TrainConfig

    base = TrainConfig.from_yaml(args.config) if args.config else TrainConfig()
    options = {name: getattr(args, name, None) for name in (*TILE_OPTIONS, *train_options())}
    return base.replace(
        **options,
        bands=args.bands,
        classes=classes_arg(args.classes),
        class_field=args.class_field,
        class_zero=True if args.class_zero else None,
        multiclass=True if getattr(args, "multiclass", False) else None,
        name_field=getattr(args, "name_field", None),
        class_names=tuple(args.class_names.split(",")) if getattr(args, "class_names", None) else None,
    )


def train_flags(command: argparse.ArgumentParser, names: tuple[str, ...]) -> None:
    from core.training.config import describe

    config_flags(command, describe(), names)


def train(args: argparse.Namespace) -> dict[str, Any]:
    from core.training import run

    job = args.job
    if args.resume:
        return verdict(run.resume(args.resume, progress=job, stop_requested=job.cancelled))
    required = (("--raster", args.raster), ("--labels", args.labels), ("--checkpoint", args.checkpoint))
    missing = [flag for flag, value in (*required, ("--out", args.out)) if value is None]
    if missing:
        raise InvalidInputError(f"missing {', '.join(missing)} (or give --resume RUN_DIR)")
    inputs = run.RunInputs(args.raster, args.labels, args.checkpoint, args.aoi, args.labels_name)
    summary = run.start(
        inputs, train_config(args), args.out, progress=job, overwrite=args.overwrite, stop_requested=job.cancelled
    )
    return verdict(summary)


def verdict(summary: dict[str, Any]) -> dict[str, Any]:
    """Say on stderr, in one line, whether the run beat the base model (a finished run's summary has it)."""
    if "verdict" in summary:
        logging.getLogger("core.training").info(summary["verdict"])
    return summary


def tile(args: argparse.Namespace) -> dict[str, Any]:
    from core.training.export import write_seed_layout
    from core.training.tiles import build_tiles

    tiles = build_tiles(args.raster, args.labels, train_config(args), args.aoi)
    return {"out": str(args.out), "tiles": write_seed_layout(tiles, args.raster, args.out), **tiles.summary()}


def training_inputs(command: argparse.ArgumentParser) -> None:
    """The orthophoto, its labels and how they are read and tiled: the same for ``train`` and ``tile``."""
    command.add_argument("--raster", type=Path, help="the orthophoto")
    command.add_argument("--labels", type=Path, help="polygons (.gpkg, .shp, .geojson; any CRS) or a class mask raster")
    command.add_argument("--aoi", type=Path, default=None, help="polygons limiting where tiles are taken")
    command.add_argument("--config", type=Path, default=None, help="YAML with TrainConfig fields; flags override it")
    train_flags(command, TILE_OPTIONS)
    bands_flag(command)
    command.add_argument("--classes", default=None, help="foreground classes, e.g. 1 or 1,3 (default: all)")
    command.add_argument("--class-field", default=None, help="attribute of the polygons holding the class")
    command.add_argument("--class-zero", action="store_true", help="mask rasters: 0 is a class, nodata is unlabelled")
    command.add_argument("--multiclass", action="store_true", help=train_help("multiclass"))
    command.add_argument("--name-field", default=None, help=train_help("name_field"))
    command.add_argument("--class-names", default=None, metavar="ID=NAME,...", help=train_help("class_names"))


def register(commands: Any) -> None:
    command = commands.add_parser("train", help="fine-tune SAM 2 on an orthophoto and its labels")
    training_inputs(command)
    command.add_argument("--checkpoint", type=Path, help="base checkpoint (official, seed-style or ours)")
    command.add_argument("--out", type=Path, help="run folder")
    train_flags(command, train_options())
    command.add_argument(
        "--labels-name",
        default=None,
        help="what the labels are called in the history of runs on them (what labels bought; default: the file)",
    )
    command.add_argument("--resume", type=Path, default=None, help="continue the run in this folder")
    command.add_argument(
        "--overwrite", action="store_true", help="replace the results of an earlier run in --out (else refused)"
    )
    job_options(command)
    command.set_defaults(run=train)


def register_tile(commands: Any) -> None:
    command = commands.add_parser("tile", help="write training tiles in the seed pipeline's folder layout")
    training_inputs(command)
    command.add_argument("--out", type=Path, required=True, help="folder for trai/vali/test")
    train_flags(command, ("labels_cover", "ring"))  # partial labels write 255 (unlabelled) into the masks
    job_options(command)
    command.set_defaults(run=tile)
