"""Following feeds: the RSS and Atom feeds an archive reads, and what each fetch brought.

``archive feeds add https://…/rss.xml --source "La Voix" --tag lille`` records a
feed; ``archive feeds fetch`` reads every recorded feed once. A fetch sends
the ``ETag`` and ``Last-Modified`` the feed gave last time (a feed that did
not change answers 304 and costs nothing), skips the items it already stored
(recognised by guid, else link), and stores each new item's full text: the
feed's own when it carries it, otherwise its page's, read like a saved page
(:mod:`archive.ingest.html`). A feed that fails (offline, malformed, gone) is
one line in the report and the others go on; an item that fails is named and
tried again on the next fetch.

The state lives in two tables of the archive's SQLite store, created here:
``feeds`` (one row a feed: its source name, tags, validators, last check) and
``feed_items`` (the keys of the items stored from each feed).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from .errors import BadParameter, IngestError, InvalidArticle
from .home import AddReport, Archive
from .identity import Incoming
from .ingest import Item, feeds, html, web
from .ingest.files import is_url
from .ingest.lang import marked
from .model import Article

__all__ = ["Feeds", "Subscription", "FetchReport", "SCHEMA"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS feeds (
    url      TEXT PRIMARY KEY,
    source   TEXT,
    tags     TEXT NOT NULL DEFAULT '[]',
    etag     TEXT,
    modified TEXT,
    added    TEXT NOT NULL,
    checked  TEXT,
    status   TEXT
);
CREATE TABLE IF NOT EXISTS feed_items (
    feed   TEXT NOT NULL,
    key    TEXT NOT NULL,
    origin TEXT,
    seen   TEXT NOT NULL,
    PRIMARY KEY (feed, key)
);
"""
Fetcher = Callable[..., web.Response]


@dataclass(frozen=True)
class Subscription:
    """One followed feed."""

    url: str
    source: str | None = None
    tags: tuple[str, ...] = ()
    etag: str | None = None
    modified: str | None = None
    added: str = ""
    checked: str | None = None
    status: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the feed as JSON-ready data."""
        return {"url": self.url, "source": self.source, "tags": list(self.tags), "added": self.added,
                "checked": self.checked, "status": self.status}


@dataclass
class FetchReport:
    """What one fetch of one feed did."""

    url: str
    #: ``fetched``, ``not modified`` or ``failed``.
    status: str = "fetched"
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    #: Items already stored by an earlier fetch, skipped.
    seen: int = 0
    failures: list[IngestError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None

    def line(self) -> str:
        """Return the one-line summary of this feed's fetch."""
        if self.status == "failed":
            return f"{self.url}: failed: {self.error}"
        if self.status == "not modified":
            return f"{self.url}: not modified"
        return (f"{self.url}: {self.added} new, {self.updated} updated, {self.seen} already stored, "
                f"{len(self.failures)} failed")

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready data."""
        return {"url": self.url, "status": self.status, "added": self.added, "updated": self.updated,
                "unchanged": self.unchanged, "seen": self.seen, "error": self.error, "notes": self.notes,
                "failures": [{"source": f.source, "reason": f.reason} for f in self.failures]}


class Feeds:
    """The feeds an archive follows, kept in its store."""

    def __init__(self, archive: Archive, *, fetch: Fetcher = web.fetch) -> None:
        self.archive = archive
        self.fetch = fetch
        self.db.executescript(SCHEMA)

    @property
    def db(self) -> sqlite3.Connection:
        """Return the store's connection (this thread's)."""
        return self.archive.store.db

    def add(self, url: str, *, source: str | None = None, tags: tuple[str, ...] = ()) -> Subscription:
        """Follow a feed (again: its source and tags are replaced); raise :class:`BadParameter` for a bad address."""
        if not is_url(url) or len(url) > 2000:
            raise BadParameter(f"not a feed address: {url!r} (give an http:// or https:// address)",
                               code="bad_feed_url", url=url)
        with self._tx() as db:
            db.execute("INSERT INTO feeds (url, source, tags, added) VALUES (?, ?, ?, ?) ON CONFLICT(url) DO "
                       "UPDATE SET source = excluded.source, tags = excluded.tags",
                       (url, source, json.dumps(list(tags), ensure_ascii=False), _now()))
        return next(s for s in self.list() if s.url == url)

    def remove(self, url: str) -> None:
        """Stop following a feed (its stored articles stay); raise :class:`BadParameter` if it is not followed."""
        with self._tx() as db:
            if db.execute("DELETE FROM feeds WHERE url = ?", (url,)).rowcount == 0:
                raise BadParameter(f"no such feed: {url!r} (see `archive feeds list`)", code="no_feed", url=url)
            db.execute("DELETE FROM feed_items WHERE feed = ?", (url,))

    def list(self) -> list[Subscription]:
        """Return the followed feeds, in the order they were added."""
        rows = self.db.execute("SELECT url, source, tags, etag, modified, added, checked, status FROM feeds "
                               "ORDER BY rowid").fetchall()
        return [Subscription(r[0], r[1], tuple(json.loads(r[2])), *r[3:]) for r in rows]

    def fetch_all(self) -> Iterator[FetchReport]:
        """Fetch every followed feed once, yielding each one's report as it is done."""
        for subscription in self.list():
            yield self.fetch_one(subscription)

    def fetch_one(self, feed: Subscription) -> FetchReport:
        """Fetch one feed and store its new items; a failure is reported, never raised."""
        report = FetchReport(feed.url)
        try:
            self._fetch(feed, report)
        except IngestError as exc:
            report.status, report.error = "failed", exc.reason
        except Exception as exc:  # a hostile feed must not stop the others
            report.status, report.error = "failed", f"{type(exc).__name__}: {exc}"
        with self._tx() as db:
            db.execute("UPDATE feeds SET checked = ?, status = ? WHERE url = ?", (_now(), report.line(), feed.url))
        return report

    def _fetch(self, feed: Subscription, report: FetchReport) -> None:
        answer = self.fetch(feed.url, etag=feed.etag, modified=feed.modified)
        if answer.status == 304:
            report.status = "not modified"
            return
        parsed = feeds.parse_feed(answer.body, feed.url)
        if parsed.malformed:
            report.notes.append(f"{feed.url}: {parsed.malformed}; the {len(parsed.items)} items it gave were read")
        seen = {row[0] for row in self.db.execute("SELECT key FROM feed_items WHERE feed = ?", (feed.url,))}
        keys: dict[str, str] = {}
        items: list[Item] = []
        for item in parsed.items:
            if item.key in seen or item.key in keys:
                report.seen += 1
                continue
            read = self._item(feed, parsed.title, item)
            items.append(read)
            if isinstance(read, Incoming):
                keys[item.key] = read.origin or ""
        if items:
            added: AddReport = self.archive.add_incoming(items)
            counts = added.counts()
            report.added, report.updated, report.unchanged = counts["added"], counts["updated"], counts["unchanged"]
            report.failures, report.notes = added.failures, report.notes + added.notes
        with self._tx() as db:
            db.executemany("INSERT OR IGNORE INTO feed_items VALUES (?, ?, ?, ?)",
                           [(feed.url, key, origin, _now()) for key, origin in keys.items()])
            # Validators are kept only once every item is stored: after a failed item the next
            # fetch must get the whole feed again (not a 304) to try it once more.
            complete = not report.failures
            db.execute("UPDATE feeds SET etag = ?, modified = ? WHERE url = ?",
                       (_header(answer, "ETag") if complete else None,
                        _header(answer, "Last-Modified") if complete else None, feed.url))

    def _item(self, feed: Subscription, title: str | None, item: feeds.FeedItem) -> Item:
        """Read one new item: the feed's text if it carries the article, else its page's."""
        where = f"{feed.url}: item {item.link or item.key}"
        source = feed.source or title
        try:
            if item.full_text or not item.link:
                article = feeds.item_article(item, item.content or item.summary, source, feed.tags)
            else:
                page = html.page_article(self.fetch(item.link, limit=html.MAX_PAGE_BYTES).body, where, url=item.link)
                record = page.to_record()
                del record["id"]  # derived again from the final content
                record.update(source=feed.source or page.source or title, tags=[*page.tags, *feed.tags],
                              date=record["date"] or (item.date.isoformat() if item.date else None))
                article = Article.from_record(record)
        except InvalidArticle as exc:
            return IngestError(where, str(exc), code=exc.code)
        except IngestError as exc:
            return IngestError(where, exc.reason, code=exc.code)
        return marked(Incoming(article, item.link or item.key, True, True), where)

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """Run a write transaction on the feed tables."""
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")


def _header(answer: web.Response, name: str) -> str | None:
    """Return a response header, whatever its case."""
    for key, value in answer.headers.items():
        if key.lower() == name.lower():
            return value
    return None


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
