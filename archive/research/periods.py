"""Periods: day numbers cut into contiguous years, months or days.

The catalog keeps each article's date as a day number (``date.toordinal()``:
17 March 2020 is 737501). A timeline or a trend counts articles per *period*
and needs every period between the first and the last, empty ones included:
``grève SNCF`` by year must show 2017 as a zero rather than skip it. Each
period has an integer key that follows on from the previous one:

* ``year``: the year itself (2020);
* ``month``: months since January 1970 (March 2020 is 602), so December 2019
  and January 2020 are neighbours;
* ``day``: the day number.

:func:`count_periods` counts day numbers per key with one ``numpy.bincount``
over the span, :func:`period_label` prints a key as the JSON contract wants it
(``"2020"``, ``"2020-03"``, ``"2020-03-17"``) and :func:`period_bounds` gives
its first and last day (for a link to the search of that period).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import numpy as np

from ..errors import BadParameter

__all__ = ["By", "BYS", "as_by", "period_keys", "key_of", "period_label", "period_bounds",
           "count_periods", "choose_by", "coarser", "MAX_PERIODS"]

By = Literal["year", "month", "day"]
BYS: tuple[By, ...] = ("year", "month", "day")
#: Beyond this many periods a chart is unreadable and a table too long: coarser periods are used.
MAX_PERIODS = 1200
_EPOCH = dt.date(1970, 1, 1).toordinal()


def as_by(value: str | None) -> By | None:
    """Return a validated period kind (None when not given)."""
    if not value:
        return None
    if value not in BYS:
        raise BadParameter(f"by must be year, month or day, not {value!r}")
    return value


def period_keys(days: np.ndarray, by: By) -> np.ndarray:
    """Return the period key of each day number."""
    if by == "day":
        return days.astype(np.int64)
    dates = (days.astype(np.int64) - _EPOCH).astype("datetime64[D]")
    if by == "month":
        return dates.astype("datetime64[M]").astype(np.int64)
    return dates.astype("datetime64[Y]").astype(np.int64) + 1970


def key_of(day: dt.date, by: By) -> int:
    """Return the period key of one date."""
    if by == "day":
        return day.toordinal()
    if by == "month":
        return (day.year - 1970) * 12 + day.month - 1
    return day.year


def period_bounds(key: int, by: By) -> tuple[dt.date, dt.date]:
    """Return the first and last day of a period."""
    if by == "day":
        day = dt.date.fromordinal(key)
        return day, day
    if by == "month":
        year, month = 1970 + key // 12, key % 12 + 1
        following = dt.date(year + month // 12, month % 12 + 1, 1)
        return dt.date(year, month, 1), following - dt.timedelta(days=1)
    return dt.date(key, 1, 1), dt.date(key, 12, 31)


def period_label(key: int, by: By) -> str:
    """Return a period as ``2020``, ``2020-03`` or ``2020-03-17``."""
    start, _ = period_bounds(key, by)
    return {"year": f"{start.year:04d}", "month": f"{start.year:04d}-{start.month:02d}",
            "day": start.isoformat()}[by]


def count_periods(days: np.ndarray, by: By, first: int, last: int) -> np.ndarray:
    """Count day numbers per period key from ``first`` to ``last`` (both included)."""
    keys = period_keys(days[days >= 0], by)
    keys = keys[(keys >= first) & (keys <= last)] - first
    return np.bincount(keys, minlength=last - first + 1).astype(np.int64)


def choose_by(low: dt.date, high: dt.date) -> By:
    """Pick periods for a span: days up to three months, months up to twenty years, else years."""
    span = (high - low).days
    if span <= 92:
        return "day"
    if high.year - low.year < 20:
        return "month"
    return "year"


def coarser(by: By, low: dt.date, high: dt.date) -> By:
    """Return ``by``, or coarser periods when the span would have more than MAX_PERIODS."""
    while by != "year" and key_of(high, by) - key_of(low, by) + 1 > MAX_PERIODS:
        by = "month" if by == "day" else "year"
    return by
