"""How unsure the model is, per pixel, from what whole-raster prediction blends (core/inference/predict.py).

Two signals, both 0 (sure) to 1 (as unsure as can be):
- ``entropy``: the normalised entropy of the blended probability: 1 where an object is as likely as not
  (p = 0.5; several classes: all equally likely), 0 where p is 0 or 1.
- ``disagreement``: how far the overlapping windows' probabilities for a pixel differ (twice their weighted
  standard deviation, the largest over the classes); 0 where one window alone covers a pixel.
``bench/bench_label_next.py`` measures which one finds the model's errors on held-out ground (the default is
its answer).
"""

from __future__ import annotations

import math

import torch

from core.inference.predict_config import UncertaintySignal

UNCERTAINTY_NODATA = -1.0
_EPS = 1e-6


def entropy(probability: torch.Tensor) -> torch.Tensor:
    """Normalised entropy (n, w) of blended probabilities (C, n, w): C = 1, an object's probability; C > 1, the
    probabilities of background and each class (summing to 1)."""
    if probability.shape[0] == 1:
        p = probability[0].clamp(_EPS, 1 - _EPS)
        bits = -(p * torch.log(p) + (1 - p) * torch.log1p(-p)) / math.log(2)
    else:
        q = probability.clamp_min(_EPS)
        bits = -(q * torch.log(q)).sum(dim=0) / math.log(probability.shape[0])
    return bits.clamp(0, 1)


def disagreement(mean: torch.Tensor, mean_square: torch.Tensor) -> torch.Tensor:
    """Twice the standard deviation (n, w) of the windows' probabilities about their blend, from the weighted
    means of p and of p squared (C, n, w); the largest over the classes."""
    spread = (mean_square - mean * mean).clamp_min(0).sqrt() * 2
    return spread.amax(dim=0).clamp(0, 1)


def uncertainty(signal: UncertaintySignal, mean: torch.Tensor, mean_square: torch.Tensor) -> torch.Tensor:
    """The ``signal`` (n, w) for a band of blended probabilities ``mean`` (C, n, w) and ``mean_square``."""
    if signal == "entropy":
        return entropy(mean)
    return disagreement(mean, mean_square)
