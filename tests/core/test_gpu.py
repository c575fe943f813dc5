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


def test_fast_decoder_on_cuda_matches_sam2s_decoder(tiny_checkpoint, sam_decoder_reference) -> None:
    from core.inference.fast_decoder import FastMaskDecoder
    from core.models.loader import load_model

    model = load_model(tiny_checkpoint.path, device="cuda").model
    generator = torch.Generator().manual_seed(3)
    size = model.image_size
    embed = torch.randn(256, size // 16, size // 16, generator=generator).cuda()
    high_res = tuple(torch.randn(c, size // s, size // s, generator=generator).cuda() for c, s in ((32, 4), (64, 8)))
    coords = (torch.rand(1, 2, 2, generator=generator) * size).cuda()
    labels = torch.tensor([[1, 0]], dtype=torch.int32).cuda()
    expected, expected_iou = sam_decoder_reference(model, embed, high_res, coords, labels, True)
    with torch.inference_mode():
        fast = FastMaskDecoder(model)
        masks, iou = fast.decode(fast.prepare("tile", embed, high_res), coords, labels, True)
    torch.testing.assert_close(masks, expected, atol=2e-3, rtol=2e-3)  # TF32 matrix products on CUDA
    torch.testing.assert_close(iou, expected_iou, atol=2e-3, rtol=2e-3)


def test_a_bf16_decoder_training_step_on_cuda_learns(tiny_checkpoint) -> None:
    from core.inference.decode import decode, no_prompt
    from core.inference.embeddings import image_features
    from core.models.loader import load_model
    from core.training.loss import sam_loss
    from core.training.trainable import configure_trainable

    model = load_model(tiny_checkpoint.path, device="cuda").model
    size = model.image_size
    torch.manual_seed(0)
    images = torch.randn(4, 3, size, size, device="cuda")
    target = torch.zeros(4, size // 4, size // 4, device="cuda")
    target[:, : size // 8] = 1  # the top half is "object"
    with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16):
        embed, high_res = image_features(model, images)
    embed, high_res = embed.float(), [level.float() for level in high_res]
    optimizer = torch.optim.AdamW(configure_trainable(model, "decoder"), lr=1e-3)
    losses = []
    for _ in range(30):
        coords, labels = no_prompt(4, torch.device("cuda"))
        with torch.autocast("cuda", dtype=torch.bfloat16):
            logits, iou, score = decode(model, embed, high_res, coords, labels, multimask=False)
        loss = sam_loss(logits.float(), iou.float(), target, torch.ones_like(target), score.float())
        optimizer.zero_grad()
        loss.total.backward()
        optimizer.step()
        losses.append(loss.total.item())
    assert all(torch.isfinite(torch.tensor(losses)))
    assert losses[-1] < 0.7 * losses[0]  # 3.07 -> 1.70 on an H200
