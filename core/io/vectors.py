"""Read and write polygon layers, and write point layers (GeoPackage, GeoJSON, Shapefile) with pyogrio: a PyPI
wheel that carries its own GDAL, so that the engine needs no GDAL Python bindings (``osgeo``) on any platform.

Geometries are GeoJSON-like mappings ``{"type": "Polygon" | "MultiPolygon", "coordinates": ...}`` with
coordinates in (x, y) = (easting, northing) or (lon, lat) order of the layer's CRS, the convention
rasterio and shapely use, so the same objects go to ``rasterio.features.rasterize``.
"""

from __future__ import annotations

import datetime
import os
import shutil
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from rasterio.crs import CRS
from shapely.geometry import MultiPolygon, Point, Polygon, mapping, shape

from core.errors import InvalidInputError, MissingInputError
from core.io.atomic import atomic_output, check_space_after_failure

with warnings.catch_warnings():  # pyogrio looks for pyproj, which may warn about its own data; not used here
    warnings.simplefilter("ignore")
    import pyogrio
    from pyogrio import raw
    from pyogrio.errors import DataLayerError, DataSourceError

DRIVERS = {".gpkg": "GPKG", ".geojson": "GeoJSON", ".json": "GeoJSON", ".shp": "ESRI Shapefile"}
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
# GeoPackage 1.2: what GDAL < 3.7 (QGIS 3.22's) opens without a warning; we use nothing newer
DATASET_OPTIONS = {"GPKG": {"VERSION": "1.2"}}
LAYER_OPTIONS = {"ESRI Shapefile": {"ENCODING": "UTF-8"}}
_ARRAY_TYPES: dict[type, Any] = {int: np.int64, float: np.float64, str: object, datetime.date: "datetime64[D]"}

Geometry = Mapping[str, Any]


@dataclass(frozen=True)
class PolygonFeature:
    """One polygon or multipolygon with its attributes."""

    geometry: Geometry
    attributes: Mapping[str, int | float | str | None] = field(default_factory=dict)  # or datetime.date


@dataclass(frozen=True)
class PointFeature:
    """One point (x, y in the layer's CRS) with its attributes."""

    x: float
    y: float
    attributes: Mapping[str, int | float | str | None] = field(default_factory=dict)


def crs_wkt_of(crs: str | None) -> str:
    """WKT of a CRS as pyogrio names it (``EPSG:32633`` or WKT); empty for none."""
    return CRS.from_user_input(crs).to_wkt() if crs else ""


def _driver_for(path: Path) -> str:
    try:
        return DRIVERS[path.suffix.lower()]
    except KeyError:
        raise InvalidInputError(
            f"cannot write polygons to {path.name}: use one of {', '.join(sorted(DRIVERS))}"
        ) from None


def _multipolygon(geometry: Geometry, index: int) -> MultiPolygon:
    """A shapely multipolygon from a GeoJSON-like mapping; InvalidInputError names the feature otherwise."""
    try:
        parsed = shape(geometry)
    except (AttributeError, KeyError, TypeError, ValueError, shapely.errors.GEOSException):
        parsed = None
    if parsed is None or parsed.is_empty or not isinstance(parsed, Polygon | MultiPolygon):
        raise InvalidInputError(
            f"feature {index} is not a polygon ({str(geometry)[:80]}): give Polygon or MultiPolygon geometries"
        )
    return parsed if isinstance(parsed, MultiPolygon) else MultiPolygon([parsed])


def _columns(
    features: Sequence[PolygonFeature | PointFeature], fields: Mapping[str, type]
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """One array per field and a mask of its missing values (None), in ``fields`` order."""
    columns, masks = [], []
    for name, kind in fields.items():
        values = [feature.attributes.get(name) for feature in features]
        missing = np.array([value is None for value in values], dtype=bool)
        if kind is datetime.date:  # a Date field (QGIS's Temporal Controller steps through it)
            days = [np.datetime64(str(v), "D") if v is not None else np.datetime64("NaT") for v in values]
            columns.append(np.array(days, dtype="datetime64[D]"))
        else:
            filler = "" if kind is str else 0
            columns.append(np.array([filler if v is None else kind(v) for v in values], dtype=_ARRAY_TYPES[kind]))
        masks.append(missing)
    return columns, masks


def write_polygons(
    path: str | os.PathLike[str],
    features: Sequence[PolygonFeature],
    crs_wkt: str,
    layer_name: str = "labels",
    fields: Mapping[str, type] | None = None,
) -> Path:
    """Write ``features`` as a new multipolygon layer; the file appears complete or not at all.

    ``fields`` maps attribute names to int, float, str or datetime.date; by default the types of the first
    feature.
    An existing file at ``path`` is replaced. ``crs_wkt`` empty: no CRS (the raster's pixel coordinates).
    """
    geometries = [shapely.to_wkb(_multipolygon(f.geometry, i)) for i, f in enumerate(features)]
    return _write_layer(Path(path), geometries, features, crs_wkt, layer_name, fields, "MultiPolygon")


def write_polygon_layers(
    path: str | os.PathLike[str],
    layers: Mapping[str, tuple[Sequence[PolygonFeature], Mapping[str, type]]],
    crs_wkt: str,
) -> Path:
    """Write several multipolygon layers (name -> features, fields) into one new GeoPackage, which appears
    complete, with all of them, or not at all."""
    path = Path(path)
    if _driver_for(path) != "GPKG":
        raise InvalidInputError(f"{path.name}: several layers go in a GeoPackage (.gpkg)")
    with atomic_output(path) as tmp:
        for index, (name, (features, fields)) in enumerate(layers.items()):
            geometries = [shapely.to_wkb(_multipolygon(f.geometry, i)) for i, f in enumerate(features)]
            _write_layer(tmp, geometries, features, crs_wkt, name, fields, "MultiPolygon", into_existing=index > 0)
    return path


def write_points(
    path: str | os.PathLike[str],
    points: Sequence[PointFeature],
    crs_wkt: str,
    layer_name: str,
    fields: Mapping[str, type] | None = None,
) -> Path:
    """Write ``points`` as a new point layer, as ``write_polygons`` writes polygons."""
    geometries = [shapely.to_wkb(Point(p.x, p.y)) for p in points]
    return _write_layer(Path(path), geometries, points, crs_wkt, layer_name, fields, "Point")


def _write_layer(
    path: Path,
    wkb: Sequence[bytes],
    features: Sequence[PolygonFeature | PointFeature],
    crs_wkt: str,
    layer_name: str,
    fields: Mapping[str, type] | None,
    geometry_type: str,
    into_existing: bool = False,
) -> Path:
    """A new layer of ``wkb`` geometries and the features' attributes; complete or not at all (``into_existing``:
    added to the GeoPackage ``path``, which its caller writes atomically)."""
    driver = _driver_for(path)
    if fields is None:
        first = features[0].attributes if features else {}
        fields = {name: type(value) for name, value in first.items() if value is not None}
    geometries = np.empty(len(wkb), dtype=object)
    geometries[:] = list(wkb)
    columns, masks = _columns(features, fields)

    def write(target: Path) -> None:
        with warnings.catch_warnings():  # no CRS is meant: the layer is in the raster's pixel coordinates
            warnings.filterwarnings("ignore", message="'crs' was not provided")
            _write(target)

    def _write(target: Path) -> None:
        raw.write(
            str(target),
            geometries,
            columns,
            fields=list(fields),
            field_mask=masks,
            layer=layer_name,
            driver=driver,
            geometry_type=geometry_type,
            crs=crs_wkt or None,
            dataset_options=DATASET_OPTIONS.get(driver),
            layer_options=LAYER_OPTIONS.get(driver),
            append=into_existing,
        )

    if into_existing:
        write(path)
        return path
    if driver != "ESRI Shapefile":
        with atomic_output(path) as tmp:
            write(tmp)
        return path
    # A Shapefile is several files: write them in a temporary folder beside ``path``, then move each.
    path.parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f".{path.stem}.", dir=path.parent))
    try:
        try:
            write(folder / path.name)
        except Exception as error:
            check_space_after_failure(error, path)
            raise
        for suffix in SHAPEFILE_PARTS:
            part = folder / f"{path.stem}{suffix}"
            if part.exists():
                os.replace(part, path.with_suffix(suffix))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return path


def read_layer(
    path: str | os.PathLike[str], layer_name: str | None = None
) -> tuple[list[tuple[Any, dict[str, Any]]], str, list[str]]:
    """Every feature of a vector layer as (shapely geometry or None, attributes), the layer's CRS as WKT and
    its field names. MissingInputError, InvalidInputError (not a vector file, no such layer) otherwise."""
    path = Path(path)
    if not path.exists():
        raise MissingInputError(f"vector file not found: {path}")
    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(str(path))]
    except DataSourceError:
        raise InvalidInputError(
            f"{path.name} is not a vector file with a layer: give a GeoPackage, Shapefile or GeoJSON"
        ) from None
    if not layers:
        raise InvalidInputError(f"{path.name} has no layer: give a GeoPackage, Shapefile or GeoJSON with polygons")
    if layer_name is not None and layer_name not in layers:
        raise InvalidInputError(f"{path.name} has no layer {layer_name!r}; its layers are {layers}")
    try:
        meta, _, wkb, columns = raw.read(str(path), layer=layer_name or layers[0])
    except (DataLayerError, DataSourceError) as error:
        raise InvalidInputError(f"cannot read {path.name}: {error}") from None
    names = [str(name) for name in meta["fields"]]
    geometries = shapely.from_wkb(wkb) if wkb is not None else [None] * len(columns[0] if columns else [])
    rows = []
    for index, geometry in enumerate(geometries):
        attributes = {name: _plain(column[index]) for name, column in zip(names, columns, strict=True)}
        rows.append((geometry, attributes))
    return rows, crs_wkt_of(meta["crs"]), names


def _plain(value: Any) -> Any:
    """A Python value for a numpy scalar; None for a missing one (NaN in a float column)."""
    if value is None or (isinstance(value, float | np.floating) and np.isnan(value)):
        return None
    return value.item() if isinstance(value, np.generic) else value


def read_polygons(path: str | os.PathLike[str], layer_name: str | None = None) -> tuple[list[PolygonFeature], str]:
    """All polygon features of a layer (others skipped) and the layer's CRS as WKT."""
    rows, crs_wkt, _ = read_layer(path, layer_name)
    features = [
        PolygonFeature(mapping(geometry), attributes)
        for geometry, attributes in rows
        if isinstance(geometry, Polygon | MultiPolygon) and not geometry.is_empty
    ]
    return features, crs_wkt
