"""Prediction rasters to polygon layers: GDAL's polygonize through rasterio (streamed), clean-up, attributes.

Attributes of every polygon: ``instance_id`` (1..n, one per object), ``class`` (the class's name),
``class_id`` (the mask's value), ``score`` (mean probability of its class inside it, when the probability
raster is given), ``area_m2``, ``model``, ``source`` (the imagery predicted: a
layer's name, or the raster file's), ``created``. With ``instances``, touching objects are split apart first
(``core.geometry.instances``). The format follows the extension: GeoPackage, GeoJSON or Shapefile.
"""

from __future__ import annotations

import time
from pathlib import Path

import rasterio
from rasterio.features import rasterize, shapes
from rasterio.windows import Window, from_bounds
from rasterio.windows import transform as window_transform
from shapely import unary_union
from shapely.geometry import mapping, shape

from core.geometry.instances import InstanceOptions, split_region
from core.geometry.polygons import GroundFilter, Polygonal, PolygonOptions, clean_polygon
from core.io.vectors import PolygonFeature, write_polygons

SOLID = 0.95  # a region filling this share of its convex hull is one object
FIELDS = {
    "instance_id": int,
    "class": str,
    "class_id": int,
    "score": float,
    "area_m2": float,
    "model": str,
    "source": str,
    "created": str,
}


def _mean_probability(probabilities: rasterio.io.DatasetReader, geometry: dict, band: int = 1) -> float | None:
    xmin, ymin, xmax, ymax = shape(geometry).bounds
    window = from_bounds(xmin, ymin, xmax, ymax, probabilities.transform).round_offsets().round_lengths()
    values = probabilities.read(band, window=window, boundless=True, fill_value=-1.0)
    inside = rasterize([geometry], out_shape=values.shape, transform=probabilities.window_transform(window)) == 1
    inside &= values >= 0
    return round(float(values[inside].mean()), 4) if inside.any() else None


def objects_of(polygon: Polygonal, transform: rasterio.Affine, options: InstanceOptions) -> list[Polygonal]:
    """``polygon`` (traced from the mask on the grid of ``transform``) split into its objects."""
    if polygon.area >= SOLID * polygon.convex_hull.area:  # nearly convex: no neck to split at (most buildings)
        return [polygon]
    xmin, ymin, xmax, ymax = polygon.bounds
    window = from_bounds(xmin, ymin, xmax, ymax, transform).round_offsets().round_lengths()
    window = Window(window.col_off - 1, window.row_off - 1, window.width + 2, window.height + 2)
    local = window_transform(window, transform)
    region = rasterize([polygon], out_shape=(int(window.height), int(window.width)), transform=local) == 1
    ids = split_region(region, options)
    if ids.max() <= 1:
        return [polygon]
    pieces: dict[int, list[Polygonal]] = {}
    for geometry, value in shapes(ids, mask=ids > 0, connectivity=4, transform=local):
        pieces.setdefault(int(value), []).append(shape(geometry))
    return [unary_union(parts) if len(parts) > 1 else parts[0] for _, parts in sorted(pieces.items())]


def export_polygons(
    mask_path: Path,
    out_path: Path,
    probabilities_path: Path | None = None,
    class_name: str = "object",
    model: str = "",
    options: PolygonOptions | None = None,
    layer: str = "predictions",
    source_name: str = "",
    instances: InstanceOptions | None = None,
    classes: dict[int, str] | None = None,
) -> int:
    """Polygons of the pixels equal to 1 in ``mask_path`` (a class raster: of each value of ``classes``, id ->
    name, the probability raster then holding one band per class in that order) written to ``out_path``, one per
    object when ``instances`` are asked for (else one per connected region); returns their number."""
    names = classes or {1: class_name}
    bands = {class_id: index for index, class_id in enumerate(names, start=1)}
    options = options or PolygonOptions()
    created = time.strftime("%Y-%m-%dT%H:%M:%S")
    probabilities = rasterio.open(probabilities_path) if probabilities_path else None
    features: list[PolygonFeature] = []
    try:
        with rasterio.open(mask_path) as source:
            crs, pixel = source.crs, abs(source.transform.a)
            ground = GroundFilter(options, crs)
            band = rasterio.band(source, 1)  # read block by block; zeros (background) are left out by the mask
            for raw, value in shapes(band, mask=band, connectivity=4, transform=source.transform):
                if int(value) not in names:
                    continue
                class_id = int(value)
                region = shape(raw)
                objects = objects_of(region, source.transform, instances) if instances else [region]
                for found in objects:
                    polygon = clean_polygon(found, options, pixel, min_area=options.min_pixels * pixel * pixel)
                    if polygon is None or not ground.keeps(polygon):
                        continue
                    geometry = mapping(polygon)
                    score = (
                        _mean_probability(probabilities, geometry, bands[class_id])
                        if probabilities is not None
                        else None
                    )
                    attributes: dict[str, int | float | str | None] = {
                        "instance_id": len(features) + 1,
                        "class": names[class_id],
                        "class_id": class_id,
                        "score": score,
                        "area_m2": round(ground.measure.area_m2(polygon), 3),
                        "model": model,
                        "source": source_name,
                        "created": created,
                    }
                    features.append(PolygonFeature(geometry, attributes))
    finally:
        if probabilities is not None:
            probabilities.close()
    crs_wkt = crs.to_wkt() if crs else ""
    write_polygons(out_path, features, crs_wkt, layer_name=layer, fields=FIELDS)
    return len(features)


__all__ = ["FIELDS", "export_polygons"]
