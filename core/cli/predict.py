"""``predict``: a whole raster into a mask, and optionally polygons, probabilities and uncertainty
(core.workflows.prediction)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from core.cli.args import bands_flag, config_flags, job_options, shape_options
from core.geometry.polygons import PolygonOptions
from core.inference.predict_config import PredictConfig
from core.inference.predict_config import describe as predict_describe
from core.models.registry import ENCODER_HELP, ENCODER_PATHS

#: PredictConfig fields given as flags.
PREDICT_OPTIONS = ("mode", "threshold", "overlap", "batch_size", "grid_points", "min_grid_iou", "uncertainty_signal")


def is_region(args: argparse.Namespace) -> bool:
    """Several rasters, a folder, a pattern, a list, a VRT mosaic or --resume: a region (--out is a folder)."""
    from core.io.catalog import names_several

    return len(args.raster) > 1 or args.resume or names_several(args.raster[0])


def each_raster(args: argparse.Namespace) -> dict[str, Any]:
    """What every raster's prediction takes from the command line, one raster's or a region's."""
    chosen = {
        name: getattr(args, name) for name in PREDICT_OPTIONS if name != "mode" and getattr(args, name) is not None
    }
    return {
        "config": PredictConfig(**chosen),
        "mode": args.mode,
        "aoi": args.aoi,
        "bands": args.bands,
        "device": args.device,
        "image_size": args.image_size,
        "encoder": args.encoder,
        "label": args.label,
        "shapes": PolygonOptions.from_mapping(vars(args)),
        "instances": args.instances,
    }


def predict(args: argparse.Namespace) -> dict[str, Any]:
    from core.workflows.prediction import PredictionJob, predict_to_files

    if is_region(args):
        return predict_region(args)
    job = PredictionJob(
        Path(args.raster[0]), args.checkpoint, args.out, vector=args.vector, probabilities=args.probabilities,
        uncertainty=args.uncertainty, source=args.source, **each_raster(args),
    )  # fmt: skip
    return predict_to_files(job, progress=args.job, cancelled=args.job.cancelled, warn=args.job.warning)


def predict_region(args: argparse.Namespace) -> dict[str, Any]:
    from core.errors import UsageError
    from core.workflows.region import RegionJob
    from core.workflows.region import predict_region as run_region

    for flag, value in (
        ("--probabilities", args.probabilities),
        ("--uncertainty", args.uncertainty),
        ("--source", args.source),
    ):
        if value is not None:
            raise UsageError(
                f"{flag} is for one raster: a region writes a mask per raster, their mosaic and one polygon "
                "layer (predict a raster alone for its probabilities or uncertainty)"
            )
    job = RegionJob(
        tuple(args.raster), args.checkpoint, args.out, vector=args.vector, resume=args.resume, **each_raster(args)
    )
    return run_region(job, progress=args.job, cancelled=args.job.cancelled, warn=args.job.warning)


def register(commands: Any) -> None:
    command = commands.add_parser(
        "predict", help="segment a whole raster, or a region of many, into masks (and polygons)"
    )
    command.add_argument(
        "--raster",
        action="append",
        required=True,
        help="a raster; repeat it, or give a folder, a glob pattern, a .txt list or a VRT mosaic, for a region "
        "(then --out is a folder; under torchrun the ranks share its rasters)",
    )
    command.add_argument("--checkpoint", type=Path, required=True, help="a fine-tuned run's best.pt (or any SAM 2)")
    command.add_argument(
        "--out",
        type=Path,
        required=True,
        help="mask GeoTIFF: 1 object, 0 background, 255 nodata (a region: a folder of masks, parts and region.vrt)",
    )
    command.add_argument(
        "--vector", type=Path, default=None, help="also write polygons (.gpkg, .geojson, .shp; a region: one layer)"
    )
    command.add_argument(
        "--resume",
        action="store_true",
        help="a region: finish what an interrupted run of the same command left (finished rasters are kept)",
    )
    command.add_argument("--probabilities", type=Path, default=None, help="also write blended probabilities")
    command.add_argument(
        "--uncertainty",
        type=Path,
        default=None,
        help="also write how unsure the model is per pixel (0 sure to 1; --uncertainty-signal): where to label next",
    )
    command.add_argument("--aoi", type=Path, default=None, help="polygons limiting the prediction")
    bands_flag(command)
    command.add_argument("--source", default=None, help="what the source attribute says (default: the raster's name)")
    config_flags(command, predict_describe(), PREDICT_OPTIONS, default_from={"mode": "default: from the checkpoint"})
    command.add_argument("--device", default="auto")
    command.add_argument("--image-size", type=int, default=None)
    command.add_argument("--encoder", choices=ENCODER_PATHS, default="exact", help=ENCODER_HELP)
    command.add_argument(
        "--label", default="object", help="value of the class attribute (a multi-class model names its own classes)"
    )
    command.add_argument(
        "--instances",
        action="store_true",
        help="one polygon per object: split touching objects (buildings sharing a wall, crowns) where they narrow",
    )
    shape_options(command)
    job_options(command)
    command.set_defaults(run=predict)
