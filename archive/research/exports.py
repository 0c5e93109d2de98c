"""Exports: the matching articles in the formats research tools read.

For ``grève SNCF`` with ``tag=social``, :func:`export` writes every matching
article (in the request's order) to a text stream, in one of four formats:

* ``jsonl``: one article per line, exactly the records ``archive add`` reads,
  so an export re-imports unchanged into another archive;
* ``csv``: comma-separated, one row per article: id, date, title, source,
  author, tags (``;``-separated), url, score, matching paragraph numbers and the
  first matching paragraph's text;
* ``csv-excel``: the same table in the dialect French spreadsheets open
  correctly: ``;`` separators, a UTF-8 byte order mark, a decimal comma. Both
  are written by :mod:`archive.csvfile`, which neutralises every cell a
  spreadsheet would read as a formula;
* ``iramuteq``: a corpus for IRaMuTeQ, one text per article introduced by
  ``**** *source_Le_Monde *date_2020-03-17 *annee_2020 *mois_2020-03 *tag_social``,
  then the title and the paragraphs. IRaMuTeQ wants variable names and values
  without spaces, accents or punctuation other than ``_`` and ``-``
  (:func:`iramuteq_value`), and reads a ``*`` in the text as a variable, so
  the text loses its asterisks.

:func:`export_filename` names the download after the query and the day:
``archive-greve-sncf-2026-11-29.csv``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Generator, Iterator, Mapping
from decimal import Decimal
from typing import TextIO

from ..analysis import fold
from ..csvfile import FLAVOURS, Cell, table_lines
from ..engines import SearchEngine
from ..errors import BadParameter
from ..model import Article
from ..search import Hit, SearchRequest

__all__ = ["EXPORT_FORMATS", "CSV_COLUMNS", "export", "export_lines", "Lines", "csv_row", "snippet",
           "export_filename", "iramuteq_value", "iramuteq_header", "MEDIA_TYPES"]

EXPORT_FORMATS = ("csv", "csv-excel", "jsonl", "iramuteq")
#: Media type and file extension of each format.
MEDIA_TYPES = {"csv": ("text/csv", "csv"), "csv-excel": ("text/csv", "csv"),
               "jsonl": ("application/x-ndjson", "jsonl"), "iramuteq": ("text/plain", "txt")}
CSV_COLUMNS = ["id", "date", "title", "source", "author", "tags", "url", "score", "paragraphs",
               "first_paragraph"]


def export(engine: SearchEngine, request: SearchRequest, fmt: str, out: TextIO, *,
           labels: Mapping[str, str] | None = None, snippets: bool = False) -> int:
    """Write every article matching ``request`` to ``out`` in format ``fmt``; return how many.

    ``labels`` renames the CSV columns (the web page's language); the keys are :data:`CSV_COLUMNS`.
    ``snippets``: the last CSV column is the start of the first matching paragraph, not all of it.
    """
    lines = export_lines(engine, request, fmt, labels=labels, snippets=snippets)
    for text in lines:
        out.write(text)
    return lines.count


class Lines:
    """An export's text, chunk by chunk, read from the store as it is consumed; counts its articles."""

    def __init__(self, articles: Iterator[tuple[Hit, Article]], fmt: str, header: list[str], last: str) -> None:
        self.count = 0
        self._chunks = self._make(articles, fmt, header, last)

    def __iter__(self) -> Iterator[str]:
        return self._chunks

    def __next__(self) -> str:
        return next(self._chunks)

    def close(self) -> None:
        """Stop reading (the client left): the store is read no further."""
        self._chunks.close()

    def _counted(self, articles: Iterator[tuple[Hit, Article]]) -> Iterator[tuple[Hit, Article]]:
        for pair in articles:
            self.count += 1
            yield pair

    def _make(self, articles: Iterator[tuple[Hit, Article]], fmt: str, header: list[str],
              last: str) -> Generator[str, None, None]:
        if fmt in FLAVOURS:
            yield from table_lines(header, (csv_row(hit, article, last)
                                            for hit, article in self._counted(articles)), fmt)
            return
        for _hit, article in self._counted(articles):
            if fmt == "jsonl":
                yield json.dumps(article.to_record(), ensure_ascii=False) + "\n"
            else:
                yield "\n".join([iramuteq_header(article), *(_iramuteq_text(t) for t in
                                                              [article.title, *article.paragraphs])]) + "\n\n"


def export_lines(engine: SearchEngine, request: SearchRequest, fmt: str, *, labels: Mapping[str, str] | None = None,
                 snippets: bool = False) -> Lines:
    """Rank the articles matching ``request`` now, and return their export, read as it is consumed.

    Errors in the request are raised here, before anything is sent; the articles
    are then read as the text is taken (from the store in batches, or the cluster page by page).
    """
    if fmt not in EXPORT_FORMATS:
        raise BadParameter(f"format must be one of {', '.join(EXPORT_FORMATS)}, not {fmt!r}")
    last = "snippet" if snippets else "first_paragraph"
    header = [(labels or {}).get(c, c) for c in [*CSV_COLUMNS[:-1], last]]
    return Lines(engine.export_articles(request), fmt, header, last)


def csv_row(hit: Hit, article: Article, last: str) -> list[Cell]:
    """Return an article's CSV row; ``last`` is ``first_paragraph`` (whole) or ``snippet`` (its start)."""
    first = hit.paragraphs[0].n if hit.paragraphs else None
    text = article.blocks[first].text if first is not None and first < len(article.blocks) else ""
    # Paragraphs numbered from 1, as the reading view shows them (#p1…).
    return [article.id, article.date, article.title, article.source or "", hit.author or "",
            "; ".join(article.tags), article.url or "", Decimal(f"{hit.score:.4f}"),
            " ".join(str(p.n + 1) for p in hit.paragraphs), snippet(text) if last == "snippet" else text]


_SNIPPET_CHARS = 240


def snippet(text: str) -> str:
    """Return the start of a paragraph, cut at a word, for the CSV's snippet column."""
    if len(text) <= _SNIPPET_CHARS:
        return text
    return text[:_SNIPPET_CHARS].rsplit(" ", 1)[0] + "…"


def iramuteq_value(text: str) -> str:
    """Return a value IRaMuTeQ accepts: ASCII letters, digits, ``-`` and ``_`` only."""
    folded = fold(text).encode("ascii", "ignore").decode("ascii")
    value = re.sub(r"[^A-Za-z0-9-]+", "_", folded).strip("_-")
    return value or "NA"


def iramuteq_header(article: Article) -> str:
    """Return the ``****`` line introducing an article in an IRaMuTeQ corpus."""
    stars = ["****", f"*source_{iramuteq_value(article.source or '')}"]
    if article.date:
        stars += [f"*date_{article.date.isoformat()}", f"*annee_{article.date.year}",
                  f"*mois_{article.date.year}-{article.date.month:02d}"]
    else:
        stars += ["*date_NA", "*annee_NA", "*mois_NA"]
    stars += [f"*tag_{iramuteq_value(t)}" for t in article.tags] or ["*tag_NA"]
    return " ".join(stars)


def _iramuteq_text(text: str) -> str:
    # An asterisk starts a variable and four of them a new text: none may stay in the prose.
    return " ".join(text.replace("*", " ").split())


def export_filename(request: SearchRequest, fmt: str, today: dt.date) -> str:
    """Return a download name carrying the query and the day: ``archive-greve-sncf-2026-11-29.csv``."""
    slug = re.sub(r"[^a-z0-9]+", "-", fold(request.query).lower().encode("ascii", "ignore").decode())
    slug = slug.strip("-")[:60].strip("-")
    suffix = "-iramuteq" if fmt == "iramuteq" else ""
    return f"archive-{slug + '-' if slug else ''}{today.isoformat()}{suffix}.{MEDIA_TYPES[fmt][1]}"
