"""GPU throughput and peak memory of the encoder and of the training steps, tensors only (no GDAL needed, so
it runs on a bare accelerator machine with torch, sam2 and rasterio).

For each model size (seeded random init; the official weights change the numbers by nothing):
  encode   frozen encoder, inference precision (bf16 autocast), batch B: images/s
  decoder  our ``decoder`` step: features cached per tile, so a step is the decoder alone, batch B
  seed     the seed pipeline's step: one image, the frozen encoder re-run for every sample
  lora     ``lora`` step: encoder forward and backward through the adapters, batch B
Prints samples/s, peak GPU memory, and the decoder/seed ratio measured in this process.

    python -m bench.bench_gpu [--sizes t,l] [--image-size 1024] [--batch-size 8] [--steps 10]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import torch

from core.inference.decode import decode, no_prompt
from core.inference.embeddings import image_features
from core.models.random_init import RandomInitSpec, build_random_init
from core.training.loss import sam_loss
from core.training.trainable import configure_trainable

CONFIGS = {
    "t": "configs/sam2.1/sam2.1_hiera_t.yaml",
    "s": "configs/sam2.1/sam2.1_hiera_s.yaml",
    "b+": "configs/sam2.1/sam2.1_hiera_b+.yaml",
    "l": "configs/sam2.1/sam2.1_hiera_l.yaml",
}


def timed(step: Callable[[], None], steps: int) -> tuple[float, float]:
    """Seconds per step (after two warm-up steps) and peak GPU memory in GiB (0 without CUDA)."""
    cuda = torch.cuda.is_available()
    for _ in range(2):
        step()
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    if cuda:
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / steps, torch.cuda.max_memory_allocated() / 2**30 if cuda else 0.0


def bench_size(name: str, size: int, batch: int, steps: int, device: torch.device) -> None:
    images = torch.randn(batch, 3, size, size, device=device)
    target = (torch.rand(batch, size // 4, size // 4, device=device) > 0.7).float()
    weight = torch.ones_like(target)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda")

    model = build_random_init(RandomInitSpec(CONFIGS[name], size), device=device.type)
    model.eval()

    def encode() -> None:
        with torch.inference_mode(), autocast:
            image_features(model, images)

    encode_s, encode_mem = timed(encode, steps)

    # decoder mode: the trainer keeps each tile's features; a step runs the prompt encoder and decoder only.
    params = configure_trainable(model, "decoder")
    optimizer = torch.optim.AdamW(params, lr=1e-4)
    with torch.no_grad(), autocast:
        embed, high_res = image_features(model, images)
    embed, high_res = embed.float(), [level.float() for level in high_res]

    def train_step(embed: torch.Tensor, high_res: list[torch.Tensor], target: torch.Tensor) -> None:
        n = embed.shape[0]
        coords, labels = no_prompt(n, device)
        with autocast:
            logits, iou, score = decode(model, embed, high_res, coords, labels, multimask=False)
        loss = sam_loss(logits.float(), iou.float(), target, torch.ones_like(target), score.float())
        optimizer.zero_grad(set_to_none=True)
        loss.total.backward()
        optimizer.step()

    decoder_s, decoder_mem = timed(lambda: train_step(embed, high_res, target), steps)

    def seed_step() -> None:  # one image per step, encoder re-run (frozen), as the seed pipeline does
        for i in range(batch):
            with torch.no_grad(), autocast:
                e, h = image_features(model, images[i : i + 1])
            train_step(e.float(), [level.float() for level in h], target[i : i + 1])

    seed_s, _ = timed(seed_step, max(1, steps // 2))

    params = configure_trainable(model, "lora", lora_rank=4)
    optimizer = torch.optim.AdamW(params, lr=1e-4)
    model.train()

    def lora_step() -> None:
        coords, labels = no_prompt(batch, device)
        with autocast:
            e, h = image_features(model, images)
            logits, iou, score = decode(model, e, h, coords, labels, multimask=False)
        loss = sam_loss(logits.float(), iou.float(), target, weight, score.float())
        optimizer.zero_grad(set_to_none=True)
        loss.total.backward()
        optimizer.step()

    lora_s, lora_mem = timed(lora_step, steps)
    print(
        f"sam2.1_hiera_{name:2s} @{size} batch {batch}:  encode {batch / encode_s:7.1f} img/s ({encode_mem:5.1f} GiB)  "
        f"decoder {batch / decoder_s:8.1f} samples/s ({decoder_mem:5.1f} GiB)  seed-style {batch / seed_s:6.1f} "
        f"samples/s  ratio x{seed_s / decoder_s:5.1f}  lora {batch / lora_s:6.1f} samples/s ({lora_mem:5.1f} GiB)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="t,l")
    parser.add_argument("--image-size", type=int, default=1024)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--device", default="cuda", help="cuda (the point of it) or cpu (a smoke run)")
    args = parser.parse_args()
    device = torch.device(args.device)
    where = torch.cuda.get_device_name() if device.type == "cuda" else "CPU"
    print(f"{where}, torch {torch.__version__}, bf16 autocast on CUDA", flush=True)
    for name in args.sizes.split(","):
        bench_size(name, args.image_size, args.batch_size, args.steps, device)
        if device.type == "cuda":
            torch.cuda.empty_cache()  # the size's model and optimizer are gone with bench_size's frame


if __name__ == "__main__":
    main()
