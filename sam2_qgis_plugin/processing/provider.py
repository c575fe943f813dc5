"""The SAM 2 provider of QGIS's Processing framework: the toolbox, batch mode, the model builder and
qgis_process list its algorithms."""

from __future__ import annotations

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

from .base import ICON
from .evaluate import EvaluateSegmentation
from .find_the_rest import FindTheRest
from .fine_tune import FineTune
from .follow_years import FollowYears
from .predict import PredictRaster
from .predict_region import PredictRegion
from .segment import SegmentFromPoints
from .tiles import CreateTrainingTiles
from .where_to_label import WhereToLabelNext


class Sam2Provider(QgsProcessingProvider):
    def id(self) -> str:
        return "sam2"

    def name(self) -> str:
        return "SAM 2"

    def icon(self) -> QIcon:
        return QIcon(str(ICON))

    def loadAlgorithms(self) -> None:  # noqa: N802
        algorithms = (
            CreateTrainingTiles(), FineTune(), FindTheRest(), WhereToLabelNext(), PredictRaster(), PredictRegion(),
            EvaluateSegmentation(), SegmentFromPoints(), FollowYears(),
        )  # fmt: skip
        for algorithm in algorithms:
            self.addAlgorithm(algorithm)
