"""One decoder call for training, validation and whole-tile prediction, so they cannot drift apart.

Multimask output returns SAM's three candidate masks (tokens 1-3); single output returns token 0 (no
stability-based switching, which training never sees).
"""

from __future__ import annotations

import torch
from sam2.modeling.sam2_base import SAM2Base


def decode(
    model: SAM2Base,
    image_embed: torch.Tensor,
    high_res: list[torch.Tensor],
    coords: torch.Tensor,
    labels: torch.Tensor,
    multimask: bool,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Logits (B, M, 4h, 4w), predicted IoU (B, M) and object-score logits (B, 1).

    ``image_embed`` (B, C, h, w); ``high_res`` [(B, C0, 4h, 4w), (B, C1, 2h, 2w)]; ``coords`` (B, n, 2) model
    pixels; ``labels`` (B, n) with -1 for padding (a single padding point means no prompt at all).
    """
    sparse, dense = model.sam_prompt_encoder(points=(coords, labels), boxes=None, masks=None)
    masks, iou, _, object_score = model.sam_mask_decoder.predict_masks(
        image_embeddings=image_embed,
        image_pe=model.sam_prompt_encoder.get_dense_pe(),
        sparse_prompt_embeddings=sparse,
        dense_prompt_embeddings=dense,
        repeat_image=False,
        high_res_features=high_res,
    )
    chosen = slice(1, None) if multimask else slice(0, 1)
    return masks[:, chosen], iou[:, chosen], object_score


def decode_prompted(
    model: SAM2Base, image_embed: torch.Tensor, high_res: list[torch.Tensor], boxes: torch.Tensor, masks: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One mask per prompt on one image: logits (N, 4h, 4w), predicted IoU (N,) and object-score logits (N,).

    ``image_embed`` (1, C, h, w) and ``high_res`` as in ``decode``; ``boxes`` (N, 4) model pixels (x0, y0, x1, y1);
    ``masks`` (N, 1, 4h, 4w) mask-prompt logits (SAM's low-resolution mask input, e.g. last year's outline).
    One mask per prompt as SAM2ImagePredictor gives it: token 0, or the best of the three when the model's
    stability check finds token 0 unstable.
    """
    count = boxes.shape[0]
    corners = boxes.reshape(count, 2, 2)
    labels = torch.tensor([[2, 3]], dtype=torch.int32, device=boxes.device).expand(count, 2)
    sparse, dense = model.sam_prompt_encoder(points=(corners, labels), boxes=None, masks=masks)
    logits, iou, _, object_score = model.sam_mask_decoder(
        image_embeddings=image_embed,
        image_pe=model.sam_prompt_encoder.get_dense_pe(),
        sparse_prompt_embeddings=sparse,
        dense_prompt_embeddings=dense,
        multimask_output=False,
        repeat_image=True,
        high_res_features=high_res,
    )
    return logits[:, 0], iou[:, 0], object_score[:, 0]


def no_prompt(batch: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """The promptless input of ``auto`` mode: one padding point per image, as SAM 2 does without prompts."""
    return torch.zeros(batch, 1, 2, device=device), -torch.ones(batch, 1, dtype=torch.int32, device=device)


def decode_classes(
    model: SAM2Base, tokens: torch.Tensor, image_embed: torch.Tensor, high_res: list[torch.Tensor]
) -> torch.Tensor:
    """Logits (B, K, 4h, 4w): one promptless mask per class, class k's learned token ``tokens[k]`` (K, C) put in
    place of the first of the two "no point" tokens SAM 2 is given without prompts. A token equal to SAM's own
    "no point" embedding gives exactly the promptless mask, which is where multi-class training starts."""
    batch, count = image_embed.shape[0], tokens.shape[0]
    coords, labels = no_prompt(batch * count, image_embed.device)
    sparse, dense = model.sam_prompt_encoder(points=(coords, labels), boxes=None, masks=None)
    sparse = torch.cat([tokens.to(sparse.dtype).repeat(batch, 1)[:, None], sparse[:, 1:]], dim=1)
    masks, _, _, _ = model.sam_mask_decoder.predict_masks(
        image_embeddings=image_embed.repeat_interleave(count, dim=0),
        image_pe=model.sam_prompt_encoder.get_dense_pe(),
        sparse_prompt_embeddings=sparse,
        dense_prompt_embeddings=dense,
        repeat_image=False,
        high_res_features=[level.repeat_interleave(count, dim=0) for level in high_res],
    )
    return masks[:, 0].reshape(batch, count, *masks.shape[-2:])


def class_probabilities(logits: torch.Tensor) -> torch.Tensor:
    """Probabilities (B, K + 1, H, W) of background (channel 0, its logit fixed at 0) and each class, from the
    class logits (B, K, H, W): a softmax, so that the classes compete for each pixel."""
    background = torch.zeros_like(logits[:, :1])
    return torch.softmax(torch.cat([background, logits], dim=1), dim=1)
