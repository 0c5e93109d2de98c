"""Trends: how often several queries match, period after period.

Compare ``grève SNCF`` and ``télétravail`` by month: each query is a
:class:`~archive.search.SearchRequest` with the search page's language and
filters. :meth:`SearchEngine.select <archive.engines.SearchEngine.select>` returns the day
numbers of its matching articles; :func:`~.periods.count_periods` counts them
per month, every month of the span included (zeros too). Since the archive
holds more articles some months than others, each count is also given as a
*share*: the matching articles over every article of that month that passes
the same filters (the same request without its words), so a peak means the
subject grew, not the archive.

The span runs from the earliest to the latest date of the requests' ranges,
or of their matching articles where a request has none; the periods are chosen from it
(:func:`~.periods.choose_by`) unless asked. :meth:`Trend.to_dict` is the
JSON contract of ``/api/trend`` and ``archive trend --json``; :meth:`Trend.rows`
is the table of the CSV download.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from ..csvfile import Cell
from ..engines import SearchEngine
from ..errors import BadParameter
from ..search import SearchRequest
from .periods import By, choose_by, coarser, count_periods, key_of, period_bounds, period_label

__all__ = ["Point", "Series", "Trend", "trend", "MAX_QUERIES"]

#: Queries compared at once: more lines than this are not readable on one chart.
MAX_QUERIES = 4


@dataclass(frozen=True)
class Point:
    """One period of one series: matching articles, and every article of the period (same filters)."""

    period: str
    start: dt.date
    end: dt.date
    count: int
    total: int

    @property
    def share(self) -> float:
        """Return the matching articles over the period's articles (0 for an empty period)."""
        return self.count / self.total if self.total else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Return the point in the JSON contract."""
        return {"period": self.period, "count": self.count, "share": round(self.share, 6)}


@dataclass(frozen=True)
class Series:
    """One query's line: its request, its totals and a point per period."""

    request: SearchRequest
    total_articles: int
    undated: int
    points: tuple[Point, ...]

    @property
    def query(self) -> str:
        """Return the query text."""
        return self.request.query

    def to_dict(self) -> dict[str, Any]:
        """Return the series in the JSON contract."""
        return {"query": self.query, "total_articles": self.total_articles, "undated": self.undated,
                "points": [p.to_dict() for p in self.points]}


@dataclass(frozen=True)
class Trend:
    """Several series over the same contiguous periods."""

    by: By
    series: tuple[Series, ...]

    def to_dict(self) -> dict[str, Any]:
        """Return the trend in the JSON contract."""
        return {"by": self.by, "series": [s.to_dict() for s in self.series]}

    def rows(self, labels: Mapping[str, str] | None = None) -> list[list[Cell]]:
        """Return the table: one row per period, a count and a share column per query, the header first.

        ``labels`` names the columns in the reader's language (keys ``period``, ``count``, ``share``).
        """
        names = {"period": "period", "count": "count", "share": "share", **(labels or {})}
        head: list[Cell] = [names["period"]]
        for s in self.series:
            head += [f"{s.query} ({names['count']})", f"{s.query} ({names['share']})"]
        rows = [head]
        for i, point in enumerate(self.series[0].points if self.series else ()):
            row: list[Cell] = [point.period]
            for s in self.series:
                row += [s.points[i].count, Decimal(f"{s.points[i].share:.6f}")]
            rows.append(row)
        return rows


def trend(engine: SearchEngine, requests: Sequence[SearchRequest], by: By | None = None) -> Trend:
    """Count each request's matching articles per period, over one contiguous span."""
    if not requests:
        raise BadParameter("a trend needs at least one query")
    if len(requests) > MAX_QUERIES:
        raise BadParameter(f"a trend compares at most {MAX_QUERIES} queries")
    matched = [engine.select(r).days for r in requests]
    totals: dict[SearchRequest, np.ndarray] = {}
    for r in requests:
        base = _base(r)
        if base not in totals:
            totals[base] = engine.select(base).days
    # The span follows the matches (an archive's stray old article would otherwise
    # stretch every chart); the whole archive only when nothing matches.
    everything = np.concatenate(matched)
    if not (everything >= 0).any():
        everything = np.concatenate(list(totals.values()))
    dated = everything[everything >= 0]
    lows = [r.low for r in requests if r.low is not None]
    highs = [r.high for r in requests if r.high is not None]
    if len(dated):
        lows.append(dt.date.fromordinal(int(dated.min())))
        highs.append(dt.date.fromordinal(int(dated.max())))
    if not lows or not highs:
        return Trend(by or "year", tuple(Series(r, len(d), len(d), ()) for r, d in zip(requests, matched)))
    low, high = min(lows), max(highs)
    chosen = coarser(by or choose_by(low, high), low, high)
    first, last = key_of(low, chosen), key_of(high, chosen)
    keys = range(first, last + 1)
    bounds = [period_bounds(k, chosen) for k in keys]
    labels = [period_label(k, chosen) for k in keys]
    out = []
    for r, days in zip(requests, matched):
        counts = count_periods(days, chosen, first, last).tolist()
        whole = count_periods(totals[_base(r)], chosen, first, last).tolist()
        points = tuple(Point(label, start, end, c, t)
                       for label, (start, end), c, t in zip(labels, bounds, counts, whole))
        out.append(Series(r, len(days), int((days < 0).sum()), points))
    return Trend(chosen, tuple(out))


def _base(request: SearchRequest) -> SearchRequest:
    """Return the request without its words: every article of the same filters and dates."""
    return SearchRequest.build("", source=request.source, author=request.author, tag=request.tag,
                               date_from=request.low, date_to=request.high, per_page=1)
