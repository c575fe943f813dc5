"""Generate a synthetic scene (image + exact ground truth) and write it as GeoTIFFs and a GeoPackage."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
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
from rasterio.windows import Window
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from core.devtools.synthetic.config import CLASS_NAMES, IMAGE_NODATA, MASK_NODATA, SyntheticSceneConfig
from core.devtools.synthetic.layout import PlacedObject, layout_scene
from core.devtools.synthetic.texture import ObjectTable, SceneTextures, render_strip
from core.errors import InvalidConfigError
from core.io.atomic import atomic_output
from core.io.vectors import PolygonFeature, write_polygons


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


#: Rows rendered at a time. Fixed (sensor noise is seeded per strip), so output never depends on memory.
STRIP_ROWS = 256

#: One strip: first row, image (bands, rows, cols) and mask (rows, cols).
Strip = tuple[int, np.ndarray, np.ndarray]
#: What a scene draws: its valid footprint and its objects.
Layout = tuple[BaseGeometry, list[PlacedObject]]


class SceneRenderer:
    """The layout and random fields of a scene; renders it in strips of STRIP_ROWS rows.

    Memory is that of one strip plus the object list, whatever the scene's size.
    """

    def __init__(self, config: SyntheticSceneConfig, layout: Layout | None = None) -> None:
        """``layout``: the footprint and objects to draw (another year of a scene); default: laid out anew."""
        self.config = config
        self.crs_wkt = _projected_crs(config.crs).to_wkt()
        rng = np.random.default_rng(config.seed)
        self.transform = Affine(config.pixel_size, 0.0, config.origin[0], 0.0, -config.pixel_size, config.origin[1])
        footprint, placed = layout or layout_scene(config, rng)
        self.footprint = mapping(footprint)
        self.objects = [SceneObject(obj.class_id, mapping(obj.geometry)) for obj in placed]
        # Scene rows each object spans, to rasterize only the objects that reach a strip.
        self._row_spans = [self._rows_of(obj.geometry.bounds) for obj in placed]
        self.table = _object_table(placed, self.transform, config.pixel_size, rng)
        self.textures = SceneTextures(rng, config.height, config.width, config.pixel_size, config.seed)

    def _rows_of(self, bounds: tuple[float, float, float, float]) -> tuple[float, float]:
        _, min_y, _, max_y = bounds
        top, bottom = (~self.transform * (0, max_y))[1], (~self.transform * (0, min_y))[1]
        return top, bottom

    def strips(self) -> Iterator[Strip]:
        for number, start in enumerate(range(0, self.config.height, STRIP_ROWS)):
            yield self._strip(number, start)

    def _strip(self, number: int, start: int) -> Strip:
        config = self.config
        rows = min(STRIP_ROWS, config.height - start)
        stop = min(config.height, start + rows + self.textures.shadow_rows)  # rows below cast shadows here
        shape = (stop - start, config.width)
        transform = self.transform * Affine.translation(0, start)
        valid = rasterize([self.footprint], out_shape=shape, transform=transform, dtype="uint8") == 1
        reaching = [
            (index, obj)
            for index, (obj, (top, bottom)) in enumerate(zip(self.objects, self._row_spans, strict=True), start=1)
            if top < stop and bottom > start
        ]
        classes = np.zeros(shape, dtype=np.uint8)
        object_ids = np.zeros(shape, dtype=np.int32)
        if reaching:
            burn = dict(out_shape=shape, transform=transform)
            classes = rasterize([(obj.geometry, obj.class_id) for _, obj in reaching], dtype="uint8", **burn)
            object_ids = rasterize([(obj.geometry, index) for index, obj in reaching], dtype="int32", **burn)
        reflectance = render_strip(classes, object_ids, self.table, self.textures, start, rows, number)
        mask = np.where(valid[:rows], classes[:rows], MASK_NODATA).astype(np.uint8)
        return start, _to_dtype(reflectance, config, valid[:rows]), mask


def generate_scene(config: SyntheticSceneConfig) -> SyntheticScene:
    """Build the scene for ``config`` in memory; the same config (seed included) gives the same arrays.

    For scenes too large for memory, ``write_synthetic_scene`` streams the same pixels to disk.
    """
    renderer = SceneRenderer(config)
    _, images, masks = zip(*renderer.strips(), strict=True)
    return SyntheticScene(
        config,
        np.concatenate(images, axis=1),
        np.concatenate(masks),
        renderer.objects,
        renderer.transform,
        renderer.crs_wkt,
    )


def _geotiff_profile(
    config: SyntheticSceneConfig, crs_wkt: str, transform: Affine, count: int, dtype: str, nodata: int | None
) -> dict[str, Any]:
    tiled = config.width >= STRIP_ROWS and config.height >= STRIP_ROWS
    profile: dict[str, Any] = dict(
        driver="GTiff",
        width=config.width,
        height=config.height,
        count=count,
        dtype=dtype,
        crs=crs_wkt,
        transform=transform,
        nodata=nodata,
        compress="deflate",
        tiled=tiled,
        BIGTIFF="IF_SAFER",
    )
    if tiled:
        profile.update(blockxsize=STRIP_ROWS, blockysize=STRIP_ROWS)
    return profile


def _scene_paths(out_dir: str | os.PathLike[str], stem: str) -> ScenePaths:
    out = Path(out_dir)
    return ScenePaths(
        out / f"{stem}_image.tif", out / f"{stem}_mask.tif", out / f"{stem}_labels.gpkg", out / f"{stem}.json"
    )


def _write(
    paths: ScenePaths,
    config: SyntheticSceneConfig,
    crs_wkt: str,
    transform: Affine,
    objects: list[SceneObject],
    strips: Iterable[Strip],
) -> ScenePaths:
    """Write the image and mask from ``strips`` and the labels from ``objects``, each file atomically."""
    image_profile = _geotiff_profile(
        config,
        crs_wkt,
        transform,
        config.band_count,
        config.dtype,
        IMAGE_NODATA if config.nodata_border else None,
    )
    if config.band_count == 3:
        image_profile["photometric"] = "RGB"
    mask_profile = _geotiff_profile(config, crs_wkt, transform, 1, "uint8", MASK_NODATA)
    with (
        atomic_output(paths.image) as image_tmp,
        atomic_output(paths.mask) as mask_tmp,
        rasterio.open(image_tmp, "w", **image_profile) as image_dst,
        rasterio.open(mask_tmp, "w", **mask_profile) as mask_dst,
    ):
        image_dst.colorinterp = [ColorInterp.red, ColorInterp.green, ColorInterp.blue, ColorInterp.undefined][
            : config.band_count
        ]
        for band, name in enumerate(("red", "green", "blue", "nir")[: config.band_count], start=1):
            image_dst.set_band_description(band, name)
        mask_dst.update_tags(**{f"class_{key}": name for key, name in CLASS_NAMES.items()})
        for start, image, mask in strips:
            window = Window(0, start, config.width, mask.shape[0])
            image_dst.write(image, window=window)
            mask_dst.write(mask, 1, window=window)

    features = [PolygonFeature(o.geometry, {"class_id": o.class_id, "class_name": o.class_name}) for o in objects]
    write_polygons(paths.labels, features, crs_wkt, layer_name="labels", fields={"class_id": int, "class_name": str})

    counts = {name: sum(o.class_id == key for o in objects) for key, name in CLASS_NAMES.items() if key}
    metadata = {
        "config": asdict(config),
        "classes": CLASS_NAMES,
        "mask_nodata": MASK_NODATA,
        "object_counts": counts,
        "image": paths.image.name,
        "mask": paths.mask.name,
        "labels": paths.labels.name,
    }
    with atomic_output(paths.metadata) as tmp:
        tmp.write_text(json.dumps(metadata, indent=2))
    return paths


def write_scene(scene: SyntheticScene, out_dir: str | os.PathLike[str], stem: str = "scene") -> ScenePaths:
    """Write ``{stem}_image.tif``, ``{stem}_mask.tif``, ``{stem}_labels.gpkg`` and ``{stem}.json``.

    Every file is written to a temporary name and renamed, so a failure leaves no partial file.
    """
    strips = [(0, scene.image, scene.mask)]
    return _write(_scene_paths(out_dir, stem), scene.config, scene.crs_wkt, scene.transform, scene.objects, strips)


def write_synthetic_scene(
    config: SyntheticSceneConfig, out_dir: str | os.PathLike[str], stem: str = "scene", layout: Layout | None = None
) -> ScenePaths:
    """Generate and write the scene of ``config`` strip by strip: the files ``write_scene`` would write for
    ``generate_scene(config)``, with memory bounded by one strip whatever the size (``layout``: what to draw,
    default laid out from the seed)."""
    renderer = SceneRenderer(config, layout)
    paths = _scene_paths(out_dir, stem)
    return _write(paths, config, renderer.crs_wkt, renderer.transform, renderer.objects, renderer.strips())
