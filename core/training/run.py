"""A training run from paths: tiles, trainer, SIGTERM handling, resume, progress events.

``run.json`` in the run folder records the inputs and the configuration at the start, so that
``--resume RUN_DIR`` rebuilds the same run and continues from ``resume.pt``.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import InvalidInputError, MissingInputError
from core.io.atomic import atomic_output, remove_stale_temporaries
from core.training.config import TrainConfig
from core.training.label_history import LabelRecord, count_labels
from core.training.run_folder import RunFolder
from core.training.run_lock import check_run_folder, clear_earlier_run, run_lock
from core.training.tiles import build_tiles
from core.training.trainer import Trainer, check_tiles, restore


@dataclass(frozen=True)
class RunInputs:
    raster: Path
    labels: Path
    checkpoint: Path
    aoi: Path | None = None
    labels_name: str | None = None  # the label layer as the analyst knows it (what labels bought; default: the file)

    def to_dict(self) -> dict[str, str | None]:
        return {k: str(v) if v is not None else None for k, v in self.__dict__.items()}

    @classmethod
    def from_dict(cls, saved: dict[str, str | None]) -> RunInputs:
        """The inputs run.json recorded (``to_dict``)."""
        paths = {k: Path(v) if v else None for k, v in saved.items() if k != "labels_name"}
        return cls(**paths, labels_name=saved.get("labels_name"))  # type: ignore[arg-type]

    def flags(self) -> dict[str, Path | None]:
        return {"--raster": self.raster, "--labels": self.labels, "--checkpoint": self.checkpoint, "--aoi": self.aoi}


def _writes_run_folder() -> bool:
    """Only rank 0 of a distributed run (or a lone process) writes and locks the run folder."""
    return int(os.environ.get("RANK", "0")) == 0


def start(
    inputs: RunInputs,
    config: TrainConfig,
    run_dir: Path,
    progress: Callable[..., None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    overwrite: bool = False,
    stop_requested: Callable[[], bool] | None = None,
) -> dict[str, Any]:
    """Train from scratch into ``run_dir`` (which records run.json first). A folder holding another run is
    refused unless ``overwrite``; an input inside the folder under a name the run writes is always refused.

    ``cancelled()`` ends the run at the next step keeping the last epoch's checkpoints (CancelledError);
    ``stop_requested()`` (like SIGTERM) ends it after the step, saving a resumable state first."""
    config = config.with_cover_for(inputs.aoi, inputs.labels)  # recorded decided, so a resume learns the same
    if not _writes_run_folder():
        return _train(inputs, config, run_dir, progress, cancelled, stop_requested, resume=False)
    check_run_folder(run_dir, inputs.flags(), resume=False, overwrite=overwrite)  # before touching anything
    with run_lock(run_dir):
        if overwrite:
            clear_earlier_run(run_dir)
        else:  # again under the lock: another run may have written the folder meanwhile
            check_run_folder(run_dir, inputs.flags(), resume=False, overwrite=False)
        remove_stale_temporaries(run_dir)
        with atomic_output(run_dir / "run.json") as tmp:
            tmp.write_text(json.dumps({"inputs": inputs.to_dict(), "config": config.to_dict()}, indent=2))
        return _train(inputs, config, run_dir, progress, cancelled, stop_requested, resume=False)


def resume(
    run_dir: Path,
    progress: Callable[..., None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    stop_requested: Callable[[], bool] | None = None,
) -> dict[str, Any]:
    """Continue the run in ``run_dir`` from its last resumable state."""
    record = run_dir / "run.json"
    if not record.exists() or not (run_dir / "resume.pt").exists():
        raise MissingInputError(f"{run_dir} holds no resumable run (run.json and resume.pt): start a new one")
    try:
        saved = json.loads(record.read_text(encoding="utf-8"))
        inputs = RunInputs.from_dict(saved["inputs"])
        config = TrainConfig.from_dict(saved["config"])
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise InvalidInputError(
            f"{record} is damaged ({type(error).__name__}: {str(error)[:200]}): this run cannot be resumed; start "
            "a new one (its best.pt and last.pt stay usable)"
        ) from None
    for name, path in (("raster", inputs.raster), ("labels", inputs.labels), ("base checkpoint", inputs.checkpoint)):
        if path is not None and not path.exists():
            raise MissingInputError(f"the run's {name} {path} is gone: put it back to resume {run_dir}")
    if not _writes_run_folder():
        return _train(inputs, config, run_dir, progress, cancelled, stop_requested, resume=True)
    check_run_folder(run_dir, inputs.flags(), resume=True, overwrite=False)
    with run_lock(run_dir):
        remove_stale_temporaries(run_dir)
        return _train(inputs, config, run_dir, progress, cancelled, stop_requested, resume=True)


def init_distributed(device: str) -> bool:
    """Join the process group torchrun describes (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT in the
    environment): NCCL on CUDA, gloo otherwise. False when not started by torchrun."""
    import torch

    if int(os.environ.get("WORLD_SIZE", "1")) <= 1 or torch.distributed.is_initialized():
        return False
    use_cuda = device in ("auto", "cuda") and torch.cuda.is_available()
    if use_cuda:
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    torch.distributed.init_process_group("nccl" if use_cuda else "gloo")
    return True


def _train(
    inputs: RunInputs,
    config: TrainConfig,
    run_dir: Path,
    progress: Callable[..., None] | None,
    cancelled: Callable[[], bool] | None,
    stop_requested: Callable[[], bool] | None,
    resume: bool,
) -> dict[str, Any]:
    import torch

    if init_distributed(config.device):
        try:
            return _train(inputs, config, run_dir, progress, cancelled, stop_requested, resume)
        finally:
            torch.distributed.destroy_process_group()
    tiles = build_tiles(inputs.raster, inputs.labels, config, inputs.aoi)
    check_tiles(tiles, config.mode)
    if progress is not None:  # what the run will learn from, before it starts
        progress(
            0.0, stage="tiles", tiles=tiles.summary(), labels={"cover": config.labels_cover, **tiles.label_pixels()}
        )
    stop = threading.Event()
    trainer = Trainer(
        config,
        tiles,
        inputs.checkpoint,
        run_dir,
        progress,
        cancelled,
        lambda: stop.is_set() or bool(stop_requested and stop_requested()),
    )
    if resume:
        restore(trainer, run_dir / "resume.pt")
    previous = None
    if threading.current_thread() is threading.main_thread():  # SIGTERM, Ctrl-C: finish the step, save, exit 0
        previous = {number: signal.signal(number, _stopper(stop)) for number in (signal.SIGTERM, signal.SIGINT)}
    try:
        return trainer.run(RunFolder(run_dir, writes=trainer.rank == 0, learned_from=_learned_from(inputs, config)))
    finally:
        for number, handler in (previous or {}).items():
            signal.signal(number, handler)


def _learned_from(inputs: RunInputs, config: TrainConfig) -> tuple[LabelRecord, str]:
    """The labels (name, objects, background) and the raster a run learns from, for what labels bought."""
    import rasterio

    with rasterio.open(inputs.raster) as src:
        crs = src.crs
    record = count_labels(inputs.labels, crs, config.class_field, config.classes, inputs.labels_name)
    return record, str(Path(inputs.raster).resolve())


def _stopper(stop: threading.Event) -> Callable[[int, Any], None]:
    """A signal handler: the first signal asks the run to stop after its step (and save); a second Ctrl-C
    interrupts at once."""

    def handle(number: int, frame: Any) -> None:
        if stop.is_set() and number == signal.SIGINT:
            raise KeyboardInterrupt
        stop.set()
        logging.getLogger(__name__).info("stopping after this step: the run saves a resumable state")

    return handle
