"""Two CPU processes (gloo), started the way torchrun starts them, train the same run to identical weights."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from core.devtools.synthetic import SyntheticSceneConfig, write_synthetic_scene


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_two_ranks_end_with_identical_weights(train_args, tiny_checkpoint, tmp_path, repo_root) -> None:
    scene = write_synthetic_scene(SyntheticSceneConfig(width=512, height=512, seed=5), tmp_path / "scene")
    port = str(free_port())
    command = [
        sys.executable,
        "-m",
        "core",
        *train_args(scene.image, scene.labels, tiny_checkpoint.path, tmp_path / "run", 2, 2),
    ]
    processes = []
    for rank in range(2):  # what torchrun --nproc_per_node 2 sets up
        env = {
            **os.environ,
            "RANK": str(rank),
            "LOCAL_RANK": str(rank),
            "WORLD_SIZE": "2",
            "MASTER_ADDR": "127.0.0.1",
            "MASTER_PORT": port,
        }
        processes.append(
            subprocess.Popen(command, cwd=repo_root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        )
    results = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err[-2000:]
        results.append(json.loads(out))
    assert results[0]["weights_sha256"] == results[1]["weights_sha256"]
    # Each rank trained on its own half of the batches: without the gradient averaging the weights would differ.
    alone = subprocess.run(
        [*command, "--out", str(tmp_path / "alone")],  # the later --out wins
        cwd=repo_root,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert json.loads(alone.stdout)["weights_sha256"] != results[0]["weights_sha256"]
    assert results[1]["rank"] == 1  # rank 1 trained but wrote nothing
    assert (tmp_path / "run" / "best.pt").exists()
    assert results[0]["epochs"] == 2
