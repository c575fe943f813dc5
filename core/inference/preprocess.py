"""The one conversion from RGB uint8 tiles to SAM 2's input tensor, shared by inference and training.

Equal to sam2's ``SAM2Transforms`` (ToTensor, then ImageNet mean/std) for tiles already at the model's
input size; tiles are read at that size, so nothing is resampled.
"""

from __future__ import annotations

import numpy as np
import torch

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def to_model_input(tiles: np.ndarray, device: torch.device | str = "cpu") -> torch.Tensor:
    """RGB uint8 (n, rows, cols, 3) or (rows, cols, 3) -> float32 (n, 3, rows, cols), normalised, on ``device``
    (the uint8 tiles cross to the device, a quarter of the floats' bytes, and are converted there)."""
    batch = tiles[None] if tiles.ndim == 3 else tiles
    tensor = torch.from_numpy(np.ascontiguousarray(batch)).to(device).permute(0, 3, 1, 2).float().div_(255.0)
    mean = torch.tensor(MEAN, device=tensor.device).view(1, 3, 1, 1)
    std = torch.tensor(STD, device=tensor.device).view(1, 3, 1, 1)
    return (tensor - mean) / std
