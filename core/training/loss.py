"""Training losses. Pixels with weight 0 (unlabelled, nodata) count nowhere.

``sam_loss`` (click mode): SAM 2's loss: a pixel term + dice on the mask, L1 on the predicted IoU, BCE on the
object score. With several candidate masks (multimask output), only the one with the lowest mask loss is
back-propagated for the mask terms, as in SAM; the IoU head learns every candidate's true IoU. The pixel term
is SAM's 20 x focal (``pixel_loss="sam"``) or, by default, a class-balanced BCE: on orthophotos a clicked
object is often a few % of the tile, and focal (alpha 0.25 down-weights the foreground) then collapses an
untrained decoder to empty masks.

``promptless_loss`` (auto mode): one mask per tile of every object of the class, where objects are often a
few % of the pixels and many tiles hold none. SAM's per-mask focal (alpha 0.25 down-weights the rare
foreground) and per-tile dice (an empty tile rewards "nothing") then pull the decoder towards empty masks.
Instead: dice over the whole batch's pixels (empty tiles count only through their false positives) plus a
class-balanced BCE over the batch (foreground and background weigh the same in total).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.nn import functional

FOCAL_WEIGHT = 20.0
MAX_POSITIVE_WEIGHT = 50.0  # balanced BCE: cap on how much more a foreground pixel weighs than a background one


def focal_loss(
    logits: torch.Tensor, target: torch.Tensor, weight: torch.Tensor, alpha: float = 0.25, gamma: float = 2.0
) -> torch.Tensor:
    """Mean sigmoid focal loss over weighted pixels, per mask: logits/target/weight (..., H, W) -> (...)."""
    prob = torch.sigmoid(logits)
    ce = functional.binary_cross_entropy_with_logits(logits, target, reduction="none")
    p_t = prob * target + (1 - prob) * (1 - target)
    loss = ce * (1 - p_t) ** gamma
    loss = loss * (alpha * target + (1 - alpha) * (1 - target))
    return (loss * weight).flatten(-2).sum(-1) / weight.flatten(-2).sum(-1).clamp(min=1.0)


def balanced_bce(logits: torch.Tensor, target: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Class-balanced BCE over weighted pixels, per mask: a foreground pixel weighs background/foreground
    times a background one (at most MAX_POSITIVE_WEIGHT), so both classes count the same. (..., H, W) -> (...)."""
    positives = (target * weight).flatten(-2).sum(-1)
    negatives = ((1 - target) * weight).flatten(-2).sum(-1)
    ratio = (negatives / positives.clamp(min=1)).clamp(1, MAX_POSITIVE_WEIGHT).detach()[..., None, None]
    pixel_weight = weight * (1 + (ratio - 1) * target)
    bce = functional.binary_cross_entropy_with_logits(logits, target, weight=pixel_weight, reduction="none")
    return bce.flatten(-2).sum(-1) / pixel_weight.flatten(-2).sum(-1).clamp(min=1)


def dice_loss(logits: torch.Tensor, target: torch.Tensor, weight: torch.Tensor, smooth: float = 1.0) -> torch.Tensor:
    """1 - soft Dice over weighted pixels, per mask: (..., H, W) -> (...)."""
    prob = torch.sigmoid(logits) * weight
    target = target * weight
    intersection = (prob * target).flatten(-2).sum(-1)
    total = prob.flatten(-2).sum(-1) + target.flatten(-2).sum(-1)
    return 1 - (2 * intersection + smooth) / (total + smooth)


def mask_iou(logits: torch.Tensor, target: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """IoU of (logits > 0) with the target over weighted pixels; 1 where both are empty."""
    predicted = (logits > 0).float() * weight
    target = target * weight
    intersection = (predicted * target).flatten(-2).sum(-1)
    union = (predicted + target - predicted * target).flatten(-2).sum(-1)
    return torch.where(union > 0, intersection / union.clamp(min=1e-6), torch.ones_like(union))


@dataclass(frozen=True)
class LossParts:
    """The total and its terms; ``pixel``: focal (click mode) or balanced BCE (auto mode)."""

    total: torch.Tensor
    pixel: torch.Tensor
    dice: torch.Tensor
    iou: torch.Tensor
    object_score: torch.Tensor


def sam_loss(
    logits: torch.Tensor,
    iou_pred: torch.Tensor,
    target: torch.Tensor,
    weight: torch.Tensor,
    object_score: torch.Tensor | None = None,
    pixel_loss: str = "balanced",
) -> LossParts:
    """Loss of a batch: logits (B, M, H, W), iou_pred (B, M), target and weight (B, H, W), object score (B, 1).

    ``pixel_loss``: ``sam`` is SAM 2's 20 x focal; ``balanced`` is a class-balanced BCE (weight 1), which
    keeps learning where objects are a small part of the tile (SAM's focal drives an untrained or weak
    decoder to empty masks there: bench/bench_learning.py)."""
    target = target[:, None].float().expand_as(logits)
    weight = weight[:, None].float().expand_as(logits)
    if pixel_loss == "sam":
        pixel = FOCAL_WEIGHT * focal_loss(logits, target, weight)
    else:
        pixel = balanced_bce(logits, target, weight)
    dice = dice_loss(logits, target, weight)
    per_mask = pixel + dice
    best = per_mask.argmin(dim=1, keepdim=True)
    chosen = lambda values: values.gather(1, best).squeeze(1)  # noqa: E731
    iou_l1 = (iou_pred - mask_iou(logits, target, weight).detach()).abs().mean(dim=1)
    has_object = (target[:, 0] * weight[:, 0]).flatten(1).amax(1)
    object_loss = (
        functional.binary_cross_entropy_with_logits(object_score[:, 0], has_object, reduction="none")
        if object_score is not None
        else torch.zeros_like(iou_l1)
    )
    total = (chosen(per_mask) + iou_l1 + object_loss).mean()
    return LossParts(total, chosen(pixel).mean(), chosen(dice).mean(), iou_l1.mean(), object_loss.mean())


def promptless_loss(
    logits: torch.Tensor, iou_pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor
) -> LossParts:
    """Loss of an auto-mode batch: logits (B, 1, H, W), iou_pred (B, 1), target and weight (B, H, W)."""
    logits = logits[:, 0]
    target, weight = target.float(), weight.float()
    prob = torch.sigmoid(logits)
    intersection = (prob * target * weight).sum()
    total = (prob * weight).sum() + (target * weight).sum()
    dice = 1 - (2 * intersection + 1) / (total + 1)
    bce = balanced_bce(logits.reshape(1, -1, 1), target.reshape(1, -1, 1), weight.reshape(1, -1, 1))[0]
    iou_l1 = (iou_pred[:, 0] - mask_iou(logits, target, weight).detach()).abs().mean()
    zero = torch.zeros((), device=logits.device)
    return LossParts(dice + bce + iou_l1, bce, dice, iou_l1, zero)


def multiclass_loss(logits: torch.Tensor, target: torch.Tensor, class_weight: torch.Tensor) -> LossParts:
    """Loss of a multi-class batch: class logits (B, K, H, W) (background's logit is 0), target (B, H, W) of class
    indices (0 background, 1..K, 255 unlabelled: counts nowhere), ``class_weight`` (K + 1). A class-weighted
    cross-entropy over the K + 1 choices plus each class's dice over the batch (averaged over the classes), so
    that a rare class counts as much as a common one."""
    from core.inference.decode import class_probabilities

    labelled = target != 255
    index = torch.where(labelled, target, torch.zeros_like(target)).long()
    background = torch.zeros_like(logits[:, :1])
    full = torch.cat([background, logits], dim=1)
    weight = class_weight.to(logits.device)
    per_pixel = functional.cross_entropy(full, index, weight=weight, reduction="none") * labelled
    ce = per_pixel.sum() / (weight[index] * labelled).sum().clamp(min=1)
    probs = class_probabilities(logits)[:, 1:]
    count = logits.shape[1]
    truth = (index[:, None] == torch.arange(1, count + 1, device=logits.device)[None, :, None, None]).float()
    mask = labelled[:, None].float()
    intersection = (probs * truth * mask).sum(dim=(0, 2, 3))
    total = (probs * mask).sum(dim=(0, 2, 3)) + (truth * mask).sum(dim=(0, 2, 3))
    dice = (1 - (2 * intersection + 1) / (total + 1)).mean()
    zero = torch.zeros((), device=logits.device)
    return LossParts(ce + dice, ce, dice, zero, zero)
