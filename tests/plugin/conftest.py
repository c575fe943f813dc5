"""Plugin tests run in a process with QGIS (pytest-qgis, offscreen) and never import torch or sam2."""
