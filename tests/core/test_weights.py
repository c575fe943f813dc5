"""The weights manager against a local HTTP server on 127.0.0.1: resume, verification, atomicity."""

from __future__ import annotations

import hashlib
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from core.errors import CancelledError, DownloadError, IntegrityError
from core.models.registry import get_model
from core.models.weights import BASE_URL_ENV, Manifest, download_file, download_model

pytestmark = pytest.mark.quick  # make test-fast

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB


class Files(http.server.BaseHTTPRequestHandler):
    """Serves ``files``; honours Range unless ``no_ranges``; ``cut_after`` bytes ends a response early;
    ``chunked`` sends the body in HTTP chunks (no Content-Length), cut inside a chunk with ``cut_after``."""

    files: ClassVar[dict[str, bytes]] = {}
    cut_after: int | None = None
    no_ranges = False
    chunked = False
    protocol_version = "HTTP/1.1"
    requests: ClassVar[list[str | None]] = []

    def do_GET(self) -> None:
        data = self.files.get(self.path.lstrip("/"))
        if data is None:
            self.send_error(404)
            return
        wanted = self.headers.get("Range")
        type(self).requests.append(wanted)
        start = int(wanted.split("=")[1].split("-")[0]) if wanted and not self.no_ranges else 0
        if start >= len(data) and wanted:
            self.send_response(416)
            self.end_headers()
            return
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        body = data[start:]
        if self.chunked:
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Connection", "close")
            self.end_headers()
            for offset in range(0, len(body), 65536):
                piece = body[offset : offset + 65536]
                if self.cut_after is not None and offset + len(piece) > self.cut_after:
                    self.wfile.write(f"{len(piece):x}\r\n".encode() + piece[: self.cut_after - offset])
                    self.close_connection = True
                    return  # the connection drops inside a chunk
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
            return
        self.send_header("Content-Length", str(len(data) - start))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.cut_after is not None:
            body = body[: self.cut_after]
        self.wfile.write(body)
        self.close_connection = True

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, type[Files]]]:
    handler = type("Handler", (Files,), {"files": {"w.pt": PAYLOAD}, "requests": []})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", handler
    httpd.shutdown()
    httpd.server_close()


def test_download_verifies_and_reports_progress(server, tmp_path) -> None:
    url, _ = server
    seen: list[tuple[int, int | None]] = []
    path = download_file(
        f"{url}/w.pt",
        tmp_path / "w.pt",
        hashlib.sha256(PAYLOAD).hexdigest(),
        len(PAYLOAD),
        progress=lambda done, total: seen.append((done, total)),
    )
    assert path.read_bytes() == PAYLOAD
    assert seen[-1] == (len(PAYLOAD), len(PAYLOAD))
    assert [p.name for p in tmp_path.iterdir()] == ["w.pt"]


def test_interrupted_download_keeps_no_final_file_and_resumes(server, tmp_path) -> None:
    url, handler = server
    handler.cut_after = 300_000
    with pytest.raises(DownloadError, match="run again to resume"):
        download_file(f"{url}/w.pt", tmp_path / "w.pt")
    assert not (tmp_path / "w.pt").exists()
    assert (tmp_path / "w.pt.part").stat().st_size == 300_000
    handler.cut_after = None
    download_file(f"{url}/w.pt", tmp_path / "w.pt", hashlib.sha256(PAYLOAD).hexdigest())
    assert (tmp_path / "w.pt").read_bytes() == PAYLOAD
    assert handler.requests[-1] == "bytes=300000-", "the second request did not resume"


def test_a_chunked_download_cut_inside_a_chunk_says_it_can_be_resumed(server, tmp_path) -> None:
    url, handler = server
    handler.chunked, handler.cut_after = True, 300_000
    with pytest.raises(DownloadError, match=r"interrupted at .* run again to resume"):
        download_file(f"{url}/w.pt", tmp_path / "w.pt")
    assert not (tmp_path / "w.pt").exists()
    assert (tmp_path / "w.pt.part").exists()
    handler.cut_after = None
    download_file(f"{url}/w.pt", tmp_path / "w.pt", hashlib.sha256(PAYLOAD).hexdigest())
    assert (tmp_path / "w.pt").read_bytes() == PAYLOAD


def test_server_without_ranges_restarts_from_zero(server, tmp_path) -> None:
    url, handler = server
    (tmp_path / "w.pt.part").write_bytes(b"stale bytes")
    handler.no_ranges = True
    download_file(f"{url}/w.pt", tmp_path / "w.pt", hashlib.sha256(PAYLOAD).hexdigest())
    assert (tmp_path / "w.pt").read_bytes() == PAYLOAD


def test_wrong_hash_deletes_the_download(server, tmp_path) -> None:
    url, _ = server
    with pytest.raises(IntegrityError, match="does not match the expected"):
        download_file(f"{url}/w.pt", tmp_path / "w.pt", expected_sha256="0" * 64)
    assert list(tmp_path.iterdir()) == []


def test_wrong_size_is_refused_before_downloading(server, tmp_path) -> None:
    url, _ = server
    with pytest.raises(IntegrityError, match="bytes but 5 were expected"):
        download_file(f"{url}/w.pt", tmp_path / "w.pt", expected_size=5)
    assert list(tmp_path.iterdir()) == []


def test_cancel_keeps_only_the_partial_file(server, tmp_path) -> None:
    url, _ = server
    with pytest.raises(CancelledError):
        download_file(f"{url}/w.pt", tmp_path / "w.pt", cancelled=lambda: True)
    assert [p.name for p in tmp_path.iterdir()] == ["w.pt.part"]


def test_unreachable_server_and_missing_file_say_so(server, tmp_path) -> None:
    url, _ = server
    with pytest.raises(DownloadError, match="HTTP 404"):
        download_file(f"{url}/nothing.pt", tmp_path / "x.pt")
    with pytest.raises(DownloadError, match="could not reach"):
        download_file("http://127.0.0.1:9/w.pt", tmp_path / "x.pt", timeout=2)
    with pytest.raises(DownloadError, match="only http and https"):
        download_file("file:///etc/passwd", tmp_path / "x.pt")


def test_download_model_records_the_hash_and_checks_later_copies(
    server, tmp_path, tiny_checkpoint, monkeypatch
) -> None:
    url, handler = server
    spec = get_model("sam2.1_hiera_t")
    data = tiny_checkpoint.path.read_bytes()
    handler.files = {spec.filename: data}
    monkeypatch.setenv(BASE_URL_ENV, url)
    folder = tmp_path / "weights"
    path = download_model("sam2.1_hiera_t", folder)
    assert path.read_bytes() == data
    assert Manifest(folder).read()[spec.filename]["sha256"] == hashlib.sha256(data).hexdigest()
    # The server now serves other bytes under that name: a fresh download must refuse them.
    path.unlink()
    handler.files = {spec.filename: data[:-10] + b"0123456789"}
    with pytest.raises(IntegrityError):
        download_model("sam2.1_hiera_t", folder)
    assert not path.exists()


def test_download_model_refuses_weights_of_another_architecture(server, tmp_path, tiny_checkpoint, monkeypatch) -> None:
    url, handler = server
    handler.files = {get_model("sam2.1_hiera_l").filename: tiny_checkpoint.path.read_bytes()}
    monkeypatch.setenv(BASE_URL_ENV, url)
    with pytest.raises(IntegrityError, match=r"holds SAM 2\.1 tiny weights, not SAM 2\.1 large"):
        download_model("sam2.1_hiera_l", tmp_path)
    assert "sam2.1_hiera_large.pt" not in Manifest(tmp_path).read()
    assert not (tmp_path / "sam2.1_hiera_large.pt").exists()


def test_the_sam2_0_checkpoints_are_pinned_to_their_published_hashes() -> None:
    tiny, large = get_model("sam2_hiera_t"), get_model("sam2_hiera_l")
    assert (tiny.sha256, tiny.bytes) == ("65b50056e05bcb13694174f51bb6da89c894b57b75ccdf0ba6352c597c5d1125", 155906050)
    assert (large.sha256, large.bytes) == (
        "7442e4e9b732a508f80e141e7c2913437a3610ee0c77381a66658c3a445df87b",
        897952466,
    )
    assert get_model("sam2.1_hiera_t").sha256 is None  # SAM 2.1: trust on first download, recorded


def test_a_pinned_checkpoint_of_another_size_is_refused_before_downloading(server, tmp_path, monkeypatch) -> None:
    url, handler = server
    handler.files = {"sam2_hiera_tiny.pt": PAYLOAD}  # 1 MiB where 155906050 bytes are published
    monkeypatch.setenv(BASE_URL_ENV, url)
    with pytest.raises(IntegrityError, match="155906050 were expected: not downloading it"):
        download_model("sam2_hiera_t", tmp_path)
    assert list(tmp_path.iterdir()) == []  # nothing written, nothing recorded


@pytest.mark.slow
def test_a_pinned_checkpoint_with_other_bytes_is_deleted_even_on_first_download(server, tmp_path, monkeypatch) -> None:
    url, handler = server
    handler.files = {"sam2_hiera_tiny.pt": bytes(155906050)}  # the published size, not the published file
    monkeypatch.setenv(BASE_URL_ENV, url)
    with pytest.raises(IntegrityError, match="does not match the expected 65b50056"):
        download_model("sam2_hiera_t", tmp_path)
    assert list(tmp_path.iterdir()) == []  # no trust on first download for a pinned model


def test_manifest_survives_a_corrupt_file(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text("{not json")
    manifest = Manifest(tmp_path)
    assert manifest.read() == {}
    manifest.record("a.pt", "ab" * 32, 3, "http://x/a.pt")
    assert manifest.read()["a.pt"]["bytes"] == 3


def test_download_command_streams_bytes_then_the_checkpoint(server, tmp_path, tiny_checkpoint, repo_root) -> None:
    import json
    import os
    import subprocess
    import sys

    url, handler = server
    handler.files = {get_model("sam2.1_hiera_t").filename: tiny_checkpoint.path.read_bytes()}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "core",
            "weights",
            "download",
            "sam2.1_hiera_t",
            "--cache-dir",
            str(tmp_path),
            "--events",
            "-",
        ],
        cwd=repo_root,
        env={**os.environ, BASE_URL_ENV: url},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    progress = [e for e in events if e["event"] == "progress"]
    assert progress[-1]["bytes"] == tiny_checkpoint.path.stat().st_size == progress[-1]["total_bytes"]
    assert progress[-1]["fraction"] == 1.0
    assert {e["stage"] for e in progress} == {"download"}
    filename = get_model("sam2.1_hiera_t").filename
    assert events[-1] == {"event": "result", "checkpoint": str(tmp_path / filename)}
