"""The demo's choice of base model, and its bad input: a SAM2_CHECKPOINT that is not there."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.demo import choose_base_model
from core.errors import MissingInputError


def test_a_missing_sam2_checkpoint_says_what_to_set(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("SAM2_CHECKPOINT", str(tmp_path / "sam2.1_hiera_large.pt"))
    with pytest.raises(MissingInputError, match=r"set SAM2_CHECKPOINT to a SAM 2 \.pt file"):
        choose_base_model()


def test_sam2_checkpoint_is_used_as_pretrained(monkeypatch, tiny_checkpoint) -> None:
    monkeypatch.setenv("SAM2_CHECKPOINT", str(tiny_checkpoint.path))
    chosen = choose_base_model()
    assert chosen.path == Path(tiny_checkpoint.path)
    assert chosen.pretrained


def test_without_weights_the_random_init_model_is_used_and_said_so(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("SAM2_CHECKPOINT", raising=False)
    monkeypatch.setenv("SAM2_QGIS_CACHE", str(tmp_path / "empty-cache"))
    chosen = choose_base_model()
    assert not chosen.pretrained
    assert "NO PRETRAINED WEIGHTS FOUND" in chosen.note
    assert chosen.path.is_file()


def test_the_demo_command_fails_cleanly_on_a_missing_checkpoint(core_cli, tmp_path) -> None:
    done = core_cli("demo", "--out", tmp_path / "out", "--checkpoint", tmp_path / "none.pt")
    assert done.returncode == 2
    assert "checkpoint not found" in done.stderr
    assert not (tmp_path / "out").exists()  # nothing written
