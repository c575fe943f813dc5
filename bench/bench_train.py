"""Training throughput: our ``decoder`` training (frozen encoder, embeddings cached per tile and variant)
vs a seed-style loop (one image per step, the frozen encoder re-run every step), same model, same tiles.

Prints samples/s from the second epoch on for both and the ratio (goal: >= 10x), and the samples/s that the
trainer's own progress events (what the panel shows) reported in epoch 2 of a real two-epoch run.

    .venv/bin/python -m bench.bench_train [--tile-size 256] [--batch-size 8] [--device cpu]
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import torch

from core.devtools.synthetic import SyntheticSceneConfig, write_synthetic_scene
from core.inference.decode import decode, no_prompt
from core.models.random_init import RandomInitSpec, save_random_init
from core.training.config import TrainConfig
from core.training.loss import sam_loss
from core.training.run_folder import RunFolder
from core.training.tiles import build_tiles
from core.training.trainer import Trainer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tile-size", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        scene = write_synthetic_scene(SyntheticSceneConfig(width=1024, height=1024, seed=5), Path(tmp) / "scene")
        checkpoint = save_random_init(RandomInitSpec(image_size=args.tile_size), Path(tmp) / "tiny.pt").path
        config = TrainConfig(
            mode="auto",
            tile_size=args.tile_size,
            batch_size=args.batch_size,
            epochs=3,
            classes=(1,),
            class_field="class_id",
            augment_variants=1,
            device=args.device,
        )
        tiles = build_tiles(scene.image, scene.labels, config)
        # What the panel shows: the trainer's own events, from a real run (tiles from the GeoTIFF and labels).
        events: list[dict] = []
        reporting = Trainer(
            config.replace(epochs=2), tiles, checkpoint, Path(tmp) / "events", progress=lambda f, **e: events.append(e)
        )
        reporting.run(RunFolder(Path(tmp) / "events"))
        reported = [e["samples_per_second"] for e in events if e.get("epoch") == 2 and "samples_per_second" in e]
        trainer = Trainer(config, tiles, checkpoint, Path(tmp) / "run")
        samples = len(trainer.train_tiles)

        trainer.model.train()
        for _ in range(2):  # epoch 1 fills the embedding cache; epoch 2 is what every later epoch costs
            start = time.perf_counter()
            for first in range(0, samples, args.batch_size):
                trainer._train_step(
                    [(i, trainer.train_tiles[i]) for i in range(first, min(first + args.batch_size, samples))]
                )
            ours = samples / (time.perf_counter() - start)

        # Seed-style: one image per step; the (frozen) encoder runs again for every sample of every epoch.
        model, device = trainer.model, trainer.device
        start = time.perf_counter()
        for tile in trainer.train_tiles:
            with torch.no_grad():
                embed, high_res = trainer._encode([tile.rgb], grad=False)
            coords, labels = no_prompt(1, device)
            logits, iou, score = decode(model, embed, high_res, coords, labels, multimask=False)
            loss = sam_loss(
                trainer._logits_at_tile_size(logits),
                iou,
                torch.as_tensor(tile.target[None], device=device),
                torch.as_tensor(tile.labelled[None], device=device),
                score,
            )
            trainer.optimizer.zero_grad()
            loss.total.backward()
            trainer.optimizer.step()
        seed_style = samples / (time.perf_counter() - start)
        machine = torch.cuda.get_device_name() if device.type == "cuda" else platform.machine()
        print(
            f"machine: {machine}, torch {torch.__version__}, {torch.get_num_threads()} threads; sam2.1_hiera_t "
            f"random-init @{args.tile_size}; {samples} training tiles; batch {args.batch_size}"
        )
        print(
            f"train  ours {ours:7.2f} samples/s (epoch 2)   seed-style {seed_style:7.2f} samples/s   "
            f"ratio x{ours / seed_style:.1f}"
        )
        print(f"the trainer's events in epoch 2 of a real run: {reported[-1]:7.2f} samples/s at its last step")


if __name__ == "__main__":
    main()
