"""Feeds: RSS 0.9x, 1.0 and 2.0 and Atom, through feedparser.

:func:`parse_feed` turns a feed's bytes into :class:`FeedItem` s, each with the
key that recognises it on the next fetch (its guid, else its link), its
metadata and its text when the feed carries it (``content:encoded``, Atom
``content``): a summary alone is not the article, and :mod:`archive.feeds`
then reads the item's page. A malformed feed that feedparser still reads
(its *bozo* flag) gives the items read, with a note; one that yields no item
fails in one line. :func:`read_feed` reads a feed file given to ``archive
add``: there, with no network, a summary stands for the text.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..errors import IngestError, InvalidArticle
from ..identity import Incoming
from ..model import Article, Block, clean_block
from .html import fragment_blocks
from .jsonl import Item
from .lang import language, marked

__all__ = ["FeedItem", "Feed", "parse_feed", "read_feed", "item_article", "FULL_TEXT_CHARS"]

#: An item's content of several paragraphs, or of one this long, is the article itself (else a teaser).
FULL_TEXT_CHARS = 400


@dataclass(frozen=True)
class FeedItem:
    """One entry of a feed."""

    key: str
    title: str
    link: str | None
    date: dt.date | None
    authors: tuple[str, ...]
    content: tuple[Block, ...]
    summary: tuple[Block, ...]
    lang: str | None

    @property
    def full_text(self) -> bool:
        """Tell whether the feed carries the article's text (not only a teaser)."""
        return len(self.content) >= 2 or sum(len(b.text) for b in self.content) >= FULL_TEXT_CHARS


@dataclass(frozen=True)
class Feed:
    """A parsed feed: its title, its items, and what was wrong with its XML if anything."""

    title: str | None
    items: tuple[FeedItem, ...]
    malformed: str | None = None


def parse_feed(data: bytes, name: str) -> Feed:
    """Parse a feed's bytes; raise :class:`IngestError` when no item can be read from malformed XML."""
    import feedparser  # here: `archive search` never pays for importing it

    parsed = feedparser.parse(data, sanitize_html=True, resolve_relative_uris=True)
    malformed = None
    if parsed.get("bozo"):
        malformed = f"malformed feed XML ({_first_line(parsed.get('bozo_exception'))})"
        if not parsed.entries:
            raise IngestError(name, f"{malformed}: no item could be read", code="malformed_feed")
    if not parsed.entries and not parsed.get("version") and not parsed.feed:
        raise IngestError(name, "not an RSS or Atom feed", code="malformed_feed")
    lang = parsed.feed.get("language")
    items = tuple(_item(entry, lang) for entry in parsed.entries)
    return Feed(parsed.feed.get("title"), items, malformed)


def _item(entry: Any, feed_lang: str | None) -> FeedItem:
    link = entry.get("link") or None
    contents = entry.get("content") or []
    content = fragment_blocks(contents[0].get("value", "")) if contents else []
    summary = fragment_blocks(entry.get("summary", "")) if entry.get("summary") else []
    when = entry.get("published_parsed") or entry.get("updated_parsed")
    authors = [a.get("name", "") for a in entry.get("authors", []) if a.get("name")]
    if not authors and entry.get("author"):
        authors = [entry["author"]]
    title = clean_block(entry.get("title", ""))
    key = entry.get("id") or link or "sha1:" + hashlib.sha1(
        (title + " ".join(b.text for b in summary)).encode("utf-8", "surrogatepass")).hexdigest()
    return FeedItem(key=str(key), title=title, link=link, date=dt.date(*when[:3]) if when else None,
                    authors=tuple(clean_block(a) for a in authors), content=tuple(content),
                    summary=tuple(summary), lang=(contents[0].get("language") if contents else None) or feed_lang)


def item_article(item: FeedItem, blocks: tuple[Block, ...] | list[Block], source: str | None,
                 tags: tuple[str, ...] = ()) -> Article:
    """Return the article of a feed item with the given text; raise :class:`InvalidArticle` if it has none."""
    record = {"title": item.title or None, "paragraphs": [b.text for b in blocks],
              "headings": [i for i, b in enumerate(blocks) if b.heading],
              "date": item.date.isoformat() if item.date else None, "source": source,
              "authors": list(item.authors), "url": item.link, "tags": list(tags),
              "lang": language(" ".join(b.text for b in blocks), item.lang)}
    return Article.from_record(record)


def read_feed(data: bytes, name: str, base: str, remember: bool) -> Iterator[Item]:
    """Yield the articles of a feed file (its items' text, else their summary)."""
    feed = parse_feed(data, name)
    for n, item in enumerate(feed.items, 1):
        where = f"{name}: item {n} ({item.key})"
        try:
            article = item_article(item, item.content or item.summary, feed.title)
        except InvalidArticle as exc:
            yield IngestError(where, str(exc), code=exc.code, **exc.params)
            continue
        incoming = marked(Incoming(article, (item.link or item.key) if remember else f"{base}:{n}", True, remember),
                          where)
        if feed.malformed and n == 1:
            incoming.notes.append(f"{name}: {feed.malformed}; the {len(feed.items)} items it still gave were read")
        yield incoming


def _first_line(exc: object) -> str:
    return str(exc).splitlines()[0] if exc else "unknown error"
