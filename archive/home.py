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
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TextIO

from . import bulk
from .adding import AddReport, Meter, counting, readable, size_of
from .analysis import FRENCH, Chain
from .budget import Budget, collector_paused, release, rss
from .checking import CheckReport, compare
from .errors import ArchiveBusy, ArchiveError, EngineUnavailable, HomeMissing, HomeUnavailable, IngestError
from .failpoints import failpoint
from .indexing import FastWriter, IndexDir, build_segments, until_full, write_articles
from .ingest import Item, Source, find_sources, read_incoming, web
from .ingest.html import MAX_PAGE_BYTES
from .integrity import verify_files, write_manifest
from .merging import merge_new, merge_segments
from .model import Article
from .store import Outcome, Store
from .workers import Bars, Progress, Tally, no_progress
from .workers import report as report_progress

if TYPE_CHECKING:  # the engines package reads homes: imported when first needed, never at import time
    from .engines.config import EngineConfig
    from .engines.opensearch.writing import ClusterWriter

__all__ = ["Archive", "AddReport", "CheckReport", "resolve_home"]

#: Pending articles from which an index update goes through the fast writer.
FAST_BATCH = 200
#: Index segments past which a write ends with a full rebuild.
MAX_SEGMENTS = 16
# Writes report their progress (:data:`archive.workers.Progress`) in phases: storing
# (bytes), copies, analysing, indexing (articles), writing (paragraphs).


def resolve_home(home: str | os.PathLike[str] | None = None) -> Path:
    """Return the home folder: the argument, else ``$ARCHIVE_HOME``, else the current directory."""
    if home is None or home == "":
        home = os.environ.get("ARCHIVE_HOME") or os.getcwd()
    return Path(home).expanduser().resolve()


class Archive:
    """An archive home: its store, its index and its write lock."""

    def __init__(self, home: str | os.PathLike[str] | None = None, *, lock_wait: float = 60.0,
                 create: bool = True, detect_copies: bool = True, memory: int | None = None) -> None:
        """Open the archive in ``home``; with ``create=False`` raise :class:`HomeMissing` if it has none.

        ``memory`` is the budget of its writes in bytes (default: ``$ARCHIVE_MEMORY``, else 1 GiB).
        """
        self.home = resolve_home(home)
        self.memory = memory
        if not create and not (self.home / "archive.sqlite3").exists():
            # Reading a mistyped --home must not leave an empty archive behind.
            raise HomeMissing(str(self.home))
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
        try:
            fd = os.open(self.home / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise HomeUnavailable(f"cannot write to {self.home} ({exc.strerror}); "
                                  "is the home read-only?") from None
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
            self._clean_abandoned()
            with collector_paused():  # a write is bulk work, and its forked workers inherit the pause
                yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    def _clean_abandoned(self) -> None:
        """Delete build folders that a killed writer left behind (call with the lock held)."""
        # Only the lock holder builds generations, so once we hold it, every folder
        # but the live one belongs to a writer that died before publishing it.
        name = self.index_dir.current_name()
        if name is not None:
            self.index_dir.clean(keep=name)

    # -- writes --------------------------------------------------------------------------

    def add(self, paths: Sequence[str], *, overrides: Mapping[str, Any] | None = None,
            stdin: BinaryIO | None = None, progress: Progress | None = None,
            procs: int = 1, origin: str | None = None, all_or_nothing: bool = False,
            follow_symlinks: bool = False) -> AddReport:
        """Add files, folders, globs, addresses or ``-`` (JSON Lines on stdin); one transaction per source.

        An item that cannot be read (a JSON Lines line, a page of a web archive, a
        document of an export) fails alone and the others are stored; with
        ``all_or_nothing`` it fails its whole source instead. ``origin`` names
        sources whose paths do not last (``web`` for a paste or an upload): they
        are recorded as ``web:<file name>`` and never remembered. Symbolic links
        leaving an added folder are skipped, with a note, unless ``follow_symlinks``.
        With ``procs`` over 1 the index workers of a large add may start afresh
        (:meth:`~archive.budget.Budget.start_method`): a script calling this must
        guard its entry point (``if __name__ == "__main__":``), as :mod:`multiprocessing` asks.
        """
        skipped: list[str] = []
        found, missing = find_sources(paths, follow_symlinks=follow_symlinks, skipped=skipped)
        report = AddReport(failures=list(missing), notes=skipped)
        # Addresses are fetched before the write lock is taken: the network must not hold it.
        sources = []
        for source in found:
            try:
                sources.append(Source(source.path, web.fetch(source.path, limit=MAX_PAGE_BYTES).body)
                               if source.is_url else source)
            except IngestError as exc:
                report.failures.append(exc)
        progress = progress or no_progress
        sizes = [size_of(source) for source in sources]
        total = None if any(source.is_stdin for source in sources) else sum(sizes)
        # The store's log is copied into the database while the index builds, not before.
        with self.writing(), self.store.checkpoint_later():
            with progress("storing", total, "B") as advance:
                for source, size in zip(sources, sizes, strict=True):
                    read, meter = [0], Meter(advance)
                    # A large JSON Lines file is read by worker processes while the store writes.
                    lines = bulk.lines_reader(procs if size >= bulk.BULK_BYTES else 1, meter)
                    try:
                        label = f"{origin}:{Path(source.path).name}" if origin else None
                        items = read_incoming(source, overrides, stdin, origin=label, lines=lines)
                        stored = counting(readable(items, report, all_or_nothing), read)
                        report.outcomes.extend(self.store.put(stored, report.notes))
                        failpoint("after-store-commit")
                    except IngestError as exc:
                        # One transaction per source: its good articles went with the bad one.
                        exc.discarded = read[0]
                        report.failures.append(exc)
                    except ArchiveError:
                        # The store itself failed (busy, read-only): later files would too.
                        # Still index what went in before, if the index can be written.
                        with suppress(ArchiveError, OSError):
                            self._sync(progress, procs)
                        raise
                    except Exception as exc:
                        # Hostile input must never abandon the files after it, nor leave
                        # the files before it stored but unindexed: it fails on its own.
                        report.failures.append(IngestError(str(source), f"could not be read "
                                                           f"({type(exc).__name__}: {exc})"))
                    finally:
                        advance(max(0, size - meter.done))  # the rest of the file: blank lines, other formats
            changed = [i for i, outcome in report.outcomes if outcome != "unchanged"]
            report.paragraphs = self.store.paragraphs(changed)
            report.undated = self.store.undated(changed)
            try:
                self._sync(progress, procs)
            except EngineUnavailable as exc:
                # Stored is what counts: the queue keeps the rest for the next write or a repair.
                report.pending = len(self.store.pending())
                report.notes.append(f"indexing pending for {report.pending} articles: {exc}; the next write "
                                    "or `archive check --repair` catches up")
        return report

    def add_incoming(self, items: Iterable[Item]) -> AddReport:
        """Store articles already read (a feed's items) in one transaction, and index them."""
        report = AddReport()
        with self.writing():
            report.outcomes.extend(self.store.put(readable(items, report, False), report.notes))
            report.paragraphs = self.store.paragraphs(i for i, outcome in report.outcomes if outcome != "unchanged")
            self._sync(no_progress, 1)
        return report

    def add_articles(self, articles: Iterable[Article]) -> list[tuple[str, Outcome]]:
        """Add article objects in one transaction and index them."""
        with self.writing():
            outcomes = self.store.put(articles)
            self._sync(no_progress, 1)
        return outcomes

    def remove(self, ids: Iterable[str], *, purge: bool = False) -> list[str]:
        """Remove articles (all or none) and their index entries; ``purge`` also deletes their history."""
        with self.writing():
            removed = self.store.remove(ids, purge=purge)
            try:
                self._sync(no_progress, 1)
            except EngineUnavailable as exc:
                raise EngineUnavailable(f"removed from the store, but {exc}: their removal from the index is "
                                        "pending (the next write or `archive check --repair` catches up)",
                                        code=exc.code, **exc.params) from exc
        return removed

    def rebuild(self, *, procs: int = 1, progress: Progress | None = None,
                chain: Chain = FRENCH, engine: str | None = None, hosts: Sequence[str] = (),
                index: str = "") -> int:
        """Build a new index from the store beside the live one and swap it in; return blocks indexed.

        ``chain`` switches stages of the search chain off (the relevance benchmark).
        The copy clusters are recomputed too, meanwhile, by another process.
        ``engine`` (``whoosh`` or ``opensearch``, with ``hosts`` and ``index``) moves the
        archive to that engine: its config is written only once the new index is complete.
        """
        from .engines.config import load_config, save_config

        with self.writing():
            config = load_config(self.home)
            target = config if engine is None else config.with_engine(engine, tuple(hosts), index)
            writer = self._cluster_writer(target)
            if writer is not None:
                writer.rebuild(progress or no_progress)
                blocks = int(self.store.stats()["blocks"])
            else:
                blocks = self._rebuild(progress or no_progress, procs, chain, recluster=True)
            if target != config:
                save_config(target)
            return blocks

    def sync(self, *, progress: Progress | None = None) -> None:
        """Bring the index in line with the store's pending changes."""
        with self.writing():
            self._sync(progress or no_progress, 1)

    def budget(self) -> Budget:
        """Return the memory budget of this archive's writes (ValueError if ``$ARCHIVE_MEMORY`` is bad)."""
        return Budget.from_env(self.memory)

    def _rebuild(self, progress: Progress, procs: int, chain: Chain = FRENCH, recluster: bool = False) -> int:
        # Reclustering is one more store transaction, which the generation counts.
        generation = self.store.generation() + recluster
        stats = self.store.stats()
        phases = {"copies": (stats["articles"], " articles"), "analysing": (stats["articles"], " articles"),
                  "writing": (stats["blocks"], " paragraphs"), "flushing": (None, " segments")}
        name, ix = self.index_dir.create(chain)
        try:
            sized = self.store.sizes()
            ids, sizes = [i for i, _ in sized], [n for _, n in sized]
            beside = [(_recluster, (str(self.store.path),))] if recluster else []
            budget = self.budget()
            release()  # what the store phase freed: workers forked now start smaller
            build_segments(ix, self.index_dir.path / name, self.store.path, ids, procs, progress, phases, beside,
                           budget, sizes=sizes, meanwhile=self.store.checkpoint)
            merge_new(ix, self.index_dir.path / name, progress=progress, budget=budget)
            ix.close()
        except BaseException:
            self.index_dir.clean()  # drop the half-built generation, keep the live one
            raise
        write_manifest(self.index_dir.path / name)
        failpoint("before-swap")
        self.index_dir.publish(name)
        self.store.clear_pending(generation)
        return int(self.store.stats()["blocks"])

    def _cluster_writer(self, config: EngineConfig | None = None) -> ClusterWriter | None:
        """Return the cluster writer of this home (of ``config``), or None on the embedded engine."""
        from .engines.config import load_config

        config = config or load_config(self.home)
        if not config.cluster:
            return None
        from .engines.opensearch.writing import ClusterWriter

        return ClusterWriter(config, self.store)

    def _sync(self, progress: Progress, procs: int) -> None:
        cluster = self._cluster_writer()
        if cluster is not None:
            cluster.sync(progress)
            return
        if not self.index_dir.exists():
            self._rebuild(progress, procs)
            return
        pending = self.store.pending()
        if not pending:
            return
        folder = self.index_dir.path / str(self.index_dir.current_name())
        if any(p.serious for p in verify_files(folder, digests=False)):
            # Files missing or resized: writing on top of them would keep the damage.
            self._rebuild(progress, procs)
            return
        ix = self.index_dir.open()
        phases = {"analysing": (len(pending), " articles"), "indexing": (len(pending), " articles"),
                  "flushing": (None, " segments")}
        articles = iter(self.store.iter_keyed(pending))
        share, base = self.budget().segment_bytes(1), rss()
        with Bars(progress, phases) as bars:
            first, vocabulary = True, None
            while True:
                # Small batches go through Whoosh's writer, which merges small segments; large
                # ones through the fast writer, a new segment whenever the budget is reached.
                writer: Any
                if len(pending) >= FAST_BATCH:
                    writer = FastWriter(ix, bars, vocabulary, timeout=self.lock_wait, compound=False)
                    batch: Iterable[tuple[int, Article]] = until_full(articles, writer, share, base,
                                                                      lambda: bars("flushing", 1))
                else:
                    writer = ix.writer(timeout=self.lock_wait, limitmb=256, compound=False)
                    batch = articles
                try:
                    if first:
                        for article_id in pending:
                            writer.delete_by_term("article", article_id)
                    write_articles(writer, batch, bars)
                except BaseException:
                    writer.cancel()
                    raise
                if not first and writer.docnum == writer.docbase:
                    writer.cancel()  # every article is in
                    break
                # The fast writer builds its segment from its own buffers, not Whoosh's pool,
                # so it must not be asked to merge other segments into it.
                writer.commit(merge=not isinstance(writer, FastWriter))
                if not isinstance(writer, FastWriter):
                    break
                vocabulary = writer.kept()  # the next segment's words met here are not analysed again
                release()
                first = False
        ix.close()
        write_manifest(folder)
        failpoint("after-index-commit")
        self.store.mark_indexed(pending)
        # Fast-writer segments are never merged by Whoosh: the tiered policy keeps
        # them few; past MAX_SEGMENTS anyway, one rebuild beats searching them all.
        segments = merge_segments(self.index_dir, self.store, progress=progress, timeout=self.lock_wait,
                                  budget=self.budget())
        if segments > MAX_SEGMENTS:
            self._rebuild(progress, procs)

    # -- checking ------------------------------------------------------------------------

    def check(self, *, repair: bool = False, procs: int = 1,
              progress: Progress | None = None) -> CheckReport:
        """Verify the index's files and segments and compare them with the store; with ``repair``, fix them.

        Damage to the index means a full rebuild; articles that merely differ are
        re-indexed. A repaired report is the verification that followed the repair.
        """
        cluster = self._cluster_writer()
        if cluster is not None:
            return self._check_cluster(cluster, repair, progress or no_progress)
        with self.writing():  # a concurrent commit would look like damage
            report = compare(self.index_dir, self.store)
            if not repair or report.ok:
                return report
            if report.serious:
                self._rebuild(progress or no_progress, procs)
            elif report.damage:
                # Only files a crashed write left unrecorded, in segments that read
                # whole: record them and catch up with the store.
                write_manifest(self.index_dir.path / str(self.index_dir.current_name()))
                self.store.queue(report.missing + report.extra + report.stale)
                self._sync(no_progress, 1)
            else:
                self.store.queue(report.missing + report.extra + report.stale)
                self._sync(no_progress, 1)
            after = compare(self.index_dir, self.store)
        report.repaired = after.ok
        report.damage += [f"still after repair: {line}" for line in after.damage]
        return report

    def _check_cluster(self, cluster: ClusterWriter, repair: bool, progress: Progress) -> CheckReport:
        """Compare the store with the cluster's index; with ``repair``, re-index what differs."""
        with self.writing():
            report = cluster.compare()
            if not repair or report.ok:
                return report
            cluster.repair(report, progress)
            after = cluster.compare()
        report.repaired = not (after.missing or after.extra or after.stale or after.damage)
        report.damage += [f"still after repair: {line}" for line in after.damage]
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


def _recluster(store_path: str, report: Tally = report_progress) -> int:
    """Recompute a store's copy clusters (a job beside an index build); return how many."""
    return Store(Path(store_path)).recluster(report)
