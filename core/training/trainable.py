"""What trains: the decoder only, low-rank adapters in the image encoder's attention, or everything.

The modules a single image passes through are the image encoder, the prompt encoder and the mask decoder;
the video-memory modules of SAM 2 never see a gradient here and stay frozen in every mode.
"""

from __future__ import annotations

import math

import torch
from sam2.modeling.sam2_base import SAM2Base
from torch import nn

from core.training.config import Trainable


class LoRALinear(nn.Module):
    """``base(x) + scale * x A^T B^T`` with A (r, in) and B (out, r); B starts at zero so training starts
    from the base model exactly."""

    def __init__(self, base: nn.Linear, rank: int, alpha: float | None = None) -> None:
        super().__init__()
        self.base = base
        self.rank = rank
        self.scale = (alpha or rank) / rank
        self.lora_a = nn.Parameter(torch.empty(rank, base.in_features, device=base.weight.device))
        self.lora_b = nn.Parameter(torch.zeros(base.out_features, rank, device=base.weight.device))
        nn.init.kaiming_uniform_(self.lora_a, a=math.sqrt(5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + (x @ self.lora_a.T @ self.lora_b.T) * self.scale

    def merged(self) -> nn.Linear:
        """The base layer with the adapter folded into its weight (for a plain, strict-loading checkpoint)."""
        with torch.no_grad():
            self.base.weight += (self.lora_b @ self.lora_a) * self.scale
        return self.base


def add_lora(model: SAM2Base, rank: int) -> list[str]:
    """Wrap every attention ``qkv`` and ``proj`` of the image encoder's trunk; return the wrapped names."""
    wrapped = []
    for name, module in list(model.image_encoder.trunk.named_modules()):
        for child in ("qkv", "proj"):
            layer = getattr(module, child, None)
            if isinstance(layer, nn.Linear) and name.endswith("attn"):
                setattr(module, child, LoRALinear(layer, rank))
                wrapped.append(f"image_encoder.trunk.{name}.{child}")
    return wrapped


def merge_lora(model: SAM2Base) -> None:
    """Replace every LoRALinear by its merged base layer (state dict keys become the plain ones again)."""
    for module in list(model.modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, LoRALinear):
                setattr(module, child_name, child.merged())


def configure_trainable(model: SAM2Base, trainable: Trainable, lora_rank: int = 4) -> list[nn.Parameter]:
    """Freeze the model, then unfreeze what ``trainable`` names; return the trainable parameters."""
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    heads = [model.sam_mask_decoder, model.sam_prompt_encoder]
    if trainable == "lora":
        add_lora(model, lora_rank)
        heads += [m for m in model.modules() if isinstance(m, LoRALinear)]
    elif trainable == "full":
        heads.append(model.image_encoder)
    for module in heads:
        for name, parameter in module.named_parameters():
            if trainable == "lora" and isinstance(module, LoRALinear) and not name.startswith("lora_"):
                continue
            parameter.requires_grad_(True)
    return [p for p in model.parameters() if p.requires_grad]


def trained_state(model: SAM2Base) -> dict[str, torch.Tensor]:
    """The tensors training changed: every parameter with a gradient (adapters before merging)."""
    return {name: p.detach().cpu().clone() for name, p in model.named_parameters() if p.requires_grad}
