"""The write side on a cluster: the store's pending queue carried into the index with the bulk API.

The store stays the truth. ``archive add`` stores first (each article queued in
``pending``), then :meth:`ClusterWriter.sync` sends the queued articles (and the
copy-cluster mates whose documents show them) to the cluster in bulk and empties the
queue only once the cluster acknowledged them. If the cluster is down, or a node
dies under the bulk request, the queue keeps the ids and the next write or
``archive check --repair`` sends them again: indexing by ``_id`` is idempotent.

:meth:`ClusterWriter.rebuild` fills a new, versioned index (``<alias>-000007``) from
the store, switches the alias to it in one atomic request, then deletes the old one:
readers see the old index or the new one, never half of one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import suppress
from typing import Any

from opensearchpy import OpenSearch, helpers
from opensearchpy.exceptions import NotFoundError

from ...checking import CheckReport
from ...errors import ArchiveError, EngineUnavailable
from ...failpoints import failpoint
from ...model import Article
from ...store import Store
from ...workers import Progress, no_progress
from ..config import EngineConfig
from .client import BULK_TIMEOUT, connect, reaching
from .documents import copy_mates, documents
from .settings import REPLICAS, SHARDS, VERSIONS_MAPPING, index_body, index_name

__all__ = ["ClusterWriter", "CHUNK"]

#: Articles per bulk request (about 2-5 MB of JSON for news articles).
CHUNK = 300




class ClusterWriter:
    """Writes one archive's articles into its index on a cluster."""

    def __init__(self, config: EngineConfig, store: Store, *, shards: int = SHARDS, replicas: int = REPLICAS) -> None:
        self.config, self.store = config, store
        self.hosts = config.hosts
        self.alias = config.alias
        self.shards, self.replicas = shards, replicas
        self.client: OpenSearch = connect(self.hosts, timeout=BULK_TIMEOUT)
        self._upgraded = False

    # -- the queue -----------------------------------------------------------------------

    def sync(self, progress: Progress = no_progress) -> int:
        """Index the store's pending articles (build the index first if there is none); return how many.

        Raise :class:`~archive.errors.EngineUnavailable` when the cluster cannot take
        them: they stay queued for the next write or ``archive check --repair``.
        """
        with reaching(self.hosts):
            if not self.exists():
                return self.rebuild(progress, recluster=False)
            pending = self.store.pending()
            if not pending:
                return 0
            self._upgrade()
            stored = set(self.store.ids())
            live = [i for i in pending if i in stored]
            # A document shows its copy-cluster mates: theirs change when one joins or leaves.
            mates = copy_mates(self.store, live) | self._indexed_mates(pending)
            wanted = sorted((set(live) | mates) & stored)
            gone = sorted(set(pending) - stored)
            self._send(wanted, gone, self.alias, progress)
            failpoint("after-index-commit")
            self.client.indices.refresh(index=self.alias)
            self.store.mark_indexed(pending)
            return len(pending)

    def _upgrade(self) -> None:
        """Add to an index made by an earlier version the fields its documents now carry (once per writer)."""
        if not self._upgraded:
            # A strict mapping takes new fields; documents indexed before keep none (a rebuild fills them).
            self.client.indices.put_mapping(index=self.alias, body={"properties": {"versions": VERSIONS_MAPPING}})
            self._upgraded = True

    def _indexed_mates(self, ids: list[str]) -> set[str]:
        """Return the ids the cluster files in the same copy groups as ``ids`` (mates of removed articles too)."""
        groups: set[str] = set()
        for start in range(0, len(ids), 1000):
            found = self.client.mget(index=self.alias, body={"ids": ids[start:start + 1000]},
                                     params={"_source_includes": "copy_group,copies"})
            for doc in found["docs"]:
                source = doc.get("_source") or {}
                if source.get("copies"):
                    groups.add(source["copy_group"])
        if not groups:
            return set()
        mates: set[str] = set()
        for hit in helpers.scan(self.client, index=self.alias, _source=False, size=1000,
                                query={"query": {"terms": {"copy_group": sorted(groups)}}}):
            mates.add(hit["_id"])
        return mates

    def _send(self, ids: list[str], gone: list[str], index: str, progress: Progress) -> None:
        """Index the stored articles ``ids`` and delete ``gone`` from ``index``, in bulk requests."""
        with progress("indexing", len(ids) + len(gone), " articles") as advance:
            self._bulk(self._actions(self.store.iter_articles(ids), gone, index, advance), index)

    def _actions(self, articles: Iterable[Article], gone: list[str], index: str,
                 advance: Any) -> Iterator[dict[str, Any]]:
        batch: list[Article] = []
        for count, article in enumerate(articles, 1):
            batch.append(article)
            if len(batch) == CHUNK:
                yield from self._index_actions(batch, index)
                advance(len(batch))
                batch = []
            if count == CHUNK + 1:
                failpoint("mid-index-write")
        yield from self._index_actions(batch, index)
        advance(len(batch))
        for article_id in gone:
            yield {"_op_type": "delete", "_index": index, "_id": article_id}
        advance(len(gone))

    def _index_actions(self, batch: list[Article], index: str) -> Iterator[dict[str, Any]]:
        for article_id, doc in documents(self.store, batch):
            yield {"_op_type": "index", "_index": index, "_id": article_id, "_source": doc}

    def _bulk(self, actions: Iterable[dict[str, Any]], index: str) -> int:
        """Send actions in chunks; raise on any failure but a delete of a document already gone."""
        done = 0
        for ok, item in helpers.streaming_bulk(
                self.client, actions, chunk_size=CHUNK, max_chunk_bytes=20 * 1024 * 1024,
                raise_on_error=False, raise_on_exception=True, max_retries=5, initial_backoff=1,
                max_backoff=10, request_timeout=BULK_TIMEOUT):
            op, result = next(iter(item.items()))
            status = result.get("status")
            if not ok and not (op == "delete" and status == 404):
                message = f"the cluster refused {op} of {result.get('_id')} ({status}: {result.get('error')})"
                if isinstance(status, int) and (status >= 500 or status == 429):
                    # A shard without a live copy, a full queue: it heals, the queue keeps the ids.
                    raise EngineUnavailable(message, hosts=list(self.hosts), reason=str(status))
                raise ArchiveError(message, code="engine_refused")
            done += 1
        return done

    # -- whole index ---------------------------------------------------------------------

    def exists(self) -> bool:
        """Tell whether the alias names an index on the cluster."""
        with reaching(self.hosts):
            return bool(self.client.indices.exists_alias(name=self.alias))

    def generations(self) -> dict[str, int]:
        """Return the alias's versioned indexes on the cluster: name → generation."""
        pattern = re.compile(re.escape(self.alias) + r"-(\d{6})$")
        try:
            names = self.client.indices.get(index=f"{self.alias}-*", params={"expand_wildcards": "all"})
        except NotFoundError:
            return {}
        return {name: int(m.group(1)) for name in names if (m := pattern.match(name))}

    def live_index(self) -> str | None:
        """Return the index the alias points at, or None."""
        try:
            return next(iter(self.client.indices.get_alias(name=self.alias)), None)
        except NotFoundError:
            return None

    def rebuild(self, progress: Progress = no_progress, *, recluster: bool = True) -> int:
        """Fill a new index from the store, switch the alias to it, delete the old one; return articles indexed."""
        with reaching(self.hosts):
            if recluster:
                with progress("copies", len(self.store), " articles") as advance:
                    self.store.recluster(lambda _phase, n: advance(n))
            generation = self.store.generation()
            existing = self.generations()
            live = self.live_index()
            for name in existing:  # left by a rebuild that died before its switch
                if name != live:
                    self.client.indices.delete(index=name, params={"ignore_unavailable": "true"})
            name = index_name(self.alias, max(existing.values(), default=0) + 1)
            body = index_body(self.shards, 0)  # replicas once filled: one copy of the work
            body["settings"]["index"]["refresh_interval"] = "-1"
            self.client.indices.create(index=name, body=body)
            try:
                ids = self.store.ids()
                self._send(ids, [], name, progress)
                self.client.indices.put_settings(index=name, body={"index": {
                    "number_of_replicas": self.replicas, "refresh_interval": "1s"}})
                self.client.indices.refresh(index=name)
                # Every primary must be live before the switch; replicas may still be copying (a
                # loaded cluster takes minutes for a large index): wait for them, but not forever.
                # (The client reads `timeout` as its own unless request_timeout is given.)
                self.client.cluster.health(index=name, wait_for_status="yellow", timeout="300s", request_timeout=330)
                self.client.cluster.health(index=name, wait_for_status="green", timeout="120s", request_timeout=150,
                                           ignore=408)
                count = int(self.client.count(index=name)["count"])
                if count != len(ids):
                    raise RuntimeError(f"the new index {name} holds {count} articles, the store {len(ids)}")
            except BaseException:
                with suppress(Exception):  # the cluster may be what failed: the next rebuild cleans up
                    self.client.indices.delete(index=name, params={"ignore_unavailable": "true"})
                raise
            failpoint("before-swap")
            actions: list[dict[str, Any]] = [{"add": {"index": name, "alias": self.alias}}]
            if live is not None:
                actions.insert(0, {"remove": {"index": live, "alias": self.alias}})
            self.client.indices.update_aliases(body={"actions": actions})
            if live is not None:
                self.client.indices.delete(index=live, params={"ignore_unavailable": "true"})
            self.store.clear_pending(generation)
            return len(ids)

    def drop(self) -> None:
        """Delete the alias's indexes from the cluster (an archive moved back to the embedded engine, tests)."""
        with reaching(self.hosts):
            for name in self.generations():
                self.client.indices.delete(index=name, params={"ignore_unavailable": "true"})

    # -- checking ------------------------------------------------------------------------

    def compare(self) -> CheckReport:
        """Compare the store's articles with the cluster's documents: ids, content hashes, paragraph counts."""
        with reaching(self.hosts):
            report = CheckReport()
            rows = {r.id: r for r in self.store.rows()}
            if not self.exists():
                report.missing = sorted(rows)
                report.damage = [f"cluster: no index behind the alias {self.alias}; run `archive check --repair`"]
                report.serious = True
                return report
            self.client.indices.refresh(index=self.alias)
            seen: dict[str, tuple[str | None, int | None]] = {}
            for hit in helpers.scan(self.client, index=self.alias, size=2000, preserve_order=False,
                                    query={"_source": ["content_hash", "paragraph_count"]}):
                source = hit.get("_source") or {}
                seen[hit["_id"]] = (source.get("content_hash"), source.get("paragraph_count"))
            report.missing = sorted(set(rows) - set(seen))
            report.extra = sorted(set(seen) - set(rows))
            report.stale = sorted(i for i in set(rows) & set(seen)
                                  if seen[i] != (rows[i].hash, rows[i].nblocks))
            health = self.client.cluster.health(index=self.alias)
            if health.get("status") == "red":
                report.damage.append(f"cluster: index {self.alias} is red (a shard has no copy on a live node)")
            return report

    def repair(self, report: CheckReport, progress: Progress = no_progress) -> None:
        """Re-index what a check found different, or rebuild when there is no index."""
        if report.serious:
            self.rebuild(progress)
            return
        self.store.queue(report.missing + report.extra + report.stale)
        self.sync(progress)
