"""Generate a synthetic scene (image + exact ground truth) and write it as GeoTIFFs and a GeoPackage."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from affine import Affine
from rasterio.crs import CRS
from rasterio.enums import ColorInterp
from rasterio.errors import CRSError
from rasterio.features import rasterize

from core.atomic import atomic_output
from core.errors import InvalidConfigError
from core.synthetic.config import CLASS_NAMES, IMAGE_NODATA, MASK_NODATA, SyntheticSceneConfig
from core.synthetic.layout import PlacedObject, layout_scene
from core.synthetic.texture import ObjectTable, render
from core.vector_io import PolygonFeature, write_polygons


@dataclass(frozen=True)
class SceneObject:
    """One ground-truth object: class id and GeoJSON-like polygon in the scene CRS, (x, y) order."""

    class_id: int
    geometry: dict[str, Any]

    @property
    def class_name(self) -> str:
        return CLASS_NAMES[self.class_id]


@dataclass(frozen=True)
class SyntheticScene:
    """A generated orthophoto and its ground truth.

    ``image`` is (bands, rows, cols) in the config's dtype, bands R, G, B[, NIR]; ``mask`` is (rows, cols)
    uint8 class ids (see CLASS_NAMES), MASK_NODATA where the image is nodata. ``transform`` maps
    (col, row) to (x, y) of pixel corners.
    """

    config: SyntheticSceneConfig
    image: np.ndarray
    mask: np.ndarray
    objects: list[SceneObject]
    transform: Affine
    crs_wkt: str

    @property
    def image_nodata(self) -> int | None:
        return IMAGE_NODATA if self.config.nodata_border else None


@dataclass(frozen=True)
class ScenePaths:
    """Files written by ``write_scene``."""

    image: Path
    mask: Path
    labels: Path
    metadata: Path


def _projected_crs(name: str) -> CRS:
    try:
        crs = CRS.from_user_input(name)
    except CRSError as error:
        raise InvalidConfigError(f"unknown CRS {name!r}: give an EPSG code such as 'EPSG:32633'") from error
    if not crs.is_projected:
        raise InvalidConfigError(f"CRS {name} is geographic: synthetic scenes need a projected CRS in metres")
    return crs


def _object_table(
    placed: list[PlacedObject], transform: Affine, pixel_size: float, rng: np.random.Generator
) -> ObjectTable:
    table = ObjectTable(len(placed))
    inverse = ~transform
    for index, obj in enumerate(placed, start=1):
        table.col[index], table.row[index] = inverse * obj.centre
        table.angle[index] = obj.angle
        table.style[index] = obj.style
        table.radius_px[index] = obj.radius / pixel_size
        table.brightness[index] = rng.uniform(0.88, 1.12)
    return table


def _to_dtype(reflectance: np.ndarray, config: SyntheticSceneConfig, valid: np.ndarray) -> np.ndarray:
    """Scale 0..1 reflectance to the output dtype; valid pixels never take the nodata value."""
    low = 1 if config.nodata_border else 0
    scaled = np.rint(low + reflectance * (config.max_value - low)).astype(config.dtype)
    if config.nodata_border:
        scaled[:, ~valid] = IMAGE_NODATA
    return scaled[: config.band_count]


def generate_scene(config: SyntheticSceneConfig) -> SyntheticScene:
    """Build the scene for ``config``; the same config (seed included) gives the same arrays."""
    crs = _projected_crs(config.crs)
    rng = np.random.default_rng(config.seed)
    transform = Affine(config.pixel_size, 0.0, config.origin[0], 0.0, -config.pixel_size, config.origin[1])
    shape = (config.height, config.width)

    footprint, placed = layout_scene(config, rng)
    geometries = [json.loads(obj.geometry.ExportToJson()) for obj in placed]
    valid = rasterize([json.loads(footprint.ExportToJson())], out_shape=shape, transform=transform, dtype="uint8") == 1

    classes = np.zeros(shape, dtype=np.uint8)
    object_ids = np.zeros(shape, dtype=np.int32)
    if placed:
        classes = rasterize(
            [(geometry, obj.class_id) for geometry, obj in zip(geometries, placed, strict=True)],
            out_shape=shape,
            transform=transform,
            dtype="uint8",
        )
        object_ids = rasterize(
            [(geometry, index) for index, geometry in enumerate(geometries, start=1)],
            out_shape=shape,
            transform=transform,
            dtype="int32",
        )
    table = _object_table(placed, transform, config.pixel_size, rng)
    reflectance = render(classes, object_ids, table, config.pixel_size, rng)

    mask = np.where(valid, classes, MASK_NODATA).astype(np.uint8)
    objects = [SceneObject(obj.class_id, geometry) for obj, geometry in zip(placed, geometries, strict=True)]
    return SyntheticScene(config, _to_dtype(reflectance, config, valid), mask, objects, transform, crs.to_wkt())


def _geotiff_profile(scene: SyntheticScene, count: int, dtype: str, nodata: int | None) -> dict[str, Any]:
    height, width = scene.mask.shape
    tiled = width >= 256 and height >= 256
    profile: dict[str, Any] = dict(
        driver="GTiff",
        width=width,
        height=height,
        count=count,
        dtype=dtype,
        crs=scene.crs_wkt,
        transform=scene.transform,
        nodata=nodata,
        compress="deflate",
        tiled=tiled,
    )
    if tiled:
        profile.update(blockxsize=256, blockysize=256)
    return profile


def write_scene(scene: SyntheticScene, out_dir: str | os.PathLike[str], stem: str = "scene") -> ScenePaths:
    """Write ``{stem}_image.tif``, ``{stem}_mask.tif``, ``{stem}_labels.gpkg`` and ``{stem}.json``.

    Every file is written to a temporary name and renamed, so a failure leaves no partial file.
    """
    out = Path(out_dir)
    paths = ScenePaths(
        out / f"{stem}_image.tif", out / f"{stem}_mask.tif", out / f"{stem}_labels.gpkg", out / f"{stem}.json"
    )
    config = scene.config

    with atomic_output(paths.image) as tmp:
        profile = _geotiff_profile(scene, config.band_count, config.dtype, scene.image_nodata)
        if config.band_count == 3:
            profile["photometric"] = "RGB"
        with rasterio.open(tmp, "w", **profile) as dst:
            dst.write(scene.image)
            interp = [ColorInterp.red, ColorInterp.green, ColorInterp.blue, ColorInterp.undefined]
            dst.colorinterp = interp[: config.band_count]
            for band, name in enumerate(("red", "green", "blue", "nir")[: config.band_count], start=1):
                dst.set_band_description(band, name)

    mask_profile = _geotiff_profile(scene, 1, "uint8", MASK_NODATA)
    with atomic_output(paths.mask) as tmp, rasterio.open(tmp, "w", **mask_profile) as dst:
        dst.write(scene.mask, 1)
        dst.update_tags(**{f"class_{key}": name for key, name in CLASS_NAMES.items()})

    features = [
        PolygonFeature(obj.geometry, {"class_id": obj.class_id, "class_name": obj.class_name}) for obj in scene.objects
    ]
    write_polygons(
        paths.labels, features, scene.crs_wkt, layer_name="labels", fields={"class_id": int, "class_name": str}
    )

    with atomic_output(paths.metadata) as tmp:
        counts = {name: sum(o.class_id == key for o in scene.objects) for key, name in CLASS_NAMES.items() if key}
        tmp.write_text(
            json.dumps(
                {
                    "config": asdict(config),
                    "classes": CLASS_NAMES,
                    "mask_nodata": MASK_NODATA,
                    "object_counts": counts,
                    "image": paths.image.name,
                    "mask": paths.mask.name,
                    "labels": paths.labels.name,
                },
                indent=2,
            )
        )
    return paths
