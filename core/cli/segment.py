"""``segment``: the object(s) at point and box prompts into a GeoPackage (core.workflows.clicks)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from core.cli.args import bands_flag, box_arg, job_options, point_arg, shape_options
from core.geometry.polygons import PolygonOptions
from core.models.registry import ENCODER_HELP, ENCODER_PATHS


def segment(args: argparse.Namespace) -> dict[str, Any]:
    from core.workflows.clicks import SegmentJob, segment_to_file

    job = SegmentJob(
        args.raster,
        args.checkpoint,
        args.out,
        points=tuple((p[0], p[1]) for p in args.point),
        labels=tuple(int(p[2]) if len(p) == 3 else 1 for p in args.point),
        box=tuple(args.box) if args.box else None,
        crs=args.crs,
        model=args.model,
        device=args.device,
        image_size=args.image_size,
        encoder=args.encoder,
        bands=args.bands,
        shapes=PolygonOptions.from_mapping(vars(args)),
        label=args.label,
    )
    return segment_to_file(job, warn=args.job.warning)


def register(commands: Any) -> None:
    command = commands.add_parser("segment", help="segment the object(s) at point/box prompts into a GeoPackage")
    command.add_argument("--raster", type=Path, required=True)
    command.add_argument("--checkpoint", type=Path, required=True)
    command.add_argument(
        "--point",
        type=point_arg,
        action="append",
        default=[],
        metavar="X,Y[,1|0]",
        help="a prompt point (repeatable); label 1 foreground (default), 0 background",
    )
    command.add_argument("--box", type=box_arg, default=None, metavar="XMIN,YMIN,XMAX,YMAX")
    command.add_argument("--crs", default=None, help="CRS of the prompts (default: the raster's)")
    command.add_argument("--out", type=Path, required=True, help="GeoPackage (.gpkg) or GeoJSON to write")
    command.add_argument("--model", default=None, help="expected model, e.g. sam2.1_hiera_t (checked)")
    command.add_argument("--device", default="auto", help="auto, cuda, mps or cpu")
    command.add_argument("--image-size", type=int, default=None, help="model input size (default: the checkpoint's)")
    command.add_argument("--encoder", choices=ENCODER_PATHS, default="exact", help=ENCODER_HELP)
    bands_flag(command)
    shape_options(command, clicks=True)
    command.add_argument("--label", default="object", help="value of the class attribute")
    job_options(command)
    command.set_defaults(run=segment)
