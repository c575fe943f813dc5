"""Reading and writing geodata: rasters, vector layers, labels and areas of interest read onto raster windows,
tiling, output paths, atomic outputs (nothing half-written) and the cache of downloaded files. No models."""
