"""Command line of the engine: ``python -m core <command> ...``; ``--help`` on each command."""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import logging
import re
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

from core.errors import (
    CancelledError,
    DependencyError,
    InvalidInputError,
    OutputConflictError,
    Sam2QgisError,
    UsageError,
)
from core.inference.predict_config import describe as predict_describe
from core.io.atomic import atomic_output
from core.io.output_paths import check_outputs, parts_of
from core.jobs.events import JobEvents
from core.jobs.logs import configure_logging
from core.jobs.requests import FLAG as REQUEST_FLAG
from core.jobs.requests import expand_request
from core.models.allocator import engine_allocator
from core.models.registry import ENCODER_HELP, ENCODER_PATHS


class CommandParser(argparse.ArgumentParser):
    """argparse whose complaints are UsageErrors, so a bad command line or request ends like any failed job
    (an ``error`` event with ``expected``), not with a bare exit."""

    def error(self, message: str) -> Any:
        raise UsageError(f"{self.prog}: {message}")


def _floats(text: str, count: tuple[int, ...], what: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) not in count:
        raise argparse.ArgumentTypeError(f"{what} {text!r}: expected {' or '.join(map(str, count))} numbers")
    return values


def point_arg(text: str) -> list[float]:
    """``X,Y`` (foreground) or ``X,Y,1|0``."""
    values = _floats(text, (2, 3), "point")
    if len(values) == 3 and values[2] not in (0.0, 1.0):
        raise argparse.ArgumentTypeError(f"point {text!r}: the label is 1 (foreground) or 0 (background)")
    return values


def box_arg(text: str) -> list[float]:
    return _floats(text, (4,), "box XMIN,YMIN,XMAX,YMAX")


UNWRITABLE = (errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOSPC)
COORDINATE_FLAGS = ("--point", "--box", "--extent")


def attach_negative_coordinates(argv: Sequence[str]) -> list[str]:
    """``--point -71.2,42.3`` as ``--point=-71.2,42.3``: argparse would take a value starting with '-' (a
    longitude west of Greenwich) for an option."""
    attached: list[str] = []
    tokens = iter(argv)
    for token in tokens:
        if token in COORDINATE_FLAGS:
            value = next(tokens, None)
            if value is not None and re.fullmatch(r"-[\d.][\d.,eE+-]*", value):
                attached.append(f"{token}={value}")
                continue
            attached += [token] if value is None else [token, value]
            continue
        attached.append(token)
    return attached


def bands_arg(text: str) -> tuple[int, ...]:
    return tuple(int(v) for v in _floats(text, (1, 3), "bands"))


# -- commands ---------------------------------------------------------------------------------------------


def _development_tool(module: str) -> Any:
    """Import one of the development tools, which the plugin zip leaves out; say so clearly where missing."""
    import importlib

    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        if error.name is None or not (module + ".").startswith(error.name + "."):
            raise  # something the tool itself imports is missing
        raise DependencyError(
            f"{module} is a development tool that the installed plugin does not ship; run this command from a "
            "clone of the repository (python -m core ...)"
        ) from None


def _synthetic(args: argparse.Namespace) -> dict[str, Any]:
    synthetic = _development_tool("core.devtools.synthetic")
    config = synthetic.SyntheticSceneConfig(
        width=args.width,
        height=args.height,
        pixel_size=args.pixel_size,
        crs=args.crs,
        bands=args.bands,
        dtype=args.dtype,
        nodata_border=args.nodata_border,
        seed=args.seed,
    )
    paths = synthetic.write_synthetic_scene(config, args.out, stem=args.stem)
    counts = json.loads(paths.metadata.read_text())["object_counts"]
    return {key: str(value) for key, value in paths.__dict__.items()} | {"objects": counts}


def _sample_data(args: argparse.Namespace) -> dict[str, Any]:
    sample_data = _development_tool("core.devtools.sample_data")
    return sample_data.describe(sample_data.prepare_sample_data(args.dest))


def _weights_list(args: argparse.Namespace) -> dict[str, Any]:
    from core.models.registry import MODELS
    from core.models.weights import Manifest, weights_dir

    folder = weights_dir(args.cache_dir)
    recorded = Manifest(folder).read()
    return {
        "cache_dir": str(folder),
        "models": [
            {
                "name": spec.name,
                "label": spec.label,
                "url": spec.url,
                "approx_mb": round(spec.approx_bytes / 1e6, 1),
                "downloaded": (folder / spec.filename).exists(),
                "sha256": spec.sha256 or recorded.get(spec.filename, {}).get("sha256"),
            }
            for spec in MODELS.values()
        ],
    }


def _weights_download(args: argparse.Namespace) -> dict[str, Any]:
    from core.models.weights import download_model

    def progress(done: int, total: int | None) -> None:
        args.job(done / total if total else 0.0, stage="download", bytes=done, total_bytes=total)

    path = download_model(args.name, args.cache_dir, progress=progress, cancelled=args.job.cancelled)
    return {"checkpoint": str(path)}


def _weights_init(args: argparse.Namespace) -> dict[str, Any]:
    from core.models.random_init import RandomInitSpec, save_random_init, write_random_init_checkpoint
    from core.models.registry import get_model

    spec = RandomInitSpec(get_model(args.model).config, args.image_size, args.seed)
    for path in (args.out, args.out.with_suffix(".json")) if args.out else ():
        if path.exists():  # it may be a real checkpoint (or its sidecar): never replace it with random weights
            raise OutputConflictError(f"--out: {path} already exists: remove it or choose another name")
    checkpoint = save_random_init(spec, args.out) if args.out else write_random_init_checkpoint(spec)
    return {
        "checkpoint": str(checkpoint.path),
        "metadata": str(checkpoint.metadata_path),
        "state_dict_sha256": checkpoint.state_dict_sha256,
    }


def _segment(args: argparse.Namespace) -> dict[str, Any]:
    from core.geometry.polygons import PolygonOptions
    from core.inference.embeddings import EmbeddingCache
    from core.inference.segment import ClickSegmenter, Prompts
    from core.io.raster import RasterSource
    from core.io.vectors import PolygonFeature, write_polygons
    from core.models.loader import load_model

    if not args.point and not args.box:
        raise InvalidInputError("no prompt: give --point X,Y[,1|0] (repeatable) and/or --box XMIN,YMIN,XMAX,YMAX")
    check_outputs({"--out": parts_of(args.out)}, {"--raster": args.raster, "--checkpoint": args.checkpoint})
    loaded = load_model(args.checkpoint, args.model, args.device, args.image_size, args.encoder)
    if loaded.encoder_warning:
        args.job.warning(loaded.encoder_warning)
    with RasterSource(args.raster, args.bands) as raster:
        prompts = Prompts(
            points=tuple((p[0], p[1]) for p in args.point),
            labels=tuple(int(p[2]) if len(p) == 3 else 1 for p in args.point),
            box=tuple(args.box) if args.box else None,
            crs=args.crs,
        )
        segmenter = ClickSegmenter(loaded, raster, EmbeddingCache.default())
        result = segmenter.segment(prompts, PolygonOptions.from_mapping(vars(args)))
        created = time.strftime("%Y-%m-%dT%H:%M:%S")
        features = [
            PolygonFeature(
                geometry,
                {"class": args.label, "score": round(result.score, 4), "model": loaded.spec.name, "created": created},
            )
            for geometry in result.polygons
        ]
        crs_wkt = raster.crs.to_wkt() if raster.crs else ""
        write_polygons(
            args.out,
            features,
            crs_wkt,
            layer_name="segments",
            fields={"class": str, "score": float, "model": str, "created": str},
        )
    return {
        "out": str(args.out),
        "polygons": len(features),
        "score": result.score,
        "window": [int(v) for v in result.window.flatten()],
    }


#: Config fields given as flags: for ``predict``; for ``tile`` and ``train``; for ``train`` only (every other
#: TrainConfig field but the class options, which have their own flags).
PREDICT_OPTIONS = ("mode", "threshold", "overlap", "batch_size", "grid_points", "min_grid_iou", "uncertainty_signal")
TILE_OPTIONS = ("tile_size", "overlap", "max_nodata", "val_fraction", "test_fraction", "block_tiles", "seed")
CLASS_OPTIONS = ("classes", "class_field", "class_zero", "multiclass", "name_field", "class_names")
BAND_OPTIONS = ("bands",)


def train_options() -> tuple[str, ...]:
    from core.training.config import TrainConfig

    excluded = (*TILE_OPTIONS, *CLASS_OPTIONS, *BAND_OPTIONS)  # flags of their own (lists, switches)
    return tuple(f.name for f in fields(TrainConfig) if f.name not in excluded)


def _train_config(args: argparse.Namespace) -> Any:
    from core.training.config import TrainConfig

    base = TrainConfig.from_yaml(args.config) if args.config else TrainConfig()
    classes = tuple(int(c) for c in args.classes.split(",")) if args.classes else None
    options = {name: getattr(args, name, None) for name in (*TILE_OPTIONS, *train_options())}
    return base.replace(
        **options,
        bands=args.bands,
        classes=classes,
        class_field=args.class_field,
        class_zero=True if args.class_zero else None,
        multiclass=True if getattr(args, "multiclass", False) else None,
        name_field=getattr(args, "name_field", None),
        class_names=tuple(args.class_names.split(",")) if getattr(args, "class_names", None) else None,
    )


def _config_flags(
    command: argparse.ArgumentParser,
    described: dict[str, dict[str, Any]],
    names: Sequence[str],
    default_from: dict[str, str] | None = None,
) -> None:
    """Flags for config fields: type, choices, help and the default shown, all from the config's description
    (``core.options``). They default to None, so that an unset flag leaves a --config YAML's value (or what
    ``default_from[name]`` says decides it) alone."""
    for name in names:
        entry = described[name]
        default = entry["default"]
        kind = int if default is None else type(default)  # image_size: int or None
        shown = (default_from or {}).get(name) or ("" if default is None else f"default: {default}")
        command.add_argument(
            f"--{name.replace('_', '-')}",
            type=kind,
            choices=entry.get("choices"),
            default=None,
            help=entry.get("help", "") + (f" ({shown})" if shown else ""),
        )


def _train_flags(command: argparse.ArgumentParser, names: Sequence[str]) -> None:
    from core.training.config import describe

    _config_flags(command, describe(), names)


def _train(args: argparse.Namespace) -> dict[str, Any]:
    from core.training import run

    job = args.job
    if args.resume:
        return _verdict(run.resume(args.resume, progress=job, stop_requested=job.cancelled))
    missing = [
        flag
        for flag, value in (
            ("--raster", args.raster),
            ("--labels", args.labels),
            ("--checkpoint", args.checkpoint),
            ("--out", args.out),
        )
        if value is None
    ]
    if missing:
        raise InvalidInputError(f"missing {', '.join(missing)} (or give --resume RUN_DIR)")
    inputs = run.RunInputs(args.raster, args.labels, args.checkpoint, args.aoi, args.labels_name)
    summary = run.start(
        inputs, _train_config(args), args.out, progress=job, overwrite=args.overwrite, stop_requested=job.cancelled
    )
    return _verdict(summary)


def _verdict(summary: dict[str, Any]) -> dict[str, Any]:
    """Say on stderr, in one line, whether the run beat the base model (a finished run's summary has it)."""
    if "verdict" in summary:
        logging.getLogger("core.training").info(summary["verdict"])
    return summary


def _find(args: argparse.Namespace) -> dict[str, Any]:
    from core.geometry.polygons import PolygonOptions
    from core.workflows.find import FIND_DEFAULTS, FIND_OPTIONS, FindInputs, find_rest

    if args.extent and args.area:
        raise InvalidInputError("give --extent or --area, not both")
    config = FIND_DEFAULTS.replace(
        **{name: getattr(args, name) for name in FIND_OPTIONS},
        bands=args.bands,
        classes=tuple(int(c) for c in args.classes.split(",")) if args.classes else None,
        class_field=args.class_field,
    )
    extent = tuple(args.extent) if args.extent else None
    inputs = FindInputs(args.raster, args.labels, args.checkpoint, extent, args.area)
    return find_rest(
        inputs,
        args.out,
        config,
        PolygonOptions.from_mapping(vars(args)),
        progress=args.job,
        cancelled=args.job.cancelled,
    )


def _suggest(args: argparse.Namespace) -> dict[str, Any]:
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


def _where_to_look(command: argparse.ArgumentParser) -> None:
    """--extent or --area: where find and suggest look (neither: the whole raster)."""
    command.add_argument(
        "--extent", type=box_arg, default=None, metavar="XMIN,YMIN,XMAX,YMAX", help="where to look (raster CRS)"
    )
    command.add_argument("--area", type=Path, default=None, help="where to look: polygons (default: the whole raster)")


def _find_flags(command: argparse.ArgumentParser) -> None:
    """The training options find lets an analyst change, shown with find's own defaults (core.workflows.find)."""
    from core.workflows.find import FIND_OPTIONS, describe

    _config_flags(command, describe(), FIND_OPTIONS)


def _tile(args: argparse.Namespace) -> dict[str, Any]:
    from core.training.export import write_seed_layout
    from core.training.tiles import build_tiles

    tiles = build_tiles(args.raster, args.labels, _train_config(args), args.aoi)
    return {"out": str(args.out), "tiles": write_seed_layout(tiles, args.raster, args.out), **tiles.summary()}


def _train_help(name: str) -> str:
    from core.training.config import HELP

    return HELP[name]


def _band_help() -> str:
    from core.training.config import HELP

    return HELP["bands"]


def _shape_options(command: argparse.ArgumentParser) -> None:
    """How masks become polygons (core.geometry.polygons.PolygonOptions), the same for ``segment`` and ``predict``."""
    shapes = command.add_argument_group("polygon shapes")
    shapes.add_argument("--min-pixels", type=int, default=8, help="merge specks and holes smaller than this")
    shapes.add_argument("--simplify", type=float, default=1.0, help="simplification tolerance in pixels (0: none)")
    shapes.add_argument("--min-area", type=float, default=0.0, help="drop parts smaller than this (map units²)")
    shapes.add_argument("--fill-holes", action="store_true", help="drop the holes inside each polygon")
    shapes.add_argument(
        "--right-angles",
        type=float,
        default=0.0,
        metavar="DEGREES",
        help="square the corners of edges within this many degrees of a right angle, e.g. 15 for buildings (0: off)",
    )


def _job_options(command: argparse.ArgumentParser) -> None:
    """``--events`` and ``--request``: the contract through which a program (the plugin) drives a long job."""
    command.add_argument(
        "--events",
        default=None,
        metavar="FILE|-",
        help="JSON-lines progress, warnings and the result or error (- : on stdout, and 'cancel' on stdin stops)",
    )
    command.add_argument(
        REQUEST_FLAG,
        default=None,
        metavar="FILE|-",
        help="the options as one JSON object (option_name: value); - : its first line of stdin; flags override it",
    )


def _training_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--raster", type=Path, help="the orthophoto")
    command.add_argument("--labels", type=Path, help="polygons (.gpkg, .shp, .geojson; any CRS) or a class mask raster")
    command.add_argument("--aoi", type=Path, default=None, help="polygons limiting where tiles are taken")
    command.add_argument("--config", type=Path, default=None, help="YAML with TrainConfig fields; flags override it")
    _train_flags(command, TILE_OPTIONS)
    command.add_argument("--bands", type=bands_arg, default=None, metavar="R,G,B", help=_band_help())
    command.add_argument("--classes", default=None, help="foreground classes, e.g. 1 or 1,3 (default: all)")
    command.add_argument("--class-field", default=None, help="attribute of the polygons holding the class")
    command.add_argument("--class-zero", action="store_true", help="mask rasters: 0 is a class, nodata is unlabelled")
    command.add_argument("--multiclass", action="store_true", help=_train_help("multiclass"))
    command.add_argument("--name-field", default=None, help=_train_help("name_field"))
    command.add_argument("--class-names", default=None, metavar="ID=NAME,...", help=_train_help("class_names"))


def _predict(args: argparse.Namespace) -> dict[str, Any]:
    from core.geometry.instances import InstanceOptions
    from core.geometry.polygons import PolygonOptions
    from core.inference.predict import PredictConfig, SamAutoPredictor, predict_raster, prediction_mode
    from core.io.polygon_layers import export_polygons
    from core.models.loader import load_model

    check_outputs(
        {
            "--out": args.out,
            "--probabilities": args.probabilities,
            "--uncertainty": args.uncertainty,
            "--vector": parts_of(args.vector) if args.vector else None,
        },
        {"--raster": args.raster, "--checkpoint": args.checkpoint, "--aoi": args.aoi},
    )
    loaded = load_model(args.checkpoint, device=args.device, image_size=args.image_size, encoder=args.encoder)
    mode, warning = prediction_mode(loaded, args.mode)
    for said in (loaded.encoder_warning, warning):
        if said:
            args.job.warning(said)
    chosen = {name: getattr(args, name) for name in PREDICT_OPTIONS if getattr(args, name) is not None}
    config = PredictConfig(**{**chosen, "mode": mode})
    predictor = SamAutoPredictor(
        loaded, mode=config.mode, grid_points=config.grid_points, min_grid_iou=config.min_grid_iou
    )

    class_names: dict[int, str] = getattr(predictor, "class_names", {})  # a multi-class model's classes

    def progress(fraction: float, **info: Any) -> None:
        args.job(fraction, stage="predicting windows", **info)

    with contextlib.ExitStack() as outputs:
        # The mask and the probabilities are kept beside their targets until the polygons are written too: a
        # failure (a full disk, a cancel) leaves every previous output as it was.
        out = outputs.enter_context(atomic_output(args.out))
        asked = outputs.enter_context(atomic_output(args.probabilities)) if args.probabilities else None
        probabilities = outputs.enter_context(_probabilities_for_scores(asked, args.vector, args.out))
        unsure = outputs.enter_context(atomic_output(args.uncertainty)) if args.uncertainty else None
        summary = predict_raster(
            args.raster,
            predictor,
            out,
            config,
            probabilities,
            args.aoi,
            progress,
            args.job.cancelled,
            bands=args.bands,
            uncertainty=unsure,
        )
        result: dict[str, Any] = {
            "mode": mode,
            "mode_from": "--mode" if args.mode else "checkpoint",
            "mask": str(args.out),
            "windows": summary.windows,
            "object_pixels": summary.object_pixels,
            "encoder": loaded.encoder,
            **(
                {"uncertainty": str(args.uncertainty), "uncertainty_signal": config.uncertainty_signal}
                if args.uncertainty
                else {}
            ),
            "seconds": round(summary.seconds, 2),
            "stage_seconds": {name: round(seconds, 2) for name, seconds in summary.stage_seconds.items()},
        }
        if args.vector:
            count = export_polygons(
                out,
                args.vector,
                probabilities,
                args.label,
                loaded.spec.name,
                PolygonOptions.from_mapping(vars(args)),
                source_name=args.source or Path(args.raster).name,
                instances=InstanceOptions() if args.instances else None,
                classes=class_names or None,
            )
            result |= {"vector": str(args.vector), "polygons": count}
        if class_names:
            result["classes"] = {str(c): name for c, name in class_names.items()}
    return result


@contextlib.contextmanager
def _probabilities_for_scores(probabilities: Path | None, vector: Path | None, out: Path) -> Iterator[Path | None]:
    """Where predict writes its probabilities: ``--probabilities``; else, when polygons are asked for, a
    temporary file beside ``--out`` that gives each polygon its ``score`` (mean probability) and is removed."""
    if probabilities is not None or vector is None:
        yield probabilities
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".sam2-scores-", dir=out.parent) as folder:
        yield Path(folder) / "probabilities.tif"


def _evaluate(args: argparse.Namespace) -> dict[str, Any]:
    from core.evaluation.evaluate import evaluate, report_paths, write_report

    if args.out:
        check_outputs(
            {"--out": report_paths(args.out)}, {"--pred": args.pred, "--truth": args.truth, "--aoi": args.aoi}
        )
    classes = tuple(int(c) for c in args.classes.split(",")) if args.classes else ()
    evaluation, overview = evaluate(args.pred, args.truth, args.aoi, classes, args.class_field, args.class_zero)
    result = evaluation.to_dict()
    if args.out:
        result["files"] = [str(p) for p in write_report(evaluation, overview, args.out)]
    return result


def _describe(args: argparse.Namespace) -> dict[str, Any]:
    """The jobs' options (defaults, choices, help) as the plugin reads them from job_defaults.json."""
    from core.training.config import describe
    from core.workflows.find import describe as find_describe

    described = {"train": describe(), "predict": predict_describe(), "find": find_describe()}
    if args.out:
        with atomic_output(args.out) as tmp:
            tmp.write_text(json.dumps(described, indent=2, sort_keys=True) + "\n")
    return described


def _worker(args: argparse.Namespace) -> dict[str, Any] | None:
    from core.jobs.worker import serve, set_thread_policy

    set_thread_policy()  # before torch loads (the worker imports it with its first request)
    serve(cache_folder=args.cache_dir)
    return None


def _demo(args: argparse.Namespace) -> None:
    demo = _development_tool("core.devtools.demo")

    config = demo.DemoConfig(
        out=args.out, checkpoint=args.checkpoint, epochs=args.epochs, scene_size=args.scene_size, device=args.device
    )
    demo.run_demo(config, log=lambda line: print(line, flush=True))


def build_parser() -> argparse.ArgumentParser:
    parser = CommandParser(prog="python -m core", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    synthetic = commands.add_parser("synthetic", help="write a synthetic orthophoto with exact ground truth")
    synthetic.add_argument("--out", type=Path, required=True, help="output folder")
    synthetic.add_argument("--stem", default="scene", help="file name prefix (default: scene)")
    synthetic.add_argument("--width", type=int, default=512)
    synthetic.add_argument("--height", type=int, default=512)
    synthetic.add_argument("--pixel-size", type=float, default=0.25, help="metres, 0.1-0.5")
    synthetic.add_argument("--crs", default="EPSG:32633", help="a projected CRS")
    synthetic.add_argument("--bands", choices=["RGB", "RGBI"], default="RGB")
    synthetic.add_argument("--dtype", choices=["uint8", "uint16"], default="uint8")
    synthetic.add_argument("--nodata-border", action="store_true", help="leave a nodata border around the data")
    synthetic.add_argument("--seed", type=int, default=0)
    synthetic.set_defaults(run=_synthetic)

    sample = commands.add_parser("sample-data", help="fetch and verify the real sample imagery")
    sample.add_argument("--dest", type=Path, default=None, help="folder (default: the cache)")
    sample.set_defaults(run=_sample_data)

    weights = commands.add_parser("weights", help="list, download or create SAM 2 checkpoints")
    weights_commands = weights.add_subparsers(dest="weights_command", required=True)
    listing = weights_commands.add_parser("list", help="the official checkpoints and what is downloaded")
    listing.add_argument("--cache-dir", type=Path, default=None)
    listing.set_defaults(run=_weights_list)
    download = weights_commands.add_parser("download", help="download an official checkpoint (resumable, verified)")
    download.add_argument("name", help="e.g. sam2.1_hiera_t, sam2.1_hiera_l, sam2_hiera_b+")
    download.add_argument("--cache-dir", type=Path, default=None)
    _job_options(download)
    download.set_defaults(run=_weights_download)
    init = weights_commands.add_parser("init", help="write a seeded random-init checkpoint (no download)")
    init.add_argument("--model", default="sam2.1_hiera_t")
    init.add_argument("--image-size", type=int, default=256)
    init.add_argument("--seed", type=int, default=0)
    init.add_argument("--out", type=Path, default=None, help="checkpoint path (default: in the cache)")
    init.set_defaults(run=_weights_init)

    segment = commands.add_parser("segment", help="segment the object(s) at point/box prompts into a GeoPackage")
    segment.add_argument("--raster", type=Path, required=True)
    segment.add_argument("--checkpoint", type=Path, required=True)
    segment.add_argument(
        "--point",
        type=point_arg,
        action="append",
        default=[],
        metavar="X,Y[,1|0]",
        help="a prompt point (repeatable); label 1 foreground (default), 0 background",
    )
    segment.add_argument("--box", type=box_arg, default=None, metavar="XMIN,YMIN,XMAX,YMAX")
    segment.add_argument("--crs", default=None, help="CRS of the prompts (default: the raster's)")
    segment.add_argument("--out", type=Path, required=True, help="GeoPackage (.gpkg) or GeoJSON to write")
    segment.add_argument("--model", default=None, help="expected model, e.g. sam2.1_hiera_t (checked)")
    segment.add_argument("--device", default="auto", help="auto, cuda, mps or cpu")
    segment.add_argument("--image-size", type=int, default=None, help="model input size (default: the checkpoint's)")
    segment.add_argument("--encoder", choices=ENCODER_PATHS, default="exact", help=ENCODER_HELP)
    segment.add_argument("--bands", type=bands_arg, default=None, metavar="R,G,B", help=_band_help())
    _shape_options(segment)
    segment.add_argument("--label", default="object", help="value of the class attribute")
    _job_options(segment)
    segment.set_defaults(run=_segment)

    predict = commands.add_parser("predict", help="segment a whole raster into a mask (and polygons)")
    predict.add_argument("--raster", type=Path, required=True)
    predict.add_argument("--checkpoint", type=Path, required=True, help="a fine-tuned run's best.pt (or any SAM 2)")
    predict.add_argument("--out", type=Path, required=True, help="mask GeoTIFF: 1 object, 0 background, 255 nodata")
    predict.add_argument("--vector", type=Path, default=None, help="also write polygons (.gpkg, .geojson, .shp)")
    predict.add_argument("--probabilities", type=Path, default=None, help="also write blended probabilities")
    predict.add_argument(
        "--uncertainty",
        type=Path,
        default=None,
        help="also write how unsure the model is per pixel (0 sure to 1; --uncertainty-signal): where to label next",
    )
    predict.add_argument("--aoi", type=Path, default=None, help="polygons limiting the prediction")
    predict.add_argument("--bands", type=bands_arg, default=None, metavar="R,G,B", help=_band_help())
    predict.add_argument("--source", default=None, help="what the source attribute says (default: the raster's name)")
    _config_flags(predict, predict_describe(), PREDICT_OPTIONS, default_from={"mode": "default: from the checkpoint"})
    predict.add_argument("--device", default="auto")
    predict.add_argument("--image-size", type=int, default=None)
    predict.add_argument("--encoder", choices=ENCODER_PATHS, default="exact", help=ENCODER_HELP)
    predict.add_argument(
        "--label", default="object", help="value of the class attribute (a multi-class model names its own classes)"
    )
    predict.add_argument(
        "--instances",
        action="store_true",
        help="one polygon per object: split touching objects (buildings sharing a wall, crowns) where they narrow",
    )
    _shape_options(predict)
    _job_options(predict)
    predict.set_defaults(run=_predict)

    evaluation = commands.add_parser("evaluate", help="pixel and object accuracy of a mask against labels")
    evaluation.add_argument("--pred", type=Path, required=True, help="mask GeoTIFF (1 object, 0 background)")
    evaluation.add_argument("--truth", type=Path, required=True, help="polygons or a class mask raster")
    evaluation.add_argument("--aoi", type=Path, default=None)
    evaluation.add_argument("--out", type=Path, default=None, help="report path: writes .json, .csv and .png")
    evaluation.add_argument("--classes", default=None, help="true classes counted as objects (default: all)")
    evaluation.add_argument("--class-field", default=None)
    evaluation.add_argument("--class-zero", action="store_true")
    _job_options(evaluation)
    evaluation.set_defaults(run=_evaluate)

    train = commands.add_parser("train", help="fine-tune SAM 2 on an orthophoto and its labels")
    _training_options(train)
    train.add_argument("--checkpoint", type=Path, help="base checkpoint (official, seed-style or ours)")
    train.add_argument("--out", type=Path, help="run folder")
    _train_flags(train, train_options())
    train.add_argument(
        "--labels-name",
        default=None,
        help="what the labels are called in the history of runs on them (what labels bought; default: the file)",
    )
    train.add_argument("--resume", type=Path, default=None, help="continue the run in this folder")
    train.add_argument(
        "--overwrite", action="store_true", help="replace the results of an earlier run in --out (else refused)"
    )
    _job_options(train)
    train.set_defaults(run=_train)

    find = commands.add_parser(
        "find", help="learn from a few labelled examples (a short fine-tune), then propose the other objects to review"
    )
    find.add_argument("--raster", type=Path, required=True, help="the orthophoto")
    find.add_argument(
        "--labels",
        type=Path,
        required=True,
        help="some examples: polygons of objects, and background polygons or points (class 0 or 'background')",
    )
    find.add_argument("--checkpoint", type=Path, required=True, help="the base model to tune from")
    find.add_argument("--out", type=Path, required=True, help="folder for candidates.gpkg, summary.json and run/")
    _where_to_look(find)
    find.add_argument("--class-field", default=None, help="attribute of the labels holding the class")
    find.add_argument("--classes", default=None, help="classes to find, e.g. 1 (default: every class but 0)")
    find.add_argument("--bands", type=bands_arg, default=None, metavar="R,G,B", help=_band_help())
    _find_flags(find)
    _shape_options(find)
    _job_options(find)
    find.set_defaults(run=_find)

    suggest = commands.add_parser(
        "suggest", help="where to label next: the places where the model is least sure, away from your labels"
    )
    suggest.add_argument("--out", type=Path, required=True, help="the places, as points (.gpkg)")
    suggest.add_argument(
        "--uncertainty",
        type=Path,
        default=None,
        help="an uncertainty raster (predict --uncertainty); with --checkpoint, where to write it (default: beside "
        "--out)",
    )
    suggest.add_argument("--raster", type=Path, default=None, help="the orthophoto (to predict the uncertainty)")
    suggest.add_argument("--checkpoint", type=Path, default=None, help="the model whose uncertainty counts")
    suggest.add_argument("--labels", type=Path, default=None, help="what is labelled already (kept clear of)")
    suggest.add_argument("--class-field", default=None, help="attribute of the labels holding the class")
    _where_to_look(suggest)
    suggest.add_argument("--count", type=int, default=10, help="how many places at most")
    suggest.add_argument(
        "--min-distance", type=float, default=None, help="between places, in ground units (default: 256 px)"
    )
    suggest.add_argument(
        "--keep-clear", type=float, default=None, help="around labels, in ground units (default: min distance / 4)"
    )
    suggest.add_argument("--bands", type=bands_arg, default=None, metavar="R,G,B", help=_band_help())
    suggest.add_argument("--device", default="auto", help="auto, cuda, mps or cpu")
    suggest.add_argument(
        "--mode",
        choices=("auto",),
        default=None,
        help="measure a model not tuned for whole-raster prediction anyway, promptless (default: refused)",
    )
    _job_options(suggest)
    suggest.set_defaults(run=_suggest)

    tile = commands.add_parser("tile", help="write training tiles in the seed pipeline's folder layout")
    _training_options(tile)
    tile.add_argument("--out", type=Path, required=True, help="folder for trai/vali/test")
    _train_flags(tile, ("labels_cover", "ring"))  # partial labels write 255 (unlabelled) into the masks
    _job_options(tile)
    tile.set_defaults(run=_tile)

    describe = commands.add_parser("describe", help="the jobs' options: defaults, choices and help, as JSON")
    describe.add_argument("--out", type=Path, default=None, help="also write them to this file")
    describe.set_defaults(run=_describe)

    worker = commands.add_parser("worker", help="serve the QGIS plugin over JSON lines on stdin/stdout")
    worker.add_argument("--cache-dir", type=Path, default=None, help="embedding cache folder")
    worker.set_defaults(run=_worker)

    demo = commands.add_parser("demo", help="the whole mission on a real and a synthetic orthophoto, with a report")
    demo.add_argument("--out", type=Path, default=Path("demo-output"))
    demo.add_argument("--checkpoint", type=Path, default=None, help="base model (default: $SAM2_CHECKPOINT, cache)")
    demo.add_argument("--epochs", type=int, default=6)
    demo.add_argument("--scene-size", type=int, default=1024, help="synthetic orthophoto width and height (px)")
    demo.add_argument("--device", default="auto")
    demo.set_defaults(run=_demo)
    return parser


def _check_events_file(args: argparse.Namespace) -> None:
    """``--events FILE`` appends JSON lines: refuse a FILE that is one of the job's own files (inputs, outputs)."""
    target = getattr(args, "events", None)
    if target in (None, "-"):
        return
    files = {f"--{name.replace('_', '-')}": value for name, value in vars(args).items() if isinstance(value, Path)}
    check_outputs({"--events": Path(target)}, files)


def _events_target(argv: Sequence[str]) -> str | None:
    """The ``--events`` value of a command line that did not parse (so its error can still be an event)."""
    return _flag_value(argv, "--events")


def _flag_value(argv: Sequence[str], flag: str) -> str | None:
    """The value of ``flag`` on a raw command line (``--flag VALUE`` or ``--flag=VALUE``), None without it."""
    for index, token in enumerate(argv):
        if token == flag and index + 1 < len(argv):
            return argv[index + 1]
        if token.startswith(f"{flag}="):
            return token.split("=", 1)[1]
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; its result goes to stdout as JSON (or as the ``result`` event of ``--events -``).
    Exit 2 on an expected error (``error: MESSAGE`` on stderr, an ``error`` event), 1 on a bug (traceback)."""
    with (
        engine_allocator()
    ):  # the encoder's large buffers: reused, not mapped afresh per pass (core/models/allocator.py)
        return _run(list(sys.argv[1:] if argv is None else argv))


def _run(argv: list[str]) -> int:
    parser = build_parser()
    configure_logging()
    try:
        args = parser.parse_args(attach_negative_coordinates(expand_request(parser, argv)))
    except Sam2QgisError as error:  # a bad command line or request: the job never started
        early = JobEvents("-" if _events_target(argv) == "-" else None)  # a FILE was never checked: not written
        early.error(str(error), expected=True)
        early.close()
        return 2
    try:
        _check_events_file(args)
    except Sam2QgisError as error:  # never write to the file it names
        print(f"error: {error}", file=sys.stderr)
        return 2
    # a job whose request came on stdin has a driver there (the plugin): stdin closing means it is gone
    driven = _flag_value(argv, "--request") == "-"
    job = args.job = JobEvents(getattr(args, "events", None), stop_on_eof=driven)
    previous = _stop_on_terminate()
    try:
        try:
            result = args.run(args)
        except CancelledError as error:
            job.error(str(error), expected=True, cancelled=True)
            return 2
        except KeyboardInterrupt:
            job.error("interrupted (Ctrl-C): nothing half-written was kept", expected=True, cancelled=True)
            return 130
        except Sam2QgisError as error:
            job.error(str(error), expected=True)
            return 2
        except Exception as error:
            if isinstance(error, OSError) and error.errno in UNWRITABLE:  # a folder it may not write, a full disk
                job.error(f"cannot write {error.filename or 'an output'} ({error.strerror}): choose a folder you can "
                          "write to, or free some space", expected=True)  # fmt: skip
                return 2
            job.error(f"{type(error).__name__}: {error} (a bug: the traceback follows)", expected=False)
            raise
        if result is not None:
            job.result(result)
        return 0
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        job.close()


def _stop_on_terminate() -> Any:
    """SIGTERM ends the job like a cancel, through its cleanup (no temporary file stays behind); training
    replaces this with its own handler (finish the step, save, exit 0). Returns the previous handler."""

    def terminate(number: int, frame: Any) -> None:
        raise CancelledError("stopped by a termination signal: nothing half-written was kept")

    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, terminate)
