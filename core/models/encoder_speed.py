"""Faster image encoding for inference: an exact shortcut always, an approximate int8 path on request.

- ``exact`` (default): the encoder as Meta wrote it, except for three layouts and recomputations it repeats
  at every call: Hiera's position embedding (a bicubic interpolation and a tiling of two parameters) is
  remembered per input size until those parameters change (training updates them in place, which bumps
  their version); the neck's sine encodings (fixed) are shared across the batch instead of copied per image;
  and the patch embedding's tokens are laid out row-major once, where sam2 leaves a permuted view that every
  LayerNorm and linear layer then copied. The embeddings equal the model's own to float rounding (<= 1e-6
  here); against Meta's ``set_image`` in its own process, hiera-tiny at 1024 on 2 CPU cores: 1.16x under
  glibc's defaults, 1.33x in the engine's processes, which also reuse freed buffers (core/models/allocator.py;
  ``bench/bench_encode.py``).
- ``int8`` (CPU only): the trunk's linear layers (about half of the encoder's time on a CPU) run with int8
  weights and dynamically quantised activations (PyTorch's dynamic quantisation; no new dependency).
  Approximate: 2.20x and 2.69x ``set_image`` on the same terms; click masks' mean IoU to exact per size in
  ``core.models.registry.INT8_CHECKS`` (``bench/bench_int8.py``), which warns where it is outside the
  tolerance. Never for training, whose gradients need the float layers.

Measured alternatives that did not pay on a 2-core AVX2 CPU for hiera-tiny at 1024 (bench/RESULTS.md, notes
from one-off scripts):
torch.compile (no gain after a 107 s compile), ONNX Runtime fp32 (1.05x) and int8 (1.3x, embedding cosine
0.974), OpenVINO fp32 (1.1x) and NNCF's static int8 (slower than torch fp32 on AVX2, cosine 0.96-0.99).
"""

from __future__ import annotations

import types
import warnings
from typing import Any

import torch
from torch.nn import functional

from core.errors import InvalidConfigError
from core.models.registry import ENCODER_PATHS


def encoder_path_for(path: str, device: torch.device) -> str:
    """The path that runs: ``int8`` only on a CPU (a GPU's bf16 is faster and exact enough), else ``exact``."""
    if path not in ENCODER_PATHS:
        raise InvalidConfigError(f"encoder {path!r}: choose one of {', '.join(ENCODER_PATHS)}")
    return path if device.type == "cpu" else "exact"


def speed_up_encoder(model: Any, path: str = "exact", device: torch.device | None = None) -> None:
    """Apply ``path`` (``encoder_path_for``'s answer) to ``model``'s image encoder in place (``model``: a SAM2Base
    on ``device``)."""
    if path not in ENCODER_PATHS:
        raise InvalidConfigError(f"encoder {path!r}: choose one of {', '.join(ENCODER_PATHS)}")
    trunk = model.image_encoder.trunk
    if hasattr(trunk, "_get_pos_embed") and not hasattr(trunk, "_pos_embed_memo"):
        trunk._pos_embed_memo = {}
        trunk._get_pos_embed = types.MethodType(_remembered_pos_embed, trunk)
    patch_embed = getattr(trunk, "patch_embed", None)
    if patch_embed is not None and not hasattr(patch_embed, "_plain_forward"):
        patch_embed._plain_forward = patch_embed.forward
        patch_embed.forward = types.MethodType(_tokens_in_rows, patch_embed)
    positions = getattr(model.image_encoder.neck, "position_encoding", None)
    if positions is not None and not hasattr(positions, "_shared_memo"):
        positions._shared_memo = {}
        positions._plain_forward = positions.forward
        positions.forward = types.MethodType(_shared_positions, positions)
    if path == "int8" and (device is None or device.type == "cpu"):
        with warnings.catch_warnings():  # torch points eager quantisation users to torchao, not needed here
            warnings.simplefilter("ignore")
            model.image_encoder.trunk = torch.ao.quantization.quantize_dynamic(
                trunk, {torch.nn.Linear}, dtype=torch.qint8
            )


def _remembered_pos_embed(trunk: Any, hw: tuple[int, int]) -> torch.Tensor:
    """Hiera's ``_get_pos_embed`` (the same tensor), remembered until its parameters change or gradients flow."""
    pos, window = trunk.pos_embed, trunk.pos_embed_window
    if torch.is_grad_enabled() and (pos.requires_grad or window.requires_grad):
        return _pos_embed(pos, window, hw)  # training: let gradients reach the parameters
    key = (tuple(hw), pos._version, window._version, pos.device, pos.dtype, id(pos), id(window))
    memo = trunk._pos_embed_memo
    if key not in memo:
        memo.clear()
        with torch.inference_mode(False), torch.no_grad():  # a plain tensor, usable in and out of inference mode
            memo[key] = _pos_embed(pos, window, hw).contiguous()
    return memo[key]


def _tokens_in_rows(module: Any, x: torch.Tensor) -> torch.Tensor:
    """The patch embedding (B, H, W, C) laid out row-major: sam2 returns a permuted view of the convolution's
    (B, C, H, W), and every later LayerNorm and linear layer over C then copied it."""
    return module._plain_forward(x).contiguous()


def _shared_positions(module: Any, x: torch.Tensor) -> torch.Tensor:
    """The neck's sine position encoding (B, C, H, W) for features ``x`` (B, C', H, W) as one shared tensor
    expanded over the batch: sam2 copies it per image at every call, and image prediction never reads it."""
    key = (x.shape[-2], x.shape[-1], x.device)
    memo = module._shared_memo
    if key not in memo:
        with torch.inference_mode(False), torch.no_grad():
            memo[key] = module._plain_forward(x[:1]).clone()
    return memo[key].expand(x.shape[0], -1, -1, -1)


def _pos_embed(pos: torch.Tensor, window: torch.Tensor, hw: tuple[int, int]) -> torch.Tensor:
    """Hiera's position embedding for a (h, w) token grid, (1, h, w, C): as sam2's hieradet computes it."""
    embed = functional.interpolate(pos, size=hw, mode="bicubic")
    embed = embed + window.tile([x // y for x, y in zip(embed.shape, window.shape, strict=True)])
    return embed.permute(0, 2, 3, 1)
