"""``describe`` (the jobs' options as JSON, for the plugin's job_defaults.json) and ``worker`` (serve the plugin
over JSON lines on stdin/stdout)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from core.io.atomic import atomic_output


def describe(args: argparse.Namespace) -> dict[str, Any]:
    """The jobs' options (defaults, choices, help) as the plugin reads them from job_defaults.json."""
    from core.inference.predict_config import describe as predict_describe
    from core.training.config import describe as train_describe
    from core.workflows.find import describe as find_describe

    described = {"train": train_describe(), "predict": predict_describe(), "find": find_describe()}
    if args.out:
        with atomic_output(args.out) as tmp:
            tmp.write_text(json.dumps(described, indent=2, sort_keys=True) + "\n")
    return described


def worker(args: argparse.Namespace) -> dict[str, Any] | None:
    from core.jobs.worker import serve, set_thread_policy

    set_thread_policy()  # before torch loads (the worker imports it with its first request)
    serve(cache_folder=args.cache_dir)
    return None


def register(commands: Any) -> None:
    command = commands.add_parser("describe", help="the jobs' options: defaults, choices and help, as JSON")
    command.add_argument("--out", type=Path, default=None, help="also write them to this file")
    command.set_defaults(run=describe)


def register_worker(commands: Any) -> None:
    command = commands.add_parser("worker", help="serve the QGIS plugin over JSON lines on stdin/stdout")
    command.add_argument("--cache-dir", type=Path, default=None, help="embedding cache folder")
    command.set_defaults(run=worker)
