"""Shapes from masks and back: polygons with their clean-up (right angles), and touching objects split into
instances. Pure numpy, shapely and GDAL in memory: no files, no models."""
