"""Plugin tests run in a process with QGIS (pytest-qgis, offscreen) and never import torch or sam2.

The engine runs as a worker process with this test run's interpreter (the project's .venv); see the
``engine_files`` fixture in tests/conftest.py.
"""
