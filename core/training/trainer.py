"""The training loop: cached frozen-encoder embeddings, prompts as they are used, validation every epoch,
atomic checkpoints and a resumable state.

``progress(fraction, **info)`` is called every step and ``cancelled()`` checked every step: a cancel saves
nothing new, so the last good checkpoints stay as they were. ``stop_requested()`` (SIGTERM) ends the run
after the current step with a resumable state saved.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import pickle
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from torch.nn import functional

from core.errors import CancelledError, InvalidCheckpointError, InvalidInputError, OutOfMemoryError
from core.evaluation.metrics import ClassConfusion, Confusion
from core.inference.decode import class_probabilities, decode, decode_classes, no_prompt
from core.inference.embeddings import image_features
from core.inference.preprocess import to_model_input
from core.io.labels import IGNORE
from core.models.classes import ClassList, class_indices, classes_of
from core.models.device import choose_device
from core.models.loader import LoadedModel, load_model
from core.training.augment import augment
from core.training.budget import TimeBudget
from core.training.classes import class_weights, initial_tokens, resolve_classes
from core.training.config import TrainConfig
from core.training.loss import multiclass_loss, promptless_loss, sam_loss
from core.training.prompts import correction_click, pad_prompts, sample_click
from core.training.selection import best_row
from core.training.tiles import Tile, TileSet
from core.training.trainable import configure_trainable

Progress = Callable[..., None]
MIN_VALIDATION_OBJECTS = 5  # fewer objects than this in validation: warn that the scores cannot be trusted
FULL_COVER = 0.98  # labels covering this share of the training area leave nothing to learn as background


logger = logging.getLogger(__name__)


class RunRecorder(Protocol):
    """Where a run records its base model, epochs and resumable state (``core.training.run_folder.RunFolder``)."""

    def save_base(self, trainer: Trainer, row: dict[str, Any], confusion: Confusion | ClassConfusion) -> None: ...
    def save_epoch(self, trainer: Trainer, row: dict[str, Any], confusion: Confusion | ClassConfusion) -> None: ...
    def save_resume(self, trainer: Trainer) -> None: ...
    def finish(self, trainer: Trainer) -> dict[str, Any]: ...


@dataclass
class Sample:
    """One augmented training sample: RGB (S, S, 3), target and labelled (S, S) bool, instances (S, S), and the
    label values (S, S) uint8 (class ids, IGNORE unlabelled)."""

    rgb: np.ndarray
    target: np.ndarray
    labelled: np.ndarray
    instances: np.ndarray
    classes: np.ndarray


def _sample(tile: Tile, index: int, variant: int, config: TrainConfig) -> Sample:
    rgb, target, labelled, instances, classes = augment(
        (tile.rgb, tile.target, tile.labelled, tile.instances, tile.classes),
        0,
        variant,
        (config.seed, index),
        config.colour_jitter,
    )
    return Sample(rgb, target, labelled, instances, classes)


def _param_groups(params: list[torch.nn.Parameter], weight_decay: float) -> list[dict[str, Any]]:
    """AdamW groups: weight decay on weight matrices and convolution kernels, none on biases and norms."""
    decay = [p for p in params if p.ndim >= 2]
    no_decay = [p for p in params if p.ndim < 2]
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


class Throughput:
    """Training speed and time left, for progress events. Samples/s is measured over the current epoch's steps
    so far (the first epoch also encodes each tile once, so later ones run faster); the time left is the steps
    left at that pace plus the validations left at the last one's duration (the base model's scoring is the
    first). Early stopping can end a run sooner. Wall seconds (time.monotonic)."""

    def __init__(self, total_steps: int, samples_per_step: int, validation_seconds: float) -> None:
        self.total_steps, self.samples_per_step = total_steps, samples_per_step
        self.validation_seconds = validation_seconds
        self.begun = self.epoch_began = time.monotonic()
        self.epoch_first_step = 0

    def start_epoch(self, step: int) -> None:
        self.epoch_began, self.epoch_first_step = time.monotonic(), step

    def validated(self, seconds: float) -> None:
        self.validation_seconds = seconds

    def at(self, step: int, validations_left: int) -> dict[str, float]:
        """``elapsed_seconds``, ``samples_per_second`` and ``eta_seconds`` after ``step`` steps in all."""
        now = time.monotonic()
        info = {"elapsed_seconds": round(now - self.begun, 2)}
        steps = step - self.epoch_first_step
        if steps > 0 and now > self.epoch_began:
            step_seconds = (now - self.epoch_began) / steps
            info["samples_per_second"] = round(self.samples_per_step / step_seconds, 2)
            left = (self.total_steps - step) * step_seconds + validations_left * self.validation_seconds
            info["eta_seconds"] = round(left, 2)  # a fast validation is still time left
        return info


def warmup_cosine(total_steps: int, warmup_fraction: float) -> Callable[[int], float]:
    """Learning-rate factor: linear warm-up over the first steps, then a cosine decay to zero."""
    warmup = max(1, round(total_steps * warmup_fraction))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, total_steps - warmup)
        return 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))

    return factor


@dataclass
class PromptGroup:
    """Prompts decoded together: embeddings (B, C, h, w) and high-res features of their tiles, coords (B, n, 2)
    in model pixels, labels (B, n), and whether to return SAM's three candidate masks."""

    embed: torch.Tensor
    high_res: list[torch.Tensor]
    coords: torch.Tensor
    labels: torch.Tensor
    multimask: bool


@dataclass
class ClassGroup:
    """Tiles decoded once per class (multi-class training): embeddings (B, C, h, w) and high-res features."""

    embed: torch.Tensor
    high_res: list[torch.Tensor]


class DecoderStep(torch.nn.Module):
    """The trained forward pass as one module, so DistributedDataParallel can wrap it (one call per step); it
    holds the class tokens (K, C) of a multi-class run."""

    def __init__(self, model: torch.nn.Module, tokens: torch.nn.Parameter | None = None) -> None:
        super().__init__()
        self.model = model
        self.tokens = tokens

    def forward(self, groups: list[PromptGroup] | ClassGroup) -> Any:
        if isinstance(groups, ClassGroup):
            assert self.tokens is not None
            return decode_classes(self.model, self.tokens, groups.embed, groups.high_res)
        return [decode(self.model, g.embed, g.high_res, g.coords, g.labels, g.multimask) for g in groups]


class Trainer:
    """Fine-tunes one model on one tile set into ``run_dir``.

    Under ``torchrun`` (a default process group initialised), each rank trains on its share of every epoch's
    batches with DistributedDataParallel averaging the gradients; only rank 0 writes the run folder.
    """

    def __init__(
        self,
        config: TrainConfig,
        tiles: TileSet,
        base_checkpoint: Path,
        run_dir: Path,
        progress: Progress | None = None,
        cancelled: Callable[[], bool] | None = None,
        stop_requested: Callable[[], bool] | None = None,
    ) -> None:
        self.config, self.tiles, self.run_dir = config, tiles, Path(run_dir)
        self.progress, self.cancelled, self.stop_requested = progress, cancelled, stop_requested
        self.run_dir.mkdir(parents=True, exist_ok=True)
        torch.manual_seed(config.seed)
        self.base_checkpoint = Path(base_checkpoint)
        self.loaded: LoadedModel = load_model(base_checkpoint, device=config.device, image_size=config.model_size)
        self.device = self.loaded.device if config.device == "auto" else choose_device(config.device)
        self.model = self.loaded.model
        self.params = configure_trainable(self.model, config.trainable, config.lora_rank)
        self.model.to(self.device)
        self.distributed = torch.distributed.is_available() and torch.distributed.is_initialized()
        self.rank = torch.distributed.get_rank() if self.distributed else 0
        self.world = torch.distributed.get_world_size() if self.distributed else 1
        self.classes: ClassList | None = None  # multi-class runs: the classes, their tokens learned below
        self.class_tokens: torch.nn.Parameter | None = None
        if config.multiclass:
            self.classes = resolve_classes(tiles, config)
            tokens = initial_tokens(self.model, len(self.classes.ids))
            known = classes_of(self.loaded.metadata, self.base_checkpoint.name)
            if known is not None and known.ids == self.classes.ids and known.tokens:  # tuning a multi-class model on
                tokens = torch.tensor(known.tokens, dtype=torch.float32)
            self.class_tokens = torch.nn.Parameter(tokens.to(self.device))
            self.class_weight = class_weights(tiles, self.classes.ids)
            self.params.append(self.class_tokens)
        self.step_module: torch.nn.Module = DecoderStep(self.model, self.class_tokens)
        if self.distributed:
            self.step_module = torch.nn.parallel.DistributedDataParallel(
                self.step_module,
                device_ids=[self.device.index] if self.device.type == "cuda" else None,
                find_unused_parameters=True,
            )
        self.train_tiles, self.val_tiles = tiles.split("train"), tiles.split("val")
        self.samples_per_rank = math.ceil(len(self.train_tiles) / self.world)
        steps_per_epoch = math.ceil(self.samples_per_rank / config.batch_size)
        self.total_steps = steps_per_epoch * config.epochs
        self.optimizer = torch.optim.AdamW(_param_groups(self.params, config.weight_decay), lr=config.lr)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, warmup_cosine(self.total_steps, config.warmup_fraction)
        )
        self.rng = np.random.default_rng(config.seed)
        # Mixed precision: bf16 autocast on CUDA; fp16 with a gradient scaler where bf16 is missing; fp32 elsewhere.
        self.amp_dtype: torch.dtype | None = None
        if self.device.type == "cuda":
            self.amp_dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp_dtype == torch.float16)
        self.features: dict[tuple[str, int, int], tuple[torch.Tensor, ...]] = {}
        self.encoder_calls = 0
        self.history: list[dict[str, Any]] = []
        self.epoch = 0
        self.step = 0
        self.steps_per_epoch = steps_per_epoch
        self.epoch_order: list[int] = []  # this epoch's train tile indices, all ranks'; empty between epochs
        self.epoch_losses: list[float] = []  # this epoch's step losses so far
        self.stopped_early = False
        self.budget = TimeBudget(config.max_minutes * 60)
        self.base_seconds = 0.0  # how long scoring the base model took (the first guess at a validation's time)
        self.validation_counts = {"tiles": len(self.val_tiles), "objects": self._validation_objects()}
        self.warnings: list[str] = []
        if self.validation_counts["objects"] < MIN_VALIDATION_OBJECTS:
            self.warnings.append(
                f"only {self.validation_counts['objects']} labelled objects in the {len(self.val_tiles)} validation "
                "tiles: the scores and the choice of the best epoch are not to be trusted; label more objects or "
                "raise the validation share (--val-fraction)"
            )

    def _validation_objects(self) -> int:
        """Objects scored by validation, counted per tile (an object cut by two tiles counts twice): every object
        in auto mode; in click mode those ``evaluate`` clicks (the first 8 of a tile, if >= 16 px)."""
        count = 0
        for tile in self.val_tiles:
            ids, sizes = np.unique(tile.instances[tile.instances > 0], return_counts=True)
            count += len(ids) if self.config.mode == "auto" else int((sizes[:8] >= 16).sum())
        return count

    # -- encoding ----------------------------------------------------------------------------------------

    def _model_input(self, rgbs: list[np.ndarray]) -> torch.Tensor:
        batch = to_model_input(np.stack(rgbs)).to(self.device)
        size = self.config.model_size
        if batch.shape[-1] != size:
            batch = functional.interpolate(batch, (size, size), mode="bilinear", align_corners=False)
        return batch

    def _autocast(self) -> Any:
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast("cuda", dtype=self.amp_dtype)

    def _encode(self, rgbs: list[np.ndarray], grad: bool) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Image embedding (B, C, h, w) and high-res features of normalised tiles, like the engine's encoder."""
        with torch.set_grad_enabled(grad), self._autocast():
            embed, high_res = image_features(self.model, self._model_input(rgbs))
        self.encoder_calls += 1
        return embed, high_res

    def _features(
        self, keys: list[tuple[str, int, int]], samples: list[Sample]
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Frozen-encoder features from the cache (fp16 on the CPU), encoding the missing ones once."""
        if self.config.trainable != "decoder":
            return self._encode([s.rgb for s in samples], grad=self.model.training)
        missing = [i for i, key in enumerate(keys) if key not in self.features]
        if missing:
            embed, high_res = self._encode([samples[i].rgb for i in missing], grad=False)
            for j, i in enumerate(missing):
                self.features[keys[i]] = tuple(t[j].detach().to("cpu", torch.float16) for t in (embed, *high_res))
        stacked = [
            torch.stack([self.features[k][level] for k in keys]).to(self.device, torch.float32) for level in range(3)
        ]
        return stacked[0], stacked[1:]

    # -- one batch ---------------------------------------------------------------------------------------

    def _prompts(
        self, samples: list[Sample], lone_point: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Coords, labels, targets (B, S, S) and weights for a batch, by mode."""
        if self.config.mode == "auto":
            coords_t, labels_t = no_prompt(len(samples), torch.device("cpu"))
            targets = np.stack([s.target for s in samples])
            return coords_t.numpy(), labels_t.numpy(), targets, np.stack([s.labelled for s in samples])
        config = self.config.replace(background_points=0, box_probability=0.0) if lone_point else self.config
        prompts, targets = [], []
        for sample in samples:
            click = sample_click(sample.instances, sample.labelled, self.rng, config)
            if click is None:  # no object in this tile: an empty target under a background click
                point = np.argwhere(sample.labelled)[self.rng.integers(0, sample.labelled.sum())][::-1]
                prompts.append((point[None].astype(np.float32), np.array([0 if not lone_point else 1], np.int32)))
                targets.append(np.zeros_like(sample.target))
                continue
            prompts.append((click.coords, click.labels))
            targets.append(click.target)
        coords, labels = pad_prompts(prompts)
        return coords, labels, np.stack(targets), np.stack([s.labelled for s in samples])

    def _logits_at_tile_size(self, logits: torch.Tensor) -> torch.Tensor:
        size = self.config.tile_size
        return functional.interpolate(logits, (size, size), mode="bilinear", align_corners=False)

    def _scale(self, coords: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(coords * (self.config.model_size / self.config.tile_size), device=self.device)

    def _train_step(self, batch: list[tuple[int, Tile]]) -> float:
        keys, samples = [], []
        for index, tile in batch:
            variant = int(self.rng.integers(0, self.config.augment_variants))
            keys.append(("train", index, variant))
            samples.append(_sample(tile, index, variant, self.config))
        embed, high_res = self._features(keys, samples)
        with self._autocast():
            if self.config.mode == "auto":
                loss = self._auto_loss(samples, embed, high_res)
            else:
                loss = self._click_loss(samples, embed, high_res)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.unscale_(self.optimizer)
        torch.nn.utils.clip_grad_norm_(self.params, self.config.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.scheduler.step()
        return float(loss.detach())

    def _auto_loss(self, samples: list[Sample], embed: torch.Tensor, high_res: list[torch.Tensor]) -> torch.Tensor:
        """One promptless mask per tile against all of the tile's objects (multi-class: one per class, competing)."""
        if self.classes is not None:
            logits = self.step_module(ClassGroup(embed, high_res))
            target = np.stack([class_indices(s.classes, self.classes.ids) for s in samples])
            target_t = torch.as_tensor(target, device=self.device).long()
            return multiclass_loss(self._logits_at_tile_size(logits.float()), target_t, self.class_weight).total
        coords, labels = no_prompt(len(samples), self.device)
        [(logits, iou, _)] = self.step_module([PromptGroup(embed, high_res, coords, labels, multimask=False)])
        target = torch.as_tensor(np.stack([s.target for s in samples]), device=self.device)
        weight = torch.as_tensor(np.stack([s.labelled for s in samples]), device=self.device)
        return promptless_loss(self._logits_at_tile_size(logits.float()), iou.float(), target, weight).total

    def _click_loss(self, samples: list[Sample], embed: torch.Tensor, high_res: list[torch.Tensor]) -> torch.Tensor:
        """``objects_per_tile`` prompts per tile, sharing its embedding: a ``multimask_fraction`` share are lone
        clicks answered with three candidate masks (SAM's answer to an ambiguous click), the rest clicks with a
        background point, sometimes a box, and a correction click, answered with one mask. Both kinds train in
        every step, so neither waits for the other's turn."""
        per_tile = self.config.objects_per_tile
        lone = min(per_tile, round(per_tile * self.config.multimask_fraction))
        groups, inputs = [], []
        for multimask, count in ((True, lone), (False, per_tile - lone)):
            if count == 0:
                continue
            tiles = torch.arange(len(samples), device=embed.device).repeat_interleave(count)
            prompted = [s for s in samples for _ in range(count)]
            group_embed, group_high_res = embed[tiles], [level[tiles] for level in high_res]
            coords, labels, targets, weights = self._prompts(prompted, lone_point=multimask)
            if not multimask and self.config.correction_clicks > 0:
                coords, labels = self._with_correction(group_embed, group_high_res, coords, labels, targets, weights)
            groups.append(
                PromptGroup(
                    group_embed,
                    group_high_res,
                    self._scale(coords),
                    torch.as_tensor(labels, device=self.device),
                    multimask,
                )
            )
            inputs.append((targets, weights))
        total = torch.zeros((), device=self.device)
        for (logits, iou, score), (targets, weights) in zip(self.step_module(groups), inputs, strict=True):
            parts = sam_loss(
                self._logits_at_tile_size(logits.float()),
                iou.float(),
                torch.as_tensor(targets, device=self.device),
                torch.as_tensor(weights, device=self.device),
                score.float(),
                self.config.pixel_loss,
            )
            total = total + parts.total * len(targets)
        return total / sum(len(t) for t, _ in inputs)

    def _with_correction(
        self,
        embed: torch.Tensor,
        high_res: list[torch.Tensor],
        coords: np.ndarray,
        labels: np.ndarray,
        targets: np.ndarray,
        weights: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The prompts plus one click on the error of the model's current answer (as an analyst corrects)."""
        with torch.no_grad():
            first, _, _ = decode(
                self.model, embed, high_res, self._scale(coords), torch.as_tensor(labels, device=self.device), False
            )
        predicted = (self._logits_at_tile_size(first.float())[:, 0] > 0).cpu().numpy()
        extra = [correction_click(p, t, w, self.rng) for p, t, w in zip(predicted, targets, weights, strict=True)]
        if any(e is None for e in extra):
            return coords, labels
        points = np.stack([e[0] for e in extra])[:, None]  # type: ignore[index]
        kinds = np.array([[e[1]] for e in extra], np.int32)  # type: ignore[index]
        return np.concatenate([coords, points], axis=1), np.concatenate([labels, kinds], axis=1)

    # -- validation --------------------------------------------------------------------------------------

    @torch.no_grad()
    def evaluate(
        self, tiles: list[Tile] | None = None, stop: Callable[[], bool] | None = None
    ) -> tuple[dict[str, Any], Confusion | ClassConfusion] | None:
        """Dataset-level scores on the validation tiles, each used the way the mode is used; None when ``stop()``
        turned true on the way. Multi-class: the mean over the classes, and each class's (``per_class``)."""
        self.model.eval()
        confusion: Confusion | ClassConfusion = (
            Confusion() if self.classes is None else ClassConfusion(self.classes.ids)
        )
        for index, tile in enumerate(tiles if tiles is not None else self.val_tiles):
            if stop is not None and stop():
                self.model.train()
                return None
            sample = _sample(tile, index, 0, self.config)
            embed, high_res = self._features([("val", index, 0)], [sample])
            if self.classes is not None:
                assert self.class_tokens is not None
                logits = decode_classes(self.model, self.class_tokens, embed, high_res)
                predicted = class_probabilities(self._logits_at_tile_size(logits.float()))[0].argmax(0).cpu().numpy()
                truth = class_indices(sample.classes, self.classes.ids)
                confusion.add(predicted, truth, truth != IGNORE)
                continue
            if self.config.mode == "auto":
                coords, labels = no_prompt(1, self.device)
                logits, _, _ = decode(self.model, embed, high_res, coords, labels, multimask=False)
                confusion.add(
                    (self._logits_at_tile_size(logits)[0, 0] > 0).cpu().numpy(), sample.target, sample.labelled
                )
                continue
            for object_id in np.unique(sample.instances[sample.instances > 0])[:8]:
                target = sample.instances == object_id
                if target.sum() < 16:
                    continue
                rows, cols = np.nonzero(target)
                nearest = np.argmin((rows - rows.mean()) ** 2 + (cols - cols.mean()) ** 2)
                coords = self._scale(np.array([[[cols[nearest], rows[nearest]]]], dtype=np.float32))
                labels = torch.ones(1, 1, dtype=torch.int32, device=self.device)
                logits, iou, _ = decode(self.model, embed, high_res, coords, labels, multimask=True)
                best = int(iou[0].argmax())
                predicted = (self._logits_at_tile_size(logits)[0, best] > 0).cpu().numpy()
                confusion.add(predicted, target, sample.labelled)
        self.model.train()
        if isinstance(confusion, ClassConfusion):
            per_class = {str(k): v for k, v in confusion.per_class().items()}
            return {**confusion.scores(), "per_class": per_class}, confusion
        return confusion.scores(), confusion

    def current_classes(self) -> ClassList | None:
        """The classes with their tokens as trained so far (None: not a multi-class run)."""
        if self.classes is None or self.class_tokens is None:
            return None
        tokens = tuple(tuple(float(v) for v in row) for row in self.class_tokens.detach().cpu().tolist())
        return ClassList(self.classes.ids, self.classes.names, tokens)

    # -- the run -----------------------------------------------------------------------------------------

    def _report(self, fraction: float, **info: Any) -> None:
        if self.progress:
            self.progress(fraction, **info)

    def run(self, folder: RunRecorder) -> dict[str, Any]:
        """Train every epoch left, recording each in ``folder`` (a ``RunFolder``); returns its summary."""
        for warning in self.warnings:
            self._report(0.0, warning=warning)
        if not self.history:
            logger.info(
                "training %s (%s, %s mode) on %d tiles, validating on %d tiles with %d objects",
                self.loaded.spec.name,
                self.config.trainable,
                self.config.mode,
                len(self.train_tiles),
                len(self.val_tiles),
                self.validation_counts["objects"],
            )
            scoring = time.monotonic()
            scored = None if self._stopping() else self.evaluate(stop=self._stopping)
            self.base_seconds = time.monotonic() - scoring
            if scored is None:  # stopped before anything was trained: resumable from the start
                return self._stop(folder)
            base_scores, confusion = scored
            self.history.append({"epoch": 0, "train_loss": None, **base_scores, "lr": 0.0, "seconds": 0.0})
            folder.save_base(self, self.history[0], confusion)
            self._report(0.0, epoch=0, **base_scores)
        self.model.train()
        throughput = Throughput(self.total_steps, self.config.batch_size * self.world, self.base_seconds)
        first_epoch = self.epoch
        last_epoch_seconds = 0.0
        while self.epoch < self.config.epochs and not self._no_progress():
            if self.epoch > first_epoch and not self.budget.next_epoch_fits(last_epoch_seconds):
                logger.info("the time budget ends before another epoch would: stopping after epoch %d", self.epoch)
                break
            started = time.monotonic()
            throughput.start_epoch(self.step)
            if not self.epoch_order:  # a new epoch (a resumed one keeps the order it had, and its losses so far)
                permutation = self.rng.permutation(len(self.train_tiles))  # the same on every rank (same seed)
                self.epoch_order = [int(i) for i in np.resize(permutation, self.samples_per_rank * self.world)]
                self.epoch_losses = []
            order, losses = self.epoch_order[self.rank :: self.world], self.epoch_losses
            size = self.config.batch_size
            for start in range(self.steps_done_in_epoch() * size, len(order), size):
                if self.cancelled and self.cancelled():
                    raise CancelledError(f"training cancelled in epoch {self.epoch + 1}; the last checkpoints are kept")
                batch = [(i, self.train_tiles[i]) for i in order[start : start + size]]
                try:
                    losses.append(self._train_step(batch))
                except torch.cuda.OutOfMemoryError:
                    raise OutOfMemoryError(
                        f"out of GPU memory with batch size {self.config.batch_size} and tiles of "
                        f"{self.config.tile_size} px: use a smaller --batch-size or --tile-size, or --trainable decoder"
                    ) from None
                self.step += 1
                if self.epoch == first_epoch:
                    steps_done = self.step - self.epoch * self.steps_per_epoch
                    self.budget.check_first_epoch(steps_done, self.steps_per_epoch, started, self.base_seconds)
                if self.rank == 0:
                    self._report(
                        self.step / self.total_steps,
                        epoch=self.epoch + 1,
                        step=self.step,
                        loss=losses[-1],
                        **throughput.at(self.step, validations_left=self.config.epochs - self.epoch),
                    )
                if self._stopping():
                    return self._stop(folder)
            self.epoch, self.epoch_order = self.epoch + 1, []
            validating = time.monotonic()
            scored = self.evaluate()
            throughput.validated(time.monotonic() - validating)
            assert scored is not None  # no stop given: always scored
            scores, confusion = scored
            row = {
                "epoch": self.epoch,
                "train_loss": float(np.mean(losses)),
                **scores,
                "lr": self.scheduler.get_last_lr()[0],
                "seconds": round(time.monotonic() - started, 2),
            }
            self.history.append(row)
            last_epoch_seconds = time.monotonic() - started
            logger.info(
                "epoch %d/%d: loss %.4f, validation %s",
                self.epoch,
                self.config.epochs,
                row["train_loss"],
                ", ".join(f"{k} {scores[k]:.4f}" for k in ("iou", "f1", "precision", "recall")),
            )
            folder.save_epoch(self, row, confusion)
            self._report(self.epoch / self.config.epochs, epoch=self.epoch, **scores)
        self.stopped_early = self.epoch < self.config.epochs and not self.budget.stopped
        if self.stopped_early:
            logger.info("early stop after epoch %d: %d epochs without a new best", self.epoch, self.config.patience)
        return folder.finish(self)

    def steps_done_in_epoch(self) -> int:
        """Steps of the current epoch already trained (a run resumed mid-epoch continues after them)."""
        return self.step - self.epoch * self.steps_per_epoch

    def _stopping(self) -> bool:
        return bool(self.stop_requested and self.stop_requested())

    def _stop(self, folder: RunRecorder) -> dict[str, Any]:
        """Save a resumable state and say where the run stopped: the epoch it was in, the base and best scores
        so far and, when an epoch beat the base, the best checkpoint so far (usable at once)."""
        folder.save_resume(self)
        logger.info("stopped in epoch %d at step %d; resumable state saved", self.epoch + 1, self.step)
        result: dict[str, Any] = {
            "stopped": True,
            "epoch": self.epoch + 1,
            "step": self.step,
            "resume": str(self.run_dir),
        }
        if self.history:
            best = self.best()
            result["base"] = {k: self.history[0][k] for k in ("iou", "f1")}
            result["best"] = {k: best[k] for k in ("epoch", "iou", "f1")}
            if best["epoch"] >= 1:
                result["best_checkpoint"] = str(self.run_dir / "best.pt")
        return result

    def _no_progress(self) -> bool:
        """Early stopping: ``patience`` epochs in a row have not beaten the best so far (the base included)."""
        if self.config.patience < 1:
            return False
        return self.epoch - int(self.best()["epoch"]) >= self.config.patience

    def best(self) -> dict[str, Any]:
        """The history row chosen as best so far: the base unless an epoch beat it by more than ``min_gain``."""
        return best_row(self.history, self.config.best_metric, self.config.min_gain)


def check_tiles(tiles: TileSet, mode: str) -> None:
    """Refuse, before any training, a tile set that cannot teach anything: labels that cover none or (nearly)
    all of the labelled training area."""
    train = tiles.split("train")
    foreground = sum(int(t.target.sum()) for t in train)
    labelled = sum(int(t.labelled.sum()) for t in train)
    if foreground == 0:
        raise InvalidInputError(
            f"no labelled object in the {len(train)} training tiles: {mode} training needs some; check that the "
            "labels overlap the raster (and the AOI), and the class field and classes chosen"
        )
    if foreground >= FULL_COVER * labelled:
        raise InvalidInputError(
            f"the labels cover {foreground / labelled:.0%} of the training area: there is no background to learn "
            "from; draw polygons around the objects only (or limit the area with an AOI that includes background)"
        )


def restore(trainer: Trainer, state_path: Path) -> None:
    """Load a resumable state (``resume.pt``) into a trainer built with the same config and tiles; a state that
    cannot be used (damaged, unsafe, of another run) is an InvalidCheckpointError that says what to do."""
    try:
        state = torch.load(state_path, map_location="cpu", weights_only=True)
        parameters = dict(trainer.model.named_parameters())
        with torch.no_grad():
            for name, tensor in state["trained"].items():
                parameters[name].copy_(tensor)
        if trainer.class_tokens is not None:
            with torch.no_grad():
                trainer.class_tokens.copy_(state["class_tokens"].to(trainer.class_tokens.device))
        trainer.optimizer.load_state_dict(state["optimizer"])
        trainer.scheduler.load_state_dict(state["scheduler"])
        trainer.epoch, trainer.step = int(state["epoch"]), int(state["step"])
        trainer.epoch_order = [int(i) for i in state.get("epoch_order", [])]
        trainer.epoch_losses = [float(x) for x in state.get("epoch_losses", [])]
        if trainer.epoch_order and len(trainer.epoch_order) != trainer.samples_per_rank * trainer.world:
            raise ValueError("its epoch's order does not fit the training tiles")
        if not 0 <= trainer.steps_done_in_epoch() <= trainer.steps_per_epoch:
            raise ValueError(f"its step {trainer.step} does not fit epoch {trainer.epoch + 1}")
        trainer.history = json.loads(state["history"])
        trainer.rng.bit_generator.state = json.loads(state["rng"])
        torch.set_rng_state(state["torch_rng"])
    except (pickle.UnpicklingError, RuntimeError, EOFError, KeyError, TypeError, ValueError, OSError) as error:
        reason = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
        raise InvalidCheckpointError(
            f"{state_path} cannot be resumed ({reason}): it is damaged, unsafe or from another run; start a new "
            "run (best.pt and last.pt of this one stay usable)"
        ) from None
