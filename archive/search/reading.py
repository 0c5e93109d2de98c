"""Reading: one article as the reading view shows it, a window at a time when it is long.

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
import json
from dataclasses import dataclass

from ..errors import ArticleNotFound
from ..model import Article, Block
from ..store import Store
from .highlight import Spans

__all__ = ["WINDOW", "ArticleView", "load_window", "window_start"]

#: Blocks shown at once; articles up to this long are shown whole.
WINDOW = 200

_WINDOW_SQL = (
    "SELECT json_remove(a.record, '$.paragraphs'), json_array_length(a.record, '$.paragraphs'),"
    " (SELECT json_group_array(value) FROM (SELECT j.value FROM json_each(a.record, '$.paragraphs') j"
    "  WHERE j.key >= ? AND j.key < ? ORDER BY j.key))"
    " FROM articles a WHERE a.id = ?")


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
    # One statement, so the window and the count come from the same version of the article.
    row = store.db.execute(_WINDOW_SQL, (first, first + WINDOW, article_id)).fetchone()
    if row is None:
        raise ArticleNotFound(article_id)
    head, total, texts = json.loads(row[0]), int(row[1] or 0), json.loads(row[2])
    if not texts and total and first:
        return load_window(store, article_id, window_start(total - 1))
    headings = [h - first for h in head.get("headings") or () if first <= h < first + WINDOW]
    return Article.from_stored({**head, "paragraphs": texts, "headings": headings}), total, first


