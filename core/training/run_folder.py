"""The run folder: checkpoints (atomic), metrics, plots, report, config snapshot, resumable state.

best.pt / last.pt                full checkpoints {"model": state_dict, "meta": {...}}; sam2's build_sam2
                                 loads them strictly (adapters merged into the weights)
best_trained.pt / last_trained.pt only the trained tensors {"trained": {...}, "meta": {...}}, applied by
                                 the engine on top of the base checkpoint named in "meta"
resume.pt                        optimizer, scheduler, RNG and history, for --resume
metrics.csv, curves.png, confusion.png, classification_report.txt, config.yaml, summary.json,
report.html                      base vs tuned scores, settings, curves (core.training.report)
"""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path
from typing import Any, Protocol

import torch
import yaml

from core.evaluation.metrics import ClassConfusion, Confusion
from core.evaluation.plots import draw_confusion, pyplot
from core.io.atomic import atomic_output, sha256_file
from core.models.random_init import state_dict_sha256
from core.training.label_history import LabelRecord, finished_now, labels_bought, runs_on_same_labels
from core.training.report import write_report
from core.training.trainable import LoRALinear, trained_state


class TrainingState(Protocol):
    """What the run folder reads of a training in progress (``core.training.trainer.Trainer`` provides it)."""

    config: Any  # TrainConfig
    loaded: Any  # core.models.loader.LoadedModel
    base_checkpoint: Path
    model: torch.nn.Module
    optimizer: Any  # torch.optim.Optimizer
    scheduler: Any
    rng: Any  # numpy Generator
    tiles: Any  # TileSet
    epoch: int
    step: int
    epoch_order: list[int]  # the current epoch's train tile indices (empty between epochs)
    epoch_losses: list[float]  # the current epoch's step losses so far
    rank: int
    history: list[dict[str, Any]]
    stopped_early: bool
    validation_counts: dict[str, int]
    warnings: list[str]
    encoder_calls: int
    features: dict[Any, Any]
    class_tokens: Any  # torch.nn.Parameter (K, C) of a multi-class run, else None
    budget: Any  # core.training.budget.TimeBudget

    def best(self) -> dict[str, Any]: ...

    def current_classes(
        self,
    ) -> Any: ...  # core.models.classes.ClassList of a multi-class run, with its tokens; or None


COLUMNS = ["epoch", "train_loss", "iou", "f1", "precision", "recall", "lr", "seconds"]
SCORES = ("iou", "f1", "precision", "recall")


FINE_TUNED_FORMAT = "sam2-qgis/fine-tuned/1"  # "format" in the meta of every checkpoint a run writes


def starting_model(metadata: dict[str, Any]) -> str:
    """What a run starts from, in words: "the base model", or "the model you started from" when the checkpoint
    is itself a fine-tuned one (its meta says so: a run tuned again)."""
    return "the model you started from" if metadata.get("format") == FINE_TUNED_FORMAT else "the base model"


def verdict(
    base: dict[str, Any], best: dict[str, Any], metric: str, min_gain: float = 0.0, start: str = "the base model"
) -> str:
    """One line for the analyst: did fine-tuning beat ``start`` (the starting model, epoch 0) on validation?"""
    if best["epoch"] >= 1:
        return (
            f"fine-tuning improved validation {metric} from {base[metric]:.3f} ({start}) to {best[metric]:.3f} "
            f"(epoch {best['epoch']}); best.pt holds the tuned weights"
        )
    return (
        f"{start} stands: no epoch beat its validation {metric} of {base[metric]:.3f}"
        + (f" by more than {min_gain:g}" if min_gain > 0 else "")
        + f"; best.pt holds its weights (keep using {start}, or label more objects and try again)"
    )


def plain_state_dict(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The model's state dict with every LoRA adapter folded into its base weight (original key names)."""
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    for name, module in model.named_modules():
        if isinstance(module, LoRALinear):
            delta = (module.lora_b @ module.lora_a).detach().cpu() * module.scale
            state[f"{name}.weight"] = state.pop(f"{name}.base.weight") + delta
            state[f"{name}.bias"] = state.pop(f"{name}.base.bias")
            del state[f"{name}.lora_a"], state[f"{name}.lora_b"]
    return state


def save_torch(path: Path, payload: dict[str, Any]) -> None:
    with atomic_output(path) as tmp, open(tmp, "wb") as handle:
        torch.save(payload, handle)


class RunFolder:
    """Writes the run folder; with ``writes`` False (ranks other than 0) every write is skipped."""

    def __init__(self, path: Path, writes: bool = True, learned_from: tuple[LabelRecord, str] | None = None) -> None:
        """``learned_from``: the labels and the raster's path (for what labels bought across runs)."""
        self.path = Path(path)
        self.writes = writes
        self.learned_from = learned_from
        self.path.mkdir(parents=True, exist_ok=True)

    def meta(self, trainer: TrainingState, epoch: int, scores: dict[str, float] | None = None) -> dict[str, Any]:
        """Metadata of a checkpoint of ``epoch`` (0: the base weights, which keep the base's prompt mode, but for
        a multi-class run's, which are promptless with their class tokens)."""
        tuned = epoch >= 1 or trainer.config.multiclass
        return {
            "format": FINE_TUNED_FORMAT,
            "model": trainer.loaded.spec.name,
            "image_size": trainer.config.model_size,
            "mode": trainer.config.mode if tuned else trainer.loaded.metadata.get("mode"),
            "trained_mode": trainer.config.mode,
            "improved": epoch >= 1,
            "trainable": trainer.config.trainable,
            "epoch": epoch,
            "scores": scores or {},
            "base_checkpoint": str(trainer.base_checkpoint.resolve()),
            "base_sha256": trainer.loaded.weights_sha256,
            "config": trainer.config.to_dict(),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
            **self._classes(trainer, epoch),
        }

    @staticmethod
    def _classes(trainer: TrainingState, epoch: int) -> dict[str, Any]:
        """A multi-class run's classes (ids, names, tokens), with every checkpoint: the base weights (epoch 0)
        with the tokens training starts from, so that best.pt is a multi-class model whichever epoch it is."""
        classes = trainer.current_classes()
        return {"classes": classes.to_dict()} if classes is not None else {}

    def write_history(self, history: list[dict[str, Any]]) -> None:
        if not self.writes:
            return
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(history)
        with atomic_output(self.path / "metrics.csv") as tmp:
            tmp.write_text(buffer.getvalue())

    def save_checkpoints(self, trainer: TrainingState, name: str, scores: dict[str, float]) -> None:
        if not self.writes:
            return
        meta = self.meta(trainer, trainer.epoch, scores)
        save_torch(self.path / f"{name}.pt", {"model": plain_state_dict(trainer.model), "meta": meta})
        save_torch(self.path / f"{name}_trained.pt", {"trained": trained_state(trainer.model), "meta": meta})

    def save_resume(self, trainer: TrainingState) -> None:
        if not self.writes:
            return
        save_torch(
            self.path / "resume.pt",
            {
                "trained": trained_state(trainer.model),
                "optimizer": trainer.optimizer.state_dict(),
                "scheduler": trainer.scheduler.state_dict(),
                "epoch": trainer.epoch,
                "step": trainer.step,
                "epoch_order": torch.tensor(trainer.epoch_order, dtype=torch.int64),  # empty between epochs
                "epoch_losses": torch.tensor(trainer.epoch_losses, dtype=torch.float64),
                "history": json.dumps(trainer.history),
                "rng": json.dumps(trainer.rng.bit_generator.state),
                "torch_rng": torch.get_rng_state(),
                **({"class_tokens": trainer.class_tokens.detach().cpu()} if trainer.current_classes() else {}),
            },
        )

    def save_base(self, trainer: TrainingState, row: dict[str, Any], confusion: Confusion | ClassConfusion) -> None:
        """The base model is the first candidate for best: best.pt holds its weights until an epoch beats it."""
        if not self.writes:
            return
        self.save_checkpoints(trainer, "best", {k: row[k] for k in SCORES})
        self._write_confusion(confusion, "confusion.png", "base model", self._labels(trainer))
        self._write_report(confusion, self._labels(trainer))
        self.write_history(trainer.history)

    def save_epoch(self, trainer: TrainingState, row: dict[str, Any], confusion: Confusion | ClassConfusion) -> None:
        if not self.writes:
            return
        scores = {k: row[k] for k in SCORES}
        self.save_checkpoints(trainer, "last", scores)
        if trainer.best() is row:
            self.save_checkpoints(trainer, "best", scores)
            self._write_confusion(confusion, "confusion.png", f"epoch {row['epoch']}", self._labels(trainer))
            self._write_report(confusion, self._labels(trainer))
        self.write_history(trainer.history)
        self.save_resume(trainer)

    def finish(self, trainer: TrainingState) -> dict[str, Any]:
        base = trainer.history[0]
        weights = state_dict_sha256(trained_state(trainer.model))
        if not self.writes:
            return {"rank": trainer.rank, "epochs": trainer.epoch, "weights_sha256": weights}
        best = trainer.best()
        start = starting_model(trainer.loaded.metadata)
        self._write_curves(trainer.history)
        with atomic_output(self.path / "config.yaml") as tmp:
            tmp.write_text(yaml.safe_dump(trainer.config.to_dict(), sort_keys=False))
        summary = {
            "base": {k: base[k] for k in SCORES},
            "best": {k: best[k] for k in ("epoch", *SCORES)},
            "improved": best["epoch"] >= 1,
            "verdict": verdict(base, best, trainer.config.best_metric, trainer.config.min_gain, start),
            "started_from": "tuned" if start != "the base model" else "base",
            "epochs": trainer.epoch,
            "stopped_early": trainer.stopped_early,
            "mode": trainer.config.mode,
            "validation": trainer.validation_counts,
            "warnings": trainer.warnings,
            "tiles": trainer.tiles.summary(),
            "labels": {
                "cover": trainer.config.labels_cover,
                **trainer.tiles.label_pixels(),
                **(self.learned_from[0].to_dict() if self.learned_from else {}),
            },
            "raster": self.learned_from[1] if self.learned_from else None,
            "finished": finished_now(),
            "encoder_calls": trainer.encoder_calls,
            "encoded_samples": len(trainer.features),
            "weights_sha256": weights,
            "best_checkpoint": str(self.path / "best.pt"),
            "best_sha256": sha256_file(self.path / "best.pt"),
        }
        if trainer.budget.limited:
            summary["budget"] = trainer.budget.summary()
        classes = trainer.current_classes()
        if classes is not None:  # each class's validation scores, base and best
            summary["classes"] = {
                str(class_id): {
                    "name": name,
                    "base": base["per_class"][str(class_id)],
                    "best": best["per_class"][str(class_id)],
                }
                for class_id, name in zip(classes.ids, classes.names, strict=True)
            }
        history = runs_on_same_labels(self.path, summary)
        summary["labels_bought"] = labels_bought(history)
        if len(history) >= 2:
            self._write_labels_curve(history)
        with atomic_output(self.path / "summary.json") as tmp:
            tmp.write_text(json.dumps(summary, indent=2))
        write_report(self.path, summary, trainer.history, trainer.config.to_dict(), history)
        return summary

    # -- figures and report --------------------------------------------------------------------------

    def _write_labels_curve(self, runs: list[dict[str, Any]]) -> None:
        """labels_bought.png: validation IoU of each run on these labels against its labelled objects."""
        plt = pyplot()
        figure, axis = plt.subplots(figsize=(6, 3.5))
        objects = [r["objects"] for r in runs]
        axis.plot(objects, [r["iou"] for r in runs], "o-", label="tuned")
        axis.plot(objects, [r["base_iou"] for r in runs], "s--", color="grey", label="base model")
        axis.set_xlabel("labelled objects")
        axis.xaxis.get_major_locator().set_params(integer=True)
        axis.set_ylabel("validation IoU")
        axis.set_title("What the labels bought")
        axis.legend()
        figure.tight_layout()
        with atomic_output(self.path / "labels_bought.png") as tmp:
            figure.savefig(tmp, format="png", dpi=100)
        plt.close(figure)

    def _write_curves(self, history: list[dict[str, Any]]) -> None:
        plt = pyplot()
        epochs = [r["epoch"] for r in history]
        figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
        trained = [r for r in history if r["train_loss"] is not None]
        left.plot([r["epoch"] for r in trained], [r["train_loss"] for r in trained], marker="o")
        left.set(title="training loss", xlabel="epoch")
        for key in ("iou", "f1", "precision", "recall"):
            right.plot(epochs, [r[key] for r in history], marker="o", label=key)
        right.set(title="validation (epoch 0 = base model)", xlabel="epoch", ylim=(0, 1))
        right.legend()
        figure.tight_layout()
        with atomic_output(self.path / "curves.png") as tmp:
            figure.savefig(tmp, format="png", dpi=100)
        plt.close(figure)

    def _write_confusion(self, confusion: Confusion | ClassConfusion, name: str, title: str, names: Any = None) -> None:
        plt = pyplot()
        size = len(confusion.matrix())
        figure, axis = plt.subplots(figsize=(2.5 + size, 2 + size))
        draw_confusion(axis, confusion.matrix(), f"confusion, {title}", names)
        figure.tight_layout()
        with atomic_output(self.path / name) as tmp:
            figure.savefig(tmp, format="png", dpi=100)
        plt.close(figure)

    @staticmethod
    def _labels(trainer: TrainingState) -> list[str] | None:
        """The confusion matrix's row and column names of a multi-class run (None: background and object)."""
        classes = trainer.current_classes()
        return ["background", *classes.names] if classes is not None else None

    def _write_report(self, confusion: Confusion | ClassConfusion, labels: list[str] | None = None) -> None:
        if isinstance(confusion, ClassConfusion):
            self._write_class_report(confusion, labels or [])
            return
        tn, fp, fn, tp = confusion.tn, confusion.fp, confusion.fn, confusion.tp
        rows = [("background", tn, fn, fp, tn + fp), ("object", tp, fp, fn, tp + fn)]
        lines = [f"{'class':12s}{'precision':>10s}{'recall':>10s}{'f1':>10s}{'support':>12s}"]
        for name, hit, false_pos, miss, support in rows:
            precision = hit / (hit + false_pos) if hit + false_pos else 0.0
            recall = hit / (hit + miss) if hit + miss else 0.0
            f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
            lines.append(f"{name:12s}{precision:10.4f}{recall:10.4f}{f1:10.4f}{support:12d}")
        lines.append(f"\nIoU (object): {confusion.scores()['iou']:.4f}   pixels: {tn + fp + fn + tp}")
        with atomic_output(self.path / "classification_report.txt") as tmp:
            tmp.write_text("\n".join(lines) + "\n")

    def _write_class_report(self, confusion: ClassConfusion, labels: list[str]) -> None:
        """Each class's precision, recall, F1, IoU and support (its labelled pixels), and their mean."""
        lines = [f"{'class':16s}{'precision':>10s}{'recall':>10s}{'f1':>10s}{'iou':>10s}{'support':>12s}"]
        assert confusion.counts is not None
        for index, (class_id, scores) in enumerate(confusion.per_class().items(), start=1):
            name = labels[index] if index < len(labels) else str(class_id)
            support = int(confusion.counts[index].sum())
            lines.append(
                f"{name:16s}{scores['precision']:10.4f}{scores['recall']:10.4f}{scores['f1']:10.4f}"
                f"{scores['iou']:10.4f}{support:12d}"
            )
        mean = confusion.scores()
        lines.append(f"\nmean over the classes: IoU {mean['iou']:.4f}, F1 {mean['f1']:.4f}")
        with atomic_output(self.path / "classification_report.txt") as tmp:
            tmp.write_text("\n".join(lines) + "\n")
