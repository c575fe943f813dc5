"""Qt-free engine of the SAM 2 QGIS plugin. Its packages, lowest layer first (tests/core/test_layering.py):

- ``geometry``: polygons from masks, right angles, instances (pure computation);
- ``tracking``: objects matched from year to year, and what changed (pure computation);
- ``io``: rasters, vector layers, labels, AOIs, tiling, output paths, atomic outputs, the download cache;
- ``models``: SAM 2 sizes, checkpoints, weights, devices, class tokens;
- ``inference``: embeddings, decoders, click segmentation, whole-raster prediction;
- ``evaluation``: metrics and report plots;
- ``training``: fine-tuning runs;
- ``workflows``: jobs that combine training and inference (find the rest, where to label next);
- ``jobs``: the job contract with the plugin (requests, events, logs, the worker);
- ``cli``: ``python -m core``, one module per command;
- ``devtools``: synthetic scenes, the demo, sample data (not shipped).

``errors`` and ``options`` are shared by all. Nothing here imports Qt or QGIS (tests/core/test_boundaries.py).
"""

__version__ = "0.1.0"
