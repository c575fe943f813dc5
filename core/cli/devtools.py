"""``synthetic``, ``sample-data`` and ``demo``: the development tools (core.devtools), which the plugin zip leaves
out; from an installed plugin they say where to run them instead."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from core.cli.args import development_tool


def synthetic(args: argparse.Namespace) -> dict[str, Any]:
    tool = development_tool("core.devtools.synthetic")
    config = tool.SyntheticSceneConfig(
        width=args.width,
        height=args.height,
        pixel_size=args.pixel_size,
        crs=args.crs,
        bands=args.bands,
        dtype=args.dtype,
        nodata_border=args.nodata_border,
        seed=args.seed,
    )
    if args.years:
        years = tool.YearsConfig(config, years=tuple(args.years))
        return {
            "years": [
                {"year": written.year, "image": str(written.scene.image), "changes": str(written.changes)}
                for written in tool.write_year_sequence(years, args.out)
            ]
        }
    paths = tool.write_synthetic_scene(config, args.out, stem=args.stem)
    counts = json.loads(paths.metadata.read_text())["object_counts"]
    return {key: str(value) for key, value in paths.__dict__.items()} | {"objects": counts}


def sample_data(args: argparse.Namespace) -> dict[str, Any]:
    tool = development_tool("core.devtools.sample_data")
    return tool.describe(tool.prepare_sample_data(args.dest))


def demo(args: argparse.Namespace) -> None:
    tool = development_tool("core.devtools.demo")
    config = tool.DemoConfig(
        out=args.out, checkpoint=args.checkpoint, epochs=args.epochs, scene_size=args.scene_size, device=args.device
    )
    tool.run_demo(config, log=lambda line: print(line, flush=True))


def years_arg(text: str) -> list[int]:
    """``2019,2022,2025`` -> [2019, 2022, 2025]."""
    try:
        return [int(year) for year in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"years {text!r} must be years separated by commas, e.g. 2019,2022,2025"
        ) from None


def register(commands: Any) -> None:
    command = commands.add_parser("synthetic", help="write a synthetic orthophoto with exact ground truth")
    command.add_argument("--out", type=Path, required=True, help="output folder")
    command.add_argument("--stem", default="scene", help="file name prefix (default: scene)")
    command.add_argument("--width", type=int, default=512)
    command.add_argument("--height", type=int, default=512)
    command.add_argument("--pixel-size", type=float, default=0.25, help="metres, 0.1-0.5")
    command.add_argument("--crs", default="EPSG:32633", help="a projected CRS")
    command.add_argument("--bands", choices=["RGB", "RGBI"], default="RGB")
    command.add_argument("--dtype", choices=["uint8", "uint16"], default="uint8")
    command.add_argument("--nodata-border", action="store_true", help="leave a nodata border around the data")
    command.add_argument("--seed", type=int, default=0)
    command.add_argument(
        "--years",
        type=years_arg,
        default=None,
        metavar="2019,2022,2025",
        help="the scene over these years: buildings built, demolished and extended, trees cut and planted, each "
        "year misregistered by 1-3 px, with the truth of what changed (year_<YYYY>_changes.gpkg)",
    )
    command.set_defaults(run=synthetic)

    command = commands.add_parser("sample-data", help="fetch and verify the real sample imagery")
    command.add_argument("--dest", type=Path, default=None, help="folder (default: the cache)")
    command.set_defaults(run=sample_data)


def register_demo(commands: Any) -> None:
    command = commands.add_parser("demo", help="the whole mission on a real and a synthetic orthophoto, with a report")
    command.add_argument("--out", type=Path, default=Path("demo-output"))
    command.add_argument("--checkpoint", type=Path, default=None, help="base model (default: $SAM2_CHECKPOINT, cache)")
    command.add_argument("--epochs", type=int, default=6)
    command.add_argument("--scene-size", type=int, default=1024, help="synthetic orthophoto width and height (px)")
    command.add_argument("--device", default="auto")
    command.set_defaults(run=demo)
