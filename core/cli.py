"""Command line of the engine: ``python -m core <command> ...``; ``--help`` on each command."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from core.errors import Sam2QgisError


def _synthetic(args: argparse.Namespace) -> dict[str, object]:
    from core.synthetic import SyntheticSceneConfig, write_synthetic_scene

    config = SyntheticSceneConfig(
        width=args.width,
        height=args.height,
        pixel_size=args.pixel_size,
        crs=args.crs,
        bands=args.bands,
        dtype=args.dtype,
        nodata_border=args.nodata_border,
        seed=args.seed,
    )
    paths = write_synthetic_scene(config, args.out, stem=args.stem)
    counts = json.loads(paths.metadata.read_text())["object_counts"]
    return {key: str(value) for key, value in paths.__dict__.items()} | {"objects": counts}


def _sample_data(args: argparse.Namespace) -> dict[str, object]:
    from core.sample_data import describe, prepare_sample_data

    return describe(prepare_sample_data(args.dest))


def _random_init(args: argparse.Namespace) -> dict[str, object]:
    from core.models.random_init import RandomInitSpec, write_random_init_checkpoint

    checkpoint = write_random_init_checkpoint(RandomInitSpec(args.config, args.image_size, args.seed), args.out_dir)
    return {
        "checkpoint": str(checkpoint.path),
        "metadata": str(checkpoint.metadata_path),
        "state_dict_sha256": checkpoint.state_dict_sha256,
    }


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core", description=__doc__)
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

    random_init = commands.add_parser("random-init", help="write a seeded random-init SAM 2 checkpoint")
    random_init.add_argument("--config", default="configs/sam2.1/sam2.1_hiera_t.yaml")
    random_init.add_argument("--image-size", type=int, default=256)
    random_init.add_argument("--seed", type=int, default=0)
    random_init.add_argument("--out-dir", type=Path, default=None, help="folder (default: the cache)")
    random_init.set_defaults(run=_random_init)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; print its result as JSON on stdout. Exit 2 on an expected error, with its message."""
    args = build_parser().parse_args(argv)
    try:
        result = args.run(args)
    except Sam2QgisError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2))
    return 0
