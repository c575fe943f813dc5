"""``weights list|download|init``: the official checkpoints, their download (resumable, verified) and seeded
random-init checkpoints (no download)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from core.cli.args import job_options
from core.errors import OutputConflictError


def listing(args: argparse.Namespace) -> dict[str, Any]:
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


def download(args: argparse.Namespace) -> dict[str, Any]:
    from core.models.weights import download_model

    def progress(done: int, total: int | None) -> None:
        args.job(done / total if total else 0.0, stage="download", bytes=done, total_bytes=total)

    path = download_model(args.name, args.cache_dir, progress=progress, cancelled=args.job.cancelled)
    return {"checkpoint": str(path)}


def init(args: argparse.Namespace) -> dict[str, Any]:
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


def register(commands: Any) -> None:
    weights = commands.add_parser("weights", help="list, download or create SAM 2 checkpoints")
    actions = weights.add_subparsers(dest="weights_command", required=True)
    command = actions.add_parser("list", help="the official checkpoints and what is downloaded")
    command.add_argument("--cache-dir", type=Path, default=None)
    command.set_defaults(run=listing)
    command = actions.add_parser("download", help="download an official checkpoint (resumable, verified)")
    command.add_argument("name", help="e.g. sam2.1_hiera_t, sam2.1_hiera_l, sam2_hiera_b+")
    command.add_argument("--cache-dir", type=Path, default=None)
    job_options(command)
    command.set_defaults(run=download)
    command = actions.add_parser("init", help="write a seeded random-init checkpoint (no download)")
    command.add_argument("--model", default="sam2.1_hiera_t")
    command.add_argument("--image-size", type=int, default=256)
    command.add_argument("--seed", type=int, default=0)
    command.add_argument("--out", type=Path, default=None, help="checkpoint path (default: in the cache)")
    command.set_defaults(run=init)
