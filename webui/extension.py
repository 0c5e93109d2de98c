"""The archive as a Flask extension: one search engine per app, kept in ``app.extensions``.

Searches run in parallel threads; whole-result exports (every article matching
``la``) run one at a time (:func:`exporting`): each is seconds of Python, and the
process has one GIL, so three at once would take most of it from the searches of
everyone else. A queued export waits without using any.

``warm(app)`` readies a server before its first reader: the index opened, the
spelling vocabulary built (:meth:`~archive.engines.SearchEngine.warm`), and one page of the newest
articles and the reading view of the newest rendered, so that templates are
compiled and catalogs loaded before anyone asks for « retraites » (the first page
rendered cost about 150 ms more than the next ones).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app

from archive import Archive
from archive.engines import SearchEngine, open_engine

__all__ = ["init_app", "engine", "archive", "warm", "close", "exporting"]

_KEY = "archive"
_HOME = "archive-home"
_EXPORTS = "archive-exports"


def init_app(app: Flask) -> None:
    """Open the home of the app's ``ARCHIVE_HOME`` (for writes) and the search engine it is configured for."""
    home = Archive(app.config["ARCHIVE_HOME"])
    app.extensions[_HOME] = home
    app.extensions[_KEY] = open_engine(home)
    app.extensions[_EXPORTS] = threading.Lock()


@contextmanager
def exporting() -> Iterator[None]:
    """Run a whole-result export once no other export of this app is running."""
    with current_app.extensions[_EXPORTS]:
        yield


def engine() -> SearchEngine:
    """Return the current app's search engine."""
    found: SearchEngine = current_app.extensions[_KEY]
    return found


def archive() -> Archive:
    """Return the current app's archive home, which stores what is added."""
    found: Archive = current_app.extensions[_HOME]
    return found


def warm(app: Flask) -> None:
    """Build what the first requests would otherwise wait for: the engine's structures, templates, catalogs."""
    app.extensions[_KEY].warm()
    for name in app.jinja_env.list_templates():  # pages not rendered below compile too
        app.jinja_env.get_template(name)
    with app.test_client() as client:
        newest = client.get("/api/search?sort=-date&per_page=1").get_json() or {}
        client.get("/")
        for hit in newest.get("hits", []):
            client.get(f"/article/{hit['id']}")


def close(app: Flask) -> None:
    """Close the app's open index (when the server stops, or at the end of a test)."""
    app.extensions[_KEY].close()
