"""Date bounds as readers type them: one parser for every place a search takes a date.

The web page's Du/Au boxes, the API's ``from``/``to``, the command line's
``--from``/``--to``, the trends and the query's ``date:`` all read a bound here.
A bound names a year, a month or a day; a search starts on its first day or
ends on its last:

* ``2019`` — the year; ``2019-12`` and ``12/2019`` — the month; ``2019-12-05``
  — the day, year first (ISO);
* ``05/12/2019`` or ``5-12-2019`` — the day, **day first**, as the French write
  it (5 December, never 12 May);
* ``5 décembre 2019``, ``1er déc. 2019``, ``décembre 2019`` — in words, French or
  English month names, accents and capitals as typed or not.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

__all__ = ["DateBound", "BadDate", "read_bound", "MONTHS", "BOUND_EXAMPLES"]

#: Month names and their usual abbreviations, French and English, accents removed.
MONTHS = {
    "janvier": 1, "janv": 1, "jan": 1, "january": 1, "fevrier": 2, "fevr": 2, "fev": 2, "february": 2, "feb": 2,
    "mars": 3, "march": 3, "mar": 3, "avril": 4, "avr": 4, "april": 4, "apr": 4, "mai": 5, "may": 5,
    "juin": 6, "june": 6, "jun": 6, "juillet": 7, "juil": 7, "july": 7, "jul": 7, "aout": 8, "august": 8,
    "aug": 8, "septembre": 9, "sept": 9, "sep": 9, "september": 9, "octobre": 10, "oct": 10, "october": 10,
    "novembre": 11, "nov": 11, "november": 11, "decembre": 12, "dec": 12, "december": 12,
}
#: The forms a bound may take, as the hints print them (one text everywhere).
BOUND_EXAMPLES = ("2019", "2019-12", "05/12/2019", "5 décembre 2019")

_YEAR_FIRST = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")
_DAY_FIRST = re.compile(r"(?:(\d{1,2})[/-])?(\d{1,2})[/-](\d{4})")
_IN_WORDS = re.compile(r"(?:(\d{1,2})(?:er)?\s+)?([a-z]+)\.?\s+(\d{4})")


class BadDate(ValueError):
    """A bound that is not a date (``what`` is ``form``) or names no such year, month or day."""

    def __init__(self, message: str, what: str) -> None:
        super().__init__(message)
        self.what = what


@dataclass(frozen=True)
class DateBound:
    """A year, a month of a year, or a day."""

    year: int
    month: int | None = None
    day: int | None = None

    def first(self) -> dt.date:
        """Return the first day the bound covers."""
        return dt.date(self.year, self.month or 1, self.day or 1)

    def last(self) -> dt.date:
        """Return the last day the bound covers."""
        if self.month is None:
            return dt.date(self.year, 12, 31)
        return dt.date(self.year, self.month, self.day or calendar.monthrange(self.year, self.month)[1])


def read_bound(text: str) -> DateBound:
    """Read a typed bound (see the module's forms); raise :class:`BadDate` naming what is wrong."""
    folded = _fold(text)
    day: str | None
    if m := _YEAR_FIRST.fullmatch(folded):
        year, month, day = m[1], m[2], m[3]
    elif m := _DAY_FIRST.fullmatch(folded):
        day, month, year = m[1], m[2], m[3]
    elif (m := _IN_WORDS.fullmatch(folded)) and m[2] in MONTHS:
        day, month, year = m[1], str(MONTHS[m[2]]), m[3]
    else:
        raise BadDate(f"not a date: {text!r} (use {', '.join(BOUND_EXAMPLES)})", "form")
    y = int(year)
    if y < 1:
        raise BadDate(f"impossible year in {text!r}", "year")
    mon = int(month) if month is not None else None
    if mon is not None and not 1 <= mon <= 12:
        raise BadDate(f"impossible month in {text!r} (months are 01 to 12)", "month")
    d = int(day) if day is not None else None
    if d is not None and mon is not None and not 1 <= d <= calendar.monthrange(y, mon)[1]:
        raise BadDate(f"impossible day in {text!r}", "day")
    return DateBound(y, mon, d)


def _fold(text: str) -> str:
    """Return ``text`` lower-cased, without accents, its spaces (no-break ones too) collapsed."""
    decomposed = unicodedata.normalize("NFKD", text.strip().lower())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())
