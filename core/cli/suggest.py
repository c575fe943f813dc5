"""``suggest``: where to label next, the places where the model is least sure, away from the labels
(core.workflows.suggest)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from core.cli.args import bands_flag, job_options, where_to_look
from core.errors import InvalidInputError


def suggest(args: argparse.Namespace) -> dict[str, Any]:
    from core.workflows.suggest import SuggestConfig, SuggestInputs, suggest

    uncertainty = args.uncertainty
    if uncertainty is None:
        if args.checkpoint is None:
            raise InvalidInputError(
                "give --uncertainty (a raster from predict --uncertainty), or --raster and --checkpoint"
            )
        uncertainty = args.out.with_name(f"{args.out.stem}_uncertainty.tif")
    inputs = SuggestInputs(
        uncertainty, args.raster, args.checkpoint, args.labels, args.class_field,
        tuple(args.extent) if args.extent else None, args.area, args.bands, args.mode,
    )  # fmt: skip
    config = SuggestConfig(args.count, args.min_distance, args.keep_clear)
    return suggest(inputs, args.out, config, args.device, progress=args.job, cancelled=args.job.cancelled)


def register(commands: Any) -> None:
    command = commands.add_parser(
        "suggest", help="where to label next: the places where the model is least sure, away from your labels"
    )
    command.add_argument("--out", type=Path, required=True, help="the places, as points (.gpkg)")
    command.add_argument(
        "--uncertainty",
        type=Path,
        default=None,
        help="an uncertainty raster (predict --uncertainty); with --checkpoint, where to write it (default: beside "
        "--out)",
    )
    command.add_argument("--raster", type=Path, default=None, help="the orthophoto (to predict the uncertainty)")
    command.add_argument("--checkpoint", type=Path, default=None, help="the model whose uncertainty counts")
    command.add_argument("--labels", type=Path, default=None, help="what is labelled already (kept clear of)")
    command.add_argument("--class-field", default=None, help="attribute of the labels holding the class")
    where_to_look(command)
    command.add_argument("--count", type=int, default=10, help="how many places at most")
    command.add_argument(
        "--min-distance", type=float, default=None, help="between places, in ground units (default: 256 px)"
    )
    command.add_argument(
        "--keep-clear", type=float, default=None, help="around labels, in ground units (default: min distance / 4)"
    )
    bands_flag(command)
    command.add_argument("--device", default="auto", help="auto, cuda, mps or cpu")
    command.add_argument(
        "--mode",
        choices=("auto",),
        default=None,
        help="measure a model not tuned for whole-raster prediction anyway, promptless (default: refused)",
    )
    job_options(command)
    command.set_defaults(run=suggest)
