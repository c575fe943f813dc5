"""The engine's allocator setting: large freed blocks are reused, not mapped afresh (no page faults)."""

from __future__ import annotations

import platform
import resource
import sys

import numpy as np
import pytest

from core.cli import runner as cli
from core.models.allocator import SWITCH, engine_allocator, reuse_freed_memory, reusing

pytestmark = [
    pytest.mark.quick,
    pytest.mark.skipif(
        not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc", reason="glibc's malloc only"
    ),
]


def page_faults_of_large_buffers(times: int = 4, megabytes: int = 64) -> int:
    """Minor page faults while a buffer of ``megabytes`` is allocated, filled and freed ``times`` times, after
    a first round that grows the process."""
    np.ones(megabytes << 18, dtype=np.float32).sum()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(times):
        np.ones(megabytes << 18, dtype=np.float32).sum()
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


def test_freed_large_buffers_are_reused_without_page_faults() -> None:
    huge_pages = 4 * (64 << 20) // (2 << 20)  # the fewest faults a fresh mapping takes (numpy asks for 2 MiB pages)
    try:
        assert reuse_freed_memory(False)
        default = page_faults_of_large_buffers()
        assert reuse_freed_memory(True)
        reused = page_faults_of_large_buffers()
    finally:
        reuse_freed_memory(False)
    assert default > 0.5 * huge_pages  # glibc's default: mapped afresh (and cleared) every time
    assert reused < 0.1 * huge_pages  # kept on the heap and reused


def test_a_command_run_in_this_process_leaves_glibcs_defaults_behind(capsys) -> None:
    huge_pages = 4 * (64 << 20) // (2 << 20)
    assert cli.main(["describe"]) == 0  # any command: it runs with the engine's setting
    capsys.readouterr()
    assert not reusing()
    assert page_faults_of_large_buffers() > 0.5 * huge_pages  # freed buffers unmapped again, as by default


def test_the_switch_leaves_glibcs_defaults_alone(monkeypatch) -> None:
    monkeypatch.setenv(SWITCH, "0")
    with engine_allocator() as applied:
        assert not applied
        assert not reusing()
    monkeypatch.setenv(SWITCH, "1")
    with engine_allocator() as applied:
        assert applied
        assert reusing()
    assert not reusing()
