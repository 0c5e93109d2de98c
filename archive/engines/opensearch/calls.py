"""The cluster's calls: one archive's index alias on its hosts, asked over HTTP.

What the engine's helpers (:mod:`.reading`, :mod:`.scrolling`, :mod:`.suggesting`)
ask of it: its alias, its calls and searches, and the home it reads histories
from. :class:`~.engine.OpenSearchEngine` extends it with the search seam.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..config import EngineConfig
from .client import connect, reaching

if TYPE_CHECKING:  # (a cluster engine runs without a home; given one, it reads histories from it)
    from ...home import Archive

__all__ = ["Cluster"]


class Cluster:
    """An index alias on a cluster's hosts, and the calls that reach it (another node if one fails)."""

    def __init__(self, config: EngineConfig, archive: Archive | None = None) -> None:
        self.config = config
        self.hosts = config.hosts
        self.alias = config.alias
        self.client = connect(config.hosts)
        self.archive = archive

    def call(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        """Send one request to the cluster (another node if one fails) and return its JSON answer.

        Raise :class:`~archive.errors.EngineUnavailable` when no node can answer.
        """
        url, _, query = path.partition("?")
        params = dict(p.split("=", 1) for p in query.split("&")) if query else None
        with reaching(self.hosts):
            found: dict[str, Any] = self.client.transport.perform_request(method, url, params=params, body=body)
        return found

    def run(self, body: dict[str, Any], *, ranked: bool = False) -> dict[str, Any]:
        """Run one search on the archive's index (``ranked``: with the whole index's term statistics).

        BM25 weighs a term by its frequency; per shard, the same word weighs differently in
        each, and a small archive's order would depend on where its articles landed.
        """
        suffix = "?search_type=dfs_query_then_fetch" if ranked else ""
        return self.call("POST", f"/{self.alias}/_search{suffix}", body)
