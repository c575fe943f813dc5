"""SAM 2 in QGIS's Processing framework (toolbox, batch mode, model builder, qgis_process): one module per
algorithm, each running the engine in its own process (``base.EngineAlgorithm``); ``options`` turns the engine's
job options into parameters; ``provider`` lists them."""
