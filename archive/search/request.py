"""Request: what the reader asked for, validated once.

The URL ``/?q=réforme+date:2019..2020&tag=politique&tag=social&sort=-date&page=2``,
the command ``archive search réforme date:2019..2020 --tag politique --tag social
--sort -date --page 2`` and the call ``search(home, "réforme date:2019..2020",
tag=["politique", "social"], sort="-date", page=2)`` all become the same
:class:`SearchRequest`. Building it checks every limit (query length, number of
filters, sort, page, page size, dates) and raises :class:`BadParameter` with the
reason; it parses the query text once, so every later stage (matching,
highlighting, suggesting) works from the same tree. ``copies=show`` (URL),
``--show-copies`` (CLI) and ``show_copies=True`` (Python) list wire copies as
hits of their own instead of under their cluster's best member. The effective date range
(``low``/``high``) is the narrower of the ``from``/``to`` bounds and any
``date:`` in the query.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Literal, Protocol, cast

from ..dates import BOUND_EXAMPLES
from ..errors import BadParameter
from ..model import check_date_bound
from ..query import Query, parse_date_bound, parse_query

__all__ = ["SearchRequest", "Sort", "SORTS", "FILTERS", "MAX_QUERY_CHARS", "MAX_FILTERS",
           "MAX_PAGE", "MAX_PER_PAGE"]

Sort = Literal["relevance", "-date", "date"]
SORTS: tuple[Sort, ...] = ("relevance", "-date", "date")
#: The metadata filters, by URL parameter name; values of one are ORed, filters ANDed.
FILTERS = ("source", "author", "tag")
# Pages are cut from a ranking computed whole, so a deep page costs what the first does:
# the bound only keeps numbers sane.
MAX_QUERY_CHARS, MAX_FILTERS, MAX_PAGE, MAX_PER_PAGE = 1000, 20, 10_000, 100


class MultiArgs(Protocol):
    """A URL's query string as a multi-dict (werkzeug's MultiDict, for one)."""

    def get(self, key: str) -> str | None: ...

    def getlist(self, key: str) -> list[str]: ...


@dataclass(frozen=True)
class SearchRequest:
    """One validated search: query, filters, sort and page, with the query parsed once."""

    query: str = ""
    source: tuple[str, ...] = ()
    author: tuple[str, ...] = ()
    tag: tuple[str, ...] = ()
    date_from: str = ""
    date_to: str = ""
    sort: Sort = "relevance"
    page: int = 1
    per_page: int = 20
    #: The deepest page a request may ask for (the edges cap their pagers with it).
    max_page: ClassVar[int] = MAX_PAGE
    #: List every copy of a dispatch as its own hit instead of collapsing its cluster into one.
    show_copies: bool = False
    parsed: Query = field(init=False, compare=False, repr=False)
    low: dt.date | None = field(init=False, compare=False, repr=False)
    high: dt.date | None = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if len(self.source) + len(self.author) + len(self.tag) > MAX_FILTERS:
            raise BadParameter(f"more than {MAX_FILTERS} filters", code="too_many_filters", max=MAX_FILTERS)
        if self.sort not in SORTS:
            raise BadParameter(f"sort must be relevance, date or -date, not {self.sort!r}",
                               code="bad_sort", value=self.sort)
        if not 1 <= self.page <= MAX_PAGE:
            raise BadParameter(f"page must be from 1 to {MAX_PAGE}", code="page_range", max=MAX_PAGE)
        if not 1 <= self.per_page <= MAX_PER_PAGE:
            raise BadParameter(f"per_page must be from 1 to {MAX_PER_PAGE}", code="per_page_range",
                               max=MAX_PER_PAGE)
        if not isinstance(self.show_copies, bool):
            raise BadParameter("show_copies must be True or False")
        low = _date_bound(self.date_from, "from", end=False)
        high = _date_bound(self.date_to, "to", end=True)
        parsed = parse_query(self.query)
        if parsed.date_from and (low is None or parsed.date_from > low):
            low = parsed.date_from
        if parsed.date_to and (high is None or parsed.date_to < high):
            high = parsed.date_to
        object.__setattr__(self, "parsed", parsed)
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)

    @classmethod
    def build(cls, query: str = "", *, source: str | Iterable[str] | None = (),
              author: str | Iterable[str] | None = (), tag: str | Iterable[str] | None = (),
              date_from: str | dt.date | None = None, date_to: str | dt.date | None = None,
              sort: str = "relevance", page: int | str = 1, per_page: int | str = 20,
              show_copies: bool = False) -> SearchRequest:
        """Build a request from Python values: one string or several per filter, dates or text."""
        return cls(query or "", _values(source), _values(author), _values(tag),
                   _date_text(date_from), _date_text(date_to), cast(Sort, sort or "relevance"),
                   _whole(page, "page", 1), _whole(per_page, "per_page", 20), show_copies)

    @classmethod
    def from_args(cls, args: MultiArgs) -> SearchRequest:
        """Build a request from a URL's parameters (``q``, ``source``… ``from``, ``to``)."""
        query = args.get("q") or ""
        # Over the web a query is typed; the Python API also takes whole paragraphs as
        # queries (the relevance benchmark's lead paragraphs), bounded by the parser.
        if len(query) > MAX_QUERY_CHARS:
            raise BadParameter(f"the query is longer than {MAX_QUERY_CHARS} characters",
                               code="query_too_long", max=MAX_QUERY_CHARS)
        return cls.build(query, source=args.getlist("source"),
                         author=args.getlist("author"), tag=args.getlist("tag"),
                         date_from=args.get("from"), date_to=args.get("to"),
                         sort=args.get("sort") or "relevance", page=args.get("page") or 1,
                         per_page=args.get("per_page") or 20,
                         show_copies=_copies(args.get("copies")))

    def to_args(self) -> list[tuple[str, str]]:
        """Return the request as URL parameters, each once, defaults left out."""
        out: list[tuple[str, str]] = []
        if self.query:
            out.append(("q", self.query))
        for name in FILTERS:
            out += [(name, v) for v in getattr(self, name)]
        if self.date_from:
            out.append(("from", self.date_from))
        if self.date_to:
            out.append(("to", self.date_to))
        if self.sort != "relevance":
            out.append(("sort", self.sort))
        if self.page != 1:
            out.append(("page", str(self.page)))
        if self.per_page != 20:
            out.append(("per_page", str(self.per_page)))
        if self.show_copies:
            out.append(("copies", "show"))
        return out

    def replace(self, **changes: Any) -> SearchRequest:
        """Return a copy with some fields changed (validated again)."""
        return replace(self, **changes)

    @property
    def effective_sort(self) -> Sort:
        """Return the order results come in: without words to rank by, relevance is newest first."""
        return "-date" if self.sort == "relevance" and self.parsed.root is None else self.sort

    @property
    def filtered(self) -> bool:
        """Tell whether any metadata or date filter is set."""
        return bool(self.source or self.author or self.tag or self.low or self.high)


def _values(value: str | Iterable[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,) if value else ()
    return tuple(v for v in dict.fromkeys(value) if v)


def _date_bound(text: str, param: str, *, end: bool) -> dt.date | None:
    """Parse a date bound; a bad one names its URL parameter (``from``/``to``) for the edges."""
    check_date_bound(text, param)  # impossible months and days, with the same code
    try:
        return parse_date_bound(text or None, end=end)
    except ValueError:
        raise BadParameter(f"not a date: {text!r} (use {', '.join(BOUND_EXAMPLES)})",
                           code="bad_date", param=param, value=text) from None


def _date_text(value: str | dt.date | None) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    return (value or "").strip()


def _copies(value: str | None) -> bool:
    """Read the ``copies`` URL parameter: ``show`` lists copies, ``collapse`` (the default) groups them."""
    if value in (None, "", "collapse"):
        return False
    if value == "show":
        return True
    raise BadParameter(f"copies must be show or collapse, not {value[:40]!r}")


def _whole(value: int | str, name: str, default: int) -> int:
    if isinstance(value, bool):
        raise BadParameter(f"{name} must be a whole number", code="not_whole", param=name)
    if isinstance(value, int):
        return value
    if value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise BadParameter(f"{name} must be a whole number", code="not_whole", param=name) from None
