"""A job as data: ``--request FILE`` (or ``--request -``: the first line of standard input) gives a command's
options as one JSON object, ``{"raster": "ortho.tif", "tile_size": 512, "fill_holes": true}``.

Keys are the command's option names with underscores (``tile_size`` for ``--tile-size``, ``name`` for a
positional). The object is turned into the command's own arguments and parsed by the same parser as typed
flags, so a request is checked exactly like a command line (types, choices, required options); flags given
on the command line as well come after it and win. ``null`` leaves an option at its default, ``true`` sets a
switch, a list repeats a repeatable option (``point``) or joins into ``1,3`` (``classes``).

This is how the plugin sends a job: ``python -m core train --request - --events -`` and the options as one
JSON line on stdin, where ``cancel`` may follow later (core/jobs/events.py).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from core.errors import InvalidInputError, UsageError

FLAG = "--request"


def split_request(argv: Sequence[str]) -> tuple[str | None, list[str]]:
    """``(source, argv without --request SOURCE)``; source None when there is no request."""
    rest, source, tokens = [], None, iter(argv)
    for token in tokens:
        if token == FLAG:
            source = next(tokens, None)
            if source is None:
                raise InvalidInputError(f"{FLAG} needs a JSON file or - (a JSON line on standard input)")
        elif token.startswith(FLAG + "="):
            source = token.split("=", 1)[1]
        else:
            rest.append(token)
    return source, rest


def read_request(source: str, stdin: IO[str] | None = None) -> dict[str, Any]:
    """The JSON object in file ``source``, or on the first line of ``stdin`` when source is ``-``."""
    where = "the request on standard input" if source == "-" else f"the request file {source}"
    try:
        text = (stdin or sys.stdin).readline() if source == "-" else Path(source).read_text(encoding="utf-8")
        request = json.loads(text)
    except OSError as error:
        raise InvalidInputError(f"cannot read {where}: {error.strerror or error}") from None
    except ValueError as error:
        raise InvalidInputError(f"{where} is not JSON ({error}): give one object of option: value") from None
    if not isinstance(request, dict):
        raise InvalidInputError(f"{where} must be one JSON object of option: value, not {type(request).__name__}")
    return request


def subcommand(parser: argparse.ArgumentParser, argv: Sequence[str]) -> tuple[list[str], argparse.ArgumentParser]:
    """The leading command words of ``argv`` (``["weights", "download"]``) and the parser of that command."""
    path: list[str] = []
    for token in argv:
        choices = next(
            (a.choices for a in parser._actions if isinstance(a, argparse._SubParsersAction)),
            None,
        )
        if not choices or token not in choices:
            break
        path.append(token)
        parser = choices[token]
    return path, parser


def request_arguments(command: argparse.ArgumentParser, request: dict[str, Any], name: str) -> list[str]:
    """The arguments of ``command`` that say what ``request`` says (see the module's docstring)."""
    actions = {a.dest: a for a in command._actions if a.dest not in ("help", "request", "events")}
    unknown = sorted(set(request) - set(actions))
    if unknown:
        raise UsageError(
            f"the {name} request has unknown option(s) {', '.join(unknown)}; known: {', '.join(sorted(actions))}"
        )
    positionals: list[str] = []
    options: list[str] = []
    for key, value in request.items():
        action = actions[key]
        if value is None:
            continue
        if not action.option_strings:
            positionals.append(_text(value))
            continue
        flag = action.option_strings[-1]
        if isinstance(action, argparse._StoreTrueAction):
            if not isinstance(value, bool):
                raise UsageError(f"the {name} request: {key} is true or false, not {value!r}")
            options += [flag] if value else []
        elif isinstance(action, argparse._AppendAction):
            options += [f"{flag}={_text(item)}" for item in (value if isinstance(value, list) else [value])]
        else:
            options.append(f"{flag}={_text(value)}")  # one token: a value may start with '-'
    return positionals + options


def _text(value: Any) -> str:
    """One argument's text: lists join with commas (``[1, 3]`` -> ``1,3``), numbers keep every digit."""
    if isinstance(value, list):
        return ",".join(_text(item) for item in value)
    if isinstance(value, bool):
        return "1" if value else "0"
    return repr(value) if isinstance(value, float) else str(value)


def expand_request(parser: argparse.ArgumentParser, argv: Sequence[str], stdin: IO[str] | None = None) -> list[str]:
    """``argv`` with its ``--request SOURCE`` replaced by the request's own arguments, placed right after the
    command words so that flags typed on the command line come later and win."""
    source, rest = split_request(argv)
    if source is None:
        return list(rest)
    path, command = subcommand(parser, rest)
    if not path:
        raise InvalidInputError(f"{FLAG} comes after a command, e.g. python -m core train {FLAG} job.json")
    arguments = request_arguments(command, read_request(source, stdin), " ".join(path))
    return [*path, *arguments, *rest[len(path) :]]


__all__ = ["FLAG", "expand_request", "read_request", "request_arguments", "split_request", "subcommand"]
