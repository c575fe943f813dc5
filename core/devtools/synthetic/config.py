"""Parameters of a synthetic scene and the class table of its ground truth."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from core.errors import InvalidConfigError

#: Ground-truth class ids in mask rasters and the ``class_id`` field of label layers.
CLASS_NAMES: dict[int, str] = {0: "background", 1: "building", 2: "tree", 3: "road"}
BUILDING, TREE, ROAD = 1, 2, 3
#: Mask value outside the image's valid footprint (where the image is nodata).
MASK_NODATA = 255
#: Image value outside the valid footprint, all bands.
IMAGE_NODATA = 0


@dataclass(frozen=True)
class SyntheticSceneConfig:
    """A synthetic orthophoto: size in pixels, georeferencing, bands, dtype, content density.

    ``origin`` is the (x, y) map coordinate of the upper-left corner; pixels are square,
    ``pixel_size`` metres. Object counts default to a density typical of a suburb: per hectare,
    ``buildings_per_ha`` buildings and ``trees_per_ha`` trees; ``roads`` roads cross the scene.
    """

    width: int = 512
    height: int = 512
    pixel_size: float = 0.25
    crs: str = "EPSG:32633"
    origin: tuple[float, float] = (500_000.0, 5_500_000.0)
    bands: Literal["RGB", "RGBI"] = "RGB"
    dtype: Literal["uint8", "uint16"] = "uint8"
    nodata_border: bool = False
    seed: int = 0
    buildings_per_ha: float = 12.0
    trees_per_ha: float = 40.0
    roads: int | None = None

    def __post_init__(self) -> None:
        if self.width < 32 or self.height < 32:
            raise InvalidConfigError(f"scene of {self.width}x{self.height} px is too small: use at least 32x32")
        if not 0.1 <= self.pixel_size <= 0.5:
            raise InvalidConfigError(
                f"pixel_size {self.pixel_size} m is outside 0.1-0.5 m: objects are sized for orthophotos"
            )
        if self.bands not in ("RGB", "RGBI"):
            raise InvalidConfigError(f"bands must be 'RGB' or 'RGBI', not {self.bands!r}")
        if self.dtype not in ("uint8", "uint16"):
            raise InvalidConfigError(f"dtype must be 'uint8' or 'uint16', not {self.dtype!r}")
        if self.buildings_per_ha < 0 or self.trees_per_ha < 0 or (self.roads is not None and self.roads < 0):
            raise InvalidConfigError("object densities and the road count cannot be negative")

    @property
    def band_count(self) -> int:
        return len(self.bands)

    @property
    def area_ha(self) -> float:
        return self.width * self.height * self.pixel_size**2 / 10_000

    @property
    def max_value(self) -> int:
        """Brightest value: 255 for uint8, 4095 (12-bit sensor data) for uint16."""
        return 255 if self.dtype == "uint8" else 4095
