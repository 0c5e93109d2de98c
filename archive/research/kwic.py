"""Concordance (keyword in context): every occurrence of a query, with what surrounds it.

For ``grève`` the concordance lists each occurrence in the matching articles,
one line each, cut around the match::

    … les syndicats ont appelé à la | grève | reconductible dès le 5 décembre …
    … la SNCF prévoit un trafic très perturbé par les | grèves | de la semaine…

The stages:

1. **Select and count**: :meth:`SearchEngine.select <archive.engines.SearchEngine.select>`
   with ``blocks=True`` gives the matching articles, oldest first, and the
   paragraphs whose own text matched (a title-only match has no line); in the
   same pass (``counts=True``) the engine counts each paragraph's
   occurrences in the index (6,631 for ``gouvernement``, without reading a
   paragraph). The few it leaves open are read and counted.
2. **Page in date order** (the default): the counts say which paragraphs hold
   occurrences 101 to 150; only those are read from the store, and their spans
   come from the query's plan of marks (:class:`~archive.search.marking.MarkPlan`,
   made by the same ``select`` and counted in the index above), the one the
   search page and the reading view mark with. So every line's match
   is a form of the query (``grèves`` for ``grève``, ``état d’urgence`` for the
   phrase). A paragraph whose text no longer has the index's count (the store
   changed and the index has not caught up) sends the request to stage 3.
3. **Scan, for the sorts** by the word before or after: every matching
   paragraph is read and located, and each occurrence keeps its neighbouring
   words, folded (``Grève`` and ``greve`` sort together). This is the costly
   stage (about half a second of CPU for the 23,001 lines of ``France``).

**A cost budget**, like the search's: a request reads and locates at most
:data:`MAX_COST` units of work (a paragraph read is one, each occurrence found
one more, and its characters times the words the locator looks for, over
:data:`_CHARS_PER_UNIT`: 120 prefixes cost more per paragraph than one word).
Past it, the concordance stops where it is, in date order, and says
so (``truncated``): ``a* OR b* OR …`` with 120 prefixes matches nearly every
paragraph of the archive, and used to read them all (a minute of CPU) for one
anonymous GET. A long article is read from the store once per request (its
paragraphs taken from the one decoded record), not once per paragraph.

Only the lines of the page asked for are cut into left context, match and right
context, ``width`` characters each side, at word boundaries. Counts and scans are
kept by the engine (:attr:`Engine.derived <archive.search.Engine.derived>`, a few
queries, keyed by the index and store generations, emptied when the engine closes)
so that the next page or another sort is immediate.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..analysis import FRENCH, WORD_RE, fold
from ..csvfile import Cell
from ..engines import SearchEngine
from ..errors import BadParameter
from ..search import SearchRequest
from ..search.highlight import Spans
from ..search.locate import anchors, restart
from ..search.marking import MarkPlan
from ..search.results import ParagraphText

__all__ = ["Line", "Concordance", "concordance", "KWIC_SORTS", "MAX_WIDTH", "MAX_LINES_PER_PAGE",
           "KWIC_COLUMNS", "MAX_COST", "left_context", "right_context"]

KWIC_SORTS = ("date", "left", "right")
KWIC_COLUMNS = ("id", "n", "date", "title", "left", "match", "right")
MAX_WIDTH, MAX_LINES_PER_PAGE = 300, 200
#: Paragraphs read plus occurrences located, at most, per request (about a second of CPU).
MAX_COST = 100_000
#: Characters located, times the words looked for, that cost one unit.
_CHARS_PER_UNIT = 250
_BATCH = 500  # paragraphs read from the store at once
EMPTY = np.zeros(0, dtype=np.int64)
#: A paragraph read from the store: its text, its article's title and date.
_Block = ParagraphText


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
    #: The cost budget stopped the count or the sort: occurrences after some point are missing.
    truncated: bool = False

    @property
    def query(self) -> str:
        """Return the query text."""
        return self.request.query

    @property
    def pages(self) -> int:
        """Return the number of pages."""
        return max(1, -(-self.total // self.per_page))

    def rows(self) -> list[list[Cell]]:
        """Return the page as a table (header first), paragraphs numbered from 1 as the reading view does."""
        header: list[Cell] = list(KWIC_COLUMNS)
        return [header] + [[line.id, line.n + 1, line.date, line.title, line.left, line.match,
                                        line.right] for line in self.lines]

    def to_dict(self) -> dict[str, Any]:
        """Return the page in the JSON contract."""
        return {"query": self.query, "total": self.total, "page": self.page, "per_page": self.per_page,
                "width": self.width, "sort": self.sort, "truncated": self.truncated,
                "lines": [line.to_dict() for line in self.lines]}


@dataclass(frozen=True)
class _Scan:
    """Every occurrence of one request, in date order: where it is and its neighbouring words."""

    block: np.ndarray     # index into the plan's blocks
    start: np.ndarray
    end: np.ndarray
    before: list[str]     # folded word before the match ("" at the paragraph's start)
    after: list[str]


@dataclass
class _Plan:
    """Where one request's occurrences are: its matching paragraphs in date order, and how many each has."""

    ids: list[str]
    article: np.ndarray   # per paragraph, index into ids
    n: np.ndarray         # per paragraph, its number in the article
    first: np.ndarray     # per paragraph, the number of its first occurrence; last: the total
    spans: Callable[[str], Spans]
    scan: _Scan | None = None
    #: Work done against :data:`MAX_COST` by the request now running, and whether it ran out.
    spent: int = 0
    truncated: bool = False
    #: Long articles decoded during the request now running, by id (read once, not per paragraph).
    records: dict[str, list[str]] = field(default_factory=dict)

    #: Words (anchors) the locator looks for: the cost of locating grows with them.
    width: int = 1

    def charge(self, text: str, found: int) -> bool:
        """Count the work of locating ``found`` occurrences in ``text``; tell whether the budget allows more."""
        self.spent += 1 + found + len(text) * self.width // _CHARS_PER_UNIT
        if self.spent > MAX_COST:
            self.truncated = True
            return False
        return True

    @property
    def total(self) -> int:
        """Return the number of occurrences."""
        return int(self.first[-1])

    def recount(self, scan: _Scan) -> None:
        """Take the counts of a full scan (the store's text is the truth)."""
        counts = np.bincount(scan.block, minlength=len(self.n))
        self.first = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
        self.scan = scan


def concordance(engine: SearchEngine, request: SearchRequest, *, width: int = 60, page: int = 1,
                per_page: int = 50, sort: str = "date") -> Concordance:
    """Return one page of the occurrences of ``request``'s words or phrases, with their contexts."""
    if not 10 <= width <= MAX_WIDTH:
        raise BadParameter(f"width must be from 10 to {MAX_WIDTH}")
    if not 1 <= per_page <= MAX_LINES_PER_PAGE:
        raise BadParameter(f"per_page must be from 1 to {MAX_LINES_PER_PAGE}")
    if sort not in KWIC_SORTS:
        raise BadParameter(f"sort must be date, left or right, not {sort!r}")
    plan = _plan(engine, request)
    plan.spent, plan.records = 0, {}  # (the budget and the decoded articles are per request)
    pages = max(1, -(-plan.total // per_page))
    if not 1 <= page <= pages:
        raise BadParameter(f"page must be from 1 to {pages}")
    lo, hi = (page - 1) * per_page, min(plan.total, page * per_page)
    found = _date_page(engine, plan, lo, hi) if sort == "date" and plan.scan is None else None
    if found is None:
        scan = plan.scan or _full_scan(engine, plan)
        hi = min(plan.total, page * per_page)  # (a scan recounts from the store's text)
        if sort == "date":
            order = np.arange(len(scan.block))
        else:
            keys = scan.before if sort == "left" else scan.after
            order = np.array(sorted(range(len(keys)), key=keys.__getitem__), dtype=np.int64)
        chosen = order[lo:hi].tolist()
        blocks = scan.block[chosen]
        read = dict(_texts(engine, plan, np.unique(blocks)))
        found = [(int(b), int(scan.start[i]), int(scan.end[i]), read[int(b)]) for b, i in zip(blocks, chosen)]
    lines = []
    for b, s, e, block in found:
        if block is None:
            continue  # removed since the count: the store's generation drops the plan next time
        text, title, date = block
        lines.append(Line(plan.ids[int(plan.article[b])], int(plan.n[b]), date, title, left_context(text, s, width),
                          text[s:e], right_context(text, e, width)))
    plan.records = {}
    return Concordance(request, plan.total, page, per_page, width, sort, tuple(lines), plan.truncated)


def _plan(engine: SearchEngine, request: SearchRequest) -> _Plan:
    key = ("kwic", engine.generation(), request.query, request.source, request.author, request.tag,
           request.date_from, request.date_to, request.show_copies)
    plan: _Plan = engine.derived.get(key, lambda: _count(engine, request))
    return plan


def _count(engine: SearchEngine, request: SearchRequest) -> _Plan:
    """Count each matching paragraph's occurrences in the index, reading only what it leaves open."""
    selection = engine.select(request, blocks=True, counts=True)
    marks = selection.marks or MarkPlan.of(request.parsed.root, FRENCH, selection.expanded)
    counts = np.zeros(len(selection.block_n), dtype=np.int64)
    if selection.block_values is not None:
        counts[:] = selection.block_values
    plan = _Plan(selection.ids, selection.block_article, selection.block_n, counts, marks.spans,
                 width=max(1, len(anchors(marks.marks))))
    unknown = np.nonzero(counts < 0)[0]
    for b, read in _texts(engine, plan, unknown):
        counts[b] = len(marks.spans(read[0])) if read is not None else 0
        if not plan.charge(read[0] if read is not None else "", int(counts[b])):
            break
    # Past the budget, the paragraphs left unread count nothing: the concordance is cut short.
    counts[counts < 0] = 0
    plan.first = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    return plan


def _texts(engine: SearchEngine, plan: _Plan, blocks: np.ndarray) -> Iterator[tuple[int, _Block | None]]:
    """Yield some paragraphs of a plan with their text, title and date from the store (None if gone)."""
    wanted = blocks.tolist()
    for first in range(0, len(wanted), _BATCH):
        batch = wanted[first:first + _BATCH]
        read = engine.paragraphs([(plan.ids[int(plan.article[b])], int(plan.n[b])) for b in batch], plan.records)
        yield from zip(batch, read)


def _date_page(engine: SearchEngine, plan: _Plan, lo: int, hi: int) -> list[tuple[int, int, int, _Block | None]] | None:
    """Return occurrences ``lo`` to ``hi`` in date order, reading only their paragraphs.

    None when a paragraph's text no longer has the index's count (the store changed
    since the index was written): the caller then scans everything.
    """
    first = plan.first
    b_lo = int(np.searchsorted(first, lo, side="right")) - 1
    b_hi = int(np.searchsorted(first, hi, side="left"))
    found = []
    for b, block in _texts(engine, plan, np.arange(b_lo, b_hi) if hi > lo else EMPTY):
        spans = plan.spans(block[0]) if block is not None else ()
        if len(spans) != first[b + 1] - first[b]:
            return None
        found += [(b, s, e, block) for k, (s, e) in enumerate(spans, start=int(first[b])) if lo <= k < hi]
    return found


def _full_scan(engine: SearchEngine, plan: _Plan) -> _Scan:
    """Read every matching paragraph and collect its spans and neighbouring words (for the sorts)."""
    block: list[int] = []
    starts: list[int] = []
    ends: list[int] = []
    before: list[str] = []
    after: list[str] = []
    for b, read in _texts(engine, plan, np.arange(len(plan.n))):
        if read is None:
            continue
        text = read[0]
        spans = plan.spans(text)
        if not plan.charge(text, len(spans)):
            break
        for s, e in spans:
            block.append(b)
            starts.append(s)
            ends.append(e)
            before.append(_word_before(text, s))
            m = WORD_RE.search(text, e)
            after.append(fold(m.group().lower()) if m else "")
    scan = _Scan(np.array(block, dtype=np.int64), np.array(starts, dtype=np.int64),
                 np.array(ends, dtype=np.int64), before, after)
    plan.recount(scan)
    return scan


def _word_before(text: str, start: int) -> str:
    """Return the last word before ``start``, folded ("" at the paragraph's start)."""
    # Words are read back from the spaces before ``start`` (no word holds one), so that a
    # long paragraph is not read from its beginning.
    at = restart(text, start)
    while True:
        words = WORD_RE.findall(text, at, start)
        if words or not at:
            return fold(words[-1].lower()) if words else ""
        at = restart(text, at - 1)


def left_context(text: str, start: int, width: int) -> str:
    """Return up to ``width`` characters before ``start``, starting on a word."""
    cut = max(0, start - width)
    left = text[cut:start]
    if cut > 0:
        space = left.find(" ")
        left = left[space + 1:] if 0 <= space < len(left) - 1 else left
    return " ".join(left.split(" ")) if left else ""


def right_context(text: str, end: int, width: int) -> str:
    """Return up to ``width`` characters after ``end``, ending on a word."""
    right = text[end:end + width]
    if end + width < len(text):
        space = right.rfind(" ")
        right = right[:space] if space > 0 else right
    return right
