"""Command line of the engine: ``python -m core <command> ...``; ``--help`` on each command.

One module per command (or per family of commands) turns flags into a job of ``core.workflows`` or
``core.training`` and registers its parser (``parser.REGISTRARS``); ``args`` holds the shared argument helpers;
``runner.main`` runs one command as a job (events, errors, cancel).
"""
