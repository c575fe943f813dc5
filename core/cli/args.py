"""Argument helpers shared by the commands: value parsers, flags generated from a config's description, and the
option groups several commands share (polygon shapes, the job contract, where to look)."""

from __future__ import annotations

import argparse
import importlib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.errors import DependencyError, UsageError
from core.jobs.requests import FLAG as REQUEST_FLAG


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


def bands_arg(text: str) -> tuple[int, ...]:
    return tuple(int(v) for v in _floats(text, (1, 3), "bands"))


def classes_arg(text: str | None) -> tuple[int, ...] | None:
    """``1,3`` -> (1, 3); None or empty -> None (every class)."""
    return tuple(int(c) for c in text.split(",")) if text else None


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


def config_flags(
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


def train_help(name: str) -> str:
    """The help of a TrainConfig field (core.training.config.HELP)."""
    from core.training.config import HELP

    return HELP[name]


def bands_flag(command: argparse.ArgumentParser) -> None:
    command.add_argument("--bands", type=bands_arg, default=None, metavar="R,G,B", help=train_help("bands"))


def shape_options(command: argparse.ArgumentParser, clicks: bool = False) -> None:
    """How masks become polygons and which are kept (core.geometry.polygons.PolygonOptions), the same for every
    command; ``clicks``: a command that segments prompted objects (``--largest-part``)."""
    shapes = command.add_argument_group("polygon shapes")
    shapes.add_argument("--min-pixels", type=int, default=8, help="merge specks and holes smaller than this")
    shapes.add_argument("--simplify", type=float, default=1.0, help="simplification tolerance in pixels (0: none)")
    shapes.add_argument("--fill-holes", action="store_true", help="drop the holes inside each polygon")
    shapes.add_argument(
        "--right-angles",
        type=float,
        default=0.0,
        metavar="DEGREES",
        help="square the corners of edges within this many degrees of a right angle, e.g. 15 for buildings (0: off)",
    )
    kept = command.add_argument_group(
        "objects kept, measured on the ground (m, m²) in any CRS (geographic: on the ellipsoid); 0: no limit"
    )
    kept.add_argument("--min-area", type=float, default=0.0, metavar="M2", help="drop objects smaller than this")
    kept.add_argument("--max-area", type=float, default=0.0, metavar="M2", help="drop objects larger than this")
    across = "the diameter of the smallest circle around the object"
    kept.add_argument("--min-diameter", type=float, default=0.0, metavar="M", help=f"drop narrower objects ({across})")
    kept.add_argument("--max-diameter", type=float, default=0.0, metavar="M", help=f"drop wider objects ({across})")
    kept.add_argument(
        "--min-compactness",
        type=float,
        default=0.0,
        metavar="0-1",
        help="drop objects less compact than this: 4πA/P², 1 a circle, 0.79 a square, near 0 a hedge row",
    )
    if clicks:
        kept.add_argument("--largest-part", action="store_true", help="keep only the largest polygon of the object")


def job_options(command: argparse.ArgumentParser) -> None:
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


def where_to_look(command: argparse.ArgumentParser) -> None:
    """--extent or --area: where find and suggest look (neither: the whole raster)."""
    command.add_argument(
        "--extent", type=box_arg, default=None, metavar="XMIN,YMIN,XMAX,YMAX", help="where to look (raster CRS)"
    )
    command.add_argument("--area", type=Path, default=None, help="where to look: polygons (default: the whole raster)")


def development_tool(module: str) -> Any:
    """Import one of the development tools, which the plugin zip leaves out; say so clearly where missing."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        if error.name is None or not (module + ".").startswith(error.name + "."):
            raise  # something the tool itself imports is missing
        raise DependencyError(
            f"{module} is a development tool that the installed plugin does not ship; run this command from a "
            "clone of the repository (python -m core ...)"
        ) from None
