"""Revisions: every version of every article, kept in the store.

Add ``greve.txt`` (« La grève continue à Lille. »): the store writes the
article and its revision 1. Edit the file (« La grève est levée à Lille. »)
and add it again: in the *same* SQLite transaction the store copies the
outgoing text into revision 1 and writes revision 2 for the new one, so a crash
at any moment leaves either both versions or only the first, never neither.
``archive history greve-…`` then lists both, oldest first, and ``archive show
greve-… --revision 1`` prints the first text again.

To avoid storing every text twice, the live version's row has no text of its
own (``record`` is NULL): its text is the ``articles`` row. Removing an
article keeps its revisions (the last one gets the text), so only
``archive remove --purge`` loses text.

Every function here takes the connection of a transaction the store opened;
none commits.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, replace

from .identity import Revision
from .model import Article, parse_stored

__all__ = ["SCHEMA", "HistoryEntry", "retire_live", "add_revision", "import_history", "history",
           "revision", "export_history", "purge"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS revisions (
    id        TEXT NOT NULL,
    revision  INTEGER NOT NULL,
    stored_at TEXT NOT NULL,
    origin    TEXT,
    title     TEXT NOT NULL,
    hash      TEXT NOT NULL,
    record    TEXT,  -- NULL for the live version: its text is the articles row
    PRIMARY KEY (id, revision)
) WITHOUT ROWID;
-- Which id each remembered source file (or record in one) last produced.
CREATE TABLE IF NOT EXISTS origins (origin TEXT PRIMARY KEY, id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS origins_id ON origins(id);
"""

#: Gives every article stored before revisions existed its revision 1 (runs once).
MIGRATE = """
INSERT INTO revisions (id, revision, stored_at, origin, title, hash, record)
SELECT id, 1, updated, NULL, title, hash, NULL FROM articles a
WHERE NOT EXISTS (SELECT 1 FROM revisions r WHERE r.id = a.id)
"""


@dataclass(frozen=True)
class HistoryEntry:
    """One version in an article's history (its text is read with :func:`revision`)."""

    revision: int
    stored_at: str
    source: str | None
    title: str

    def to_dict(self) -> dict[str, object]:
        """Return the entry as ``archive history --json`` prints it."""
        return {"revision": self.revision, "stored_at": self.stored_at, "source": self.source,
                "title": self.title}


def retire_live(db: sqlite3.Connection, article_id: str) -> None:
    """Give the live version's revision row its text, before the articles row changes or goes."""
    db.execute("UPDATE revisions SET record = (SELECT record FROM articles WHERE id = ?)"
               " WHERE id = ? AND record IS NULL", (article_id, article_id))


def add_revision(db: sqlite3.Connection, article: Article, digest: str, origin: str | None,
                 stored_at: str, number: int | None = None) -> int:
    """Record the version just written to the articles row as the next revision (or ``number``); return it."""
    number = number or _last(db, article.id) + 1
    db.execute("INSERT INTO revisions VALUES (?, ?, ?, ?, ?, ?, NULL)",
               (article.id, number, stored_at, origin, article.title, digest))
    return number


def import_history(db: sqlite3.Connection, article_id: str, versions: Iterable[Revision]) -> int:
    """Append exported versions the store does not hold yet (by content); return how many."""
    known = {r[0] for r in db.execute("SELECT hash FROM revisions WHERE id = ?", (article_id,))}
    added = 0
    for version in sorted(versions, key=lambda v: v.revision):
        article = replace(Article.from_stored(version.record), id=article_id)
        digest = article.content_hash()
        if digest in known:
            continue
        known.add(digest)
        db.execute("INSERT INTO revisions VALUES (?, ?, ?, ?, ?, ?, ?)",
                   (article_id, _last(db, article_id) + 1, version.stored_at, version.origin,
                    article.title, digest, json.dumps(article.to_record(), ensure_ascii=False)))
        added += 1
    return added


def history(db: sqlite3.Connection, article_id: str) -> list[HistoryEntry]:
    """Return an article's versions, oldest first (empty when the id was never stored)."""
    return [HistoryEntry(*row) for row in db.execute(
        "SELECT revision, stored_at, origin, title FROM revisions WHERE id = ? ORDER BY revision",
        (article_id,))]


def revision(db: sqlite3.Connection, article_id: str, number: int) -> Article | None:
    """Return one version of an article, or None when there is no such revision."""
    row = db.execute(
        "SELECT coalesce(r.record, a.record) FROM revisions r LEFT JOIN articles a ON a.id = r.id"
        " WHERE r.id = ? AND r.revision = ?", (article_id, number)).fetchone()
    if row is None or row[0] is None:
        return None
    return Article.from_stored(parse_stored(row[0]))


def export_history(db: sqlite3.Connection, article_id: str) -> dict[str, object]:
    """Return the ``history`` and ``stored`` keys ``archive export --with-history`` adds to a record."""
    rows = db.execute("SELECT revision, stored_at, origin, record FROM revisions WHERE id = ?"
                      " ORDER BY revision", (article_id,)).fetchall()
    older = [{"revision": n, "stored_at": at, "source": origin, "record": parse_stored(record)}
             for n, at, origin, record in rows if record is not None]
    if not db.execute("SELECT 1 FROM articles WHERE id = ?", (article_id,)).fetchone():
        return {"id": article_id, "removed": True, "history": older}
    live = [{"revision": n, "stored_at": at, "source": origin} for n, at, origin, record in rows
            if record is None]
    return {"history": older, "stored": live[-1] if live else None}


def purge(db: sqlite3.Connection, article_id: str) -> int:
    """Delete every kept version of an article and forget its source files; return versions deleted."""
    db.execute("DELETE FROM origins WHERE id = ?", (article_id,))
    return db.execute("DELETE FROM revisions WHERE id = ?", (article_id,)).rowcount


def _last(db: sqlite3.Connection, article_id: str) -> int:
    return int(db.execute("SELECT coalesce(max(revision), 0) FROM revisions WHERE id = ?",
                          (article_id,)).fetchone()[0])
