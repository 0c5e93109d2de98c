"""What the templates show, computed in Python: facet links, histogram bars, marked blocks.

Templates only loop and link: every URL, coordinate and mark number they print
is computed here from the core's data (facet values, year counts, spans).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from markupsafe import Markup, escape

from archive import Block, FacetValue, SearchRequest, SearchResults, Spans, marked_html

from .state import FACET_PARAMS, link, state_fields, toggle_link

__all__ = ["FacetItem", "Facet", "Bar", "Histogram", "MarkedBlock", "Paging", "facets", "histogram",
           "marked_blocks", "paging", "sorts", "explain"]

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


def marked_blocks(blocks: list[tuple[Block, Spans]]) -> list[MarkedBlock]:
    """Number the blocks from 1 and the marks of a whole article (``#m1``…) so anchors work without JavaScript."""
    out = []
    first = 1
    for number, (block, spans) in enumerate(blocks, start=1):
        out.append(MarkedBlock(number, block, marked_html(block.text, spans, first_id=first), first,
                               len(spans)))
        first += len(spans)
    return out


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
