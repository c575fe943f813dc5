"""``report.html`` of a run folder: base vs tuned scores, the run's settings, curves and confusion matrix.

One self-contained page an analyst opens from QGIS or a file browser; images are referenced relatively, so
the run folder can be moved or zipped as a whole.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from core.io.atomic import atomic_output

SCORES = ("iou", "f1", "precision", "recall")
STYLE = (
    "body{font-family:sans-serif;margin:2em;max-width:60em}table{border-collapse:collapse;margin:1em 0}"
    "td,th{border:1px solid #ccc;padding:.3em .8em;text-align:right}th:first-child,td:first-child{text-align:left}"
    ".up{color:#080}.down{color:#b00}img{max-width:100%}.warning{color:#b60}"
)


def _row(cells: list[str], tag: str = "td") -> str:
    return "<tr>" + "".join(f"<{tag}>{cell}</{tag}>" for cell in cells) + "</tr>"


def _fmt(value: Any) -> str:
    return "" if value is None else f"{value:.4f}" if isinstance(value, float) else html.escape(str(value))


def render_report(
    summary: dict[str, Any],
    history: list[dict[str, Any]],
    config: dict[str, Any],
    runs: list[dict[str, Any]] | None = None,
) -> str:
    """The page's HTML from the run's ``summary.json`` content, its per-epoch history, its config, and the runs
    on the same labels (core.training.label_history: what the labels bought)."""
    base, best = summary["base"], summary["best"]
    start = "starting model" if summary.get("started_from") == "tuned" else "base model"  # a run tuned again
    scores = [_row(["score", start, f"tuned (epoch {best['epoch']})", "change"], "th")]
    for key in SCORES:
        change = best[key] - base[key]
        css = "up" if change > 0 else "down" if change < 0 else ""
        scores.append(
            _row(
                [
                    key.upper() if key == "iou" else key,
                    _fmt(base[key]),
                    _fmt(best[key]),
                    f'<span class="{css}">{change:+.4f}</span>',
                ]
            )
        )
    epochs = [_row(["epoch", "train loss", *SCORES, "seconds"], "th")]
    for row in history:
        epochs.append(
            _row(
                [
                    _fmt(row["epoch"]),
                    _fmt(row.get("train_loss")),
                    *(_fmt(row[k]) for k in SCORES),
                    _fmt(row.get("seconds")),
                ]
            )
        )
    settings = [_row(["setting", "value"], "th")]
    for key in (
        "mode",
        "trainable",
        "epochs",
        "batch_size",
        "lr",
        "tile_size",
        "val_fraction",
        "classes",
        "class_field",
        "device",
        "seed",
    ):
        settings.append(_row([key, _fmt(config.get(key))]))
    tiles = ", ".join(f"{k} {v}" for k, v in summary["tiles"].items())
    verdict = html.escape(summary.get("verdict", ""))
    counted = summary.get("validation", {})
    scored = f"{counted.get('objects', '?')} objects in {counted.get('tiles', '?')} validation tiles"
    stopped = " Early stopping ended the run." if summary.get("stopped_early") else ""
    warnings = "".join(f'<p class="warning">{html.escape(w)}</p>' for w in summary.get("warnings", []))
    bought = _labels_section(summary, runs or [])
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>SAM 2 fine-tuning report</title><style>{STYLE}</style></head><body>
<h1>SAM 2 fine-tuning report</h1>
<p>Validation scores of the {start} (epoch 0) and of the best epoch, on held-out tiles ({html.escape(tiles)}).
Scored: {scored}.{stopped}</p>
<p class="verdict"><b>{verdict}</b></p>{warnings}
<table>{"".join(scores)}</table>
{bought}<h2>Training curves</h2><img src="curves.png" alt="training loss and validation scores per epoch">
<h2>Confusion matrix (best epoch)</h2><img src="confusion.png" alt="confusion matrix">
<h2>Per epoch</h2><table>{"".join(epochs)}</table>
<h2>Settings</h2><table>{"".join(settings)}</table>
</body></html>
"""


def _labels_section(summary: dict[str, Any], runs: list[dict[str, Any]]) -> str:
    """What the labels bought: the labels this run learned from, and with two runs or more on them, the sentence,
    the curve and the runs."""
    labels = summary.get("labels", {})
    if labels.get("objects") is None:
        return ""
    learned = (
        f"<p>Learned from {labels['objects']} objects and {labels.get('background') or 0} background examples of "
        f"{html.escape(str(labels.get('name', '')))} ({html.escape(str(labels.get('cover', '')))} labels).</p>"
    )
    if len(runs) < 2:
        return f"<h2>What the labels bought</h2>{learned}"
    table = [_row(["run", "objects", "background", "base IoU", "tuned IoU"], "th")]
    table += [
        _row([_fmt(r["run"]), _fmt(r["objects"]), _fmt(r["background"]), _fmt(r["base_iou"]), _fmt(r["iou"])])
        for r in runs
    ]
    said = html.escape(summary.get("labels_bought") or "")
    return (
        f"<h2>What the labels bought</h2>{learned}<p><b>{said}</b></p>"
        '<img src="labels_bought.png" alt="validation IoU against labelled objects, run by run">'
        f"<table>{''.join(table)}</table><p>Runs in the same folder on the same labels and raster. Each validates "
        "on tiles of its own labels: a trend over several runs says more than one step.</p>"
    )


def write_report(
    folder: Path,
    summary: dict[str, Any],
    history: list[dict[str, Any]],
    config: dict[str, Any],
    runs: list[dict[str, Any]] | None = None,
) -> Path:
    """Write ``folder/report.html`` atomically; returns its path."""
    path = Path(folder) / "report.html"
    with atomic_output(path) as tmp:
        tmp.write_text(render_report(summary, history, config, runs), encoding="utf-8")
    return path
