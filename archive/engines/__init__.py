"""Engines: the one seam between the archive's readers and whichever engine searches.

``open_engine(home)`` returns the :class:`SearchEngine` the home is configured
for: the embedded engine (:class:`archive.search.Engine`, the default: without
an ``archive.toml`` and without ``ARCHIVE_ENGINE`` nothing changes) or the
OpenSearch one (:mod:`.opensearch`). The web UI, the API, the command line and
the research tools hold one and import neither implementation.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Sequence
from pathlib import Path

from ..home import Archive, resolve_home
from ..search.request import SearchRequest
from ..search.results import Health, ParagraphText, SearchResults, Selection
from .base import SearchEngine
from .config import EMBEDDED, EngineConfig, load_config

__all__ = ["SearchEngine", "Health", "ParagraphText", "Selection", "open_engine", "engine_for",
           "close_engines", "engine_name", "search", "reads_cluster_only", "EMBEDDED"]



def engine_name(home: str | os.PathLike[str] | Archive | None) -> str:
    """Return the name of the engine a home is configured for (``whoosh`` unless told otherwise)."""
    return _config_of(_path(home)).engine


def open_engine(home: str | os.PathLike[str] | Archive | None) -> SearchEngine:
    """Open the engine a home is configured for (a new one: the caller closes it).

    A cluster engine given the home's :class:`Archive` (on the host that holds the
    store) also reads articles' earlier versions from it.
    """
    config = _config_of(_path(home))
    if config.engine == EMBEDDED:
        from ..search.engine import Engine

        return Engine(home if isinstance(home, Archive) else _path(home))
    from .opensearch.engine import OpenSearchEngine

    return OpenSearchEngine(config, home if isinstance(home, Archive) else _store_of(_path(home)))


#: The store's file in a home (a web server next to a cluster has none).
STORE_FILE = "archive.sqlite3"
_OPEN: dict[Path, SearchEngine] = {}
_OPEN_LOCK = threading.Lock()


def engine_for(home: str | os.PathLike[str] | Archive | None) -> SearchEngine:
    """Return the process's engine for a home (one per home, reused across calls)."""
    path = _path(home)
    if _config_of(path).engine == EMBEDDED:
        from ..search.engine import engine_for as embedded

        return embedded(home if isinstance(home, Archive) else path)
    with _OPEN_LOCK:
        found = _OPEN.get(path)
        if found is None:
            found = _OPEN[path] = open_engine(home)
        return found


def close_engines() -> None:
    """Close every engine of this process, and forget those :func:`engine_for` kept (tests, forks)."""
    from ..search.engine import close_engines as embedded

    embedded()
    with _OPEN_LOCK:
        for engine in _OPEN.values():
            engine.close()
        _OPEN.clear()


def search(home: str | os.PathLike[str] | Archive | None, query: str = "", *,
           source: str | Sequence[str] = (), author: str | Sequence[str] = (),
           tag: str | Sequence[str] = (), date_from: str | dt.date | None = None,
           date_to: str | dt.date | None = None, sort: str = "relevance", page: int = 1,
           per_page: int = 20, show_copies: bool = False) -> SearchResults:
    """Search an archive home with the engine it is configured for: ``search(home, "réforme", tag="politique")``.

    The arguments are :func:`archive.search.search`'s (its docstring says what they mean).
    """
    request = SearchRequest.build(query, source=source, author=author, tag=tag, date_from=date_from,
                                  date_to=date_to, sort=sort, page=page, per_page=per_page, show_copies=show_copies)
    return engine_for(home).search(request)


def _path(home: str | os.PathLike[str] | Archive | None) -> Path:
    return home.home if isinstance(home, Archive) else resolve_home(home)


def _config_of(home: Path) -> EngineConfig:
    return load_config(home)


def reads_cluster_only(home: str | os.PathLike[str] | None) -> bool:
    """Tell whether a home is a web server's next to a cluster: a cluster engine, and no store of its own."""
    path = _path(home)
    return _config_of(path).cluster and not (path / STORE_FILE).exists()


def _store_of(home: Path) -> Archive | None:
    """Return the home's archive when it holds a store (the writing host), else None (a web server)."""
    return Archive(home, create=False) if (home / STORE_FILE).exists() else None
