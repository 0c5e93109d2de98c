"""What the templates show, computed in Python: facet links, histogram bars, marked blocks.

Templates only loop and link: every URL, coordinate and mark number they print
is computed here from the core's data (facet values, year counts, spans).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import format_date
from flask_babel import gettext as _
from markupsafe import Markup, escape

from archive import (
    READING_WINDOW,
    ArticleView,
    Block,
    FacetValue,
    SearchRequest,
    SearchResults,
    Spans,
    marked_html,
)
from archive.research import By, count_periods, key_of, period_bounds, period_label

from .i18n import count_text
from .state import FACET_PARAMS, article_link, link, state_fields, toggle_link

__all__ = ["FacetItem", "Facet", "Bar", "Histogram", "MarkedBlock", "Paging", "facets", "histogram",
           "marked_blocks", "paging", "sorts", "explain", "TimeBar", "Timeline", "timeline",
           "WindowLink", "Windows", "windows"]

#: Facet values shown before "show more".
SHOWN_VALUES = 10


@dataclass(frozen=True)
class FacetItem:
    """One facet value as shown: its count, whether selected, the URL that toggles it, other spellings."""

    value: str
    count: int
    selected: bool
    url: str
    variants: tuple[str, ...] = ()

    @property
    def title(self) -> str | None:
        """Return the tooltip listing the other spellings counted under this one."""
        if not self.variants:
            return None
        return _("Also spelt: %(variants)s", variants=", ".join(self.variants))


@dataclass(frozen=True)
class Facet:
    """One facet as shown: its label, its first values, and the others behind "show more"."""

    name: str
    label: str
    shown: list[FacetItem]
    more: list[FacetItem]


def _item(name: str, v: FacetValue) -> FacetItem:
    if name == "year":
        url = link(**{"from": None, "to": None}) if v.selected else link(**{"from": v.value, "to": v.value})
    else:
        url = toggle_link(FACET_PARAMS[name], v.value, v.variants)
    return FacetItem(v.value, v.count, v.selected, url, v.variants)


def facets(results: SearchResults) -> list[Facet]:
    """Return the facets with values, each value with its toggle URL."""
    labels = {"source": _("Source"), "author": _("Author"), "tags": _("Tags"), "year": _("Year")}
    out = []
    for name, label in labels.items():
        items = [_item(name, v) for v in results.facets.get(name, [])]
        if items:
            out.append(Facet(name, label, items[:SHOWN_VALUES], items[SHOWN_VALUES:]))
    return out


@dataclass(frozen=True)
class Bar:
    """One year's bar in the histogram's SVG coordinates, with its link."""

    year: int
    count: int
    url: str
    x: float
    y: float
    width: float
    height: float
    label_x: float
    label: str


@dataclass(frozen=True)
class Histogram:
    """The year histogram: the SVG's width and its bars."""

    width: int
    bars: list[Bar]


_BAR, _TOP, _PLOT = 28, 100, 90  # bar slot width, baseline y, tallest bar


def histogram(results: SearchResults) -> Histogram | None:
    """Return the year histogram's geometry (None without dated matches)."""
    if not results.histogram:
        return None
    tallest = max(c for _, c in results.histogram) or 1
    bars = []
    for i, (year, count) in enumerate(results.histogram):
        height = max(1.0, round(count / tallest * _PLOT, 1))
        bars.append(Bar(year, count, link(**{"from": str(year), "to": str(year)}),
                        i * _BAR + 3, _TOP - height, _BAR - 6, height, i * _BAR + _BAR / 2,
                        f"’{str(year)[2:]}"))
    # A few years still get bars of a sane width.
    return Histogram(max(len(bars), 6) * _BAR, bars)


@dataclass(frozen=True)
class MarkedBlock:
    """One block of the reading view: its number from 1 (``#p1``), HTML with numbered marks, first mark."""

    number: int
    block: Block
    html: Markup
    first_mark: int
    marks: int


def marked_blocks(blocks: list[tuple[Block, Spans]], start: int = 0) -> list[MarkedBlock]:
    """Number the blocks from ``start`` + 1 and the marks shown (``#m1``…) so anchors work without JavaScript."""
    out = []
    first = 1
    for number, (block, spans) in enumerate(blocks, start=start + 1):
        out.append(MarkedBlock(number, block, marked_html(block.text, spans, first_id=first), first,
                               len(spans)))
        first += len(spans)
    return out


@dataclass(frozen=True)
class WindowLink:
    """A window of a long article holding matches: its paragraphs (from 1), how many match, its URL."""

    first: int
    last: int
    matches: int
    url: str
    current: bool


@dataclass(frozen=True)
class Windows:
    """Where a window of a long article sits: its paragraphs, the neighbours, the windows with matches."""

    first: int
    last: int
    total: int
    prev_url: str | None
    next_url: str | None
    matching: list[WindowLink]
    more: int  # windows with matches not listed


#: Windows with matches listed in the reading view's navigation.
SHOWN_WINDOWS = 12


def windows(view: ArticleView) -> Windows | None:
    """Return the navigation of a long article's window (None for an article shown whole)."""
    if not view.windowed:
        return None
    size, first, total = READING_WINDOW, view.first, view.total
    last = first + len(view.blocks)
    with_matches = view.windows()
    # Listed from just before the shown window, so the next windows to read are there.
    here = next((i for i, (start, _) in enumerate(with_matches) if start >= first), len(with_matches))
    begin = max(0, min(here - 2, len(with_matches) - SHOWN_WINDOWS))
    shown = with_matches[begin:begin + SHOWN_WINDOWS]
    links = [WindowLink(start + 1, min(start + size, total), count,
                        article_link(view.article.id, start, window=True), start == first)
             for start, count in shown]
    return Windows(first + 1, last, total,
                   article_link(view.article.id, max(0, first - size), window=True) if first else None,
                   article_link(view.article.id, last, window=True) if last < total else None,
                   links, len(with_matches) - len(shown))


@dataclass(frozen=True)
class Paging:
    """The pager: previous/next URLs, the page and the last page, and the state the "go to" form keeps."""

    page: int
    last: int
    prev_url: str | None
    next_url: str | None
    fields: list[tuple[str, str]]
    capped: bool  # more pages exist than a request may ask for


def paging(results: SearchResults) -> Paging | None:
    """Return the pager of a results page (None when everything fits on one page)."""
    if results.pages <= 1:
        return None
    # Never offer a page the request would refuse.
    page, last = results.page, min(results.pages, SearchRequest.max_page)
    return Paging(page, last, link(page=page - 1) if page > 1 else None,
                  link(page=page + 1) if page < last else None, state_fields("page"),
                  results.pages > last)


@dataclass(frozen=True)
class SortChoice:
    """One order the results can be put in: its label, whether current, and its URL."""

    key: str
    label: str
    current: bool
    url: str


def sorts(request: SearchRequest, labels: dict[str, str]) -> list[SortChoice]:
    """Return the orders offered: relevance only when there are words to rank by."""
    keys = ("relevance", "-date", "date") if request.parsed.root is not None else ("-date", "date")
    current = request.effective_sort
    return [SortChoice(k, labels[k], k == current, link(sort=k)) for k in keys]


@dataclass(frozen=True)
class TimeBar:
    """One period's bar in the timeline: geometry, counts, the link selecting it, its date bounds."""

    label: str
    title: str
    count: int
    url: str
    start: str
    end: str
    selected: bool
    x: float
    y: float
    width: float
    height: float
    label_x: float


@dataclass(frozen=True)
class Timeline:
    """The search page's timeline at one level (years, a year's months or a month's days)."""

    level: str
    caption: str
    width: int
    bars: list[TimeBar]
    up_url: str | None
    up_label: str | None


def timeline(results: SearchResults) -> Timeline | None:
    """Return the timeline: years, or the months of a selected year, or the days of a selected month."""
    if not results.histogram:
        return None
    low, high = results.request.low, results.request.high
    days = results.days if results.days is not None else None
    level: By = "year"
    if low and high and days is not None and (low.year, low.month) == (high.year, high.month):
        level = "day"
    elif low and high and days is not None and low.year == high.year:
        level = "month"
    up_url = up_label = None
    if level == "year":
        keys = [y for y, _c in results.histogram]
        counts = [c for _y, c in results.histogram]
        caption = _("Articles per year")
    else:
        assert low is not None and days is not None
        if level == "month":
            first, last = key_of(dt.date(low.year, 1, 1), "month"), key_of(dt.date(low.year, 12, 1), "month")
            caption = _("Articles per month in %(year)s", year=low.year)
            up_url, up_label = link(**{"from": None, "to": None}), _("All years")
        else:
            first = key_of(dt.date(low.year, low.month, 1), "day")
            last = key_of(period_bounds(key_of(low, "month"), "month")[1], "day")
            caption = _("Articles per day in %(month)s", month=format_date(low, "MMMM y"))
            up_url, up_label = link(**{"from": str(low.year), "to": str(low.year)}), str(low.year)
        keys = list(range(first, last + 1))
        counts = count_periods(days, level, first, last).tolist()
    tallest = max(counts) or 1
    bars = []
    for i, (key, count) in enumerate(zip(keys, counts)):
        start, end = period_bounds(key, level)
        text = period_label(key, level)
        selected = bool(low or high) and (low is None or end >= low) and (high is None or start <= high)
        if level == "year":
            short = f"’{text[2:]}"
        elif level == "month":
            short = format_date(start, "MMM")[:4]
        else:
            short = str(start.day) if start.day in (1, 10, 20, 30) else ""
        height = max(1.0 if count else 0.0, round(count / tallest * _PLOT, 1))
        title = _("%(period)s: %(what)s", period=text,
                  what=count_text("%(num)s article", "%(num)s articles", count))
        bars.append(TimeBar(short, title, count, link(**{"from": text, "to": text}), start.isoformat(),
                            end.isoformat(), selected, i * _BAR + 3, _TOP - height, _BAR - 6, height,
                            i * _BAR + _BAR / 2))
    return Timeline(level, caption, max(len(bars), 6) * _BAR, bars, up_url, up_label)


#: Forms listed per piece of the query before "…".
_SHOWN_FORMS = 6


def explain(results: SearchResults) -> list[Markup]:
    """Return how each piece of the query was read, as short phrases in the reader's language."""
    out = []
    stop_only = any(r.role == "stopword" and r.terms for r in results.explain)
    for r in results.explain:
        typed = Markup("<em>%s</em>") % r.text
        forms = escape(", ".join(r.terms[:_SHOWN_FORMS]) + ("…" if len(r.terms) > _SHOWN_FORMS else ""))
        if r.role == "word":
            text = _("%(typed)s and its forms (%(forms)s)", typed=typed, forms=forms)
        elif r.role == "stopword" and stop_only:
            text = _("%(typed)s searched as typed (the query has only common words)", typed=typed)
        elif r.role == "stopword":
            text = _("%(typed)s ignored (common word)", typed=typed)
        elif r.role == "phrase":
            text = _("%(typed)s word for word", typed=typed)
        elif r.role == "prefix":
            text = (_("%(typed)s → %(forms)s", typed=typed, forms=forms) if r.terms
                    else _("%(typed)s → no word of the archive", typed=typed))
        elif r.role == "fuzzy":
            text = (_("%(typed)s → %(forms)s (close spellings)", typed=typed, forms=forms) if r.terms
                    else _("%(typed)s → no close word in the archive", typed=typed))
        elif r.role == "near":
            text = _("%(typed)s: words close to each other", typed=typed)
        elif r.role == "field":
            text = _("%(typed)s in the article's metadata", typed=typed)
        elif r.role == "date":
            text = _("%(typed)s: from %(start)s to %(end)s", typed=typed,
                     start=escape(r.terms[0] if r.terms else "…"), end=escape(r.terms[-1] if r.terms else "…"))
        else:
            text = _("%(typed)s excluded", typed=typed)
        out.append(Markup(text))
    return out
