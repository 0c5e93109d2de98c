"""The store: SQLite, the archive's single source of truth.

Every article lives in one row of ``articles`` (its record as JSON plus the
columns that listing and facets need). The search index is derived from these
rows and can be deleted and rebuilt at any time without losing anything.

Writes happen in transactions: :meth:`Store.put` adds a whole source file's
articles in one transaction, so a file that fails half-way leaves nothing. The
same transaction decides each article's id (:mod:`archive.identity`), keeps
the version it replaces (:mod:`archive.revisions`) and places it among its
wire copies (:mod:`archive.copies`): « Grève à la SNCF », updated, keeps its first text
as revision 1, its AFP twin in another paper joins its cluster. Each write also queues
the article in ``pending``; the indexer empties the queue after it has committed the
matching index change, so an index update that was interrupted (a crash, a kill) is
finished by the next write or ``archive check --repair``. ``meta.generation`` counts
committed changes, which lets readers notice a new state with one cheap query. The
database runs in WAL mode: readers (the web server) read while a writer adds;
:func:`~archive.tables.create` makes a new one whole.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

from . import copies, revisions
from .copies import Cluster
from .errors import ArchiveBusy, ArticleNotFound, HomeUnavailable
from .identity import Incoming, resolve_id
from .model import Article, parse_stored
from .revisions import HistoryEntry
from .tables import (
    PAGE_BYTES,
    PUT_CACHE_KIB,
    RECORD_BYTES,
    SCHEMA,
    ArticleRow,
    Written,
    connect,
    create,
    larger_cache,
    row_columns,
)

__all__ = ["Store", "Outcome", "ArticleRow", "CHANGES_KEPT", "PAGE_BYTES", "Cluster", "HistoryEntry"]

#: Generations of the change log kept for readers that update incrementally.
CHANGES_KEPT = 1000

Outcome = Literal["added", "updated", "unchanged"]


class Store:
    """The SQLite article store of one archive home."""

    def __init__(self, path: Path, *, busy_timeout: float = 30.0, detect_copies: bool = True) -> None:
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        #: Place each written article among its copies (off only to measure what it costs).
        self.detect_copies = detect_copies
        self._local = threading.local()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            create(self.path, SCHEMA + revisions.SCHEMA + copies.SCHEMA)
            self.db.executescript(SCHEMA + revisions.SCHEMA + copies.SCHEMA)  # an older store gains new tables
        except (OSError, sqlite3.OperationalError) as exc:
            raise _unavailable(self.path, exc) from None
        if self.db.execute("SELECT 1 FROM meta WHERE key = 'revisions'").fetchone() is None:
            # A store from before revisions: its articles become their own revision 1.
            with self._write() as (db, _):
                # Checked again inside the transaction: another process may have just done it.
                if db.execute("SELECT 1 FROM meta WHERE key = 'revisions'").fetchone() is None:
                    db.execute(revisions.MIGRATE)
                    db.execute("INSERT INTO meta VALUES ('revisions', '1')")

    # -- connections ---------------------------------------------------------------------

    @property
    def db(self) -> sqlite3.Connection:
        """Return this thread's connection (SQLite connections must not cross threads)."""
        db = getattr(self._local, "db", None)
        if db is None:
            try:
                db = connect(self.path, self.busy_timeout)
            except sqlite3.OperationalError as exc:
                raise _unavailable(self.path, exc) from None
            self._local.db = db
        return db

    def close(self) -> None:
        """Close this thread's connection."""
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

    @contextmanager
    def _write(self) -> Iterator[tuple[sqlite3.Connection, int]]:
        """Run a write transaction; yield the connection and the generation it creates."""
        db = self.db
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise ArchiveBusy(f"the store is locked by another writer ({exc})") from None
        try:
            yield db, (generation := self.generation() + 1)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        else:
            db.execute("UPDATE meta SET value = ? WHERE key = 'generation'", (str(generation),))
            db.execute("DELETE FROM changes WHERE gen <= ?", (generation - CHANGES_KEPT,))
            db.execute("COMMIT")

    @contextmanager
    def checkpoint_later(self) -> Iterator[None]:
        """Leave the write-ahead log of the commits inside to :meth:`checkpoint`, or to leaving.

        A bulk import's commit left 100 MB in the log, copied into the database as the commit
        returned: 0.3 s on one core before the index build, which now calls it once its workers run.
        """
        db, saved = self.db, self.db.execute("PRAGMA wal_autocheckpoint").fetchone()[0]  # (0 in another: kept)
        db.execute("PRAGMA wal_autocheckpoint = 0")
        try:
            yield
        finally:
            try:
                db.execute(f"PRAGMA wal_autocheckpoint = {int(saved)}")
            finally:
                self.checkpoint()  # (nothing left to copy if the build did)

    def checkpoint(self) -> None:
        """Copy what the write-ahead log holds into the database, as far as readers allow."""
        with suppress(sqlite3.OperationalError):  # (the log stays whole and readable: a later commit copies it)
            self.db.execute("PRAGMA wal_checkpoint(PASSIVE)")

    # -- writing -------------------------------------------------------------------------

    def put(self, articles: Iterable[Article | Incoming], notes: list[str] | None = None
            ) -> list[tuple[str, Outcome]]:
        """Add or update articles in one transaction; return each id's outcome, append notes to ``notes``."""
        now = _now()
        outcomes: dict[str, Outcome] = {}
        with larger_cache(self.db, PUT_CACHE_KIB), self._write() as (db, generation):
            placer = copies.Placer(db)
            written = Written(db, generation)
            for item in articles:
                if isinstance(item, Article):
                    item = Incoming(item)
                if item.removed:  # only kept versions of an article removed elsewhere
                    revisions.import_history(db, item.article.id, item.history)
                    continue
                article_id, decision = resolve_id(db, item)
                article = item.article if article_id == item.article.id else replace(item.article, id=article_id)
                if decision == "renamed" and notes is not None:
                    notes.append(f"{item.origin or article_id}: another text already has the id "
                                 f"{item.article.id}; stored as {article_id}")
                if item.history:
                    revisions.import_history(db, article_id, item.history)
                if item.derived and item.remember and item.origin and decision != "same":
                    db.execute("INSERT OR REPLACE INTO origins VALUES (?, ?)", (item.origin, article_id))
                if decision == "same":
                    outcomes.setdefault(article.id, "unchanged")
                    continue
                digest = article.content_hash()
                values = row_columns(article, digest)
                # A new id (or a renamed one) has neither a row nor a revision: resolve_id just
                # read both, so there is nothing to read, retire or forget (3 statements fewer).
                fresh = decision in ("new", "renamed") and not item.history
                row = None if fresh else db.execute("SELECT aid FROM articles WHERE id = ?",
                                                    (article.id,)).fetchone()
                if not fresh:
                    revisions.retire_live(db, article.id)
                if row is not None:
                    placer.forget(article.id)
                if row is None:
                    aid = db.execute(
                        "INSERT INTO articles (id, title, date, source, authors, tags, nblocks, hash,"
                        " record, added, updated) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                        (article.id, *values, now, now),
                    ).lastrowid or 0  # the new row's aid (an INSERT always sets it)
                    outcomes[article.id] = "updated" if article.id in outcomes else "added"
                else:
                    aid = row[0]
                    db.execute(
                        "UPDATE articles SET title=?, date=?, source=?, authors=?, tags=?, nblocks=?,"
                        " hash=?, record=?, updated=? WHERE id=?",
                        (*values, now, article.id),
                    )
                    outcomes[article.id] = "added" if outcomes.get(article.id) == "added" else "updated"
                revisions.add_revision(db, article, digest, item.origin, item.stored_at or now,
                                       number=1 if fresh else None)
                if self.detect_copies:
                    placer.place(article, item.signed)
                written.add(article.id, aid)
            written.flush()
            placer.flush()
        return list(outcomes.items())

    def remove(self, ids: Iterable[str], *, purge: bool = False) -> list[str]:
        """Remove articles in one transaction, keeping their history unless ``purge``.

        Raise :class:`ArticleNotFound` for an id that is neither stored nor (with
        ``purge``) in the history; then nothing is removed.
        """
        ids = list(dict.fromkeys(ids))
        with self._write() as (db, generation):
            for article_id in ids:
                db.execute("INSERT INTO changes SELECT ?, aid FROM articles WHERE id = ?",
                           (generation, article_id))
                revisions.retire_live(db, article_id)
                copies.forget(db, article_id)
                found = db.execute("DELETE FROM articles WHERE id = ?", (article_id,)).rowcount
                if purge:
                    found += revisions.purge(db, article_id)
                if not found:
                    raise ArticleNotFound(article_id)
                db.execute("INSERT OR IGNORE INTO pending VALUES (?)", (article_id,))
        return ids

    def recluster(self, report: Callable[[str, int], None] | None = None) -> int:
        """Recompute every article's copy cluster (``report("copies", 1)`` each); return how many clusters."""
        signed = copies.signed(self.db, report)  # before the write: index builders open the store meanwhile
        with self._write() as (db, _):
            return copies.rebuild(db, signed)

    def paragraphs(self, ids: Iterable[str]) -> int:
        """Return how many paragraphs (headings included) the stored articles among ``ids`` have."""
        return int(self.db.execute("SELECT coalesce(sum(nblocks), 0) FROM articles WHERE id IN"
                                   " (SELECT value FROM json_each(?))", (json.dumps(list(ids)),)).fetchone()[0])

    def undated(self, ids: Iterable[str]) -> list[str]:
        """Return the stored articles among ``ids`` that have no date, by id."""
        rows = self.db.execute("SELECT id FROM articles WHERE date IS NULL AND id IN"
                               " (SELECT value FROM json_each(?)) ORDER BY id", (json.dumps(list(ids)),))
        return [r[0] for r in rows]

    def pending(self) -> list[str]:
        """Return the ids whose index entries may not match the store yet."""
        return [r[0] for r in self.db.execute("SELECT id FROM pending ORDER BY id")]

    def mark_indexed(self, ids: Iterable[str]) -> None:
        """Forget ids whose index entries were committed."""
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany("DELETE FROM pending WHERE id = ?", ((i,) for i in ids))
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def queue(self, ids: Iterable[str]) -> None:
        """Mark ids (stored or not) as needing their index entries replaced."""
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        db.executemany("INSERT OR IGNORE INTO pending VALUES (?)", ((i,) for i in ids))
        db.execute("COMMIT")

    def clear_pending(self, upto: int) -> None:
        """Forget every queued id, after a full rebuild from store generation ``upto``."""
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        if self.generation() == upto:
            db.execute("DELETE FROM pending")
        db.execute("COMMIT")

    # -- reading -------------------------------------------------------------------------

    def generation(self) -> int:
        """Return the number of committed writes, which changes whenever the content does."""
        return int(self.db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0])

    def __len__(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM articles").fetchone()[0])

    def __contains__(self, article_id: object) -> bool:
        return self.db.execute("SELECT 1 FROM articles WHERE id = ?", (article_id,)).fetchone() is not None

    def get(self, article_id: str) -> Article:
        """Return one article; raise :class:`ArticleNotFound` when it is not stored."""
        row = self.db.execute(f"SELECT {RECORD_BYTES} FROM articles WHERE id = ?", (article_id,)).fetchone()
        if row is None:
            raise ArticleNotFound(article_id)
        return Article.from_stored(parse_stored(row[0]))

    def get_many(self, ids: Iterable[str]) -> dict[str, Article]:
        """Return the stored articles among ``ids``, by id."""
        return {article.id: article for article in self.iter_articles(ids)}

    def iter_articles(self, ids: Iterable[str] | None = None) -> Iterator[Article]:
        """Yield every stored article (or those of ``ids``) in id order."""
        yield from (article for _, article in self.iter_keyed(ids, by="id"))

    def iter_keyed(self, ids: Iterable[str] | None = None, *,
                   by: Literal["aid", "id"] = "aid") -> Iterator[tuple[int, Article]]:
        """Yield ``(aid, article)`` for every stored article (or those of ``ids``), in ``by`` order: ``"aid"``,
        the order they were stored, is the index's (search groups blocks into articles fastest in it), or ``"id"``."""
        if ids is not None:
            keys = sorted(set(ids)) if by == "id" else sorted(r[0] for r in self.db.execute(
                "SELECT aid FROM articles WHERE id IN (SELECT value FROM json_each(?))", (json.dumps(list(ids)),)))
            for start in range(0, len(keys), 500):
                chunk = keys[start:start + 500]
                for aid, digest, record in self.db.execute(f"SELECT aid, hash, {RECORD_BYTES} FROM articles WHERE"
                                                           f" {by} IN ({','.join('?' * len(chunk))}) ORDER BY {by}",
                                                           chunk).fetchall():
                    yield aid, Article.from_stored(parse_stored(record), digest)
            return
        # A separate connection reading one snapshot: a long export or rebuild must not
        # see half of a later write.
        db = sqlite3.connect(self.path, timeout=self.busy_timeout)
        try:
            db.execute("BEGIN")
            for aid, digest, record in db.execute(f"SELECT aid, hash, {RECORD_BYTES} FROM articles ORDER BY {by}"):
                yield aid, Article.from_stored(parse_stored(record), digest)
            db.execute("COMMIT")
        finally:
            db.close()

    def history(self, article_id: str) -> list[HistoryEntry]:
        """Return every version of an article, oldest first; raise :class:`ArticleNotFound` if none."""
        entries = revisions.history(self.db, article_id)
        if not entries:
            raise ArticleNotFound(article_id)
        return entries

    def revision(self, article_id: str, number: int) -> Article:
        """Return version ``number`` of an article; raise :class:`ArticleNotFound` when there is none."""
        # SQLite integers are 64-bit: a larger number (from a URL) is no version, not an OverflowError.
        article = revisions.revision(self.db, article_id, number) if 1 <= number < 2 ** 63 else None
        if article is None:
            raise ArticleNotFound(f"{article_id} revision {number}")
        return article

    def export_history(self, article_id: str) -> dict[str, object]:
        """Return the ``history`` and ``stored`` keys an export with history adds to a record."""
        return revisions.export_history(self.db, article_id)

    def removed_with_history(self) -> list[str]:
        """Return the ids of removed articles whose versions are kept, in id order."""
        return [r[0] for r in self.db.execute(
            "SELECT DISTINCT id FROM revisions r WHERE NOT EXISTS"
            " (SELECT 1 FROM articles a WHERE a.id = r.id) ORDER BY id")]

    def clusters(self) -> dict[str, str]:
        """Return the copy cluster of every article that has copies: article id → cluster id."""
        return dict(self.db.execute("SELECT id, cluster FROM copies"))

    def copies_of(self, ids: Iterable[str]) -> dict[str, list[str]]:
        """Return, for each of ``ids`` that has copies, the other members of its cluster (first stored first)."""
        out: dict[str, list[str]] = {}
        for article_id, other in self.db.execute(
                "SELECT c.id, o.id FROM copies c JOIN copies o ON o.cluster = c.cluster AND o.id != c.id"
                " LEFT JOIN articles a ON a.id = o.id WHERE c.id IN (SELECT value FROM json_each(?))"
                " ORDER BY c.id, a.aid, o.id", (json.dumps(list(ids)),)):
            out.setdefault(article_id, []).append(other)
        return out

    def duplicates(self) -> list[Cluster]:
        """Return every copy cluster, largest first."""
        return copies.clusters(self.db)

    def ids(self) -> list[str]:
        """Return every stored article id, in id order."""
        return [r[0] for r in self.db.execute("SELECT id FROM articles ORDER BY id")]

    def sizes(self) -> list[tuple[str, int]]:
        """Return every stored article id with its record's size in bytes (what indexing it costs), in aid order.

        This reads every record (30 ms for the corpus): blocks counted from the listing index balanced two
        processes no better than articles (the corpus's halves: the same bytes, 28% more paragraphs in one).
        """
        return self.db.execute(f"SELECT id, length({RECORD_BYTES}) FROM articles ORDER BY aid").fetchall()

    def rows(self) -> list[ArticleRow]:
        """Return every article's listing columns, in ``aid`` order."""
        return [
            ArticleRow(aid, id_, title, date, source, tuple(parse_stored(authors)),
                       tuple(parse_stored(tags)), nblocks, digest)
            for aid, id_, title, date, source, authors, tags, nblocks, digest in self.db.execute(
                "SELECT aid, id, title, date, source, authors, tags, nblocks, hash"
                " FROM articles ORDER BY aid")
        ]

    def changed_since(self, generation: int) -> list[int] | None:
        """Return the aids written since ``generation``, or None when the log does not reach back."""
        db = self.db
        oldest = db.execute("SELECT min(gen) FROM changes").fetchone()[0]
        if oldest is None or oldest > generation + 1:
            return None if self.generation() != generation else []
        return [r[0] for r in db.execute("SELECT DISTINCT aid FROM changes WHERE gen > ?", (generation,))]

    def facet_values(self, aids: list[int] | None = None
                     ) -> tuple[list[tuple[int, str, str | None, str]], dict[str, list[tuple[int, str]]]]:
        """Return ``(aid, id, date, day added)`` of every article (or of ``aids``), ``(aid, value)`` pairs per facet."""
        db = self.db
        where, args = "", ()  # type: tuple[str, tuple[str, ...]]
        if aids is not None:
            where, args = "WHERE a.aid IN (SELECT value FROM json_each(?))", (json.dumps(aids),)
        articles = db.execute(f"SELECT aid, id, date, substr(added, 1, 10) FROM articles a {where} ORDER BY aid",
                              args).fetchall()
        facets = {
            "source": db.execute(f"SELECT aid, source FROM articles a {where}"
                                 f"{' AND' if where else ' WHERE'} source IS NOT NULL", args).fetchall(),
            "author": db.execute(f"SELECT a.aid, j.value FROM articles a, json_each(a.authors) j {where}",
                                 args).fetchall(),
            "tags": db.execute(f"SELECT a.aid, j.value FROM articles a, json_each(a.tags) j {where}",
                               args).fetchall(),
        }
        return articles, facets

    def stats(self) -> dict[str, Any]:
        """Return counts: articles, blocks, date range, articles per source."""
        db = self.db
        n, blocks, first, last = db.execute(
            "SELECT count(*), coalesce(sum(nblocks), 0), min(date), max(date) FROM articles").fetchone()
        sources = db.execute(
            "SELECT coalesce(source, ''), count(*) FROM articles GROUP BY 1 ORDER BY 2 DESC, 1").fetchall()
        return {"articles": n, "blocks": blocks, "first_date": first, "last_date": last,
                "sources": {s or None: c for s, c in sources}}

    def backup(self, dest: Path) -> None:
        """Write a consistent copy of the store to ``dest`` (SQLite's online backup)."""
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(dest.name + ".partial")
        target = sqlite3.connect(tmp)
        try:
            self.db.backup(target)
        finally:
            target.close()
        tmp.replace(dest)


def _unavailable(path: Path, exc: BaseException) -> HomeUnavailable:
    """Return the error for a store that cannot be opened (a read-only home, most often)."""
    # WAL mode needs to create `-wal` and `-shm` files beside the store, even to read.
    return HomeUnavailable(f"cannot open the store {path} ({exc}); the archive home must be "
                           "writable, even to read (SQLite's WAL mode writes beside the store)")


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
