"""GPU checks of the tiny model fixture (``make test-gpu`` on a machine with CUDA)."""

from __future__ import annotations

import pytest
import torch
from sam2.build_sam import build_sam2

from core.models.random_init import image_size_override

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]


def test_tiny_checkpoint_encodes_on_cuda_like_on_cpu(tiny_checkpoint) -> None:
    spec = tiny_checkpoint.spec
    image = torch.rand(2, 3, spec.image_size, spec.image_size, generator=torch.Generator().manual_seed(0))
    outputs = {}
    for device in ("cpu", "cuda"):
        model = build_sam2(
            spec.config,
            ckpt_path=str(tiny_checkpoint.path),
            device=device,
            hydra_overrides_extra=image_size_override(spec.image_size),
        )
        with torch.no_grad():
            outputs[device] = model.forward_image(image.to(device))["vision_features"].float().cpu()
    torch.testing.assert_close(outputs["cuda"], outputs["cpu"], rtol=1e-2, atol=1e-2)  # TF32 convolutions on Ampere+

    with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16):
        bf16 = model.forward_image(image.cuda())["vision_features"].float().cpu()
    cosine = torch.nn.functional.cosine_similarity(bf16.flatten(), outputs["cpu"].flatten(), dim=0)
    assert cosine > 0.99
