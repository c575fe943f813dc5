"""Development tools, never shipped in the plugin: synthetic scenes with exact truth, the demo, the sample-data
fetcher. Only the command line imports them (tests/core/test_layering.py)."""
