#!/usr/bin/env python3
"""The plugin's translatable strings: write the template ``sam2_qgis_plugin/i18n/sam2_qgis_plugin.ts`` from the
``tr("...")`` and ``translatable("...")`` calls, and find strings the analyst reads that bypass ``tr``.

    scripts/i18n_strings.py            write the template (Qt Linguist opens it; copy it to ..._<lang>.ts)
    scripts/i18n_strings.py --check    exit 1 when the template is stale or a shown string is not translatable

A string is shown when it is given to a widget (``QLabel("...")``, ``setText``, ``setToolTip``, ``addRow``...),
to the message bar (``pushMessage``, ``report``), as a task's description, as an error the panel shows
(``SessionError``, ``OutputError``...), or as a Processing parameter's description or an algorithm's name. Those
must be ``tr("literal")`` (``.format`` after it) or a name marked ``translatable``; an f-string inside ``tr`` is
refused: its text changes with its values, so no translation could match it.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
PLUGIN = ROOT / "sam2_qgis_plugin"
TEMPLATE = PLUGIN / "i18n" / "sam2_qgis_plugin.ts"
CONTEXT = "SAM2"
MARKERS = ("tr", "translatable")

#: Method name -> index of the argument shown to the analyst.
METHOD_SINKS = {
    "setText": 0, "setToolTip": 0, "setPlaceholderText": 0, "setWindowTitle": 0, "setTitle": 0,
    "setSpecialValueText": 0, "setStatusTip": 0, "setWhatsThis": 0, "addRow": 0, "report": 0, "setDescription": 0,
    "setLabelText": 0, "setDialogTitle": 0, "pushMessage": 1, "createMessage": 1,
}  # fmt: skip
#: Class or function name -> index of the argument shown.
CALL_SINKS = {
    "QLabel": 0, "QPushButton": 0, "QCheckBox": 0, "QGroupBox": 0, "QRadioButton": 0, "QAction": 1,
    "SessionError": 0, "OutputError": 0, "InterruptedError": 0, "QgsProcessingException": 0,
}  # fmt: skip
PROCESSING_PARAMETER = "QgsProcessingParameter"  # (name, description, ...): the description is shown
SHOWN_RETURNS = ("displayName", "shortHelpString", "group")  # Processing: what its toolbox shows


def shown_arguments(call: ast.Call) -> list[ast.expr]:
    """The arguments of ``call`` that the analyst reads."""
    function = call.func
    name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")
    index = METHOD_SINKS.get(name) if isinstance(function, ast.Attribute) else None
    if index is None:
        index = CALL_SINKS.get(name)
    if index is None and name.startswith(PROCESSING_PARAMETER):
        index = 1
    return [call.args[index]] if index is not None and index < len(call.args) else []


def has_words(node: ast.expr) -> bool:
    """Whether ``node`` holds text to translate: a string literal or f-string with letters (not "", " m")."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return any(character.isalpha() for character in node.value)
    if isinstance(node, ast.JoinedStr):
        return any(has_words(part) for part in node.values if isinstance(part, ast.Constant))
    if isinstance(node, ast.IfExp):
        return has_words(node.body) or has_words(node.orelse)
    if isinstance(node, ast.BinOp):
        return has_words(node.left) or has_words(node.right)
    return False


def problems_in(path: Path) -> list[str]:
    """Shown strings of ``path`` that bypass ``tr``, and ``tr`` calls whose text is not a plain literal."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for argument in shown_arguments(node):
                if has_words(argument):
                    found.append(f"{path.name}:{argument.lineno}: shown text not translatable: wrap it in tr()")
            if getattr(node.func, "id", None) in MARKERS and node.args and isinstance(node.args[0], ast.JoinedStr):
                found.append(
                    f"{path.name}:{node.lineno}: an f-string in {node.func.id}(): use tr('...{{x}}').format(x=...)"
                )
        if isinstance(node, ast.FunctionDef) and node.name in SHOWN_RETURNS:
            for inner in ast.walk(node):
                if isinstance(inner, ast.Return) and inner.value is not None and has_words(inner.value):
                    found.append(f"{path.name}:{inner.lineno}: {node.name}() returns text not translatable")
    return found


def sources(folder: Path = PLUGIN) -> list[Path]:
    """The plugin's Python files, its packages' included (processing/)."""
    return sorted(folder.rglob("*.py"))


def messages(folder: Path = PLUGIN) -> dict[str, list[str]]:
    """Every ``tr``/``translatable`` literal and the files it is in (no line numbers: the template changes only
    when the strings do)."""
    found: dict[str, list[str]] = {}
    for path in sources(folder):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in MARKERS and node.args:
                text = node.args[0]
                if isinstance(text, ast.Constant) and isinstance(text.value, str):
                    files = found.setdefault(text.value, [])
                    name = path.relative_to(folder).as_posix()
                    if name not in files:
                        files.append(name)
    return found


def template(found: dict[str, list[str]]) -> str:
    """A Qt Linguist .ts file with every message, untranslated."""
    lines = ['<?xml version="1.0" encoding="utf-8"?>', "<!DOCTYPE TS>", '<TS version="2.1">', "<context>",
             f"    <name>{CONTEXT}</name>"]  # fmt: skip
    for text in sorted(found):
        lines.append("    <message>")
        for filename in found[text]:
            lines.append(f'        <location filename="../{filename}"/>')
        lines.append(f"        <source>{escape(text)}</source>")
        lines.append('        <translation type="unfinished"></translation>')
        lines.append("    </message>")
    lines += ["</context>", "</TS>", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="report, write nothing; exit 1 on a problem")
    args = parser.parse_args(argv)
    problems = [problem for path in sources() for problem in problems_in(path)]
    expected = template(messages())
    if args.check:
        current = TEMPLATE.read_text(encoding="utf-8") if TEMPLATE.exists() else ""
        if current != expected:
            problems.append(f"{TEMPLATE.relative_to(ROOT)} is stale: run scripts/i18n_strings.py")
        print("\n".join(problems) or "translatable: every shown string goes through tr()")
        return 1 if problems else 0
    TEMPLATE.parent.mkdir(exist_ok=True)
    TEMPLATE.write_text(expected, encoding="utf-8")
    print(f"{TEMPLATE.relative_to(ROOT)}: {len(messages())} strings")
    print("\n".join(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
