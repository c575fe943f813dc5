"""The command line's parser: each command's module registers its own subcommand."""

from __future__ import annotations

import argparse

from core.cli import devtools, evaluate, find, predict, segment, service, suggest, track, train, weights
from core.cli.args import CommandParser

DESCRIPTION = "Command line of the engine: ``python -m core <command> ...``; ``--help`` on each command."

#: Each registers its subcommands, in the order ``--help`` lists them.
REGISTRARS = (
    devtools.register,  # synthetic, sample-data
    weights.register,
    segment.register,
    predict.register,
    evaluate.register,
    train.register,
    find.register,
    suggest.register,
    track.register,
    train.register_tile,
    service.register,  # describe
    service.register_worker,
    devtools.register_demo,
)


def build_parser() -> argparse.ArgumentParser:
    parser = CommandParser(prog="python -m core", description=DESCRIPTION)
    commands = parser.add_subparsers(dest="command", required=True)
    for register in REGISTRARS:
        register(commands)
    return parser
