"""Where models run and in which precision: CUDA > MPS > CPU; bf16 autocast on CUDA, fp32 elsewhere."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

from core.errors import InvalidConfigError

#: What ``--device`` (and the plugin's settings) offer: auto picks the first available of the others.
DEVICES = ("auto", "cuda", "mps", "cpu")


def choose_device(preference: str = "auto") -> torch.device:
    """``auto`` picks cuda, then mps, then cpu; ``cuda``/``mps``/``cpu`` force one (an error if missing)."""
    available = {
        "cuda": torch.cuda.is_available(),
        "mps": bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available(),
        "cpu": True,
    }
    if preference == "auto":
        return torch.device(next(name for name in ("cuda", "mps", "cpu") if available[name]))
    kind = preference.split(":")[0]
    if kind not in available:
        raise InvalidConfigError(f"unknown device {preference!r}: use auto, cuda, mps or cpu")
    if not available[kind]:
        raise InvalidConfigError(f"device {preference!r} is not available here: use --device auto or cpu")
    return torch.device(preference)


@contextlib.contextmanager
def inference_precision(device: torch.device) -> Iterator[None]:
    """Autocast to bf16 on CUDA (fp16 where bf16 is unsupported); full fp32 on CPU and MPS."""
    if device.type == "cuda":
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        with torch.autocast("cuda", dtype=dtype):
            yield
    else:
        yield
