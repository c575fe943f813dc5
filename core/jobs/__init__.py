"""The job contract between the plugin and the engine: requests, the event stream, logs, and the worker that
serves the plugin over JSON lines."""
