"""Labels as analysts have them, read onto raster windows: polygons in any CRS, or a class mask raster.

Each window gets a class map (uint8: 0 background, k the class, IGNORE unlabelled) and, for click training,
an instance map (int32: 0 none, i the i-th object) in the raster's pixel grid.

Complete labels (every object of the area is labelled): every pixel outside the objects is background.
Partial labels (some examples): background is only what the analyst marked so (polygons, or points, whose
class value is 0 or "background") and a ring around each labelled object; every other pixel is unlabelled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import rasterio
from affine import Affine
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.features import rasterize
from rasterio.vrt import WarpedVRT
from rasterio.warp import transform_geom
from rasterio.windows import Window
from shapely.geometry import MultiPoint, MultiPolygon, Point, Polygon, mapping, shape

from core.errors import InvalidInputError, MissingInputError
from core.geometry.polygons import PolygonOptions, mask_to_polygons
from core.io.vectors import read_layer

IGNORE = 255
VECTOR_SUFFIXES = (".gpkg", ".shp", ".geojson", ".json")
BACKGROUND_WORDS = ("background",)  # class values that mark background examples, besides 0
BACKGROUND_POINT_PIXELS = 4  # a background point marks a disc of this radius
LabelsCover = Literal["complete", "partial"]


@dataclass(frozen=True)
class LabelledPolygon:
    """A label polygon in the raster's CRS (GeoJSON-like, (x, y)) with its class id (>= 1; 0: a background
    example, which may also be a point) and, when the labels have a name field, its class's name."""

    geometry: dict
    class_id: int
    class_name: str | None = None


def read_vector_labels(
    path: Path, raster_crs: CRS | None, class_field: str | None, name_field: str | None = None
) -> list[LabelledPolygon]:
    """Polygons of a GeoPackage/Shapefile/GeoJSON, reprojected to ``raster_crs``; class from ``class_field``,
    its name from ``name_field``."""
    if not path.exists():
        raise MissingInputError(f"labels not found: {path}")
    rows, crs_wkt, fields = read_layer(path)
    for field in (class_field, name_field):
        if field and field not in fields:
            raise InvalidInputError(f"{path.name} has no field {field!r}; its fields are {fields}")
    source = CRS.from_wkt(crs_wkt) if crs_wkt else None
    reproject = source is not None and raster_crs is not None and source != raster_crs
    polygons = []
    for geometry, attributes in rows:
        if not isinstance(geometry, Polygon | MultiPolygon | Point | MultiPoint) or geometry.is_empty:
            continue
        class_id = 1
        if class_field:
            value = attributes.get(class_field)
            if value is None:
                continue
            class_id = class_number(value, class_field, path.name)
        if isinstance(geometry, Point | MultiPoint) and class_id != 0:
            continue  # a point marks background; objects are polygons
        mapped = transform_geom(source, raster_crs, mapping(geometry)) if reproject else mapping(geometry)
        name = attributes.get(name_field) if name_field else None
        polygons.append(LabelledPolygon(dict(mapped), class_id, str(name) if name is not None else None))
    return polygons


def class_number(value: object, class_field: str, name: str) -> int:
    """A class field's value as a whole number (``3``, ``3.0``, ``"3"``; ``"background"`` is 0); anything else
    says what to do."""
    if str(value).strip().lower() in BACKGROUND_WORDS:
        return 0
    try:
        number = float(str(value).strip())
        if number.is_integer() and number >= 0:
            return int(number)
    except ValueError:
        pass
    shown = str(value) if len(str(value)) <= 40 else str(value)[:37] + "..."
    raise InvalidInputError(
        f"the class field {class_field!r} of {name} holds {shown!r}, not a class number: label classes with whole "
        "numbers (1, 2, ...; 0 or 'background' for background examples), or choose no class field to learn every "
        "polygon as one class"
    )


class LabelReader:
    """Class and instance maps of raster windows, from vector labels or a mask raster.

    ``classes``: the foreground classes (empty: every class > 0). ``class_zero`` (mask rasters, the seed
    pipeline's convention): value 0 is a real class (background) and the mask's nodata is unlabelled;
    without it nodata counts as background, as the seed pipeline did. ``cover`` ``partial`` (vector labels):
    only some objects are labelled; background is the background examples and a ring ``ring`` times each
    object's size (the square root of its area, at least a pixel) wide around it; the rest is unlabelled.
    """

    def __init__(
        self,
        path: str | Path,
        raster: rasterio.io.DatasetReader | None = None,
        *,
        crs: CRS | None,
        transform: Affine,
        shape: tuple[int, int],
        classes: tuple[int, ...] = (),
        class_field: str | None = None,
        class_zero: bool = False,
        name_field: str | None = None,
        cover: LabelsCover = "complete",
        ring: float = 0.5,
    ) -> None:
        self.path = Path(path)
        self.crs, self.transform, self.shape = crs, transform, shape
        self.classes = classes
        self.class_zero = class_zero
        self.cover = cover
        self.polygons: list[LabelledPolygon] = []  # the objects
        self.background: list[dict] = []  # partial labels: the examples of background and the rings (GeoJSON)
        self._mask: WarpedVRT | None = None
        if self.path.suffix.lower() in VECTOR_SUFFIXES:
            found = read_vector_labels(self.path, crs, class_field, name_field)
            self.polygons = [p for p in found if p.class_id > 0 and (not classes or p.class_id in classes)]
            if not self.polygons:
                examples = " (only background examples)" if any(p.class_id == 0 for p in found) else ""
                raise InvalidInputError(
                    f"{self.path.name} holds no polygon labels"
                    + (f" of classes {list(classes)}" if classes else "")
                    + f"{examples}: draw some objects, or check the class field"
                )
            if cover == "partial":
                self.background = self._background(found, ring)
        elif cover == "partial":
            raise InvalidInputError(
                f"{self.path.name} is a mask raster: partial labels come from a vector layer (a mask marks what is "
                "not labelled with its nodata value: use --class-zero, or --labels-cover complete)"
            )
        else:
            self._open_mask()

    def _background(self, found: list[LabelledPolygon], ring: float) -> list[dict]:
        """Where partial labels say "background": the background examples (points as small discs) and a ring
        around each object, ``ring`` times its size wide (GeoJSON-like, the raster's CRS)."""
        pixel = math.hypot(self.transform.a, self.transform.b)
        examples = [shape(p.geometry) for p in found if p.class_id == 0]
        disc = BACKGROUND_POINT_PIXELS * pixel
        areas = [e.buffer(disc) if isinstance(e, Point | MultiPoint) else e for e in examples]
        for obj in (shape(p.geometry) for p in self.polygons):
            areas.append(obj.buffer(max(ring * math.sqrt(obj.area), pixel)).difference(obj))
        return [mapping(area) for area in areas if not area.is_empty]

    def _open_mask(self) -> None:
        if not self.path.exists():
            raise MissingInputError(f"labels not found: {self.path}")
        try:
            source = rasterio.open(self.path)
        except rasterio.errors.RasterioIOError:
            raise InvalidInputError(
                f"{self.path.name} is neither a vector file ({', '.join(VECTOR_SUFFIXES)}) nor a raster mask"
            ) from None
        self._nodata = source.nodata
        height, width = self.shape
        # Read the mask on the orthophoto's grid, whatever its own grid (nearest neighbour keeps classes).
        self._mask = WarpedVRT(
            source,
            crs=self.crs or source.crs,
            transform=self.transform,
            width=width,
            height=height,
            resampling=Resampling.nearest,
            nodata=self._nodata if self._nodata is not None else IGNORE,
        )

    @property
    def class_names(self) -> dict[int, str]:
        """Each class's name from the labels' name field (the first name seen for a class id); empty without."""
        names: dict[int, str] = {}
        for polygon in self.polygons:
            if polygon.class_name is not None:
                names.setdefault(polygon.class_id, polygon.class_name)
        return names

    def overlaps(self) -> bool:
        """Whether any label lies on the raster."""
        height, width = self.shape
        left, top = self.transform * (0, 0)
        right, bottom = self.transform * (width, height)
        xmin, xmax, ymin, ymax = min(left, right), max(left, right), min(top, bottom), max(top, bottom)
        if self._mask is not None:
            return True  # checked per window: a mask with no labels gives empty or ignored tiles
        for polygon in self.polygons:
            west, south, east, north = shape(polygon.geometry).bounds
            if west < xmax and east > xmin and south < ymax and north > ymin:
                return True
        return False

    def read(self, window: Window) -> tuple[np.ndarray, np.ndarray]:
        """Class map (uint8, IGNORE unlabelled) and instance map (int32) of ``window`` (padded outside)."""
        rows, cols = int(window.height), int(window.width)
        transform = rasterio.windows.transform(window, self.transform)
        if self._mask is None:
            shapes = [(p.geometry, p.class_id) for p in self.polygons]
            unlabelled = IGNORE if self.cover == "partial" else 0
            if self.background:  # background first: an object drawn over a neighbour's ring stays an object
                shapes = [(area, 0) for area in self.background] + shapes
            classes = rasterize(shapes, out_shape=(rows, cols), transform=transform, fill=unlabelled, dtype="uint8")
            instances = rasterize(
                [(p.geometry, i) for i, p in enumerate(self.polygons, start=1)],
                out_shape=(rows, cols),
                transform=transform,
                fill=0,
                dtype="int32",
            )
            return classes, instances
        values = np.full((rows, cols), self._mask.nodata, dtype=self._mask.dtypes[0])
        col, row = int(window.col_off), int(window.row_off)
        c0, r0 = max(col, 0), max(row, 0)
        c1, r1 = min(col + cols, self.shape[1]), min(row + rows, self.shape[0])
        if c0 < c1 and r0 < r1:  # a warped VRT cannot read past its edges: read the inside, pad the rest
            inside = Window(c0, r0, c1 - c0, r1 - r0)
            values[r0 - row : r1 - row, c0 - col : c1 - col] = self._mask.read(1, window=inside)
        ignore = values == self._mask.nodata if self.class_zero else np.zeros(values.shape, dtype=bool)
        values = np.where(values == self._mask.nodata, 0, values)
        foreground = np.isin(values, self.classes) if self.classes else values > 0
        classes = np.where(foreground, values, 0).astype(np.uint8)
        classes[ignore] = IGNORE
        return classes, _instances(foreground & ~ignore)

    def close(self) -> None:
        if self._mask is not None:
            self._mask.close()


def _instances(mask: np.ndarray) -> np.ndarray:
    """Connected parts of ``mask`` (4-connectivity) numbered from 1, via polygons (GDAL) and rasterizing."""
    if not mask.any():
        return np.zeros(mask.shape, dtype=np.int32)
    parts = mask_to_polygons(mask, Affine.identity(), PolygonOptions(min_pixels=0, simplify=0))
    return rasterize(
        [(p, i) for i, p in enumerate(parts, start=1)],
        out_shape=mask.shape,
        transform=Affine.identity(),
        fill=0,
        dtype="int32",
    )
