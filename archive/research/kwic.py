"""Concordance (keyword in context): every occurrence of a query, with what surrounds it.

For ``grève`` the concordance lists each occurrence in the matching articles,
one line each, cut around the match::

    … les syndicats ont appelé à la | grève | reconductible dès le 5 décembre …
    … la SNCF prévoit un trafic très perturbé par les | grèves | de la semaine…

The stages:

1. **Select**: :meth:`Engine.select <archive.search.Engine.select>` with
   ``blocks=True`` gives the matching articles, oldest first, and the
   paragraphs whose own text matched (a title-only match has no line).
2. **Scan**: each matching paragraph is read from the store and its spans
   come from :meth:`Marks.spans <archive.search.highlight.Marks.spans>`, the
   same spans the search page highlights, so every line's match is a form of
   the query (``grèves`` for ``grève``, ``état d’urgence`` for the phrase).
   For sorting, each occurrence keeps the word before and the word after it,
   folded (``Grève`` and ``greve`` sort together).
3. **Sort and page**: by date (the default), by the word before, or by the
   word after; only the lines of the page asked for are cut into left context,
   match and right context, ``width`` characters each side, at word boundaries.

A scan reads every matching paragraph, which for a frequent word is most of
the cost: the scan is kept (:data:`CACHE_SIZE` of them per process, keyed by
the index and store generations) so that the next page or another sort is
immediate.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..analysis import FRENCH, WORD_RE, fold
from ..errors import BadParameter
from ..search import Engine, SearchRequest
from ..search.highlight import Marks

__all__ = ["Line", "Concordance", "concordance", "KWIC_SORTS", "MAX_WIDTH", "MAX_LINES_PER_PAGE",
           "CACHE_SIZE"]

KWIC_SORTS = ("date", "left", "right")
MAX_WIDTH, MAX_LINES_PER_PAGE, CACHE_SIZE = 300, 200, 8
_BATCH = 300


@dataclass(frozen=True)
class Line:
    """One occurrence: its article and paragraph, and the text around the match."""

    id: str
    n: int
    date: dt.date | None
    title: str
    left: str
    match: str
    right: str

    def to_dict(self) -> dict[str, Any]:
        """Return the line in the JSON contract."""
        return {"id": self.id, "n": self.n, "date": self.date.isoformat() if self.date else None,
                "title": self.title, "left": self.left, "match": self.match, "right": self.right}


@dataclass(frozen=True)
class Concordance:
    """One page of a concordance."""

    request: SearchRequest
    total: int
    page: int
    per_page: int
    width: int
    sort: str
    lines: tuple[Line, ...]

    @property
    def query(self) -> str:
        """Return the query text."""
        return self.request.query

    @property
    def pages(self) -> int:
        """Return the number of pages."""
        return max(1, -(-self.total // self.per_page))

    def to_dict(self) -> dict[str, Any]:
        """Return the page in the JSON contract."""
        return {"query": self.query, "total": self.total, "page": self.page, "per_page": self.per_page,
                "width": self.width, "sort": self.sort, "lines": [line.to_dict() for line in self.lines]}


@dataclass(frozen=True)
class _Scan:
    """Every occurrence of one request, in date order: where it is and its neighbouring words."""

    ids: list[str]
    article: np.ndarray   # index into ids
    n: np.ndarray         # paragraph number
    start: np.ndarray
    end: np.ndarray
    before: list[str]     # folded word before the match ("" at the paragraph's start)
    after: list[str]


_CACHE: OrderedDict[tuple[Any, ...], _Scan] = OrderedDict()
_CACHE_LOCK = threading.Lock()


def concordance(engine: Engine, request: SearchRequest, *, width: int = 60, page: int = 1,
                per_page: int = 50, sort: str = "date") -> Concordance:
    """Return one page of the occurrences of ``request``'s words or phrases, with their contexts."""
    if not 10 <= width <= MAX_WIDTH:
        raise BadParameter(f"width must be from 10 to {MAX_WIDTH}")
    if not 1 <= per_page <= MAX_LINES_PER_PAGE:
        raise BadParameter(f"per_page must be from 1 to {MAX_LINES_PER_PAGE}")
    if sort not in KWIC_SORTS:
        raise BadParameter(f"sort must be date, left or right, not {sort!r}")
    scan = _scan(engine, request)
    total = len(scan.n)
    pages = max(1, -(-total // per_page))
    if not 1 <= page <= pages:
        raise BadParameter(f"page must be from 1 to {pages}")
    if sort == "date":
        order = np.arange(total)
    else:
        keys = scan.before if sort == "left" else scan.after
        order = np.array(sorted(range(total), key=keys.__getitem__), dtype=np.int64)
    chosen = order[(page - 1) * per_page:page * per_page].tolist()
    articles = engine.archive.store.get_many({scan.ids[int(scan.article[i])] for i in chosen})
    lines = []
    for i in chosen:
        article = articles.get(scan.ids[int(scan.article[i])])
        n = int(scan.n[i])
        if article is None or n >= len(article.blocks):
            continue  # removed since the scan: the generation check drops the scan next time
        text = article.blocks[n].text
        s, e = int(scan.start[i]), int(scan.end[i])
        lines.append(Line(article.id, n, article.date, article.title, _left(text, s, width), text[s:e],
                          _right(text, e, width)))
    return Concordance(request, total, page, per_page, width, sort, tuple(lines))


def _scan(engine: Engine, request: SearchRequest) -> _Scan:
    key = (id(engine), engine.archive.index_dir.current_name(), engine.archive.store.generation(),
           request.replace(page=1, per_page=20, sort="relevance"))
    with _CACHE_LOCK:
        found = _CACHE.get(key)
        if found is not None:
            _CACHE.move_to_end(key)
            return found
    scan = _read(engine, request)
    with _CACHE_LOCK:
        _CACHE[key] = scan
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    return scan


def _read(engine: Engine, request: SearchRequest) -> _Scan:
    """Read every matching paragraph and collect its spans (the costly stage)."""
    selection = engine.select(request, blocks=True)
    marks = Marks.of(request.parsed.root, FRENCH, selection.expanded)
    article: list[int] = []
    ns: list[int] = []
    starts: list[int] = []
    ends: list[int] = []
    before: list[str] = []
    after: list[str] = []
    blocks = list(zip(selection.block_article.tolist(), selection.block_n.tolist()))
    store = engine.archive.store
    for first in range(0, len(blocks), _BATCH):
        batch = blocks[first:first + _BATCH]
        texts = store.get_many({selection.ids[a] for a, _ in batch})
        for a, n in batch:
            stored = texts.get(selection.ids[a])
            if stored is None or n >= len(stored.blocks):
                continue
            text = stored.blocks[n].text
            for s, e in marks.spans(text):
                article.append(a)
                ns.append(n)
                starts.append(s)
                ends.append(e)
                words = WORD_RE.findall(text, max(0, s - 40), s)
                before.append(fold(words[-1].lower()) if words else "")
                m = WORD_RE.search(text, e, e + 40)
                after.append(fold(m.group().lower()) if m else "")
    return _Scan(selection.ids, np.array(article, dtype=np.int64), np.array(ns, dtype=np.int64),
                 np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64), before, after)


def _left(text: str, start: int, width: int) -> str:
    """Return up to ``width`` characters before ``start``, starting on a word."""
    cut = max(0, start - width)
    left = text[cut:start]
    if cut > 0:
        space = left.find(" ")
        left = left[space + 1:] if 0 <= space < len(left) - 1 else left
    return " ".join(left.split(" ")) if left else ""


def _right(text: str, end: int, width: int) -> str:
    """Return up to ``width`` characters after ``end``, ending on a word."""
    right = text[end:end + width]
    if end + width < len(text):
        space = right.rfind(" ")
        right = right[:space] if space > 0 else right
    return right
