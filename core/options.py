"""A job config's options as plain data: ``{name: {"default", "choices" (Literal fields), "help", ...}}``.

The command line generates its flags from this, and ``python -m core describe`` writes it for the plugin
(``sam2_qgis_plugin/job_defaults.json``), so names, defaults, choices and help are defined once: in the
config dataclass and its help table.
"""

from __future__ import annotations

from dataclasses import MISSING, fields
from typing import Any, get_args, get_type_hints


def describe_options(
    config: type, help_texts: dict[str, str], extras: dict[str, dict[str, Any]] | None = None
) -> dict[str, dict[str, Any]]:
    """Every field of the dataclass ``config``, JSON-ready; ``extras[name]`` adds keys (e.g. choice labels)."""
    hints = get_type_hints(config)
    described: dict[str, dict[str, Any]] = {}
    for option in fields(config):
        default = None if option.default is MISSING else option.default
        entry: dict[str, Any] = {"default": list(default) if isinstance(default, tuple) else default}
        choices = get_args(hints[option.name])
        if choices and all(isinstance(c, str) for c in choices):
            entry["choices"] = list(choices)
        if option.name in help_texts:
            entry["help"] = help_texts[option.name]
        entry.update((extras or {}).get(option.name, {}))
        described[option.name] = entry
    return described
