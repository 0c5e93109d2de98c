"""The store's tables: the SQLite schema, an article as the columns of its row, and the connection.

One row of ``articles`` per article: the record as JSON (``record``, the truth)
and the columns listing and facets read without decoding it (title, date,
source, authors and tags as JSON lists, the block count, the content hash),
covered by one index so that a listing never touches ``record``. ``pending``
queues what the search index still lacks, ``changes`` which articles each
generation touched, ``meta`` the generation itself (:class:`Written` fills the first two).
Every connection is opened by :func:`connect` (WAL, 16 KiB pages for a new store);
a new store is made whole by :func:`create`.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from .failpoints import failpoint
from .model import Article
from .workers import alive

__all__ = ["SCHEMA", "ArticleRow", "row_columns", "larger_cache", "PUT_CACHE_KIB", "RECORD_BYTES", "PAGE_BYTES",
           "connect", "create", "Written"]

#: The ``record`` column as SQL reads it to be parsed: a BLOB, so that its UTF-8 bytes go to
#: orjson (:func:`~archive.model.parse_stored`) as they are, not decoded into a str that orjson
#: encodes again (a result page's ten records: 216 → 147 µs).
RECORD_BYTES = "CAST(record AS BLOB)"

#: The page size of a new store. A record (a news article's JSON, 4.4 kB on average in
#: the corpus) did not fit SQLite's default 4 KiB page and went on to an overflow page;
#: in 16 KiB pages, storing the corpus takes 0.3 s less of the writing process's 3.3 s,
#: in a file 9% smaller. SQLite fixes it with a database's first table: an older store
#: keeps its own.
PAGE_BYTES = 16384

#: The store's tables (created when missing, so an older store gains new ones).
SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    aid     INTEGER PRIMARY KEY,
    id      TEXT NOT NULL UNIQUE,
    title   TEXT NOT NULL,
    date    TEXT,
    source  TEXT,
    authors TEXT NOT NULL,
    tags    TEXT NOT NULL,
    nblocks INTEGER NOT NULL,
    hash    TEXT NOT NULL,
    record  TEXT NOT NULL,
    added   TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS articles_date ON articles(date);
-- Covers listing and facet reads, so they never touch the large `record` column.
CREATE INDEX IF NOT EXISTS articles_listing
    ON articles(aid, id, title, date, source, authors, tags, nblocks, hash);
-- Covers the catalog's read of every article (a search's first query): `added` comes after the
-- record, so without it that read is a scan of every record (3 GB at 32 copies of the corpus).
CREATE INDEX IF NOT EXISTS articles_days ON articles(aid, id, date, added);
CREATE TABLE IF NOT EXISTS pending (id TEXT PRIMARY KEY);
-- Which articles each generation touched, so readers update their arrays incrementally.
CREATE TABLE IF NOT EXISTS changes (gen INTEGER NOT NULL, aid INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS changes_gen ON changes(gen);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO meta VALUES ('generation', '0');
"""


@dataclass(frozen=True)
class ArticleRow:
    """The columns of one stored article that listing and facets need, without its text."""

    aid: int
    id: str
    title: str
    date: str | None
    source: str | None
    authors: tuple[str, ...]
    tags: tuple[str, ...]
    nblocks: int
    hash: str


def row_columns(article: Article, digest: str) -> tuple[object, ...]:
    """Return an article's columns from ``title`` to ``record``, in the order of :data:`SCHEMA`.

    Computed once per article, id and digest: a bulk reading process computes them ahead
    (with :meth:`~archive.model.Article.record_json`), and the process writing the store only binds them.
    """
    cached: tuple[str, str, tuple[object, ...]] | None = article.__dict__.get("_row_columns")
    if cached is None or cached[:2] != (article.id, digest):
        cached = article.__dict__["_row_columns"] = (article.id, digest, (
            article.title,
            article.date.isoformat() if article.date else None,
            article.source,
            json.dumps(list(article.authors), ensure_ascii=False),
            json.dumps(list(article.tags), ensure_ascii=False),
            len(article.blocks),
            digest,
            article.record_json(),
        ))
    return cached[2]


class Written:
    """The articles a transaction wrote, queued for the index and logged as changed, a batch at a time."""

    #: Articles held before their rows go in (executemany beats one statement per article).
    BATCH = 4096

    def __init__(self, db: sqlite3.Connection, generation: int) -> None:
        self.db, self.generation = db, generation
        self.ids: list[str] = []
        self.aids: list[int] = []

    def add(self, article_id: str, aid: int) -> None:
        """Note one article written."""
        self.ids.append(article_id)
        self.aids.append(aid)
        if len(self.ids) >= self.BATCH:
            self.flush()

    def flush(self) -> None:
        """Insert the held rows of ``pending`` and ``changes``."""
        self.db.executemany("INSERT OR IGNORE INTO pending VALUES (?)", ((i,) for i in self.ids))
        self.db.executemany("INSERT INTO changes VALUES (?, ?)", ((self.generation, a) for a in self.aids))
        self.ids.clear()
        self.aids.clear()


#: SQLite's page cache while :meth:`Store.put` writes (KiB): placing an article looks up 32 band keys
#: at random in ``bands`` (~35 MB for the corpus), which SQLite's default 2 MB cache keeps re-reading.
PUT_CACHE_KIB = 65536


@contextmanager
def larger_cache(db: sqlite3.Connection, kib: int) -> Iterator[None]:
    """Let the connection cache up to ``kib`` KiB of pages while inside (pages are only held once read)."""
    saved = db.execute("PRAGMA cache_size").fetchone()[0]
    db.execute(f"PRAGMA cache_size = {-kib}")
    try:
        yield
    finally:
        db.execute(f"PRAGMA cache_size = {int(saved)}")


def connect(path: Path, timeout: float) -> sqlite3.Connection:
    """Open a connection to the store as every one is: WAL, foreign keys, :data:`PAGE_BYTES` if new."""
    db = sqlite3.connect(path, timeout=timeout, isolation_level=None)
    db.execute(f"PRAGMA page_size={PAGE_BYTES}")  # (a new database only)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA foreign_keys=ON")
    return db


def create(path: Path, schema: str) -> None:
    """Create the store at ``path`` with ``schema`` if it is missing: built aside, then linked into place.

    Two processes opening a missing store at once (two ``archive add`` on a new home)
    would both switch the new file to WAL, each holding the read lock the other's switch
    waits for: SQLite sees the deadlock and answers "database is locked" at once, without
    waiting. A hard link never replaces a file, so the first complete store wins and the
    others are dropped.
    """
    for stale in path.parent.glob(f".{path.name}.*.new*"):
        # Left by a creator killed before its link (or after it: a second name of the store).
        pid = stale.name[len(path.name) + 2:].split(".")[0]
        if pid.isdigit() and not alive(int(pid)):
            with suppress(OSError):
                stale.unlink(missing_ok=True)
    if path.exists():
        return
    aside = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_native_id()}.new")
    try:
        db = connect(aside, 0)
        try:
            db.executescript(schema)
        finally:
            db.close()  # the last connection: the log goes into the file, which is then whole
        failpoint("store-create")
        os.link(aside, path)
    except OSError:
        pass  # another's store is in place (or links are refused: it is created where it is opened)
    finally:
        _remove(aside)


def _remove(store: Path) -> None:
    """Delete a store file and its log and index files (what cannot be is swept by the next creator)."""
    for name in (store.name, store.name + "-wal", store.name + "-shm"):
        with suppress(OSError):  # (a read-only home raises even for a missing file: its own error is SQLite's)
            store.with_name(name).unlink(missing_ok=True)
