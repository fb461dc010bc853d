"""The ``proctor`` command line."""

from proctor.cli._app import app, main

__all__ = ["app", "main"]
