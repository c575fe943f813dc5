"""Downloading model weights: resumable, size- and sha256-verified, renamed into place only when complete.

A download writes ``<name>.part`` beside the target and renames it when its size and hash are right, so
the final name never holds a partial file. An interrupted or cancelled download keeps the ``.part`` file
and resumes from it (HTTP Range) next time. Hashes of verified downloads are recorded in
``manifest.json`` in the cache folder; a later download of the same file must match them.
"""

from __future__ import annotations

import http.client
import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.errors import CancelledError, DownloadError, IntegrityError
from core.io.atomic import atomic_output, sha256_file
from core.io.cache import cache_dir
from core.models.registry import ModelSpec, get_model

#: ``progress(received_bytes, total_bytes_or_None)``
Progress = Callable[[int, int | None], None]
#: ``cancelled() -> True`` stops the download at the next chunk.
Cancelled = Callable[[], bool]

CHUNK = 1 << 20
BASE_URL_ENV = "SAM2_QGIS_WEIGHTS_BASE_URL"


def weights_dir(folder: Path | None = None) -> Path:
    """The folder for downloaded weights (``<cache>/weights`` by default), created if missing."""
    if folder is None:
        return cache_dir("weights")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Manifest:
    """``manifest.json``: file name -> sha256, size, source URL of each verified download."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "manifest.json"

    def read(self) -> dict[str, dict[str, Any]]:
        try:
            return dict(json.loads(self.path.read_text()))
        except (FileNotFoundError, json.JSONDecodeError):
            return {}

    def record(self, name: str, sha256: str, size: int, url: str) -> None:
        entries = self.read()
        entries[name] = {"sha256": sha256, "bytes": size, "url": url, "verified": time.strftime("%Y-%m-%dT%H:%M:%S")}
        with atomic_output(self.path) as tmp:
            tmp.write_text(json.dumps(entries, indent=2, sort_keys=True))


def _total_from(response: Any, offset: int) -> int | None:
    content_range = response.headers.get("Content-Range")  # "bytes 100-999/1000"
    if response.status == 206 and content_range and "/" in content_range:
        total = content_range.rsplit("/", 1)[1]
        return int(total) if total.isdigit() else None
    length = response.headers.get("Content-Length")
    return int(length) + (offset if response.status == 206 else 0) if length and length.isdigit() else None


def download_file(
    url: str,
    target: Path,
    expected_sha256: str | None = None,
    expected_size: int | None = None,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
    timeout: float = 30.0,
) -> Path:
    """Fetch ``url`` to ``target``, resuming ``target.part`` if present; verify size and sha256.

    Raises DownloadError (network, interrupted: run again to resume), IntegrityError (size or hash wrong:
    the partial file is deleted), CancelledError (``cancelled()`` became true: the partial file is kept).
    """
    if not url.startswith(("http://", "https://")):
        raise DownloadError(f"cannot download {url!r}: only http and https addresses are supported")
    partial = target.with_name(target.name + ".part")
    offset = partial.stat().st_size if partial.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={offset}-"} if offset else {})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as error:
        if error.code == 416 and offset:  # nothing left to fetch: the partial file may be complete
            return _finish(partial, target, url, expected_sha256, expected_size)
        raise DownloadError(f"could not download {url}: HTTP {error.code} {error.reason}") from None
    except (urllib.error.URLError, OSError) as error:
        raise DownloadError(f"could not reach {url} ({error}); check the network or proxy and run again") from None
    with response:
        if response.status != 206:
            offset = 0  # the server ignored the range: start over
        total = _total_from(response, offset)
        if expected_size is not None and total is not None and total != expected_size:
            raise IntegrityError(f"{url} is {total} bytes but {expected_size} were expected: not downloading it")
        received = offset
        try:
            with open(partial, "ab" if offset else "wb") as out:
                while chunk := response.read(CHUNK):
                    out.write(chunk)
                    received += len(chunk)
                    if progress:
                        progress(received, total)
                    if cancelled and cancelled():
                        raise CancelledError(
                            f"download of {target.name} cancelled at {received} bytes; run again to resume"
                        )
        except (OSError, urllib.error.URLError, http.client.HTTPException) as error:  # reset, timeout, cut chunk
            raise DownloadError(
                f"download of {target.name} interrupted at {received} of {total or '?'} bytes ({error}); "
                "run again to resume"
            ) from None
    if total is not None and received < total:
        raise DownloadError(f"download of {target.name} stopped at {received} of {total} bytes; run again to resume")
    return _finish(partial, target, url, expected_sha256, expected_size)


def _finish(partial: Path, target: Path, url: str, expected_sha256: str | None, expected_size: int | None) -> Path:
    size = partial.stat().st_size
    if expected_size is not None and size != expected_size:
        partial.unlink()
        raise IntegrityError(f"{target.name}: got {size} bytes, expected {expected_size}; deleted, download again")
    actual = sha256_file(partial)
    if expected_sha256 is not None and actual != expected_sha256:
        partial.unlink()
        raise IntegrityError(
            f"{target.name}: sha256 {actual} does not match the expected {expected_sha256}; the file was "
            "deleted. If this repeats, the source serves a different file: do not use it."
        )
    os.replace(partial, target)
    return target


def model_url(spec: ModelSpec) -> str:
    """The download address of ``spec``; ``$SAM2_QGIS_WEIGHTS_BASE_URL`` replaces the official host."""
    base = os.environ.get(BASE_URL_ENV)
    return f"{base.rstrip('/')}/{spec.filename}" if base else spec.url


def download_model(
    name: str,
    folder: Path | None = None,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> Path:
    """Download the official checkpoint ``name`` (e.g. ``sam2.1_hiera_t``) into the weights folder.

    A file already there is checked against the pinned or recorded sha256 and reused. A new download must
    match the pinned sha256 and size (SAM 2.0) or the recorded sha256 (SAM 2.1, after its first download), and
    must be a loadable checkpoint of the named architecture before its hash is recorded.
    """
    from core.models.checkpoint import read_checkpoint

    spec = get_model(name)
    folder = weights_dir(folder)
    target = folder / spec.filename
    manifest = Manifest(folder)
    known = spec.sha256 or manifest.read().get(spec.filename, {}).get("sha256")
    if target.exists():
        if known is None or sha256_file(target) == known:
            return target
        target.unlink()  # damaged since it was verified: fetch again
    url = model_url(spec)
    path = download_file(
        url, target, expected_sha256=known, expected_size=spec.bytes, progress=progress, cancelled=cancelled
    )
    try:
        found = read_checkpoint(path).spec
    except Exception:
        path.unlink()
        raise
    if found != spec:
        path.unlink()
        raise IntegrityError(f"{url} holds {found.label} weights, not {spec.label}; deleted")
    manifest.record(spec.filename, sha256_file(path), path.stat().st_size, url)
    return path
