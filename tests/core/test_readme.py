"""The README and the docs/ pages it links stay true: every ``python -m core`` line parses with the engine's own
command line (so no flag or command shown is misspelt or gone), every ``make`` target exists, every page, anchor,
script and image they name is in the repository. The README's first screen is for the analyst: what the plugin
does, then installing it in QGIS and the workflow; the developers' part comes last. What each command does is
tested in the files named beside it."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from core.cli.parser import build_parser

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
PAGES = {path.relative_to(ROOT).as_posix(): path.read_text() for path in sorted((ROOT / "docs").glob("*.md"))}
ALL_TEXT = "\n".join([README, *PAGES.values()])


def shell_lines(text: str = ALL_TEXT) -> list[str]:
    """Commands of the bash blocks, continuation lines joined, comments dropped."""
    lines = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split("  #")[0].strip()
            if line and not line.startswith("#"):
                lines.append(line)
    return lines


CORE_LINES = [line for line in shell_lines() if " -m core " in line]


def headings(text: str) -> list[str]:
    return re.findall(r"^#+ (.+)$", text, flags=re.M)


def anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def test_the_docs_show_every_engine_command() -> None:
    shown = {shlex.split(line.split(" -m core ", 1)[1])[0] for line in CORE_LINES}
    assert shown >= {"weights", "segment", "train", "tile", "find", "suggest", "predict", "evaluate"}


@pytest.mark.parametrize("line", CORE_LINES)
def test_engine_commands_in_the_docs_parse(line: str) -> None:
    args = build_parser().parse_args(shlex.split(line.split(" -m core ", 1)[1]))
    assert callable(args.run)


def test_make_targets_in_the_docs_exist() -> None:
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z-]+):", makefile, flags=re.M))
    named = set(re.findall(r"`make ([a-z-]+)", ALL_TEXT)) | {
        line.split()[1] for line in shell_lines() if line.startswith("make ")
    }
    assert named >= {"demo", "test", "setup", "package", "install-plugin", "qgis", "test-fast", "test-plugin-fast"}
    assert named <= targets, named - targets


def test_pages_anchors_and_files_the_docs_name_exist() -> None:
    for page, text in {"README.md": README, **PAGES}.items():
        base = (ROOT / page).parent
        for link in re.findall(r"\]\(([^)#\s]+\.md|[^)#\s]+\.md#[\w-]+|docs/[^)\s]+)\)", text):
            target, _, fragment = link.partition("#")
            path = (base / target).resolve()
            assert path.is_file(), f"{page} links {link}"
            if fragment:
                assert fragment in {anchor(h) for h in headings(path.read_text())}, f"{page} links {link}"
        for name in re.findall(r"(scripts/[\w./]+\.(?:py|sh|yaml))", text):
            assert (ROOT / name).is_file(), f"{page} names {name}"


def test_every_docs_page_is_linked_from_the_readme() -> None:
    linked = set(re.findall(r"\]\((docs/[\w-]+\.md)", README))
    assert linked == set(PAGES), set(PAGES) - linked


def test_the_readme_starts_with_the_analyst() -> None:
    sections = re.findall(r"^## (.+)$", README, flags=re.M)
    assert sections[:2] == ["Install in QGIS", "The workflow"], sections
    assert sections[-1] == "For developers", sections
    first_screen = README.split("\n## ")[0]
    assert "![" in first_screen, "the first screen shows what the plugin does"
    assert "make " not in first_screen
    assert "python -m" not in first_screen
    assert 100 <= len(README.splitlines()) <= 200, len(README.splitlines())
    assert "random-init" in first_screen, "say where the shown masks and figures come from"


def test_the_readme_needs_no_module_map() -> None:
    """The folders show the architecture: the README lists no engine modules."""
    assert not re.search(r"^\s+[a-z_]+\.py\s{2,}", README, flags=re.M)
    assert "## Layout" not in README
