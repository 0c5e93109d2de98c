"""Filtering: a request's dates and facet selections applied to the matching articles, and every facet counted.

For ``investir`` with ``tag=économie&tag=chine``, :class:`Filters` keeps the
matching articles (sorted aids) that have a selected tag (values of one facet
are ORed; different facets are ANDed) through :meth:`~.facets.Catalog.having`.
:func:`count_facets` counts each facet *without its own selection*, so that
``chine`` still shows how many articles the other tags would add; a facet lists
its :data:`~.facets.MAX_FACET_VALUES` most frequent values and the selected ones
(:func:`facet_values`, which the cluster engine's results share).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .facets import FACETS, MAX_FACET_VALUES, Catalog, facet_key
from .request import SearchRequest
from .results import FacetValue

__all__ = ["Filters", "count_facets", "contiguous_years", "facet_values", "selected_years"]


@dataclass
class Filters:
    """A request's filters: the date range (day numbers), and each facet's selected values."""

    catalog: Catalog
    low: int | None
    high: int | None
    selected: dict[str, tuple[str, ...]]

    @classmethod
    def of(cls, catalog: Catalog, request: SearchRequest) -> Filters:
        """Turn a request's date range and facet selections into filters."""
        selected = {name: values for name, values in _selections(request).items() if values}
        return cls(catalog, None if request.low is None else request.low.toordinal(),
                   None if request.high is None else request.high.toordinal(), selected)

    def dates(self, articles: np.ndarray) -> np.ndarray:
        """Tell, for some articles (aids), whether each passes the date range (an undated one never does)."""
        keep = np.ones(len(articles), dtype=bool)
        if self.low is None and self.high is None:
            return keep
        days = self.catalog.days[articles]
        if self.low is not None:
            keep &= days >= self.low
        if self.high is not None:
            keep &= days <= self.high
        return keep & (days >= 0)

    def applies(self, *, dates: bool = True, but: str | None = None) -> bool:
        """Tell whether any filter applies (``dates``, ``but``: as for :meth:`keep`)."""
        return (dates and (self.low is not None or self.high is not None)) or any(n != but for n in self.selected)

    def select(self, articles: np.ndarray, *, dates: bool = True, but: str | None = None) -> np.ndarray:
        """Return the articles (aids) that pass :meth:`keep` (the same array when nothing filters)."""
        return articles[self.keep(articles, dates=dates, but=but)] if self.applies(dates=dates, but=but) else articles

    def keep(self, articles: np.ndarray, *, dates: bool = True, but: str | None = None) -> np.ndarray:
        """Tell, for some articles (aids), whether each passes every filter (``dates=False``: but the
        dates; ``but``: but that facet's selection)."""
        keep = self.dates(articles) if dates else np.ones(len(articles), dtype=bool)
        for name, values in self.selected.items():
            if name != but:
                keep[keep] = self.catalog.having(name, values, articles[keep])
        return keep


def _selections(request: SearchRequest) -> dict[str, tuple[str, ...]]:
    return {"source": request.source, "author": request.author, "tags": request.tag}


def count_facets(catalog: Catalog, matching: np.ndarray, filters: Filters,
                 request: SearchRequest) -> tuple[dict[str, list[FacetValue]], list[tuple[int, int]]]:
    """Count each facet over the matching articles (sorted aids), without its own selection; add the histogram."""
    selections = _selections(request)
    facets: dict[str, list[FacetValue]] = {}
    for name in FACETS:
        base = filters.select(matching, dates=name != "year", but=name)
        counts = catalog.counts(name, base, None if name == "year" else MAX_FACET_VALUES, selections.get(name, ()))
        if name == "year":
            facets[name] = facet_values(counts, selected_years(request.low, request.high),
                                         by_value=True)
        else:
            facets[name] = facet_values(counts, selections[name], by_value=False)
    return facets, contiguous_years(facets["year"], request)


def contiguous_years(years: Sequence[FacetValue], request: SearchRequest) -> list[tuple[int, int]]:
    """Return ``(year, count)`` for every year from the first to the last, empty years included.

    The span covers the years with matches and the selected date range, so a
    year without articles shows as a zero instead of disappearing.
    """
    counts = {int(v.value): v.count for v in years if v.count}
    if not counts:
        return []
    span = list(counts)
    span += [d.year for d in (request.low, request.high) if d is not None and 1000 <= d.year <= 9999]
    first, last = min(span), max(span)
    if last - first > 500:  # a wrong date far away would make thousands of empty bars
        first, last = min(counts), max(counts)
    return [(y, counts.get(y, 0)) for y in range(first, last + 1)]


def selected_years(low: dt.date | None, high: dt.date | None) -> list[str]:
    """Return the whole years a date range covers exactly (the year facet's selection), else none."""
    if low is None or high is None:
        return []
    if low.month == 1 and low.day == 1 and high.month == 12 and high.day == 31 and low.year <= high.year:
        return [str(y) for y in range(low.year, high.year + 1)]
    return []


def facet_values(counts: list[tuple[str, str, int, tuple[str, ...]]], selected: Sequence[str], *,
                 by_value: bool) -> list[FacetValue]:
    """Return a facet's values: the most frequent first (years by value), then any selected value not among them.

    ``counts`` holds ``(key, spelling, count, other spellings)`` per value.
    """
    chosen = {facet_key(v) for v in selected}
    if by_value:
        ordered = sorted(counts, key=lambda c: c[1], reverse=True)
    else:
        ordered = sorted(counts, key=lambda c: (-c[2], c[0], c[1]))  # count, then key, then spelling
    top = ordered[:MAX_FACET_VALUES]
    values = [FacetValue(value, n, key in chosen, variants) for key, value, n, variants in top]
    shown = {key for key, _, _, _ in top}
    by_key = {key: (value, n, variants) for key, value, n, variants in counts} if selected else {}
    for v in selected:
        key = facet_key(v)
        if key not in shown:
            shown.add(key)
            value, n, variants = by_key.get(key, (v, 0, ()))
            values.append(FacetValue(value, n, True, variants))
    return values
