"""The archive home: one folder holding the store, the index and the write lock.

``HOME/archive.sqlite3`` is the store (the truth), ``HOME/index/`` the derived
search index, ``HOME/.lock`` the write lock. Every write (add, remove, rebuild,
repair) takes the lock, stores first, then brings the index in line with the
store's ``pending`` queue, so that a write interrupted at any point is finished
by the next one (or by ``archive check --repair``) and never loses a stored
article.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import (Any, BinaryIO, Callable, ContextManager, Iterable, Iterator, Mapping, Sequence, TextIO,
                    TypeVar)

from .errors import ArchiveBusy, IngestError
from .indexing import FastWriter, IndexDir, build_segments, write_articles
from .ingest import find_sources, read_incoming
from .model import Article
from .store import Outcome, Store

__all__ = ["Archive", "AddReport", "CheckReport", "ProgressFactory", "resolve_home"]

T = TypeVar("T")
#: Pending articles from which an index update goes through the fast writer.
FAST_BATCH = 200
#: Index segments past which a write ends with a full rebuild.
MAX_SEGMENTS = 16
#: ``progress(label, total)`` returns a context manager yielding ``advance(n)``.
ProgressFactory = Callable[[str, "int | None"], ContextManager[Callable[[int], None]]]


def resolve_home(home: str | os.PathLike[str] | None = None) -> Path:
    """Return the home folder: the argument, else ``$ARCHIVE_HOME``, else the current directory."""
    if home is None or home == "":
        home = os.environ.get("ARCHIVE_HOME") or os.getcwd()
    return Path(home).expanduser().resolve()


@contextmanager
def _no_progress(label: str, total: int | None) -> Iterator[Callable[[int], None]]:
    yield lambda n: None


@dataclass
class AddReport:
    """What an add did: each article's outcome, and each source that failed with its reason."""

    outcomes: list[tuple[str, Outcome]] = field(default_factory=list)
    failures: list[IngestError] = field(default_factory=list)
    #: Things the user should know that are not failures (an id taken, so another chosen).
    notes: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Return how many articles were added, updated and unchanged, and how many sources failed."""
        c = Counter(outcome for _, outcome in self.outcomes)
        return {"added": c["added"], "updated": c["updated"], "unchanged": c["unchanged"],
                "failed": len(self.failures)}


@dataclass
class CheckReport:
    """Differences between store and index, by article id."""

    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    repaired: bool = False

    @property
    def ok(self) -> bool:
        """Tell whether store and index agree."""
        return not (self.missing or self.extra or self.stale)

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready data."""
        return {"ok": self.ok, "missing": self.missing, "extra": self.extra, "stale": self.stale,
                "repaired": self.repaired}


class Archive:
    """An archive home: its store, its index and its write lock."""

    def __init__(self, home: str | os.PathLike[str] | None = None, *, lock_wait: float = 60.0,
                 detect_copies: bool = True) -> None:
        self.home = resolve_home(home)
        self.home.mkdir(parents=True, exist_ok=True)
        self.lock_wait = lock_wait
        self.store = Store(self.home / "archive.sqlite3", detect_copies=detect_copies)
        self.index_dir = IndexDir(self.home / "index")

    def __repr__(self) -> str:
        return f"Archive({str(self.home)!r})"

    # -- the write lock ------------------------------------------------------------------

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the archive's write lock, waiting up to ``lock_wait`` seconds for it."""
        fd = os.open(self.home / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            deadline = time.monotonic() + self.lock_wait
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise ArchiveBusy(
                            f"another process is writing to {self.home} and did not finish within "
                            f"{self.lock_wait:g} s; try again when it is done") from None
                    time.sleep(0.05)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    # -- writes --------------------------------------------------------------------------

    def add(self, paths: Sequence[str], *, overrides: Mapping[str, Any] | None = None,
            stdin: BinaryIO | None = None, progress: ProgressFactory | None = None,
            procs: int = 1, origin: str | None = None) -> AddReport:
        """Add files, folders, globs or ``-`` (JSON Lines on stdin); one transaction per source.

        ``origin`` names sources whose paths do not last (``web`` for a paste or an
        upload): they are recorded as ``web:<file name>`` and never remembered.
        """
        sources, missing = find_sources(paths)
        report = AddReport(failures=list(missing))
        progress = progress or _no_progress
        with self.writing():
            with progress("storing", None) as advance:
                for source in sources:
                    try:
                        label = f"{origin}:{Path(source.path).name}" if origin else None
                        items = read_incoming(source, overrides, stdin, origin=label)
                        report.outcomes.extend(self.store.put(_counting(items, advance), report.notes))
                    except IngestError as exc:
                        report.failures.append(exc)
            self._sync(progress, procs)
        return report

    def add_articles(self, articles: Iterable[Article]) -> list[tuple[str, Outcome]]:
        """Add article objects in one transaction and index them."""
        with self.writing():
            outcomes = self.store.put(articles)
            self._sync(_no_progress, 1)
        return outcomes

    def remove(self, ids: Iterable[str], *, purge: bool = False) -> list[str]:
        """Remove articles (all or none) and their index entries; ``purge`` also deletes their history."""
        with self.writing():
            removed = self.store.remove(ids, purge=purge)
            self._sync(_no_progress, 1)
        return removed

    def rebuild(self, *, procs: int = 1, progress: ProgressFactory | None = None,
                chain: Mapping[str, bool] | None = None) -> int:
        """Build a new index from the store beside the live one and swap it in; return blocks indexed.

        ``chain`` switches stages of the search chain off (the relevance benchmark).
        The copy clusters are recomputed too.
        """
        with self.writing():
            self.store.recluster()
            return self._rebuild(progress or _no_progress, procs, chain or {})

    def sync(self, *, progress: ProgressFactory | None = None) -> None:
        """Bring the index in line with the store's pending changes."""
        with self.writing():
            self._sync(progress or _no_progress, 1)

    def _rebuild(self, progress: ProgressFactory, procs: int, chain: Mapping[str, bool] | None = None) -> int:
        generation = self.store.generation()
        total = len(self.store)
        name, ix = self.index_dir.create(**(chain or {}))
        try:
            ids = self.store.ids()
            with progress("indexing", total) as advance:
                build_segments(ix, self.index_dir.path / name, self.store.path, ids, procs, advance)
            ix.close()
        except BaseException:
            self.index_dir.clean()  # drop the half-built generation, keep the live one
            raise
        self.index_dir.publish(name)
        self.store.clear_pending(generation)
        return int(self.store.stats()["blocks"])  # type: ignore[arg-type]

    def _sync(self, progress: ProgressFactory, procs: int) -> None:
        if not self.index_dir.exists():
            self._rebuild(progress, procs)
            return
        pending = self.store.pending()
        if not pending:
            return
        ix = self.index_dir.open()
        # Small batches go through Whoosh's writer, which merges small segments; large
        # ones through the fast writer, as one new segment.
        if len(pending) >= FAST_BATCH:
            writer = FastWriter(ix, timeout=self.lock_wait, compound=False)
        else:
            writer = ix.writer(timeout=self.lock_wait, limitmb=256, compound=False)
        try:
            for article_id in pending:
                writer.delete_by_term("article", article_id)
            with progress("indexing", len(pending)) as advance:
                write_articles(writer, self.store.iter_keyed(pending), advance)
        except BaseException:
            writer.cancel()
            raise
        # The fast writer builds its segment from its own buffers, not Whoosh's pool,
        # so it must not be asked to merge other segments into it.
        writer.commit(merge=not isinstance(writer, FastWriter))
        segments = len(ix._segments())
        ix.close()
        self.store.mark_indexed(pending)
        if segments > MAX_SEGMENTS:
            # Fast-writer segments are never merged by Whoosh; past a point, searching
            # many segments costs more than one rebuild from the store.
            self._rebuild(progress, procs)

    # -- checking ------------------------------------------------------------------------

    def check(self, *, repair: bool = False) -> CheckReport:
        """Compare the store with the index; with ``repair``, re-index what differs."""
        rows = {r.id: r for r in self.store.rows()}
        report = CheckReport()
        if not self.index_dir.exists():
            report.missing = sorted(rows)
        else:
            ix = self.index_dir.open()
            blocks: Counter[str] = Counter()
            hashes: dict[str, str] = {}
            with ix.searcher() as searcher:
                for fields in searcher.reader().all_stored_fields():
                    article_id = fields["article"]
                    blocks[article_id] += 1
                    if "hash" in fields:
                        hashes[article_id] = fields["hash"]
            ix.close()
            report.missing = sorted(set(rows) - set(blocks))
            report.extra = sorted(set(blocks) - set(rows))
            report.stale = sorted(
                i for i in set(rows) & set(blocks)
                if hashes.get(i) != rows[i].hash or blocks[i] != rows[i].nblocks)
        if repair and not report.ok:
            with self.writing():
                if self.index_dir.exists():
                    self.store.queue(report.missing + report.extra + report.stale)
                self._sync(_no_progress, 1)
            report.repaired = True
        return report

    # -- export --------------------------------------------------------------------------

    def export(self, out: TextIO, *, with_history: bool = False) -> int:
        """Write every article as JSON Lines, in the format ``add`` reads; return the count.

        ``with_history`` adds each article's earlier versions (``history``) and
        when and from where its current one was stored (``stored``), then one
        ``{"id", "removed": true, "history"}`` line per removed article whose
        versions are kept.
        """
        count = 0
        for article in self.store.iter_articles():
            record = article.to_record()
            if with_history:
                record.update(self.store.export_history(article.id))
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
        if with_history:
            # Removed articles whose versions are kept: one line each, which `add` reads back.
            for article_id in self.store.removed_with_history():
                out.write(json.dumps(self.store.export_history(article_id), ensure_ascii=False) + "\n")
        return count


def _counting(articles: Iterator[T], advance: Callable[[int], None]) -> Iterator[T]:
    for article in articles:
        yield article
        advance(1)
