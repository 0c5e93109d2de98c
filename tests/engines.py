"""Both engines behind one fixture: the embedded one always, the OpenSearch one on the `cluster` fixture.

A test module makes a home fixture with ``params=ENGINES`` and builds it with
:func:`engine_home`: for ``opensearch`` the home gets an ``archive.toml`` pointing at
the session's cluster (an index of its own), so that adding the articles indexes
them there and ``archive.search``/``engine_for`` search there, through the seam.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from archive import Archive, Article
from archive.engines import close_engines
from archive.engines.config import EngineConfig, save_config

ENGINES = ["whoosh", pytest.param("opensearch", marks=pytest.mark.cluster)]


def engine_home(request: pytest.FixtureRequest, path: Path, articles: Iterable[Article]) -> Iterator[Path]:
    """Yield a home holding ``articles`` on the engine ``request.param``; drop its cluster index afterwards."""
    config = None
    if request.param == "opensearch":
        cluster = request.getfixturevalue("cluster")
        config = EngineConfig(home=path, engine="opensearch", hosts=tuple(cluster.hosts),
                              index=f"test-{uuid.uuid4().hex[:12]}")
        path.mkdir(parents=True, exist_ok=True)
        save_config(config)
    Archive(path).add_articles(list(articles))
    yield path
    close_engines()
    if config is not None:
        from archive.engines.opensearch.client import connect

        connect(config.hosts).indices.delete(index=f"{config.alias}-*", ignore_unavailable=True)
