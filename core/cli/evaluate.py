"""``evaluate``: pixel and object accuracy of a mask against labels, and its report files."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from core.cli.args import classes_arg, job_options
from core.io.output_paths import check_outputs


def evaluate(args: argparse.Namespace) -> dict[str, Any]:
    from core.evaluation.evaluate import evaluate, report_paths, write_report

    if args.out:
        check_outputs(
            {"--out": report_paths(args.out)}, {"--pred": args.pred, "--truth": args.truth, "--aoi": args.aoi}
        )
    classes = classes_arg(args.classes) or ()
    evaluation, overview = evaluate(args.pred, args.truth, args.aoi, classes, args.class_field, args.class_zero)
    result = evaluation.to_dict()
    if args.out:
        result["files"] = [str(p) for p in write_report(evaluation, overview, args.out)]
    return result


def register(commands: Any) -> None:
    command = commands.add_parser("evaluate", help="pixel and object accuracy of a mask against labels")
    command.add_argument("--pred", type=Path, required=True, help="mask GeoTIFF (1 object, 0 background)")
    command.add_argument("--truth", type=Path, required=True, help="polygons or a class mask raster")
    command.add_argument("--aoi", type=Path, default=None)
    command.add_argument("--out", type=Path, default=None, help="report path: writes .json, .csv and .png")
    command.add_argument("--classes", default=None, help="true classes counted as objects (default: all)")
    command.add_argument("--class-field", default=None)
    command.add_argument("--class-zero", action="store_true")
    job_options(command)
    command.set_defaults(run=evaluate)
