"""The README's commands stay true: every ``python -m core`` line parses with the engine's own command line
(so no flag or command in the README is misspelt or gone), every ``make`` target exists, every script and
image it names is in the repository. What each command does is tested in the files named beside it."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from core.cli.parser import build_parser

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def shell_lines() -> list[str]:
    """Commands of the README's bash blocks, continuation lines joined, comments dropped."""
    lines = []
    for block in re.findall(r"```bash\n(.*?)```", README, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split("  #")[0].strip()
            if line and not line.startswith("#"):
                lines.append(line)
    return lines


CORE_LINES = [line for line in shell_lines() if " -m core " in line]


def test_the_readme_shows_every_engine_command() -> None:
    shown = {shlex.split(line.split(" -m core ", 1)[1])[0] for line in CORE_LINES}
    assert shown >= {"weights", "segment", "train", "tile", "predict", "evaluate"}


@pytest.mark.parametrize("line", CORE_LINES)
def test_engine_commands_in_the_readme_parse(line: str) -> None:
    args = build_parser().parse_args(shlex.split(line.split(" -m core ", 1)[1]))
    assert callable(args.run)


def test_make_targets_in_the_readme_exist() -> None:
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z-]+):", makefile, flags=re.M))
    named = set(re.findall(r"`make ([a-z-]+)", README)) | {
        line.split()[1] for line in shell_lines() if line.startswith("make ")
    }
    assert named >= {"demo", "test", "setup", "package", "install-plugin", "qgis"}
    assert named <= targets, named - targets


def test_files_the_readme_names_exist() -> None:
    for name in re.findall(r"\]\((docs/[^)]+)\)", README) + re.findall(r"(scripts/[\w./]+\.(?:py|sh|yaml))", README):
        assert (ROOT / name).is_file(), name
