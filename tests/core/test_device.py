"""Device choice: cuda > mps > cpu, overridable, with clear errors."""

from __future__ import annotations

import pytest
import torch

from core.errors import InvalidConfigError
from core.models.device import choose_device, inference_precision

pytestmark = pytest.mark.quick  # make test-fast


def test_auto_prefers_an_accelerator_and_falls_back_to_cpu() -> None:
    expected = "cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() else "cpu"
    assert choose_device("auto").type == expected
    assert choose_device("cpu") == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_asking_for_a_missing_accelerator_says_what_to_do() -> None:
    with pytest.raises(InvalidConfigError, match="not available here: use --device auto or cpu"):
        choose_device("cuda")


def test_unknown_device() -> None:
    with pytest.raises(InvalidConfigError, match="unknown device 'tpu'"):
        choose_device("tpu")


def test_cpu_inference_stays_in_float32() -> None:
    layer = torch.nn.Linear(4, 4)
    with inference_precision(torch.device("cpu")):
        assert layer(torch.ones(1, 4)).dtype == torch.float32
