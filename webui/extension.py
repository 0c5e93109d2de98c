"""The archive as a Flask extension: one search engine per app, kept in ``app.extensions``.

Searches run in parallel threads; the costly research requests (whole-result
exports of every article matching ``la``, concordances) run one at a time
(:func:`exporting`): each is up to seconds of Python, and the process has one
GIL, so three at once would take most of it from the searches of everyone else.
One more may wait its turn (without using any); past that, they are refused
with 429 at once, so that waiting ones never hold every server thread and plain
searches always find one free. An export streams: the slot is held until its
last line is sent, or until the server closes the response (the client left).

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
from pathlib import Path

from flask import Flask, current_app

from archive import Archive, ArchiveError, Overloaded
from archive.engines import SearchEngine, open_engine, reads_cluster_only

__all__ = ["init_app", "engine", "archive", "has_store", "NoStore", "warm", "close", "exporting", "slot", "Slot",
           "Held"]

_KEY = "archive"
_HOME = "archive-home"
_EXPORTS = "archive-exports"


def init_app(app: Flask) -> None:
    """Open the home of the app's ``ARCHIVE_HOME`` (for writes) and the search engine it is configured for.

    A home holding only a cluster's ``archive.toml`` is a web server next to the cluster:
    it reads everything from the cluster and never makes a store of its own.
    """
    path = Path(app.config["ARCHIVE_HOME"])
    home = None if reads_cluster_only(path) else Archive(path)
    app.extensions[_HOME] = home
    app.extensions[_KEY] = open_engine(home if home is not None else path)
    app.extensions[_EXPORTS] = Slot()


class NoStore(ArchiveError):
    """This web server reads a cluster and holds no store: articles are added on the writing host."""

    http_status = 403
    code = "no_store"


class Slot:
    """One costly request running at a time, ``waiting`` more queued; the others refused."""

    def __init__(self, waiting: int = 1) -> None:
        self._run = threading.Lock()
        self._count = threading.Lock()
        self._inside = 0  # running and waiting
        self._most = 1 + waiting

    def acquire(self) -> None:
        """Take the slot, waiting for it if few wait; raise :class:`Overloaded` if too many do."""
        with self._count:
            if self._inside >= self._most:
                raise Overloaded("too many exports and concordances at once; try again in a moment")
            self._inside += 1
        self._run.acquire()

    @property
    def inside(self) -> int:
        """Return how many requests hold the slot or wait for it."""
        return self._inside

    def release(self) -> None:
        """Give the slot back."""
        self._run.release()
        with self._count:
            self._inside -= 1


class Held:
    """A response body that holds the slot until its last chunk is sent or the server closes it."""

    def __init__(self, chunks: Iterator[str], slot: Slot) -> None:
        self._chunks = chunks
        self._slot: Slot | None = slot

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        try:
            return next(self._chunks)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Stop the work (the client left, or the body ended) and give the slot back, once."""
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()
        slot, self._slot = self._slot, None
        if slot is not None:
            slot.release()

    def __del__(self) -> None:
        # A body dropped unread and unclosed (a test client's) must not keep the slot forever.
        self.close()


def slot() -> Slot:
    """Return this app's slot for costly research requests."""
    found: Slot = current_app.extensions[_EXPORTS]
    return found


@contextmanager
def exporting() -> Iterator[None]:
    """Run a costly request once no other of this app is running (or refuse it: too many wait)."""
    held = slot()
    held.acquire()
    try:
        yield
    finally:
        held.release()


def engine() -> SearchEngine:
    """Return the current app's search engine."""
    found: SearchEngine = current_app.extensions[_KEY]
    return found


def archive() -> Archive:
    """Return the current app's archive home, which stores what is added; raise :class:`NoStore` if none."""
    found: Archive | None = current_app.extensions[_HOME]
    if found is None:
        raise NoStore("this server reads the cluster only: add articles on the host that holds the store")
    return found


def has_store() -> bool:
    """Tell whether the current app's home holds a store (False: a web server reading a cluster alone)."""
    return current_app.extensions[_HOME] is not None


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
