"""The training options' defaults, choices and help as the engine defines them (``TrainConfig``), read from
``job_defaults.json`` beside this file. ``python -m core describe --out sam2_qgis_plugin/job_defaults.json``
writes it; a test fails when it differs from what the engine says, so the panel, Processing and the command
line cannot drift apart. Plain JSON: the plugin process imports nothing of the engine."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TRAIN: dict[str, dict[str, Any]] = json.loads((Path(__file__).with_name("job_defaults.json")).read_text())["train"]


def default(name: str) -> Any:
    """TrainConfig's default of option ``name``."""
    return TRAIN[name]["default"]


def choices(name: str) -> list[str]:
    return list(TRAIN[name]["choices"])


def help_text(name: str) -> str:
    return str(TRAIN[name].get("help", ""))


def mode_labels() -> dict[str, str]:
    """Prompt modes in the analyst's words: ``{"auto": "for whole-raster prediction", ...}``."""
    return dict(TRAIN["mode"]["labels"])
