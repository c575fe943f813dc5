"""``track``: follow objects across years of orthophotos of one area, and what changed (core.workflows.track)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from core.cli.args import job_options
from core.tracking.match import MatchConfig


def track(args: argparse.Namespace) -> dict[str, Any]:
    from core.workflows.track import TrackJob, track_years

    prediction: dict[str, Any] = {"device": args.device}
    if args.mode:
        prediction["mode"] = args.mode
    job = TrackJob(
        tuple(args.year),
        args.out,
        dates=tuple(args.date) if args.date else None,
        checkpoint=args.checkpoint,
        class_field=args.class_field,
        match=MatchConfig(args.max_shift, args.min_iou, args.changed_iou, args.changed_area, not args.no_reappear),
        prediction=prediction,
        method=args.method,
        start=args.start,
        pixel=args.pixel,
    )
    return track_years(job, progress=args.job)


def register(commands: Any) -> None:
    defaults = MatchConfig()
    command = commands.add_parser(
        "track", help="follow objects across years of orthophotos of one area: new, unchanged, changed, gone"
    )
    command.add_argument(
        "--year",
        type=Path,
        action="append",
        required=True,
        metavar="RASTER|LAYER",
        help="one year: its orthophoto (predicted with --checkpoint) or its objects as a polygon layer (repeat)",
    )
    command.add_argument(
        "--date", action="append", default=None, help="each --year's date, YYYY[-MM-DD] (default: from file names)"
    )
    command.add_argument("--out", type=Path, required=True, help="GeoPackage: layers objects (by date) and changes")
    command.add_argument(
        "--method",
        choices=("match", "prompt", "memory"),
        default="match",
        help="how last year's objects are found this year: match each year's objects by overlap (rasters or "
        "layers), prompt SAM 2 with last year's outlines, or SAM 2's memory over the years as frames (rasters)",
    )
    command.add_argument(
        "--start",
        type=Path,
        default=None,
        metavar="LAYER",
        help="the first year's objects (accepted segments, labels) instead of its prediction",
    )
    command.add_argument("--checkpoint", type=Path, default=None, help="the model that predicts orthophotos")
    command.add_argument("--mode", default=None, help="prediction mode (default: the checkpoint's)")
    command.add_argument("--device", default="auto")
    command.add_argument("--class-field", default="class_id", help="the layers' attribute holding the class")
    command.add_argument(
        "--max-shift", type=float, default=defaults.max_shift_m, help="largest misregistration looked for (m)"
    )
    command.add_argument("--min-iou", type=float, default=defaults.min_iou, help="overlap that makes one object")
    command.add_argument(
        "--changed-iou", type=float, default=defaults.changed_iou, help="below this overlap an object has changed"
    )
    command.add_argument(
        "--changed-area",
        type=float,
        default=defaults.changed_area,
        help="beyond this relative area change an object has changed",
    )
    command.add_argument(
        "--pixel",
        type=float,
        default=None,
        metavar="SIZE",
        help="prompt and memory: the shared grid's pixel size, in the first orthophoto's CRS units (default: the "
        "finest of the orthophotos)",
    )
    command.add_argument(
        "--no-reappear",
        action="store_true",
        help="an object gone one year and found again the next at the same place is a new object (default: the "
        "same one, missed for a year)",
    )
    job_options(command)
    command.set_defaults(run=track)
