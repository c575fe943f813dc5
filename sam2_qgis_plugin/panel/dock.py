"""The SAM 2 panel: the running job, the engine, the model and the orthophoto always in view; below them one task
at a time, in tabs: Segment, Learn (your labels, Find the rest, Where to label next, fine-tuning), Predict and
Shapes. Widgets only: the plugin connects them."""

from __future__ import annotations

from typing import Any

from qgis.PyQt.QtCore import QEvent
from qgis.PyQt.QtWidgets import QDockWidget, QScrollArea, QTabWidget, QVBoxLayout, QWidget

from .. import job_defaults
from ..i18n import tr
from .engine import EngineSection
from .find import FindSection
from .job import JobSection
from .labels import LabelsSection
from .model import ModelSection
from .predict import PredictSection
from .raster import RasterSection
from .section import Section
from .segment import SegmentSection
from .shapes import ShapesSection
from .suggest import SuggestSection
from .train import TrainSection
from .widgets import fit_narrow
from .years import YearsSection


def scrolled(content: QWidget, parent: QWidget) -> QScrollArea:
    scroll = QScrollArea(parent)
    scroll.setWidgetResizable(True)
    scroll.setWidget(content)
    return scroll


class Sam2Dock(QDockWidget):
    """The panel's sections as attributes (``dock.segment.output_combo``); ``show_section`` brings one into view."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("SAM 2", parent)
        self.setObjectName("Sam2Dock")
        body = QWidget(self)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)

        top = QWidget(body)  # always in view: what runs, with which engine and model, on which raster
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        self.job = JobSection(top)
        self.engine = EngineSection(top)
        self.model = ModelSection(top)
        self.raster = RasterSection(top)
        for widget in (self.job, self.engine, self.model, self.raster):
            top_layout.addWidget(widget)
        for section in (self.engine, self.model, self.raster):  # tight: the tabs below need the height
            section.layout().setContentsMargins(6, 2, 6, 2)
            section.layout().setSpacing(4)
        fit_narrow(top)  # before a scroll area asks for its size (Qt keeps the first answer)
        self.top = scrolled(top, body)  # scrolls only when the dock is shorter than these four
        top.installEventFilter(self)  # its height follows its lines: fit_top

        self.tabs = QTabWidget(body)
        self.tabs.setObjectName("Sam2Tasks")
        self.segment = SegmentSection()
        self.labels = LabelsSection()
        self.find = FindSection()
        self.suggest = SuggestSection()
        self.train = TrainSection(self.labels)
        self.predict = PredictSection()
        self.years = YearsSection()
        self.shapes = ShapesSection()
        self.pages: dict[Section, QScrollArea] = {}
        for title, sections, tip in (
            (tr("Segment"), (self.segment,), tr("Click objects on the map")),
            (
                tr("Learn"),
                (self.labels, self.find, self.suggest, self.train),
                tr("Your labels: find the rest, where to label next, fine-tune"),
            ),
            (
                tr("Predict"),
                (self.predict, self.years),
                tr("The whole raster, the map's extent or an area; objects across years"),
            ),
            (tr("Shapes"), (self.shapes,), tr("How accepted clicks and predictions become polygons")),
        ):
            page = QWidget()
            page_layout = QVBoxLayout(page)
            page_layout.setContentsMargins(2, 2, 2, 2)  # the tab's frame is margin enough in a narrow dock
            for section in sections:
                page_layout.addWidget(section)
            page_layout.addStretch(1)
            fit_narrow(page)
            scroll = scrolled(page, self.tabs)
            index = self.tabs.addTab(scroll, title)
            self.tabs.setTabToolTip(index, tip)
            self.pages |= dict.fromkeys(sections, scroll)
        layout.addWidget(self.top, 0)
        layout.addWidget(self.tabs, 1)
        for section in self.sections():
            section.keep_choices()
        self.setWidget(body)

    def eventFilter(self, watched: Any, event: Any) -> bool:  # noqa: N802  (Qt's name)
        if watched is self.top.widget() and event.type() in (QEvent.Type.LayoutRequest, QEvent.Type.Resize):
            self.fit_top()
        return False

    def fit_top(self) -> None:
        """The top area as tall as its lines need at the dock's width, no taller: a scroll area asks for its
        content's height at the narrowest width (every status line wrapped many times), which left blank space
        and took the tabs' room."""
        content, width = self.top.widget(), self.top.viewport().width()
        needed = content.heightForWidth(width) if content.hasHeightForWidth() else content.sizeHint().height()
        self.top.setMaximumHeight(needed + 2 * self.top.frameWidth())

    def sections(self) -> list[Section]:
        return [self.engine, self.model, self.raster, *self.pages]

    def show_section(self, section: Section, widget: QWidget | None = None) -> None:
        """Bring ``section``'s tab to the front and scroll ``widget`` (or the section) into view."""
        page = self.pages.get(section)
        if page is None:
            self.top.ensureWidgetVisible(widget or section)
            return
        self.tabs.setCurrentWidget(page)
        page.ensureWidgetVisible(widget or section)

    def overflow_px(self) -> int:
        """How far the panel as shown (the top and the open tab) is cut off at the right (0: it fits the dock)."""
        shown = self.tabs.currentWidget()
        return max(scroll.horizontalScrollBar().maximum() for scroll in (self.top, shown) if scroll is not None)

    # -- a job's options, gathered from the sections that hold them -----------------------------------------

    def training_options(self) -> dict[str, Any]:
        """Fine-tuning's options under the engine's names (``python -m core describe``; no paths)."""
        return {**self.train.options(), "class_field": self.labels.class_field(), "device": self.engine.device()}

    def find_options(self) -> dict[str, Any]:
        """Find's options under the engine's names: the time budget, and the tile size and device of training."""
        tile_size = min(self.train.options()["tile_size"], job_defaults.default("tile_size", "find"))
        return {**self.find.options(), "tile_size": tile_size, "device": self.engine.device()}

    def prediction_options(self) -> dict[str, Any]:
        """Prediction's options under the engine's names (no paths): the class is the one clicks write."""
        return {"label": self.segment.class_name(), **self.predict.options()}
