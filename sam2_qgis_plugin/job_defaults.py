"""The jobs' options (training: ``TrainConfig``; whole-raster prediction: ``PredictConfig``) as the engine
defines them: defaults, choices and help, read from ``job_defaults.json`` beside this file.
``python -m core describe --out sam2_qgis_plugin/job_defaults.json`` writes it; a test fails when it differs
from what the engine says, so the panel, Processing and the command line cannot drift apart. Plain JSON: the
plugin process imports nothing of the engine."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

JOBS: dict[str, dict[str, dict[str, Any]]] = json.loads((Path(__file__).with_name("job_defaults.json")).read_text())
TRAIN = JOBS["train"]


def default(name: str, job: str = "train") -> Any:
    """The engine's default of option ``name`` of ``job`` (train, predict or find)."""
    return JOBS[job][name]["default"]


def choices(name: str, job: str = "train") -> list[str]:
    return list(JOBS[job][name]["choices"])


def help_text(name: str, job: str = "train") -> str:
    return str(JOBS[job][name].get("help", ""))


def choice_labels(name: str, job: str = "train") -> dict[str, str]:
    """A choice option's values in the analyst's words, e.g. labels_cover: ``{"partial": "I labelled some
    examples", ...}``."""
    return dict(JOBS[job][name]["labels"])


def mode_labels() -> dict[str, str]:
    """Training's prompt modes in the analyst's words: ``{"auto": "for whole-raster prediction", ...}``."""
    return dict(TRAIN["mode"]["labels"])
