"""What every SAM 2 algorithm shares: the engine's Python, its command line run as a job with progress and
cancel through the feedback, refusals as QgsProcessingExceptions. No torch in this process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qgis.core import (
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingException,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterExtent,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
    QgsProcessingUtils,
    QgsRasterBlockFeedback,
    QgsRasterLayer,
)
from qgis.PyQt.QtGui import QIcon

from ..engine import EngineError, candidate_pythons
from ..i18n import tr
from ..jobs import run_core_job
from ..remote import area_for, is_local_file, is_web_service, render
from ..session import SessionError
from ..settings import ENGINE_PYTHON
from ..shapes import ShapeChoices, polygon_options
from .options import option_parameter, option_value

ICON = Path(__file__).parent.parent / "icons" / "sam2.svg"


def engine_python() -> str:
    found = candidate_pythons(ENGINE_PYTHON.value() or None)
    if not found:
        raise QgsProcessingException(
            tr("no Python with torch and rf-sam-2 is configured: set it in the SAM 2 panel (Settings...)")
        )
    return found[0]


class EngineAlgorithm(QgsProcessingAlgorithm):
    """Shared plumbing: the engine's command line with progress and cancel through the feedback."""

    HELP = ""

    def shortHelpString(self) -> str:  # noqa: N802
        return tr(self.HELP)

    def group(self) -> str:
        return tr("SAM 2")

    def groupId(self) -> str:  # noqa: N802
        return "sam2"

    def icon(self) -> QIcon:
        return QIcon(str(ICON))

    def createInstance(self) -> QgsProcessingAlgorithm:  # noqa: N802
        return type(self)()

    def processAlgorithm(self, parameters: dict[str, Any], context: Any, feedback: Any) -> dict[str, Any]:  # noqa: N802
        """Runs ``process``; a refusal (QgsProcessingException) is raised again from a frame that holds nothing
        else. QGIS never releases a QgsProcessingException raised here (the sip error handler in its core.sip.in
        fetches it and never lets go: 3.22 and its current source), nor the frames it passed through: ours would
        keep the parameters, the context, their layers and the engine's request for good. The caller's frames
        are kept all the same (a script that hands Python-made layers to a refused run may crash when it exits
        after exitQgis: pass paths or project layers)."""
        try:
            return self.process(parameters, context, feedback)
        except QgsProcessingException as error:
            message = str(error)
        del parameters, context, feedback
        raise QgsProcessingException(message)

    def process(self, parameters: dict[str, Any], context: Any, feedback: Any) -> dict[str, Any]:
        """The algorithm's work (processAlgorithm in QGIS's terms): its outputs by name."""
        raise NotImplementedError

    def run_engine(
        self, command: str, request: dict[str, Any], parameters: dict[str, Any], context: Any, feedback: Any
    ) -> dict[str, Any]:
        """Run the engine's ``command`` with ``request`` (options under the engine's names) and the flags the
        analyst typed under "More options" (they win)."""
        flags = self.parameterAsString(parameters, "EXTRA", context).split() if "EXTRA" in parameters else []

        def progress(value: float, event: dict[str, Any]) -> None:
            feedback.setProgress(value)
            if "iou" in event:
                feedback.pushInfo(f"epoch {event.get('epoch')}: validation IoU {event['iou']:.4f}")

        try:
            return run_core_job(engine_python(), command, request, progress, feedback.isCanceled, flags=flags)
        except InterruptedError as error:
            feedback.reportError(str(error))
            return {}
        except EngineError as error:
            raise QgsProcessingException(str(error)) from None

    def add_options(self, job: str, basic: dict[str, str], advanced: dict[str, str]) -> None:
        """Parameters for ``job``'s options (``{option: title}``), made from the engine's description."""
        for option, title in basic.items():
            self.addParameter(option_parameter(option, job, title))
        for option, title in advanced.items():
            self.addParameter(option_parameter(option, job, title, advanced=True))

    def options(self, parameters: dict[str, Any], context: Any, job: str, names: tuple[str, ...]) -> dict[str, Any]:
        """The values of the option parameters ``names`` (made by ``option_parameter``) under the engine's names."""
        return {name: option_value(self, parameters, context, name, job) for name in names}

    def add_more_options(self, command: str) -> None:
        """EXTRA (advanced): any other flags of the engine's ``command``, typed as on the command line."""
        extra = QgsProcessingParameterString(
            "EXTRA", tr("More options ({command} command flags)").format(command=command), optional=True
        )
        extra.setFlags(extra.flags() | QgsProcessingParameterDefinition.Flag.FlagAdvanced)
        self.addParameter(extra)

    def add_label_parameters(self, labels_title: str, classes_title: str) -> None:
        """LABELS (polygons), their CLASS_FIELD and the CLASSES that count, and an optional AOI."""
        polygons = [QgsProcessing.SourceType.TypeVectorPolygon]
        self.addParameter(QgsProcessingParameterFeatureSource("LABELS", labels_title, polygons))
        self.addParameter(
            QgsProcessingParameterField(
                "CLASS_FIELD", tr("Class field (empty: every polygon is an object)"), parentLayerParameterName="LABELS",
                optional=True,
            )
        )  # fmt: skip
        self.addParameter(QgsProcessingParameterString("CLASSES", classes_title, optional=True))
        area = QgsProcessingParameterFeatureSource("AOI", tr("Area of interest (optional)"), polygons, optional=True)
        self.addParameter(area)

    def add_render_parameters(self) -> None:
        """EXTENT and PIXEL_SIZE (advanced): where and how finely a raster that is no local file (WMS, WMTS, XYZ,
        a GeoTIFF over HTTP) is rendered for the engine, as the panel does for the visible map."""
        extent = QgsProcessingParameterExtent(
            "EXTENT", tr("Area to render a web layer over (default: the area of interest's or labels' extent)"),
            optional=True,
        )  # fmt: skip
        pixel = QgsProcessingParameterNumber(
            "PIXEL_SIZE", tr("Ground pixel of a web layer's render, in the area's map units (e.g. 0.3)"),
            QgsProcessingParameterNumber.Type.Double, 0.0, True, 0.0,
        )  # fmt: skip
        for parameter in (extent, pixel):
            parameter.setFlags(parameter.flags() | QgsProcessingParameterDefinition.Flag.FlagAdvanced)
            self.addParameter(parameter)

    def raster_file(
        self, parameters: dict[str, Any], context: Any, feedback: Any, around: tuple[str, ...] = ("AOI",)
    ) -> tuple[str, QgsRasterLayer]:
        """The file the engine opens for RASTER and a layer of it: the layer's own file, or a render over EXTENT
        (else the extent of the first of ``around`` given; else the layer's own, which a web layer has not)."""
        raster = self.parameterAsRasterLayer(parameters, "RASTER", context)
        if is_local_file(raster):
            return raster.source(), raster
        if parameters.get("EXTENT"):
            crs = self.parameterAsExtentCrs(parameters, "EXTENT", context)
            extent = self.parameterAsExtent(parameters, "EXTENT", context, crs)
        else:
            sources = [self.parameterAsSource(parameters, name, context) for name in around if parameters.get(name)]
            if sources:
                extent, crs = sources[0].sourceExtent(), sources[0].sourceCrs()
            elif is_web_service(raster):
                raise QgsProcessingException(
                    tr("{layer} is a web layer without edges: give the area to render it over (Extent)").format(
                        layer=raster.name()
                    )
                )
            else:
                extent, crs = raster.extent(), raster.crs()
        pixel = self.parameterAsDouble(parameters, "PIXEL_SIZE", context)
        if is_web_service(raster) and pixel <= 0:
            raise QgsProcessingException(
                tr("give the ground pixel to render {layer} at (Pixel size, e.g. 0.3 for 30 cm imagery)").format(
                    layer=raster.name()
                )
            )
        block = QgsRasterBlockFeedback()
        feedback.canceled.connect(block.cancel)
        folder = Path(QgsProcessingUtils.tempFolder()) / "sam2_renders"
        feedback.pushInfo(tr("rendering {layer} for the engine").format(layer=raster.name()))
        try:
            path = render(raster, area_for(raster, extent, crs, pixel), folder, block)
        except (SessionError, InterruptedError) as error:
            raise QgsProcessingException(str(error)) from None
        return str(path), QgsRasterLayer(str(path), raster.name())

    def add_band_parameter(self) -> None:
        """BANDS (advanced): the raster's bands read as R, G, B, e.g. 4,1,2 (empty: 1,2,3)."""
        bands = QgsProcessingParameterString("BANDS", tr("Bands read as red, green, blue (e.g. 4,1,2)"), optional=True)
        bands.setFlags(bands.flags() | QgsProcessingParameterDefinition.Flag.FlagAdvanced)
        self.addParameter(bands)

    def band_option(self, parameters: dict[str, Any], context: Any) -> list[int] | None:
        """The request's ``bands`` from BANDS (None: the engine's default)."""
        text = self.parameterAsString(parameters, "BANDS", context).replace(" ", "")
        if not text:
            return None
        try:
            return [int(band) for band in text.split(",")]
        except ValueError:
            raise QgsProcessingException(
                tr("bands {text} must be band numbers such as 4,1,2").format(text=repr(text))
            ) from None

    def add_shape_parameters(self, clicks: bool = False) -> None:
        """How masks become polygons and which are kept, in ground units (see shapes.ShapeChoices), as in the
        panel; ``clicks``: an algorithm that segments prompted objects (LARGEST_PART)."""
        number = QgsProcessingParameterNumber.Type.Double
        for name, title in (
            ("SIMPLIFY", tr("Simplify tolerance (m; 0: one pixel)")),
            ("RIGHT_ANGLES", tr("Right angles for buildings: tolerance in degrees (0: off; 15 suits most)")),
            ("MIN_AREA", tr("Smallest object kept (m² on the ground; 0: off)")),
            ("MAX_AREA", tr("Largest object kept (m²; 0: no limit)")),
            ("MIN_DIAMETER", tr("Narrowest object kept (m across: its smallest enclosing circle; 0: off)")),
            ("MAX_DIAMETER", tr("Widest object kept (m across; 0: no limit)")),
            ("MIN_COMPACTNESS", tr("Least compact object kept (4πA/P²: 1 a circle, 0.79 a square; 0: off)")),
        ):
            parameter = QgsProcessingParameterNumber(name, title, number, 0.0, False, 0.0)
            if name in ("RIGHT_ANGLES", "MIN_COMPACTNESS"):
                parameter.setMaximum(40.0 if name == "RIGHT_ANGLES" else 1.0)
            parameter.setFlags(parameter.flags() | QgsProcessingParameterDefinition.Flag.FlagAdvanced)
            self.addParameter(parameter)
        checks = [("FILL_HOLES", tr("Fill holes"))]
        if clicks:
            checks.append(("LARGEST_PART", tr("Keep only the largest part of each object")))
        for name, title in checks:
            check = QgsProcessingParameterBoolean(name, title, False)
            check.setFlags(check.flags() | QgsProcessingParameterDefinition.Flag.FlagAdvanced)
            self.addParameter(check)

    def shape_options(self, parameters: dict[str, Any], context: Any, raster: Any) -> dict[str, Any]:
        """The engine's polygon options for ``raster`` from the parameters ``add_shape_parameters`` made."""
        choices = ShapeChoices(
            simplify_m=self.parameterAsDouble(parameters, "SIMPLIFY", context),
            fill_holes=self.parameterAsBoolean(parameters, "FILL_HOLES", context),
            min_area_m2=self.parameterAsDouble(parameters, "MIN_AREA", context),
            right_angles=self.parameterAsDouble(parameters, "RIGHT_ANGLES", context),
            max_area_m2=self.parameterAsDouble(parameters, "MAX_AREA", context),
            min_diameter_m=self.parameterAsDouble(parameters, "MIN_DIAMETER", context),
            max_diameter_m=self.parameterAsDouble(parameters, "MAX_DIAMETER", context),
            min_compactness=self.parameterAsDouble(parameters, "MIN_COMPACTNESS", context),
            largest_part="LARGEST_PART" in parameters and self.parameterAsBoolean(parameters, "LARGEST_PART", context),
        )
        return polygon_options(raster, choices)

    def label_options(self, parameters: dict[str, Any], context: Any, feedback: Any) -> dict[str, Any]:
        """The request's class_field, classes and aoi from the parameters ``add_label_parameters`` made."""
        return {
            "class_field": self.parameterAsString(parameters, "CLASS_FIELD", context) or None,
            "classes": self.parameterAsString(parameters, "CLASSES", context).strip() or None,
            "aoi": self.aoi_path(parameters, context, feedback),
        }

    def aoi_path(self, parameters: dict[str, Any], context: Any, feedback: Any) -> str | None:
        """A file the engine can read for the optional AOI parameter (None: none given)."""
        return self.labels_path(parameters, context, feedback, "AOI") if parameters.get("AOI") else None

    def labels_path(self, parameters: dict[str, Any], context: Any, feedback: Any, name: str = "LABELS") -> str:
        """A file the engine can read for the vector parameter ``name`` (memory layers are written out)."""
        return self.parameterAsCompatibleSourceLayerPath(
            parameters, name, context, ["gpkg", "shp", "geojson"], "gpkg", feedback
        )
