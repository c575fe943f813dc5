"""``find``: learn from a few labelled examples (a short fine-tune), then propose the other objects to review
(core.workflows.find)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from core.cli.args import bands_flag, classes_arg, config_flags, job_options, shape_options, where_to_look
from core.errors import InvalidInputError
from core.geometry.polygons import PolygonOptions


def find(args: argparse.Namespace) -> dict[str, Any]:
    from core.workflows.find import FIND_DEFAULTS, FIND_OPTIONS, FindInputs, find_rest

    if args.extent and args.area:
        raise InvalidInputError("give --extent or --area, not both")
    config = FIND_DEFAULTS.replace(
        **{name: getattr(args, name) for name in FIND_OPTIONS},
        bands=args.bands,
        classes=classes_arg(args.classes),
        class_field=args.class_field,
    )
    extent = tuple(args.extent) if args.extent else None
    inputs = FindInputs(args.raster, args.labels, args.checkpoint, extent, args.area)
    shapes = PolygonOptions.from_mapping(vars(args))
    return find_rest(inputs, args.out, config, shapes, progress=args.job, cancelled=args.job.cancelled)


def register(commands: Any) -> None:
    from core.workflows.find import FIND_OPTIONS, describe

    command = commands.add_parser(
        "find", help="learn from a few labelled examples (a short fine-tune), then propose the other objects to review"
    )
    command.add_argument("--raster", type=Path, required=True, help="the orthophoto")
    command.add_argument(
        "--labels",
        type=Path,
        required=True,
        help="some examples: polygons of objects, and background polygons or points (class 0 or 'background')",
    )
    command.add_argument("--checkpoint", type=Path, required=True, help="the base model to tune from")
    command.add_argument("--out", type=Path, required=True, help="folder for candidates.gpkg, summary.json and run/")
    where_to_look(command)
    command.add_argument("--class-field", default=None, help="attribute of the labels holding the class")
    command.add_argument("--classes", default=None, help="classes to find, e.g. 1 (default: every class but 0)")
    bands_flag(command)
    config_flags(command, describe(), FIND_OPTIONS)  # the training options find lets an analyst change
    shape_options(command)
    job_options(command)
    command.set_defaults(run=find)
