"""Running SAM 2: preprocessing, image embeddings and their cache, prompt decoders, click segmentation,
whole-raster prediction with its config, uncertainty, and the read-ahead/write-behind threads that feed it."""
