"""CSV: the one writer of every table the archive hands out (exports, concordances, trends).

Every CSV the archive writes, on the web (``/export?format=csv``, ``/export.csv``,
``/kwic.csv``, ``/trend.csv``) or on the command line (``archive export --format
csv``, ``archive kwic --csv``), goes through :func:`write_table` or
:func:`table_lines`, in one of two flavours (:data:`DIALECTS`):

* ``csv``: RFC 4180, comma-separated, CRLF line ends, no byte order mark, a
  decimal point;
* ``csv-excel``: what French spreadsheets open as they are: ``;`` separators,
  CRLF, a UTF-8 byte order mark and a decimal comma (``0,5000``).

Every text cell goes through :func:`neutral`, headers included (a trend's
columns are named after its queries, which anyone may type): a cell starting
with ``=``, ``+``, ``-``, ``@``, a tab, a carriage return, or the full-width
forms ``＝ ＋ － ＠`` that spreadsheets also read as formula signs, gets a
leading ``'`` so that it stays text. Numbers are given as ``int`` or
:class:`~decimal.Decimal` and written as numbers (``-3`` is not a formula).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TextIO

__all__ = ["FLAVOURS", "DIALECTS", "Dialect", "FORMULA_SIGNS", "neutral", "write_table", "table_lines",
           "Cell"]

#: First characters a spreadsheet reads as the start of a formula (full-width forms too).
FORMULA_SIGNS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")
#: A cell: text (neutralised), a number, a day, or nothing.
Cell = str | int | Decimal | dt.date | None


@dataclass(frozen=True)
class Dialect:
    """How one flavour writes: separator, line end, byte order mark, decimal sign."""

    name: str
    delimiter: str
    bom: bool
    decimal: str
    lineterminator: str = "\r\n"


DIALECTS = {"csv": Dialect("csv", ",", False, "."), "csv-excel": Dialect("csv-excel", ";", True, ",")}
FLAVOURS = tuple(DIALECTS)


def neutral(value: str) -> str:
    """Return ``value`` as a cell a spreadsheet keeps as text (a leading ``'`` before a formula sign)."""
    return "'" + value if value and value[0] in FORMULA_SIGNS else value


def _text(value: Cell, dialect: Dialect) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return str(value).replace(".", dialect.decimal)
    if isinstance(value, dt.date):
        return value.isoformat()
    return neutral(str(value))


class _Line:
    """A file-like object that keeps what the csv module writes, to hand it out line by line."""

    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> int:
        self.text += text
        return len(text)


def table_lines(header: Sequence[str], rows: Iterable[Sequence[Cell]], flavour: str = "csv") -> Iterator[str]:
    """Yield a table as CSV text, one line at a time (the byte order mark first when the flavour has one)."""
    dialect = DIALECTS[flavour]
    line = _Line()
    writer = csv.writer(line, delimiter=dialect.delimiter, lineterminator=dialect.lineterminator)
    writer.writerow([neutral(h) for h in header])
    yield ("\ufeff" if dialect.bom else "") + line.text
    for row in rows:
        line.text = ""
        writer.writerow([_text(c, dialect) for c in row])
        yield line.text


def write_table(out: TextIO, header: Sequence[str], rows: Iterable[Sequence[Cell]], flavour: str = "csv") -> int:
    """Write a table to ``out`` in ``flavour``; return the number of rows (the header not counted)."""
    count = -1
    for text in table_lines(header, rows, flavour):
        out.write(text)
        count += 1
    return count
