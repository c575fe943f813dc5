"""``describe`` (the jobs' options as JSON, for the plugin's job_defaults.json) and ``worker`` (serve the plugin
over JSON lines on stdin/stdout)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from core.io.atomic import atomic_output


def describe_jobs() -> dict[str, dict[str, dict[str, Any]]]:
    """The jobs' options (defaults, choices, help) and the engine's models, devices and encoders, as the plugin
    reads them from job_defaults.json."""
    from core.inference.predict_config import describe as predict_describe
    from core.training.config import describe as train_describe
    from core.workflows.find import describe as find_describe

    return {
        "train": train_describe(),
        "predict": predict_describe(),
        "find": find_describe(),
        "engine": engine_choices(),
    }


def describe(args: argparse.Namespace) -> dict[str, Any]:
    described = describe_jobs()
    if args.out:
        with atomic_output(args.out) as tmp:
            tmp.write_text(json.dumps(described, indent=2, sort_keys=True) + "\n")
    return described


def engine_choices() -> dict[str, dict[str, Any]]:
    """The models, devices and encoder paths the engine offers, as options (default, choices, labels, help)."""
    from core.models.device import DEVICES
    from core.models.registry import ENCODER_HELP, ENCODER_PATHS, MODELS

    return {
        "model": {
            "default": next(iter(MODELS)),
            "choices": list(MODELS),
            "labels": {name: spec.label for name, spec in MODELS.items()},
            "help": "Meta's official SAM 2 checkpoints: tiny is fastest, large most accurate",
        },
        "device": {"default": "auto", "choices": list(DEVICES), "help": "where SAM 2 runs: auto takes a GPU if any"},
        "encoder": {"default": ENCODER_PATHS[0], "choices": list(ENCODER_PATHS), "help": ENCODER_HELP},
    }


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
