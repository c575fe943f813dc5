"""The SAM 2 Processing algorithms through processing.run (the toolbox's, batch mode's and models' path)."""

from __future__ import annotations

import sys

import pytest
import yaml
from qgis.core import (
    QgsApplication,
    QgsFeature,
    QgsGeometry,
    QgsPointXY,
    QgsProcessingContext,
    QgsProject,
    QgsRasterLayer,
    QgsVectorLayer,
)


@pytest.fixture(scope="module")
def scene(synthetic_scene):
    return synthetic_scene(256)


@pytest.fixture(autouse=True)
def engine_interpreter(monkeypatch):
    monkeypatch.setenv("SAM2_QGIS_PYTHON", sys.executable)


def test_provider_lists_the_algorithms_each_with_help(processing) -> None:
    algorithms = QgsApplication.processingRegistry().providerById("sam2").algorithms()
    assert {a.id() for a in algorithms} == {
        "sam2:createtrainingtiles",
        "sam2:finetune",
        "sam2:findtherest",
        "sam2:wheretolabelnext",
        "sam2:predictraster",
        "sam2:predictregion",
        "sam2:evaluatesegmentation",
        "sam2:segmentfrompoints",
        "sam2:followyears",
    }
    assert all(len(a.shortHelpString()) > 40 for a in algorithms)


def test_evaluate_segmentation_scores_a_mask_and_writes_the_report(processing, scene, tmp_path) -> None:
    result = processing.run(
        "sam2:evaluatesegmentation",
        {
            "PREDICTION": str(scene / "scene_mask.tif"),  # class 1 is the buildings: a perfect prediction of them
            "LABELS": f"{scene / 'scene_labels.gpkg'}|layername=labels",
            "CLASS_FIELD": "class_id",
            "CLASSES": "1",
            "REPORT": str(tmp_path / "report.json"),
        },
    )
    assert result["IOU"] == pytest.approx(1.0)
    assert result["OBJECT_F1"] == pytest.approx(1.0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.csv", "report.json", "report.png"]


def test_a_model_chains_fine_tuning_into_prediction(processing, scene, engine_files, tmp_path) -> None:
    """The Model Builder's path: the tuned checkpoint, an output of Fine-tune, feeds Predict raster."""
    from qgis.core import (
        QgsProcessingModelAlgorithm,
        QgsProcessingModelChildAlgorithm,
        QgsProcessingModelChildParameterSource,
        QgsProcessingModelOutput,
        QgsProcessingModelParameter,
        QgsProcessingParameterFeatureSource,
        QgsProcessingParameterFile,
        QgsProcessingParameterRasterLayer,
    )

    tuned = QgsApplication.processingRegistry().algorithmById("sam2:finetune").outputDefinition("CHECKPOINT")
    assert tuned is not None  # declared: the Model Builder offers it to the next algorithm
    assert tuned.type() == "outputFile"
    model = QgsProcessingModelAlgorithm("tune then predict", "SAM 2 tests")
    for parameter in (QgsProcessingParameterRasterLayer("ortho", "Orthophoto"),
                      QgsProcessingParameterFeatureSource("labels", "Labels"),
                      QgsProcessingParameterFile("base", "Base checkpoint")):  # fmt: skip
        model.addModelParameter(parameter, QgsProcessingModelParameter(parameter.name()))
    given, static = (
        QgsProcessingModelChildParameterSource.fromModelParameter,
        QgsProcessingModelChildParameterSource.fromStaticValue,
    )
    tune = QgsProcessingModelChildAlgorithm("sam2:finetune")
    tune.setChildId("tune")
    for name, value in {"RASTER": given("ortho"), "LABELS": given("labels"), "CHECKPOINT": given("base"),
                         "CLASS_FIELD": static("class_id"), "CLASSES": static("1"), "MODE": static(1),
                         "EPOCHS": static(1), "TILE_SIZE": static(128), "DEVICE": static("cpu")}.items():  # fmt: skip
        tune.addParameterSources(name, [value])
    model.addChildAlgorithm(tune)
    predict = QgsProcessingModelChildAlgorithm("sam2:predictraster")
    predict.setChildId("predict")
    predict.addParameterSources("RASTER", [given("ortho")])
    predict.addParameterSources(
        "CHECKPOINT", [QgsProcessingModelChildParameterSource.fromChildOutput("tune", "CHECKPOINT")]
    )
    predict.addParameterSources("EXTRA", [static("--device cpu")])
    mask = QgsProcessingModelOutput("mask", "Mask")
    mask.setChildId("predict")
    mask.setChildOutputName("OUTPUT")
    predict.setModelOutputs({"mask": mask})
    model.addChildAlgorithm(predict)
    result = processing.run(
        model,
        {
            "ortho": str(scene / "scene_image.tif"),
            "labels": f"{scene / 'scene_labels.gpkg'}|layername=labels",
            "base": engine_files["checkpoint"],
            "predict:mask": str(tmp_path / "mask.tif"),
        },
    )
    layer = QgsRasterLayer(result["predict:mask"], "mask")
    assert layer.isValid()
    assert layer.width() == 256


def test_predict_raster_runs_in_batch(processing, scene, engine_files, tmp_path) -> None:
    outputs = []
    for threshold in (0.3, 0.7):  # what batch mode does: one run per row of parameters
        result = processing.run(
            "sam2:predictraster",
            {
                "RASTER": str(scene / "scene_image.tif"),
                "CHECKPOINT": engine_files["checkpoint"],
                "THRESHOLD": threshold,
                "EXTRA": "--device cpu",
                "OUTPUT": str(tmp_path / f"mask_{threshold}.tif"),
            },
        )
        outputs.append(QgsRasterLayer(result["OUTPUT"], "mask"))
    assert all(layer.isValid() and layer.width() == 256 for layer in outputs)
    assert outputs[0].crs().authid() == "EPSG:32633"


def test_predict_region_from_layers_and_a_folder_then_resume(processing, scene, engine_files, tmp_path) -> None:
    from osgeo import gdal

    tiles = tmp_path / "tiles"
    tiles.mkdir()
    for index, (x, y) in enumerate(((0, 0), (128, 0), (0, 128), (128, 128))):  # four 128 px tiles of the scene
        gdal.Translate(str(tiles / f"tile_{index}.tif"), str(scene / "scene_image.tif"), srcWin=[x, y, 128, 128])
    first = QgsRasterLayer(str(tiles / "tile_0.tif"), "tile 0")
    parameters = {
        "RASTERS": [first],
        "FOLDER": str(tiles),  # tile_0 again among the folder's: predicted once
        "CHECKPOINT": engine_files["checkpoint"],
        "THRESHOLD": 0.3,
        "EXTRA": "--device cpu",
        "SIMPLIFY": 1.0,
        "OUTPUT": str(tmp_path / "region"),
        "POLYGONS": str(tmp_path / "region.gpkg"),
    }
    result = processing.run("sam2:predictregion", parameters)
    assert sorted(p.name for p in (tmp_path / "region" / "masks").iterdir()) == [f"tile_{i}.tif" for i in range(4)]
    mosaic = gdal.Open(result["MOSAIC"])
    assert (mosaic.RasterXSize, mosaic.RasterYSize) == (256, 256)
    assert QgsVectorLayer(result["POLYGONS"], "region", "ogr").isValid()
    before = (tmp_path / "region" / "masks" / "tile_2.tif").stat().st_mtime_ns
    (tmp_path / "region" / "parts" / "tile_3.json").unlink()  # as if the run had stopped before its last tile
    processing.run("sam2:predictregion", {**parameters, "RESUME": True})
    assert (tmp_path / "region" / "masks" / "tile_2.tif").stat().st_mtime_ns == before  # kept, not redone
    assert (tmp_path / "region" / "parts" / "tile_3.json").exists()


def test_predict_region_refuses_web_layers(processing, engine_files, tmp_path) -> None:
    from qgis.core import QgsProcessingException

    web = QgsRasterLayer("type=xyz&url=http://127.0.0.1:9/%7Bz%7D/%7Bx%7D/%7By%7D.png", "tiles", "wms")
    with pytest.raises(QgsProcessingException, match="a region is predicted from raster files"):
        processing.run(
            "sam2:predictregion",
            {"RASTERS": [web], "CHECKPOINT": engine_files["checkpoint"], "OUTPUT": str(tmp_path / "region")},
        )


def test_predict_raster_in_an_aoi_with_polygons(processing, scene, engine_files, tmp_path) -> None:
    from osgeo import gdal
    from qgis.core import QgsFeature, QgsGeometry, QgsVectorLayer

    raster = QgsRasterLayer(str(scene / "scene_image.tif"), "ortho")
    extent = raster.extent()
    west = QgsVectorLayer("Polygon?crs=EPSG:32633", "west half", "memory")  # an unsaved layer
    feature = QgsFeature()
    west_half = extent.buffered(0)
    west_half.setXMaximum(extent.center().x())
    feature.setGeometry(QgsGeometry.fromRect(west_half))
    west.dataProvider().addFeatures([feature])
    result = processing.run(
        "sam2:predictraster",
        {
            "RASTER": raster,
            "CHECKPOINT": engine_files["checkpoint"],
            "THRESHOLD": 0.3,
            "AOI": west,
            "EXTRA": "--device cpu",
            "FILL_HOLES": True,  # the engine's parser takes the shape options (it refuses unknown ones)
            "BANDS": "3,2,1",
            "RIGHT_ANGLES": 15,
            "INSTANCES": True,  # one polygon per object, numbered
            "OUTPUT": str(tmp_path / "mask.tif"),
            "POLYGONS": str(tmp_path / "objects.gpkg"),
        },
    )
    mask = gdal.Open(result["OUTPUT"]).ReadAsArray()
    assert (mask[:, 130:] == 255).all()  # east of the AOI: not predicted
    assert (mask[:, :126] != 255).all()
    polygons = QgsVectorLayer(result["POLYGONS"], "objects", "ogr")
    assert polygons.isValid()
    assert polygons.crs().authid() == "EPSG:32633"
    ids = [feature["instance_id"] for feature in polygons.getFeatures()]
    assert ids == list(range(1, len(ids) + 1))


def test_tiles_and_fine_tune(processing, scene, engine_files, tmp_path) -> None:
    labels = f"{scene / 'scene_labels.gpkg'}|layername=labels"
    tiles = processing.run(
        "sam2:createtrainingtiles",
        {
            "RASTER": str(scene / "scene_image.tif"),
            "LABELS": labels,
            "TILE_SIZE": 128,
            "OUTPUT": str(tmp_path / "tiles"),
        },
    )
    assert any((tmp_path / "tiles" / "trai" / "img_tiles").glob("*.tif"))
    assert tiles["OUTPUT"] == str(tmp_path / "tiles")
    run = processing.run(
        "sam2:finetune",
        {
            "RASTER": str(scene / "scene_image.tif"),
            "LABELS": labels,
            "CHECKPOINT": engine_files["checkpoint"],
            "CLASS_FIELD": "class_id",
            "CLASSES": "1",
            "MODE": 1,
            "EPOCHS": 1,
            "TILE_SIZE": 128,
            "LR": 0.0005,
            "DEVICE": "cpu",
            "BANDS": "3,2,1",
            "EXTRA": "--batch-size 2",
            "OUTPUT": str(tmp_path / "run"),
        },
    )
    assert (tmp_path / "run" / "best.pt").exists()
    assert run["CHECKPOINT"].endswith("best.pt")
    config = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())
    chosen = {key: config[key] for key in ("mode", "class_field", "classes", "lr", "device", "batch_size", "bands")}
    assert chosen == {"mode": "auto", "class_field": "class_id", "classes": [1], "lr": 0.0005, "device": "cpu",
                      "batch_size": 2, "bands": [3, 2, 1]}  # fmt: skip


def test_segment_from_points(processing, scene, engine_files) -> None:
    raster = QgsRasterLayer(str(scene / "scene_image.tif"), "ortho")
    points = QgsVectorLayer("Point?crs=EPSG:32633", "clicks", "memory")
    centre = raster.extent().center()
    features = []
    for dx in (0.0, 10.0):
        feature = QgsFeature()
        feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(centre.x() + dx, centre.y())))
        features.append(feature)
    points.dataProvider().addFeatures(features)
    QgsProject.instance().addMapLayer(points)
    try:
        result = processing.run(
            "sam2:segmentfrompoints",
            {"RASTER": raster, "POINTS": points, "CHECKPOINT": engine_files["checkpoint"], "OUTPUT": "memory:"},
        )
        segments = result["OUTPUT"]
        assert segments.featureCount() == 2  # one object per point, its parts in one multipolygon
        assert {f["point_id"] for f in segments.getFeatures()} == {f.id() for f in points.getFeatures()}
        assert segments.crs().authid() == "EPSG:32633"
        parameters = {"RASTER": raster, "POINTS": points, "CHECKPOINT": engine_files["checkpoint"], "OUTPUT": "memory:"}
        filled = processing.run("sam2:segmentfrompoints", {**parameters, "FILL_HOLES": True})["OUTPUT"]
        rings = [part.numInteriorRings() for f in filled.getFeatures() for part in f.geometry().constParts()]
        assert rings
        assert set(rings) == {0}
        huge = processing.run("sam2:segmentfrompoints", {**parameters, "MIN_AREA": 1e6})["OUTPUT"]
        assert huge.featureCount() == 0  # every object is smaller than 1 km²: the shape options reach the engine
        narrow = processing.run("sam2:segmentfrompoints", {**parameters, "MAX_DIAMETER": 0.5})["OUTPUT"]
        assert narrow.featureCount() == 0  # no object fits in a 0.5 m circle
        wide = processing.run("sam2:segmentfrompoints", {**parameters, "MAX_DIAMETER": 10_000.0})["OUTPUT"]
        assert wide.featureCount() == 2
        algorithm = QgsApplication.processingRegistry().algorithmById("sam2:segmentfrompoints")
        context = QgsProcessingContext()
        chosen = {"LARGEST_PART": True, "MIN_COMPACTNESS": 0.4, "MIN_DIAMETER": 3.0}
        assert algorithm.shape_options(chosen, context, raster) == {
            "fill_holes": False, "right_angles": 0.0, "min_diameter": 3.0, "min_compactness": 0.4, "largest_part": True,
        }  # fmt: skip
        assert algorithm.parameterDefinition("LARGEST_PART") is not None
        predict = QgsApplication.processingRegistry().algorithmById("sam2:predictraster")
        assert predict.parameterDefinition("LARGEST_PART") is None  # a click's option, not a whole raster's
        assert predict.parameterDefinition("MAX_DIAMETER") is not None
    finally:
        QgsProject.instance().removeMapLayer(points.id())


def test_fine_tune_defaults_are_trainconfigs(processing) -> None:
    from sam2_qgis_plugin import job_defaults

    algorithm = QgsApplication.processingRegistry().algorithmById("sam2:finetune")
    modes = algorithm.parameterDefinition("MODE").options()
    assert modes[algorithm.parameterDefinition("MODE").defaultValue()] == job_defaults.mode_labels()["auto"]
    assert job_defaults.default("mode") == "auto"
    assert algorithm.parameterDefinition("EPOCHS").defaultValue() == job_defaults.default("epochs")
    assert algorithm.parameterDefinition("TILE_SIZE").defaultValue() == job_defaults.default("tile_size")
    tiles = QgsApplication.processingRegistry().algorithmById("sam2:createtrainingtiles")
    assert tiles.parameterDefinition("TILE_SIZE").defaultValue() == job_defaults.default("tile_size")
    predict = QgsApplication.processingRegistry().algorithmById("sam2:predictraster")
    assert predict.parameterDefinition("THRESHOLD").defaultValue() == job_defaults.default("threshold", "predict")


@pytest.mark.parametrize(
    "algorithm_id", ["sam2:createtrainingtiles", "sam2:finetune", "sam2:findtherest", "sam2:predictraster"]
)
def test_every_option_parameter_is_the_engines(processing, algorithm_id) -> None:
    """Defaults, choices and help of the option parameters come from the engine's description."""
    from sam2_qgis_plugin import job_defaults
    from sam2_qgis_plugin.processing.find_the_rest import FindTheRest
    from sam2_qgis_plugin.processing.fine_tune import FineTune
    from sam2_qgis_plugin.processing.predict import PredictRaster
    from sam2_qgis_plugin.processing.tiles import CreateTrainingTiles

    kind = {"sam2:createtrainingtiles": CreateTrainingTiles, "sam2:finetune": FineTune,
            "sam2:findtherest": FindTheRest}.get(algorithm_id, PredictRaster)  # fmt: skip
    job = {PredictRaster: "predict", FindTheRest: "find"}.get(kind, "train")
    algorithm = QgsApplication.processingRegistry().algorithmById(algorithm_id)
    for option in (*kind.BASIC, *kind.ADVANCED):
        parameter = algorithm.parameterDefinition(option.upper())
        described = job_defaults.JOBS[job][option]
        if "choices" in described:
            chosen = described["choices"][parameter.defaultValue()]
            assert len(parameter.options()) == len(described["choices"])
        else:
            chosen = parameter.defaultValue()
        assert chosen == described["default"], option
        assert parameter.help() == described.get("help", ""), option


def test_one_model_for_all_classes_is_predicted_as_named_classes(processing, scene, engine_files, tmp_path) -> None:
    """Fine-tune with MULTICLASS (names from a field), predict, and the layers the panel adds show the classes by
    name: the class raster in its colours, the polygons categorized."""
    from sam2_qgis_plugin.jobs import add_prediction_layers

    raster, labels = str(scene / "scene_image.tif"), str(scene / "scene_labels.gpkg")
    tuned = processing.run(
        "sam2:finetune",
        {"RASTER": raster, "LABELS": labels, "CHECKPOINT": engine_files["checkpoint"], "CLASS_FIELD": "class_id",
         "CLASSES": "1,2", "MULTICLASS": True, "NAME_FIELD": "class_name", "EPOCHS": 1, "TILE_SIZE": 128,
         "DEVICE": "cpu", "OUTPUT": str(tmp_path / "run")},
    )  # fmt: skip
    predicted = processing.run(
        "sam2:predictraster",
        {"RASTER": raster, "CHECKPOINT": tuned["CHECKPOINT"], "EXTRA": "--device cpu",
         "OUTPUT": str(tmp_path / "classes.tif"), "POLYGONS": str(tmp_path / "classes.gpkg")},
    )  # fmt: skip
    mask, polygons = add_prediction_layers(predicted["OUTPUT"], predicted["POLYGONS"], "landcover")
    try:
        legend = {c.value: c.label for c in mask.renderer().classes()}
        assert legend == {1: "building", 2: "tree"}
        colours = {c.value: c.color.name() for c in mask.renderer().classes()}
        assert colours[1] != colours[2]
        assert {c.value() for c in polygons.renderer().categories()} <= {"building", "tree"}
    finally:
        QgsProject.instance().removeMapLayers([mask.id(), polygons.id()])


def examples_of(scene, count: int, path) -> str:  # type: ignore[no-untyped-def]
    """``count`` of the scene's buildings whose text field ``class`` names them, written to the GeoPackage
    ``path`` (a layer object handed to a refused run is kept by QGIS past exitQgis: see processAlgorithm)."""
    from sam2_qgis_plugin.output import export_layer

    labels = QgsVectorLayer(f"{scene / 'scene_labels.gpkg'}|layername=labels", "labels", "ogr")
    drawn = QgsVectorLayer(f"MultiPolygon?crs={labels.crs().authid()}&field=class:string", "examples", "memory")
    chosen = [f for f in labels.getFeatures() if f["class_id"] == 1][:count]
    copies = []
    for feature in chosen:
        copy = QgsFeature(drawn.fields())
        copy.setGeometry(feature.geometry())
        copy["class"] = "building"
        copies.append(copy)
    drawn.dataProvider().addFeatures(copies)
    return str(export_layer(drawn, path))


def test_find_the_rest_writes_candidates(processing, scene, engine_files, tmp_path) -> None:
    parameters = {
        "RASTER": str(scene / "scene_image.tif"), "CLASS_FIELD": "class", "MAX_MINUTES": 1.0,
        "CHECKPOINT": engine_files["checkpoint"], "TILE_SIZE": 128, "EPOCHS": 3, "DEVICE": "cpu",
    }  # fmt: skip
    examples = examples_of(scene, 5, tmp_path / "five.gpkg")
    assert QgsVectorLayer(examples, "five", "ogr").featureCount() >= 3
    result = processing.run("sam2:findtherest", {**parameters, "LABELS": examples, "OUTPUT": str(tmp_path / "found")})
    candidates = QgsVectorLayer(f"{result['CANDIDATES']}|layername=candidates", "candidates", "ogr")
    assert candidates.isValid()
    assert {"candidate_id", "score", "status"} <= set(candidates.fields().names())


def test_a_refused_run_says_what_to_do_and_leaves_no_state_behind(processing, scene, engine_files, tmp_path) -> None:
    """QGIS keeps the exception of a refused run for good (its sip handler for QgsProcessingException never lets it
    go), and with it the frames it passed through. Only the plugin's outermost frame may be among them, holding
    nothing but the algorithm and the message: no parameters, context, layers, request or engine process."""
    import gc
    import types

    from qgis.core import QgsProcessingException

    parameters = {
        "RASTER": str(scene / "scene_image.tif"), "LABELS": examples_of(scene, 2, tmp_path / "two.gpkg"),
        "CLASS_FIELD": "class", "CHECKPOINT": engine_files["checkpoint"], "OUTPUT": str(tmp_path / "few"),
        "DEVICE": "cpu",
    }  # fmt: skip
    with pytest.raises(QgsProcessingException, match="at least 3 examples; outline a few more objects"):
        processing.run("sam2:findtherest", parameters)
    assert not (tmp_path / "few" / "candidates.gpkg").exists()
    gc.collect()
    kept = [
        (frame.f_code.co_name, sorted(frame.f_locals))
        for frame in gc.get_objects()
        if isinstance(frame, types.FrameType) and "sam2_qgis_plugin" in frame.f_code.co_filename
    ]
    assert kept
    assert all(kept_frame == ("processAlgorithm", ["message", "self"]) for kept_frame in kept), kept


def test_where_to_label_next_writes_places_and_the_uncertainty(processing, scene, engine_files, tmp_path) -> None:
    result = processing.run(
        "sam2:wheretolabelnext",
        {
            "RASTER": str(scene / "scene_image.tif"), "CHECKPOINT": engine_files["checkpoint"],
            "LABELS": examples_of(scene, 2, tmp_path / "two.gpkg"), "COUNT": 3, "MIN_DISTANCE": 10.0,
            "OUTPUT": str(tmp_path / "places.gpkg"), "UNCERTAINTY": str(tmp_path / "unsure.tif"),
            "EXTRA": "--mode auto",  # a base model is refused unless measured anyway
        },
    )  # fmt: skip
    places = QgsVectorLayer(f"{result['OUTPUT']}|layername=suggestions", "places", "ogr")
    assert places.isValid()
    assert 1 <= places.featureCount() <= 3
    assert {"rank", "score", "reason", "to_labels"} <= set(places.fields().names())
    assert all("from your nearest label" in f["reason"] for f in places.getFeatures())
    unsure = QgsRasterLayer(result["UNCERTAINTY"], "unsure")
    assert unsure.isValid()
    assert unsure.extent() == QgsRasterLayer(str(scene / "scene_image.tif"), "ortho").extent()


def test_follow_years_puts_each_flight_on_the_timeline(processing, flights, tmp_path) -> None:
    """Three years of objects as QGIS layers (edits and names as the analyst has them) in any order: one time-aware
    layer in which the Temporal Controller's range picks each flight's state, and the layer of changes."""
    from processing.gui.Postprocessing import handleAlgorithmResults
    from qgis.core import QgsDateTimeRange, QgsProcessingFeedback, QgsVectorLayerTemporalContext
    from qgis.PyQt.QtCore import QDate, QDateTime, QTime

    layers = [
        QgsVectorLayer(f"{flights / f'year_{y}_labels.gpkg'}|layername=labels", f"roofs {y}", "ogr")
        for y in (2025, 2019, 2022)
    ]
    assert all(layer.isValid() for layer in layers)
    context = QgsProcessingContext()
    context.setProject(QgsProject.instance())
    feedback = QgsProcessingFeedback()
    out = tmp_path / "tracks.gpkg"
    result = processing.run(
        "sam2:followyears", {"YEARS": layers, "OUTPUT": str(out)}, context=context, feedback=feedback
    )
    assert out.exists()
    assert set(context.layersToLoadOnCompletion()) == {result["OBJECTS"], result["CHANGES"]}
    algorithm = QgsApplication.processingRegistry().createAlgorithmById("sam2:followyears")
    handleAlgorithmResults(algorithm, context, feedback)
    loaded = {layer.name(): layer for layer in QgsProject.instance().mapLayers().values()}
    objects = loaded["Objects through the years"]
    assert objects.temporalProperties().isActive()

    def shown(year: int) -> dict[str, int]:
        """What a Temporal Controller frame shows from the flights' day (1 July) of ``year`` for a year: the
        frames of a controller set to the layer's range with a step of one year. Features by status."""
        frame = QgsDateTimeRange(
            QDateTime(QDate(year, 7, 1), QTime(0, 0)), QDateTime(QDate(year + 1, 7, 1), QTime(0, 0))
        )
        temporal = QgsVectorLayerTemporalContext()
        temporal.setLayer(objects)
        expression = objects.temporalProperties().createFilterString(temporal, frame)
        counts: dict[str, int] = {}
        for feature in objects.getFeatures(expression):
            counts[feature["status"]] = counts.get(feature["status"], 0) + 1
        return counts

    first, second, third, later = shown(2019), shown(2022), shown(2025), shown(2030)
    assert set(first) == {"new"}  # the first flight: every object starts
    assert min(second["gone"], second["new"], second["unchanged"]) > 0
    assert shown(2023) == second  # between flights, the last flight's state
    assert later == third
    by_year = [sum(1 for f in objects.getFeatures() if f["year"] == year) for year in (2019, 2022, 2025)]
    assert [sum(first.values()), sum(second.values()), sum(third.values())] == by_year  # one flight per frame
    changes = loaded["What changed"]
    assert changes.featureCount() == sum(1 for f in objects.getFeatures() if f["status"] != "unchanged")
    for layer in (objects, changes):
        QgsProject.instance().removeMapLayer(layer.id())
