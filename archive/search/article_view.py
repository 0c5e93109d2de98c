"""The article view: one article as the reading view shows it, a window at a time when it is long.

A 30,000-paragraph article (a parliamentary record, a live blog) made a 5 MB
page whose every paragraph was analysed for marks. The reading view now shows
at most :data:`WINDOW` blocks: the whole article when it is shorter, otherwise
the window holding the paragraph asked for (``?at=1201``: paragraphs 1,201 to
1,400), or, for ``?q=retraites`` without one, the window holding the first
paragraph that matches. Only that window is read from the store (SQLite cuts
it out of the stored record) and marked; which paragraphs of the whole article
match comes from the index, as block numbers, so the cost is the same whatever
the length.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import ArticleNotFound
from ..model import Article, Block, parse_stored
from ..store import Store
from ..tables import RECORD_BYTES
from .highlight import Spans
from .results import Copy, ParagraphText

__all__ = ["as_indexed", "load_copies", "WINDOW", "ArticleView", "Excerpt", "load_window", "load_excerpts",
           "load_paragraphs", "window_start"]

#: Blocks shown at once; articles up to this long are shown whole.
WINDOW = 200
#: An article with this many paragraphs wanted at once is decoded whole, once per request.
WHOLE = 8

#: Articles up to this many blocks are read whole (one small JSON parsed in Python);
#: a longer one only by the fields and blocks needed, which SQLite cuts out of its record.
WHOLE_BLOCKS = 64
#: The fields of a stored record that :meth:`Article.from_stored` reads, besides the paragraphs.
_FIELDS = ("id", "title", "date", "source", "authors", "author", "url", "tags", "lang", "headings")


@dataclass(frozen=True)
class ArticleView:
    """A window of an article: its blocks ``first``… with their spans, and where the query matches."""

    article: Article  # holding the window's blocks only
    title_spans: Spans
    blocks: list[tuple[Block, Spans]]
    first: int  # 0-based number of the window's first block in the article
    total: int  # blocks in the whole article
    #: 0-based numbers of the article's blocks whose text the query matches (all windows).
    matching: tuple[int, ...] = ()

    @classmethod
    def unmarked(cls, article: Article, at: int | None = None) -> ArticleView:
        """Return the window holding block ``at`` of an article already read whole (an earlier version)."""
        first = min(window_start(at or 0), window_start(len(article.blocks) - 1))
        cut = dataclasses.replace(article, blocks=article.blocks[first:first + WINDOW])
        return cls(cut, (), [(block, ()) for block in cut.blocks], first, len(article.blocks))

    @property
    def windowed(self) -> bool:
        """Tell whether the article is longer than what is shown."""
        return self.total > len(self.blocks)

    def windows(self) -> list[tuple[int, int]]:
        """Return ``(first block, matching blocks)`` of each window holding a match, in order."""
        counts: dict[int, int] = {}
        for n in self.matching:
            start = window_start(n)
            counts[start] = counts.get(start, 0) + 1
        return sorted(counts.items())


def window_start(n: int) -> int:
    """Return the first block of the window holding block ``n`` (0-based)."""
    return max(0, n) // WINDOW * WINDOW


def load_window(store: Store, article_id: str, first: int) -> tuple[Article, int, int]:
    """Return an article holding only the window of blocks from ``first``, its block count, and ``first``.

    A window past the end (an article that shrank, a hand-made URL) gives the last one.
    """
    total = _block_count(store, article_id)
    first = min(window_start(first), window_start(total - 1))
    part = _extract(store, article_id, range(first, min(total, first + WINDOW)))
    if part is None:
        raise ArticleNotFound(article_id)
    return part.article, total, first


@dataclass(frozen=True)
class Excerpt:
    """An article's fields and a few of its blocks (by number), read without the others."""

    article: Article  # holding the blocks read, in order
    blocks: dict[int, Block]
    total: int
    #: The whole article's content hash, read with it (None: not read).
    digest: str | None = None


def as_indexed(store: Store, excerpts: dict[str, Excerpt], indexed: Mapping[str, str | None],
               wanted: Mapping[str, Iterable[int]]) -> dict[str, Excerpt]:
    """Return the excerpts in the version the index holds (by content hash), never half an update.

    Between a write's store commit and its index publish, a search runs on the
    index's older version but would read the store's newer text: each article
    whose hash (read with its text) differs from ``indexed[id]`` is read from its
    revision with that hash instead, and left out when that version is gone (purged).
    """
    out = dict(excerpts)
    for article_id, excerpt in excerpts.items():
        # (The hash read with the text, by load_excerpts: an excerpt without one is read again below.)
        if not indexed.get(article_id) or excerpt.digest == indexed[article_id]:
            continue
        row = store.db.execute(
            "SELECT coalesce(r.record, a.record) FROM revisions r LEFT JOIN articles a ON a.id = r.id"
            " WHERE r.id = ? AND r.hash = ? ORDER BY r.revision DESC LIMIT 1",
            (article_id, indexed[article_id])).fetchone()
        if row is None or row[0] is None:
            del out[article_id]
        else:
            out[article_id] = _excerpt(parse_stored(row[0]), wanted[article_id])
    return out


def load_copies(store: Store, wanted: Mapping[int, str]) -> dict[str, Copy]:
    """Return, for each stored article of ``wanted`` (aid → id), its title, date and source, as a copy
    listed under a hit, by id.

    The row's first columns only, no record decoded: a dispatch printed by 40 titles lists 40
    copies under each hit. Read by aid, the row's own key (an id is looked up in its index
    first: 40% more at 310 copies), and kept only if it still holds that id. (A copy is listed
    as stored now: unlike a hit's text, its title is not read back at the version the index
    holds, which would cost an index read per copy.)
    """
    out: dict[str, Copy] = {}
    aids = list(wanted)
    for start in range(0, len(aids), 500):
        chunk = aids[start:start + 500]
        for aid, article_id, title, date, source in store.db.execute(
                "SELECT aid, id, title, date, source FROM articles"
                f" WHERE aid IN ({','.join('?' * len(chunk))})", chunk):
            if wanted[aid] == article_id:
                out[article_id] = Copy(article_id, source, dt.date.fromisoformat(date) if date else None, title)
    return out


def load_excerpts(store: Store, wanted: Mapping[str, Iterable[int]]) -> dict[str, Excerpt]:
    """Return, for each stored article of ``wanted``, its fields and the blocks asked for (block 0 always)."""
    out: dict[str, Excerpt] = {}
    ids = list(wanted)
    long: list[str] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        rows = store.db.execute(
            # (CASE: a long record is not read at all here.)
            f"SELECT id, hash, CASE WHEN nblocks <= {WHOLE_BLOCKS} THEN {RECORD_BYTES} END FROM articles"
            f" WHERE id IN ({','.join('?' * len(chunk))})", chunk).fetchall()
        for article_id, digest, record in rows:
            if record is None:
                long.append(article_id)
                continue
            out[article_id] = _excerpt(parse_stored(record), wanted[article_id], digest)
    for article_id in long:
        found = _extract(store, article_id, sorted({0, *wanted[article_id]}))
        if found is not None:
            out[article_id] = found
    return out


def load_paragraphs(store: Store, wanted: Sequence[tuple[str, int]],
                    records: dict[str, list[str]] | None = None) -> list[ParagraphText | None]:
    """Return block ``n`` of article ``id`` for each ``(id, n)``, with its title and date (None if gone).

    ``records`` keeps the articles decoded whole during one request (a concordance's
    batches): one wanted for :data:`WHOLE` paragraphs or more is decoded once, not
    once per paragraph (SQLite would parse its whole record for each).
    """
    records = {} if records is None else records
    per_article: dict[str, int] = {}
    for article_id, _n in wanted:
        per_article[article_id] = per_article.get(article_id, 0) + 1
    whole = [a for a, k in per_article.items() if k >= WHOLE and a not in records]
    if whole:
        for article_id, record in store.db.execute(
                "SELECT id, json_extract(record, '$.paragraphs') FROM articles"
                " WHERE id IN (SELECT value FROM json_each(?))", (json.dumps(whole),)):
            records[article_id] = parse_stored(record) if record else []
    heads = {article_id: (title, dt.date.fromisoformat(date) if date else None)
             for article_id, title, date in store.db.execute(
                 "SELECT id, title, date FROM articles WHERE id IN (SELECT value FROM json_each(?))",
                 (json.dumps(list(per_article)),))}
    single = [(i, key) for i, key in enumerate(wanted) if key[0] not in records]
    # SQLite extracts each block from the stored record: decoding whole articles in
    # Python (Store.get_many) cost twice as much for the thousands a sort reads.
    found = {i: text for i, text in store.db.execute(
        "SELECT w.key, json_extract(a.record, '$.paragraphs[' || json_extract(w.value, '$[1]') || ']')"
        " FROM json_each(?) w JOIN articles a ON a.id = json_extract(w.value, '$[0]')",
        (json.dumps([key for _, key in single]),)) if text is not None}
    texts: dict[int, str] = {single[k][0]: text for k, text in found.items()}
    for i, (article_id, n) in enumerate(wanted):
        paragraphs = records.get(article_id)
        if paragraphs is not None and 0 <= n < len(paragraphs):
            texts[i] = paragraphs[n]
    return [(texts[i], *heads[key[0]]) if i in texts and key[0] in heads else None
            for i, key in enumerate(wanted)]


def _block_count(store: Store, article_id: str) -> int:
    row = store.db.execute("SELECT nblocks FROM articles WHERE id = ?", (article_id,)).fetchone()
    if row is None:
        raise ArticleNotFound(article_id)
    return int(row[0])


def _extract(store: Store, article_id: str, numbers: Iterable[int]) -> Excerpt | None:
    """Read an article's fields and some blocks, SQLite cutting them out of its record (None when not stored)."""
    fields = ", ".join(f"'$.{name}'" for name in _FIELDS)
    # Two references to the record: SQLite reads a multi-megabyte one again for each.
    row = store.db.execute(
        f"SELECT a.nblocks, a.hash, json_extract(a.record, {fields}),"
        " (SELECT json_group_array(json_array(j.key, j.value)) FROM json_each(a.record, '$.paragraphs') j"
        "  WHERE j.key IN (SELECT value FROM json_each(?)))"
        " FROM articles a WHERE a.id = ?", (json.dumps(sorted(set(numbers))), article_id)).fetchone()
    if row is None:
        return None
    found = dict(zip(_FIELDS, parse_stored(row[2])))
    kept = sorted((int(n), text) for n, text in parse_stored(row[3]))
    return _kept(found, kept, int(row[0]), row[1])


def _excerpt(record: dict[str, Any], numbers: Iterable[int], digest: str | None = None) -> Excerpt:
    """Return an excerpt of a whole stored record: its fields, block 0 and the blocks asked for."""
    paragraphs = record["paragraphs"]
    chosen = [n for n in sorted({0, *numbers}) if 0 <= n < len(paragraphs)]
    return _kept(record, [(n, paragraphs[n]) for n in chosen], len(paragraphs), digest)


def _kept(fields: dict[str, Any], kept: list[tuple[int, str]], total: int, digest: str | None = None) -> Excerpt:
    """Build an excerpt from an article's fields and some of its blocks, by number."""
    headings = set(fields.get("headings") or ())
    # Only the blocks kept become Block objects: a long article costs what a short one does.
    article = Article.from_stored({**fields, "paragraphs": [text for _, text in kept],
                                   "headings": [i for i, (n, _) in enumerate(kept) if n in headings]})
    return Excerpt(article, {n: b for (n, _), b in zip(kept, article.blocks)}, total, digest)
