"""Deterministic synthetic orthophotos with exact ground truth, for tests, benchmarks and the demo.

from core.devtools.synthetic import SyntheticSceneConfig, generate_scene, write_scene
scene = generate_scene(SyntheticSceneConfig(width=512, height=512, seed=1))
paths = write_scene(scene, "out/")   # image.tif, mask.tif, labels.gpkg, scene.json
"""

from core.devtools.synthetic.config import CLASS_NAMES, MASK_NODATA, SyntheticSceneConfig
from core.devtools.synthetic.scene import (
    SceneObject,
    ScenePaths,
    SyntheticScene,
    generate_scene,
    write_scene,
    write_synthetic_scene,
)
from core.devtools.synthetic.tiles import cut_into_tiles
from core.devtools.synthetic.years import YearsConfig, write_year_sequence, year_sequence

__all__ = [
    "CLASS_NAMES",
    "MASK_NODATA",
    "SceneObject",
    "ScenePaths",
    "SyntheticScene",
    "SyntheticSceneConfig",
    "YearsConfig",
    "cut_into_tiles",
    "generate_scene",
    "write_scene",
    "write_synthetic_scene",
    "write_year_sequence",
    "year_sequence",
]
