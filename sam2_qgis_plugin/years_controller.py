"""Follow across years from the panel: the engine's ``track`` job in a background task over the ticked flights;
the objects of every year and what changed are added to the project on the map's timeline."""

from __future__ import annotations

import datetime
import itertools
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qgis.core import (
    Qgis,
    QgsDateTimeRange,
    QgsInterval,
    QgsProject,
    QgsRasterLayer,
    QgsTemporalNavigationObject,
    QgsUnitTypes,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QDate, QDateTime, QTime

from .i18n import tr
from .output import OutputError, export_layer
from .prediction_controller import safe_name
from .remote import is_local_file
from .temporal import make_time_aware

if TYPE_CHECKING:
    from collections.abc import Callable

    from .host import Host
    from .panel.years import YearsSection
    from .tasks import EngineTask


class YearsController:
    """Follows the objects of the ticked flights with the active model."""

    def __init__(self, host: Host, section: Callable[[], YearsSection | None]) -> None:
        self.host = host
        self.section = section

    def follow(self, out_dir: Path | None = None) -> EngineTask | None:
        """Start following into ``out_dir`` (default: sam2_tracks beside the project); None (and a message) when
        it cannot start."""
        host, section = self.host, self.section()
        assert section is not None, "no panel"
        layers = section.years()
        if len(layers) < 2:
            host.report(tr("tick two or more years (each flight's orthophoto or its objects) to follow"))
            return None
        checkpoint = host.session.checkpoint if host.session else None
        if any(isinstance(layer, QgsRasterLayer) for layer in layers) and not checkpoint:
            host.report(tr("orthophotos are predicted with a model: choose one first (or tick each year's objects)"))
            return None
        out_dir = out_dir or host.outputs_folder() / "sam2_tracks"
        stem = time.strftime("%Y%m%d-%H%M%S")
        inputs = out_dir / f"{stem}_years"
        try:
            inputs.mkdir(parents=True, exist_ok=True)
            years = year_files(layers, inputs)
            start = section.start_layer()
            start_file = str(export_layer(start, inputs / "start.gpkg")) if start is not None else None
        except OSError as error:
            host.report(
                tr("cannot write to {out_dir} ({strerror}): choose another folder").format(
                    out_dir=out_dir, strerror=error.strerror
                )
            )
            return None
        except OutputError as error:
            host.report(str(error))
            return None
        request = {
            "year": years,
            "checkpoint": checkpoint,
            "method": section.method(),
            "start": start_file,
            "device": host.device(),
            "out": out_dir / f"{stem}_tracks.gpkg",
        }
        python = host.python()

        def work(task: EngineTask) -> dict[str, Any]:
            from .jobs import run_core_job

            return run_core_job(python, "track", request, lambda value, event: task.setProgress(value), task.isCanceled)

        def done(result: dict[str, Any]) -> None:
            add_track_layers(result["out"], result["years"], host.iface.mapCanvas())
            host.iface.messageBar().pushMessage(
                "SAM 2",
                tr("followed {count} years: step through them with View > Panels > Temporal Controller").format(
                    count=len(result["years"])
                ),
                level=Qgis.MessageLevel.Success,
                duration=10,
            )

        return host.run_task("SAM 2: following objects across years", work, done)


def year_files(layers: list[Any], out_dir: Path) -> list[str]:
    """Each year's layer as a file the engine reads: an orthophoto's own file, a polygon layer written to
    ``out_dir`` under its name (the name gives the date). OutputError when a year cannot go to the engine."""
    files = []
    for layer in layers:
        if isinstance(layer, QgsRasterLayer):
            if not is_local_file(layer):
                raise OutputError(
                    tr("{layer}: years are read from raster files; save web layers as GeoTIFFs first").format(
                        layer=layer.name()
                    )
                )
            files.append(layer.source())
        elif isinstance(layer, QgsVectorLayer):
            files.append(str(export_layer(layer, out_dir / f"{safe_name(layer.name())}.gpkg")))
        else:
            raise OutputError(tr("{layer} is neither an orthophoto nor a polygon layer").format(layer=layer.name()))
    return files


def flight_frames(dates: list[str]) -> tuple[QgsDateTimeRange, QgsInterval]:
    """The timeline of flights on ``dates`` (ISO, oldest first): from the eve of the first flight to the eve of
    one more interval after the last, in frames one (mean) interval long, whole years when the flights are. For
    flights at a regular interval each frame holds one flight (QGIS's frames include their end: frames starting
    on a flight's day would show two); otherwise each flight is in its own frame, which may also show the
    state before it."""
    days = [datetime.date.fromisoformat(d) for d in dates]
    first, last = days[0], days[-1]
    gap = (last - first) / max(len(days) - 1, 1)
    years = {b.year - a.year for a, b in itertools.pairwise(days)}
    same_day = len({(d.month, d.day) for d in days}) == 1
    if same_day and len(years) == 1 and min(years) > 0:
        step = QgsInterval(float(min(years)), QgsUnitTypes.TemporalUnit.TemporalYears)
    else:
        step = QgsInterval(max(gap.days, 1), QgsUnitTypes.TemporalUnit.TemporalDays)
    eve = datetime.timedelta(days=1)
    begin, end = (QDateTime(QDate(d.year, d.month, d.day), QTime(0, 0)) for d in (first - eve, last + gap - eve))
    return QgsDateTimeRange(begin, end), step


def add_track_layers(path: str, dates: list[str], canvas: Any = None) -> list[QgsVectorLayer]:
    """Add a track's objects and changes to the project, on the map's timeline; set the project's time range
    over the flights and ``canvas``'s Temporal Controller to step through them, a flight per frame."""
    layers = []
    for layer_name, title in (("objects", tr("Objects through the years")), ("changes", tr("What changed"))):
        layer = QgsVectorLayer(f"{path}|layername={layer_name}", title, "ogr")
        if layer.isValid():
            make_time_aware(layer)
            layers.append(layer)
    QgsProject.instance().addMapLayers(layers)
    span, step = flight_frames(dates)
    QgsProject.instance().timeSettings().setTemporalRange(span)
    navigation = canvas.temporalController() if canvas is not None else None
    if isinstance(navigation, QgsTemporalNavigationObject):  # the desktop's Temporal Controller
        navigation.setNavigationMode(QgsTemporalNavigationObject.NavigationMode.Animated)
        navigation.setTemporalExtents(span)
        navigation.setFrameDuration(step)
        navigation.setCurrentFrameNumber(0)
    return layers


__all__ = ["YearsController", "add_track_layers", "flight_frames", "year_files"]
