"""The archive as a Flask extension: one search engine per app, kept in ``app.extensions``."""

from __future__ import annotations

from flask import Flask, current_app

from archive import Engine

__all__ = ["init_app", "engine", "close"]

_KEY = "archive"


def init_app(app: Flask) -> None:
    """Open the search engine of the app's ``ARCHIVE_HOME``."""
    app.extensions[_KEY] = Engine(app.config["ARCHIVE_HOME"])


def engine() -> Engine:
    """Return the current app's search engine."""
    found: Engine = current_app.extensions[_KEY]
    return found


def close(app: Flask) -> None:
    """Close the app's open index (when the server stops, or at the end of a test)."""
    app.extensions[_KEY].close()
