"""Results: what a search returns, as data, and the JSON contract made from it.

A search for ``investir`` returns one :class:`SearchResults`: the page of
:class:`Hit` (one per article, ranked), each with up to three
:class:`Paragraph` (the block's number, the shown window of its text and the
character spans the query matched), the totals, the :class:`FacetValue` of each
facet, a year histogram and maybe a spelling suggestion. Nothing here is HTML
until asked: :attr:`Paragraph.html` renders the spans through
:func:`~archive.search.highlight.marked_html`, and :meth:`SearchResults.to_dict`
is the JSON contract of the API and the command line.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from markupsafe import Markup

from ..query import Interpretation
from .highlight import Spans, clip, marked_html
from .marking import MarkPlan
from .request import SearchRequest

#: Characters of a paragraph looked at for marks.
HIGHLIGHT_CHARS = 20_000

__all__ = ["Paragraph", "Copy", "Hit", "FacetValue", "SearchResults", "Selection", "Health", "ParagraphText"]


@dataclass(frozen=True)
class Paragraph:
    """One matching block: its number, the window of its text shown, and the matched spans in it."""

    n: int
    text: str
    spans: Spans = ()
    clipped_start: bool = False
    clipped_end: bool = False

    @classmethod
    def shown(cls, n: int, text: str, spans_of: Callable[[str], Spans]) -> Paragraph:
        """Return block ``n`` as a result list shows it: a window around its first mark, and its marks there."""
        # A paragraph may be megabytes long: only its beginning is looked at for marks.
        looked_at = text[:HIGHLIGHT_CHARS]
        spans = spans_of(looked_at)
        start, end = clip(looked_at, spans)
        if start == 0 and end == len(text):  # (most paragraphs are shown whole)
            return cls(n, text, spans)
        inside = tuple((max(s, start) - start, min(e, end) - start) for s, e in spans if e > start and s < end)
        return cls(n, text[start:end], inside, start > 0, end < len(text))

    @property
    def html(self) -> Markup:
        """Return the window as HTML, matches in ``<mark>``, cuts shown as ``…``."""
        return marked_html(self.text, self.spans, before="…" if self.clipped_start else "",
                           after="…" if self.clipped_end else "")


@dataclass(frozen=True)
class Copy:
    """Another matching article of a hit's copy cluster (the same dispatch printed elsewhere)."""

    id: str
    source: str | None
    date: dt.date | None
    title: str

    def to_dict(self) -> dict[str, Any]:
        """Return the copy in the JSON contract."""
        return {"id": self.id, "source": self.source, "date": self.date.isoformat() if self.date else None,
                "title": self.title}


@dataclass(frozen=True)
class Hit:
    """One matching article."""

    id: str
    title: str
    date: dt.date | None
    source: str | None
    authors: tuple[str, ...]
    tags: tuple[str, ...]
    url: str | None
    score: float
    paragraphs: tuple[Paragraph, ...]
    more_paragraphs: int
    title_spans: Spans = ()
    #: The other matching members of its copy cluster, best ranked first (none when copies are shown).
    copies: tuple[Copy, ...] = ()

    @property
    def title_html(self) -> Markup:
        """Return the title as HTML, the query's matches in ``<mark>``."""
        return marked_html(self.title, self.title_spans)

    @property
    def author(self) -> str | None:
        """Return the byline as one string (the JSON contract's ``author``)."""
        return ", ".join(self.authors) or None

    def to_dict(self) -> dict[str, Any]:
        """Return the hit in the JSON contract."""
        return {"id": self.id, "title": self.title, "title_html": str(self.title_html),
                "date": self.date.isoformat() if self.date else None,
                "source": self.source, "author": self.author, "tags": list(self.tags),
                "url": self.url, "score": round(float(self.score), 6),
                "paragraphs": [{"n": p.n, "html": str(p.html)} for p in self.paragraphs],
                "more_paragraphs": self.more_paragraphs,
                "copies": [c.to_dict() for c in self.copies]}


@dataclass(frozen=True)
class FacetValue:
    """One value of a facet: how many matching articles have it, whether it is selected.

    ``variants`` are the other spellings (case, accents) counted under this one.
    """

    value: str
    count: int
    selected: bool
    variants: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return the value in the JSON contract."""
        return {"value": self.value, "count": self.count, "selected": self.selected,
                "variants": list(self.variants)}


@dataclass
class SearchResults:
    """A page of matching articles with totals, facets, a year histogram and a suggestion."""

    request: SearchRequest
    #: Hits listed: a copy cluster collapsed into one hit counts once (facets count every article).
    total_articles: int
    total_paragraphs: int
    hits: list[Hit]
    facets: dict[str, list[FacetValue]]
    histogram: list[tuple[int, int]]
    suggestion: str | None = None
    #: Day ordinals of the dated matching articles, facet selections applied but not
    #: the dates: the timeline drills into months and days from them.
    days: np.ndarray | None = field(default=None, repr=False, compare=False)
    explain: list[Interpretation] = field(default_factory=list)
    #: True when the query needed more work than one query may do and was cut short.
    truncated: bool = False
    #: Matching articles before wire copies were grouped (0: as many as ``total_articles``):
    #: what the facets, ``archive stats`` and an export count.
    total_publications: int = 0

    @property
    def publications(self) -> int:
        """Return how many matching publications there are, each wire copy counted."""
        return max(self.total_publications, self.total_articles)

    @property
    def query(self) -> str:
        """Return the query text as typed."""
        return self.request.query

    @property
    def page(self) -> int:
        """Return the page number."""
        return self.request.page

    @property
    def per_page(self) -> int:
        """Return the page size."""
        return self.request.per_page

    @property
    def pages(self) -> int:
        """Return the number of pages."""
        return max(1, math.ceil(self.total_articles / self.per_page))

    def to_dict(self) -> dict[str, Any]:
        """Return the results in the JSON contract."""
        return {
            "query": self.query, "page": self.page, "per_page": self.per_page,
            "total_articles": self.total_articles, "total_publications": self.publications,
            "total_paragraphs": self.total_paragraphs,
            "hits": [h.to_dict() for h in self.hits],
            "facets": {name: [v.to_dict() for v in values] for name, values in self.facets.items()},
            "histogram": [{"year": y, "count": c} for y, c in self.histogram],
            "suggestion": self.suggestion,
            "explain": [r.to_dict() for r in self.explain],
            "truncated": self.truncated,
        }


@dataclass(frozen=True)
class Selection:
    """Every article matching a request, oldest first, and (if asked) their matching paragraphs.

    ``ids[i]`` was published on day ordinal ``days[i]`` (-1 when undated; undated
    articles come last); block ``j`` is paragraph ``block_n[j]`` of article
    ``block_article[j]`` (an index into ``ids``), in article then paragraph order.
    """

    ids: list[str]
    days: np.ndarray
    block_article: np.ndarray
    block_n: np.ndarray
    #: What prefixes, fuzzy and accented words expanded to (for marking the same forms).
    expanded: dict[str, list[str]]
    #: Per block, what ``select(counts=True)`` counted: its marked occurrences (-1: read its text to know).
    block_values: np.ndarray | None = None
    #: What the query marks (the concordance's lines), decided once with the match (None: make it from the query).
    marks: MarkPlan | None = None


#: A paragraph read for a concordance: its text, its article's title and date.
ParagraphText = tuple[str, str, dt.date | None]


@dataclass(frozen=True)
class Health:
    """Whether an engine can answer now, and in one line why not."""

    engine: str
    ok: bool
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return the health in the JSON contract."""
        return {"engine": self.engine, "ok": self.ok, "detail": self.detail}
