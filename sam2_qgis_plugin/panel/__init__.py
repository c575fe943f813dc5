"""The SAM 2 panel, one module per section. Each section owns its widgets, their tooltips, the choices it keeps
across sessions (``remembered()``) and the options it gives a job (``options()``); ``dock.Sam2Dock`` arranges
them: the running job, the engine, the model and the raster always in view, one task per tab below."""
