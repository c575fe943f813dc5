<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1">
<context>
    <name>SAM2</name>
    <message>
        <location filename="../segment_controller.py"/>
        <source>1 object</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../segment_controller.py"/>
        <source>1 object in {count} polygons</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/shapes.py"/>
        <source>1 pixel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/segment.py"/>
        <source>&lt;b&gt;Left click&lt;/b&gt; object · &lt;b&gt;right click&lt;/b&gt; background · &lt;b&gt;drag&lt;/b&gt; box&lt;br&gt;&lt;b&gt;Ctrl+Z&lt;/b&gt; undo (a click, then an accepted object) · &lt;b&gt;Esc&lt;/b&gt; clear · &lt;b&gt;Enter&lt;/b&gt; accept</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../settings_dialog.py"/>
        <source>A Python with torch and rf-sam-2 (not QGIS's own): the engine runs there</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/shapes.py"/>
        <source>A click or a hover outline keeps only its largest polygon, not the specks around it</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/train.py"/>
        <source>A model tuned for whole-raster prediction is used without prompts by Predict; one tuned for clicking serves clicks (and a grid of clicks for a whole raster).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/find.py"/>
        <location filename="../panel/predict.py"/>
        <location filename="../panel/suggest.py"/>
        <location filename="../panel/widgets.py"/>
        <source>AOI layer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/find.py"/>
        <source>Accept (A)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/model.py"/>
        <source>Active model: none</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/model.py"/>
        <source>Active model: {label} ({name}, {size} px, {device})</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/years.py"/>
        <source>Adds a layer of every object in every year (new, unchanged, changed, gone) on the map's timeline and a layer of what changed. Step through the years with View &gt; Panels &gt; Temporal Controller</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/train.py"/>
        <source>Area of interest</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/base.py"/>
        <location filename="../processing/predict.py"/>
        <source>Area of interest (optional)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/base.py"/>
        <source>Area to render a web layer over (default: the area of interest's or labels' extent)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/raster.py"/>
        <source>Bands (R, G, B)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/base.py"/>
        <source>Bands read as red, green, blue (e.g. 4,1,2)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/find_the_rest.py"/>
        <location filename="../processing/fine_tune.py"/>
        <source>Base checkpoint</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/train.py"/>
        <source>Batch size</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/job.py"/>
        <source>Cancel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../review.py"/>
        <source>Candidate {n} of {count} · score {score:.2f} · {status} · accepted {accepted}, rejected {rejected}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../find_controller.py"/>
        <source>Candidates: {count}, learned from {objects} examples and {background} background marks ({pixels} object pixels); {verdict}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../settings_dialog.py"/>
        <source>Check the engine</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/segment.py"/>
        <source>Checkpoint</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/predict.py"/>
        <location filename="../processing/predict_region.py"/>
        <source>Checkpoint (a fine-tuned run's best.pt)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/model.py"/>
        <source>Checkpoint file...</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/model.py"/>
        <source>Checkpoints (*.pt *.pth *.torch)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/model.py"/>
        <source>Choose a checkpoint file on disk: an official one, or a fine-tuned run's best.pt</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/segment.py"/>
        <source>Class</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/labels.py"/>
        <location filename="../processing/follow_years.py"/>
        <source>Class field</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/find_the_rest.py"/>
        <source>Class field (0 or 'background' marks background; empty: all are objects)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/base.py"/>
        <source>Class field (empty: every polygon is an object)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/train.py"/>
        <source>Class names</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/fine_tune.py"/>
        <source>Class names field (one model for all classes)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/predict.py"/>
        <location filename="../processing/predict_region.py"/>
        <source>Class of the polygons</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/train.py"/>
        <source>Classes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/dock.py"/>
        <source>Click objects on the map</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/segment.py"/>
        <source>Click objects on the map: left click object, right click background, drag a box</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/shapes.py"/>
        <source>Click: largest part</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/shapes.py"/>
        <source>Compactness</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/train.py"/>
        <source>Continue a cancelled fine-tuning from where it stopped (its settings are kept)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/tiles.py"/>
        <source>Create training tiles</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/tiles.py"/>
        <source>Cuts the orthophoto and its label polygons into tiles in the seed pipeline's folders (trai, vali: img_tiles and mask_tiles), split by spatial blocks so that validation never touches training pixels.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/follow_years.py"/>
        <source>Dates in the same order, YYYY[-MM-DD], comma-separated (empty: from the names)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../settings_dialog.py"/>
        <source>Device</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/shapes.py"/>
        <source>Drop objects (and parts) smaller than this, measured on the ground</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/shapes.py"/>
        <source>Drop objects larger than this (fields when you want trees)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/shapes.py"/>
        <source>Drop objects less compact than this: 4πA/P², 1 for a circle, 0.79 for a square, near 0 for a hedge row or a road (0.4 keeps crowns and most buildings)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/shapes.py"/>
        <source>Drop objects narrower than this: the diameter of the smallest circle around the object</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/shapes.py"/>
        <source>Drop objects wider than this (the smallest circle around it)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/shapes.py"/>
        <source>Drop the holes inside each polygon (courtyards, gaps between crowns)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/follow_years.py"/>
        <source>Each year: its orthophoto or its objects</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../settings_dialog.py"/>
        <source>Embedding cache</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/segment.py"/>
        <source>Encode visible extent</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../settings_dialog.py"/>
        <source>Encoder on a CPU</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../maptool.py"/>
        <source>Encoding the tile under the cursor... the outline follows the mouse once it is ready</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/engine.py"/>
        <source>Engine</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../settings_dialog.py"/>
        <source>Engine folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../engine_controller.py"/>
        <source>Engine: checking...</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../engine_controller.py"/>
        <source>Engine: none found (Settings... &gt; Install engine)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/engine.py"/>
        <location filename="../settings_dialog.py"/>
        <source>Engine: not checked yet</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/engine.py"/>
        <source>Engine: {summary}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/train.py"/>
        <source>Epochs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/evaluate.py"/>
        <source>Evaluate segmentation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/shapes.py"/>
        <location filename="../processing/base.py"/>
        <source>Fill holes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/find.py"/>
        <source>Find again</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/find.py"/>
        <source>Find the rest</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/find.py"/>
        <source>Find the rest (up to {minutes:g} min)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/find_the_rest.py"/>
        <source>Find the rest reads a local raster file: save {layer} as a GeoTIFF first</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/find_the_rest.py"/>
        <source>Find the rest with SAM 2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/fine_tune.py"/>
        <source>Fine-tune SAM 2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/train.py"/>
        <source>Fine-tune in the background (cancel it in the task manager); the best epoch is used</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/train.py"/>
        <source>Fine-tune on your labels</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/fine_tune.py"/>
        <source>Fine-tunes SAM 2 on the orthophoto and its label polygons, scores the base model and every epoch on held-out validation tiles, and keeps the best in the run folder as best.pt (the base weights if no epoch beat them). The tuned checkpoint is an output: chain it into &lt;i&gt;Predict raster with SAM 2&lt;/i&gt; in the Model Builder. &lt;i&gt;Tune the model&lt;/i&gt;: for whole-raster prediction (no prompts) or for clicking on the map.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/predict_region.py"/>
        <source>Folder of orthophoto tiles</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/years.py"/>
        <source>Follow across years</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/follow_years.py"/>
        <source>Follow objects across years with SAM 2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/follow_years.py"/>
        <source>Follows the objects of one area through several years: give each year's orthophoto (predicted with the model) or its objects as a polygon layer, oldest to newest in any order (dates come from the names, or give them). Every object keeps one id through the years; each year says whether it is new, unchanged, changed (an extension, a grown crown) or gone, with its area change. The objects layer is time-aware: the Temporal Controller steps through the flights. Misregistration between flights is measured and taken out. Methods: match each year's objects by overlap (orthophotos or layers), or prompt SAM 2 with last year's outlines, or SAM 2's memory over the years as frames (orthophotos).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/shapes.py"/>
        <source>For buildings: edges within this many degrees of the building's main directions become straight and meet at right angles (15° suits most; off for trees and fields)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/train.py"/>
        <source>For one model of all classes: the attribute holding each class's name</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/follow_years.py"/>
        <location filename="../processing/where_to_label.py"/>
        <source>GeoPackage (*.gpkg)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/base.py"/>
        <source>Ground pixel of a web layer's render, in the area's map units (e.g. 0.3)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/dock.py"/>
        <location filename="../panel/shapes.py"/>
        <source>How accepted clicks and predictions become polygons</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/suggest.py"/>
        <source>How many places at most, best first, at least 256 pixels apart and clear of your labels</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../settings_dialog.py"/>
        <source>How the image encoder runs on a CPU, for clicks and predictions: exact gives the model's own results; int8 is about 2x faster on hiera-tiny and approximate: checked close to exact on {sizes}, the engine warns on other sizes. GPUs always run exact</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../engine_controller.py"/>
        <location filename="../settings_dialog.py"/>
        <source>Install engine</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../training_controller.py"/>
        <source>IoU by class: {classes}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../training_controller.py"/>
        <source>IoU {iou:.3f} after epoch {epoch}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/base.py"/>
        <source>Keep only the largest part of each object</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/labels.py"/>
        <location filename="../processing/tiles.py"/>
        <source>Labels</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/find_the_rest.py"/>
        <source>Labels (a few examples)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/where_to_label.py"/>
        <source>Labels already drawn (kept clear of)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/shapes.py"/>
        <source>Largest area</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/base.py"/>
        <source>Largest object kept (m²; 0: no limit)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/dock.py"/>
        <source>Learn</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/train.py"/>
        <source>Learn the classes as different things (buildings, trees, roads...) in one model, and predict a class raster; without it the classes chosen are learned as one kind of object</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/train.py"/>
        <source>Learning rate</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/find.py"/>
        <source>Learns again from your grown labels: accepted candidates are objects, rejected ones background</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/find_the_rest.py"/>
        <source>Learns from a few outlined objects (3 or more; the others need not be labelled: partial labels) within a time budget, then outlines the other objects of the extent or area of interest as candidates, best score first, leaving out those already labelled (objects, or background marked with class 0 or 'background'). Review the candidates, add the right ones to your labels as objects and the wrong ones as background, and run it again: each round learns from the grown labels.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/find.py"/>
        <source>Learns from your labels' examples within the time budget, then shows the candidates to review</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/base.py"/>
        <source>Least compact object kept (4πA/P²: 1 a circle, 0.79 a square; 0: off)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../settings_dialog.py"/>
        <source>Make a Python environment with torch and SAM 2 (about 1 GB; a few GB with CUDA on an NVIDIA GPU) and use it; it runs in the background and, cancelled, continues where it stopped the next time</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/model.py"/>
        <source>Make the chosen model active: an official one is downloaded first (once; resumable, verified)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/where_to_label.py"/>
        <source>Maps how unsure a model is over the orthophoto (0 sure to 1) and proposes the places where a label would teach it most: the most uncertain spots, a minimum distance apart, away from what is already labelled, never on nodata, best first, each with its reason. Label there, fine-tune, and run it again.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/suggest.py"/>
        <source>Maps how unsure the active model is (a translucent heat layer) and numbers the places to label</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/predict.py"/>
        <source>Mask</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/follow_years.py"/>
        <source>Match by overlap</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/years.py"/>
        <source>Match by overlap: each year's objects paired with last year's once the misregistration is taken out. Prompt with last year: each outline prompts SAM 2 in this year's orthophoto. SAM 2 memory: the years as the frames of a video</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/years.py"/>
        <location filename="../processing/follow_years.py"/>
        <source>Method</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/where_to_label.py"/>
        <source>Minimum distance between places (ground units; empty: 256 pixels)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/model.py"/>
        <source>Model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/where_to_label.py"/>
        <source>Model (a checkpoint)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/follow_years.py"/>
        <source>Model (for orthophotos)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/model.py"/>
        <source>Models fine-tuned in earlier runs (newest first, with their validation IoU), Meta's official SAM 2 models (tiny is fastest, large most accurate) and checkpoint files on disk</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/base.py"/>
        <source>More options ({command} command flags)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/predict_region.py"/>
        <source>Mosaic of the masks (region.vrt)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/train.py"/>
        <source>My labels</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/shapes.py"/>
        <source>Narrowest</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/base.py"/>
        <source>Narrowest object kept (m across: its smallest enclosing circle; 0: off)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/find.py"/>
        <source>Next (N) ▶</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/suggest.py"/>
        <source>Next place ▶</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../review.py"/>
        <source>No candidates: everything found is already labelled, or nothing was found</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/train.py"/>
        <source>No fine-tuning in this session yet</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../suggest_controller.py"/>
        <source>No place to suggest: the model is sure everywhere else, or the area is labelled (or has no valid pixels away from your labels)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/follow_years.py"/>
        <location filename="../years_controller.py"/>
        <source>Objects through the years</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/follow_years.py"/>
        <source>Objects, year by year</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../settings_dialog.py"/>
        <source>Offline: a folder of wheels to install from instead of PyPI (empty: PyPI)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/fine_tune.py"/>
        <source>One model for all classes (told apart)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/predict.py"/>
        <source>One polygon per object</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/predict.py"/>
        <location filename="../processing/predict_region.py"/>
        <source>One polygon per object (split touching objects)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/train.py"/>
        <source>Open the last report</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/raster.py"/>
        <location filename="../processing/find_the_rest.py"/>
        <location filename="../processing/fine_tune.py"/>
        <location filename="../processing/predict.py"/>
        <location filename="../processing/segment.py"/>
        <location filename="../processing/tiles.py"/>
        <location filename="../processing/where_to_label.py"/>
        <source>Orthophoto</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/predict_region.py"/>
        <source>Orthophoto tiles</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/find.py"/>
        <source>Outline a few objects (3 or more) in your labels, then let SAM 2 learn from them and find the others. Accept or reject each candidate: both teach the next round.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/segment.py"/>
        <source>Outline under the cursor</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/segment.py"/>
        <source>Output</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/find_the_rest.py"/>
        <source>Output folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../suggest_controller.py"/>
        <source>Place {n} of {count}: {reason}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/suggest.py"/>
        <location filename="../processing/where_to_label.py"/>
        <source>Places</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/where_to_label.py"/>
        <source>Places to label</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/segment.py"/>
        <source>Points (one object each)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/shapes.py"/>
        <source>Polygon shapes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/predict.py"/>
        <location filename="../processing/predict_region.py"/>
        <source>Polygons</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/labels.py"/>
        <source>Polygons drawn around the objects to learn (not the model's own output)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/train.py"/>
        <source>Polygons limiting where training tiles are taken (empty: the whole raster)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/dock.py"/>
        <source>Predict</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/predict.py"/>
        <source>Predict raster with SAM 2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/predict_region.py"/>
        <source>Predict region (many rasters) with SAM 2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/predict.py"/>
        <source>Predict the raster</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/predict.py"/>
        <source>Predict the whole raster, what the map shows, or inside an AOI layer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/evaluate.py"/>
        <source>Predicted mask (1 object, 0 background)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/segment.py"/>
        <source>Prepare the tiles under the visible map extent, so that clicks there are instant</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/follow_years.py"/>
        <source>Prompt with last year</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../settings_dialog.py"/>
        <source>Python</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../settings_dialog.py"/>
        <source>Python interpreter with torch and rf-sam-2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/raster.py"/>
        <source>Raster</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/predict_region.py"/>
        <source>Region folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/find.py"/>
        <source>Reject (R)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/evaluate.py"/>
        <source>Report</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/train.py"/>
        <source>Resume the stopped run</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/predict_region.py"/>
        <source>Resume: finish the region already in the output folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/shapes.py"/>
        <source>Right angles</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/base.py"/>
        <source>Right angles for buildings: tolerance in degrees (0: off; 15 suits most)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/train.py"/>
        <source>Run fine-tuning</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/fine_tune.py"/>
        <source>Run folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/base.py"/>
        <source>SAM 2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/model.py"/>
        <source>SAM 2 checkpoint</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/follow_years.py"/>
        <source>SAM 2 memory</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin.py"/>
        <source>SAM 2 panel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../settings_dialog.py"/>
        <source>SAM 2 settings</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../find_controller.py"/>
        <source>SAM 2: find the rest</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../install_controller.py"/>
        <source>SAM 2: installing the engine: {stage}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../suggest_controller.py"/>
        <source>SAM 2: where to label next</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../find_controller.py"/>
        <source>SAM 2: {stage} (budget {minutes:g} min)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/evaluate.py"/>
        <source>Scores a predicted mask against label polygons: pixel IoU, F1, precision and recall over labelled pixels, and object precision, recall and F1 (one-to-one matches at IoU 0.5). Optionally writes a report (.json, .csv and a .png with the confusion matrix and a map of hits and misses).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/dock.py"/>
        <location filename="../panel/segment.py"/>
        <source>Segment</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/predict.py"/>
        <source>Segment every object of the class with the active model; adds a mask and polygons</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/segment.py"/>
        <source>Segment from a points layer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/segment.py"/>
        <source>Segment on the map</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/segment.py"/>
        <source>Segments</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/predict_region.py"/>
        <source>Segments a region given as many orthophoto tiles (raster layers, a folder of GeoTIFFs, or both; one CRS) with one model load: a mask per tile in the output folder, region.vrt over them, and one polygon layer in which objects cut by tile edges are joined. Resume finishes an interrupted region without predicting the finished tiles again. On several GPUs, run the same job with torchrun (see the README).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/segment.py"/>
        <source>Segments the object under each point of a points layer (one prompt per point), like clicks on the map.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/predict.py"/>
        <source>Segments the whole orthophoto (or the area of interest) with a checkpoint, window by window in bounded memory: a mask (1 object, 0 background, 255 nodata) and optionally polygons with their mean probability as score. A checkpoint tuned for clicking predicts from a grid of clicks.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/engine.py"/>
        <source>Settings...</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/dock.py"/>
        <source>Shapes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/shapes.py"/>
        <source>Simplify</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/base.py"/>
        <source>Simplify tolerance (m; 0: one pixel)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/shapes.py"/>
        <source>Smallest area</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/base.py"/>
        <source>Smallest object kept (m² on the ground; 0: off)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/predict.py"/>
        <source>Split touching objects of the class (buildings sharing part of a wall, crowns that touch) where they narrow, so that each gets its own polygon and instance_id</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/years.py"/>
        <source>Start from</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../settings_dialog.py"/>
        <source>Start that Python and show what it has (torch, CUDA, sam2)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/job.py"/>
        <source>Stop the running job (a fine-tuning stops at a safe point and can be resumed)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/shapes.py"/>
        <source>Straighten outlines: points closer than this to a line are dropped (1 pixel: the least)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/train.py"/>
        <source>Tell the classes apart</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/labels.py"/>
        <source>The attribute holding each polygon's class number (empty: one class)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/segment.py"/>
        <source>The class written with each accepted segment and predicted polygon: one of the output layer's classes, or type a new one</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/train.py"/>
        <source>The classes to learn, e.g. 1 or 1,3 (empty: every class)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/engine.py"/>
        <source>The engine's Python, the device (GPU or CPU) and the embedding cache</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/follow_years.py"/>
        <source>The first year's objects (accepted segments, labels)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/years.py"/>
        <source>The first year's objects (accepted segments, your labels) instead of its prediction</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/raster.py"/>
        <source>The ground size of a pixel when a web layer is rendered for SAM 2 (as the map shows it: the map's current scale); choose the imagery's own, e.g. 0.5 m, for the best masks</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/train.py"/>
        <source>The last run's report: base model vs tuned, curves, confusion matrix</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/raster.py"/>
        <source>The orthophoto to segment, fine-tune on and predict: a file, or a web layer (WMS, WMTS, XYZ, a GeoTIFF over HTTP), which is rendered over the area needed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/suggest.py"/>
        <source>The places where the active model is least sure, away from your labels: a label there teaches it most. Shown again after each fine-tuning.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/segment.py"/>
        <source>The polygon layer accepted segments go to (empty: a GeoPackage beside the project)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/suggest.py"/>
        <source>The polygons to look in, when Where is the AOI layer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/predict.py"/>
        <source>The polygons to predict inside when Where is AOI layer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/find.py"/>
        <source>The polygons to search in, when Where is the AOI layer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/labels.py"/>
        <source>The polygons you drew: what Find the rest and fine-tuning learn from</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/raster.py"/>
        <source>The raster band SAM 2 sees as {colour}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/raster.py"/>
        <source>The raster you segment, fine-tune on and predict</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../find_controller.py"/>
        <source>The review stopped: its candidates were removed (Find again finds them again)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../find_controller.py"/>
        <source>The review stopped: its label layer {layer} was removed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/dock.py"/>
        <source>The whole raster, the map's extent or an area; objects across years</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/predict.py"/>
        <source>Threshold</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/years.py"/>
        <source>Tick each flight of the area: its orthophoto (predicted with the active model) or its objects as a polygon layer. Dates come from the layers' names (ortho_2019, roofs 2022-05)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/tiles.py"/>
        <source>Tile folders (trai/vali)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/train.py"/>
        <source>Tile size (px)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/find.py"/>
        <source>Time budget</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/train.py"/>
        <source>Trains</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/train.py"/>
        <source>Tune</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/where_to_label.py"/>
        <source>Uncertainty</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../maptool.py"/>
        <source>Under the cursor: nothing (no object here)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../maptool.py"/>
        <source>Under the cursor: score {score:.2f}; click to take this outline</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/model.py"/>
        <source>Use</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/train.py"/>
        <source>Validation share</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/raster.py"/>
        <source>Web layer pixel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/follow_years.py"/>
        <location filename="../years_controller.py"/>
        <source>What changed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../settings_dialog.py"/>
        <source>Wheels (offline)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/find.py"/>
        <location filename="../panel/predict.py"/>
        <location filename="../panel/suggest.py"/>
        <source>Where</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../settings_dialog.py"/>
        <source>Where Install engine makes the engine's environment (empty: a folder of your QGIS profile)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../settings_dialog.py"/>
        <source>Where SAM 2 runs, for clicks and jobs: auto takes a GPU (CUDA, Apple's MPS) when there is one</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../settings_dialog.py"/>
        <source>Where encoded image tiles are kept, so that a second click on a tile is instant (empty: the engine's default, ~/.cache/sam2-qgis/embeddings); takes effect when the engine restarts</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/suggest.py"/>
        <source>Where to label next</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/where_to_label.py"/>
        <source>Where to label next reads a local raster file: save {layer} as a GeoTIFF first</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/where_to_label.py"/>
        <source>Where to label next with SAM 2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/find_the_rest.py"/>
        <location filename="../processing/where_to_label.py"/>
        <source>Where to look (extent)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/find_the_rest.py"/>
        <location filename="../processing/where_to_label.py"/>
        <source>Where to look (polygons)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/suggest.py"/>
        <source>Where to look for places to label</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/find.py"/>
        <source>Where to look for the other objects</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/segment.py"/>
        <source>While segmenting, resting the mouse shows the outline a click there would give (on a tile already encoded; a click then takes it at once)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/shapes.py"/>
        <source>Widest</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/base.py"/>
        <source>Widest object kept (m across; 0: no limit)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/years.py"/>
        <source>Years</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/labels.py"/>
        <source>Your labels</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/dock.py"/>
        <source>Your labels: find the rest, where to label next, fine-tune</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../training_controller.py"/>
        <source>a fine-tuning is already running: wait for it or cancel it in the task manager</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../training_controller.py"/>
        <source>about {hours} h {minutes} min left</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../training_controller.py"/>
        <source>about {minutes} min left</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/train.py"/>
        <source>all (or e.g. 1,3)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/raster.py"/>
        <source>as the map shows it</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/base.py"/>
        <source>bands {text} must be band numbers such as 4,1,2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../training_controller.py"/>
        <source>base</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../jobs.py"/>
        <source>cancelled: {message}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../output.py"/>
        <source>cannot create {path}: {error}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../output.py"/>
        <source>cannot export {layer} to {path}: {message}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../output.py"/>
        <source>cannot open the new layer in {path}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../review.py"/>
        <source>cannot read the candidates in {path}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../suggest_controller.py"/>
        <source>cannot read the places found in {path}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../output.py"/>
        <source>cannot start editing {layer}: choose another layer or a new GeoPackage</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../review.py"/>
        <source>cannot start editing {layer}: is it read-only?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../prediction_controller.py"/>
        <source>cannot write predictions to {out_dir} ({strerror}): choose another folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../years_controller.py"/>
        <source>cannot write to {out_dir} ({strerror}): choose another folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../engine_controller.py"/>
        <source>choose a checkpoint file first</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../training_controller.py"/>
        <source>choose a label layer and a model (the base to fine-tune) first</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../find_controller.py"/>
        <source>choose a label layer with a few outlined objects, and a model, first</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../suggest_controller.py"/>
        <source>choose a model first (Model: Use): its uncertainty says where to label</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../session.py"/>
        <source>choose a model first (SAM 2 panel &gt; Model)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../prediction_controller.py"/>
        <source>choose a model first (a fine-tuned run's best.pt works best)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/predict_region.py"/>
        <source>choose orthophoto tiles, a folder of them, or both</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../suggest_controller.py"/>
        <source>choose the AOI layer to look in (or look in the visible map extent)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../prediction_controller.py"/>
        <source>choose the AOI layer to predict in (or predict the whole raster)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../find_controller.py"/>
        <source>choose the AOI layer to search (or search the visible map extent)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../review.py"/>
        <source>could not add the candidate to {layer}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../output.py"/>
        <source>could not add the segments to {layer}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../settings_dialog.py"/>
        <source>exact</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../find_controller.py"/>
        <source>finding is already running: wait for it or cancel it</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../find_controller.py"/>
        <source>finding the rest</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../training_controller.py"/>
        <source>fine-tuned: validation IoU {base:.3f} -&gt; {best:.3f}; the tuned model is now active</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../training_controller.py"/>
        <source>fine-tuning {text}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../years_controller.py"/>
        <source>followed {count} years: step through them with View &gt; Panels &gt; Temporal Controller</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/base.py"/>
        <source>give the ground pixel to render {layer} at (Pixel size, e.g. 0.3 for 30 cm imagery)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../settings_dialog.py"/>
        <source>int8: faster, approximate</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../find_controller.py"/>
        <source>learning from the examples</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/base.py"/>
        <source>no Python with torch and rf-sam-2 is configured: set it in the SAM 2 panel (Settings...)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../training_controller.py"/>
        <source>no browser opened the report: it is {report}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../training_controller.py"/>
        <source>no browser opened the report: it is {report} (its folder is open)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../engine_controller.py"/>
        <source>no engine found. Install it now? torch and SAM 2 go into their own environment, in the background (about 1 GB, a few GB with CUDA; minutes)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../training_controller.py"/>
        <source>no epoch beat the base model's validation IoU of {base:.3f}: the active model is unchanged; label more objects or change the settings, and see the run's report</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../training_controller.py"/>
        <source>no epoch beat the validation IoU of the model you started from, {base:.3f}: the active model is unchanged; label more objects or change the settings, and see the run's report</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../training_controller.py"/>
        <source>no finished fine-tuning in this session yet</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/shapes.py"/>
        <source>no limit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../training_controller.py"/>
        <source>no stopped fine-tuning to resume in this session</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../maptool.py"/>
        <source>nothing to undo: no prompts, and no unsaved accepted segments</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/shapes.py"/>
        <source>off</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../years_controller.py"/>
        <source>orthophotos are predicted with a model: choose one first (or tick each year's objects)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../suggest_controller.py"/>
        <source>places to label are already being found: wait for them or cancel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/base.py"/>
        <source>rendering {layer} for the engine</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../remote.py"/>
        <source>rendering {layer} was cancelled</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../session.py"/>
        <source>select a raster layer (an orthophoto) in the Layers panel first</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../training_controller.py"/>
        <source>start</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../install_controller.py"/>
        <source>the engine is being installed already: wait for it or cancel it</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../install_controller.py"/>
        <source>the engine is {done}: {python}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../jobs.py"/>
        <source>the engine job ended without a result: {last} (see the SAM 2 log)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../training_controller.py"/>
        <source>the run folder {run_dir} is not writable ({problem}): save the project elsewhere</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../training_controller.py"/>
        <source>the starting model's IoU {iou:.3f}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../years_controller.py"/>
        <source>tick two or more years (each flight's orthophoto or its objects) to follow</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../training_controller.py"/>
        <source>under a minute left</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/widgets.py"/>
        <source>visible map extent</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/widgets.py"/>
        <source>whole raster</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../segment_controller.py"/>
        <source>{added} added to {where}: {accepted} since QGIS started. Ctrl+Z takes it back; save the layer's edits to keep it</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../segment_controller.py"/>
        <source>{count} objects</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../training_controller.py"/>
        <source>{description}: epoch {epoch}, {rate:.1f} samples/s</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../training_controller.py"/>
        <source>{description}: {train} training and {val} validation tiles</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../engine_controller.py"/>
        <source>{device}, int8 encoder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/predict_region.py"/>
        <source>{done} rasters predicted, {kept} kept from before</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../segment_controller.py"/>
        <source>{encoded} of {tiles} tiles encoded: clicks there are now instant</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../output.py"/>
        <source>{folder} holds too many {SEGMENTS_NAME}_N.gpkg files: choose an output layer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/predict_region.py"/>
        <source>{layers}: a region is predicted from raster files; save web layers as GeoTIFFs first, or predict them one at a time with Predict raster</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../segment_controller.py"/>
        <source>{layer} ({file})</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../session.py"/>
        <source>{layer} cannot be read (an invalid layer): check its source</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../remote.py"/>
        <source>{layer} cannot be read for rendering: check the layer's source</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../remote.py"/>
        <source>{layer} could not be rendered (error {code}): check the layer's source</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../review.py"/>
        <source>{layer} has no class field to mark rejected candidates as background: add a text field 'class' to it (or choose its class field in the panel)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../remote.py"/>
        <source>{layer} has no pixels in that area: pan to the layer or choose another area</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing/base.py"/>
        <source>{layer} is a web layer without edges: give the area to render it over (Extent)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../raster_controller.py"/>
        <source>{layer} is a web layer without edges: predict the visible map extent or inside an AOI layer (SAM 2 panel &gt; Where)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../years_controller.py"/>
        <source>{layer} is neither an orthophoto nor a polygon layer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../output.py"/>
        <source>{layer} is not a polygon layer: choose a polygon layer or a new GeoPackage</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../output.py"/>
        <source>{layer} is read-only: choose another layer or a new GeoPackage</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../remote.py"/>
        <source>{layer}: the area is {cols} x {rows} px at {resolution:g} {units} per pixel, more than {max_side} px a side: zoom in, or choose a coarser ground resolution for web layers in the SAM 2 panel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../years_controller.py"/>
        <source>{layer}: years are read from raster files; save web layers as GeoTIFFs first</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../training_controller.py"/>
        <source>{name} {base:.2f} -&gt; {best:.2f}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/model.py"/>
        <source>{name}: Meta's official checkpoint, downloaded when first used</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../training_controller.py"/>
        <source>{name}: the base model stands (validation IoU {base:.3f}: no epoch beat it)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../training_controller.py"/>
        <source>{name}: the model you started from stands (validation IoU {base:.3f}: no epoch beat it)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../training_controller.py"/>
        <source>{name}: validation IoU {base:.3f} ({start}) -&gt; {best:.3f} (best, epoch {epoch}); F1 {f1_base:.3f} -&gt; {f1_best:.3f}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../training_controller.py"/>
        <source>{objects} objects in {tiles} validation tiles</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../output.py"/>
        <source>{path} already exists: choose it as the output layer or give another name</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../tasks.py"/>
        <source>{task} was cancelled</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../job_panel.py"/>
        <source>{task}: cancelling...</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../tasks.py"/>
        <source>{task}: stopping...</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/find.py"/>
        <source>◀ Back (P)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../panel/suggest.py"/>
        <source>◀ Previous place</source>
        <translation type="unfinished"></translation>
    </message>
</context>
</TS>
