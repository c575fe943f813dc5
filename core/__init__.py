"""Qt-free engine of the SAM 2 QGIS plugin: rasters, models, training, inference, evaluation.

Nothing in this package imports Qt or QGIS; tests enforce it (tests/core/test_boundaries.py).
"""

__version__ = "0.1.0"
