"""FastMaskDecoder gives what sam2's MaskDecoder.forward gives, on random prompts and both output modes."""

from __future__ import annotations

import pytest
import torch

from core.inference.fast_decoder import FastMaskDecoder
from core.models.loader import load_model

pytestmark = pytest.mark.quick  # make test-fast


@pytest.fixture(scope="module")
def model(tiny_checkpoint):
    return load_model(tiny_checkpoint.path, device="cpu").model


@pytest.mark.parametrize("multimask", [True, False])
@pytest.mark.parametrize("points", [1, 3])
@pytest.mark.parametrize("with_box", [False, True])
def test_same_outputs_as_mask_decoder(model, sam_decoder_reference, multimask, points, with_box) -> None:
    generator = torch.Generator().manual_seed(points * 10 + with_box)
    size = model.image_size
    embed = torch.randn(256, size // 16, size // 16, generator=generator)
    high_res = (
        torch.randn(32, size // 4, size // 4, generator=generator),
        torch.randn(64, size // 8, size // 8, generator=generator),
    )
    coords = torch.rand(1, points, 2, generator=generator) * size
    labels = torch.randint(0, 2, (1, points), generator=generator, dtype=torch.int32)
    if with_box:
        corners = torch.tensor([[[20.0, 30.0], [180.0, 200.0]]])
        coords = torch.cat([corners, coords], dim=1)
        labels = torch.cat([torch.tensor([[2, 3]], dtype=torch.int32), labels], dim=1)

    expected_masks, expected_iou = sam_decoder_reference(model, embed, high_res, coords, labels, multimask)
    fast = FastMaskDecoder(model)
    tile = fast.prepare("tile", embed, high_res)
    masks, iou = fast.decode(tile, coords, labels, multimask)
    assert masks.shape == expected_masks.shape
    torch.testing.assert_close(masks, expected_masks, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(iou, expected_iou, atol=1e-5, rtol=1e-5)
    assert fast.prepare("tile", embed, high_res) is tile  # the tile's precompute is reused


@pytest.mark.parametrize("stages_before_stop", [0, 1, 2, 3, 4])
def test_a_decode_no_longer_wanted_stops_between_its_stages(model, stages_before_stop) -> None:
    """A hover the mouse has left is stopped at the decoder's next stage (CancelledError); asked and never
    stopped, the decode gives exactly what it gives unasked."""
    from core.errors import CancelledError

    generator = torch.Generator().manual_seed(7)
    size = model.image_size
    embed = torch.randn(256, size // 16, size // 16, generator=generator)
    high_res = (
        torch.randn(32, size // 4, size // 4, generator=generator),
        torch.randn(64, size // 8, size // 8, generator=generator),
    )
    coords, labels = torch.tensor([[[60.0, 80.0]]]), torch.tensor([[1]], dtype=torch.int32)
    fast = FastMaskDecoder(model)
    tile = fast.prepare("tile", embed, high_res)
    asked = []

    def cancelled() -> bool:
        asked.append(True)
        return len(asked) > stages_before_stop

    with pytest.raises(CancelledError):
        fast.decode(tile, coords, labels, True, cancelled)
    assert len(asked) == stages_before_stop + 1
    plain = fast.decode(tile, coords, labels, True)
    watched = fast.decode(tile, coords, labels, True, lambda: False)
    assert all(torch.equal(a, b) for a, b in zip(plain, watched, strict=True))
