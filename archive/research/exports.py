"""Exports: the matching articles in the formats research tools read.

For ``grève SNCF`` with ``tag=social``, :func:`export` writes every matching
article (in the request's order) to a text stream, in one of four formats:

* ``jsonl``: one article per line, exactly the records ``archive add`` reads,
  so an export re-imports unchanged into another archive;
* ``csv``: comma-separated, one row per article: id, date, title, source,
  author, tags (``;``-separated), url, score, matching paragraph numbers and the
  first matching paragraph's text;
* ``csv-excel``: the same table in the dialect French spreadsheets open
  correctly: ``;`` separators, CRLF line ends and a UTF-8 byte order mark, cells
  a spreadsheet would read as formulas neutralised with a leading ``'``;
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

import csv
import datetime as dt
import json
import re
from typing import TextIO

from ..analysis import fold
from ..engines import SearchEngine
from ..errors import BadParameter
from ..model import Article
from ..search import SearchRequest

__all__ = ["EXPORT_FORMATS", "export", "export_filename", "iramuteq_value", "iramuteq_header",
           "MEDIA_TYPES"]

EXPORT_FORMATS = ("csv", "csv-excel", "jsonl", "iramuteq")
#: Media type and file extension of each format.
MEDIA_TYPES = {"csv": ("text/csv", "csv"), "csv-excel": ("text/csv", "csv"),
               "jsonl": ("application/x-ndjson", "jsonl"), "iramuteq": ("text/plain", "txt")}
CSV_COLUMNS = ["id", "date", "title", "source", "author", "tags", "url", "score", "paragraphs",
               "first_paragraph"]


def export(engine: SearchEngine, request: SearchRequest, fmt: str, out: TextIO) -> int:
    """Write every article matching ``request`` to ``out`` in format ``fmt``; return how many."""
    if fmt not in EXPORT_FORMATS:
        raise BadParameter(f"format must be one of {', '.join(EXPORT_FORMATS)}, not {fmt!r}")
    if fmt in ("csv", "csv-excel"):
        excel = fmt == "csv-excel"
        if excel:
            out.write("\ufeff")
        writer = csv.writer(out, delimiter=";" if excel else ",", lineterminator="\r\n" if excel else "\n")
        writer.writerow(CSV_COLUMNS)
    count = 0
    for hit, article in engine.export_articles(request):
        count += 1
        if fmt == "jsonl":
            out.write(json.dumps(article.to_record(), ensure_ascii=False) + "\n")
        elif fmt == "iramuteq":
            out.write(iramuteq_header(article) + "\n")
            for text in [article.title, *article.paragraphs]:
                out.write(_iramuteq_text(text) + "\n")
            out.write("\n")
        else:
            first = hit.paragraphs[0].n if hit.paragraphs else None
            cells = [article.id, article.date.isoformat() if article.date else "", article.title,
                     article.source or "", hit.author or "", "; ".join(article.tags), article.url or "",
                     # Numbered from 1, as the reading view shows them (#p1…).
                     f"{hit.score:.4f}", " ".join(str(p.n + 1) for p in hit.paragraphs),
                     article.blocks[first].text if first is not None and first < len(article.blocks) else ""]
            writer.writerow([_cell(c) for c in cells] if excel else cells)
    return count


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


def _cell(value: str) -> str:
    """Neutralise a cell a spreadsheet would read as a formula."""
    if value and value[0] in "=+-@\t\r":
        return "'" + value
    return value


def export_filename(request: SearchRequest, fmt: str, today: dt.date) -> str:
    """Return a download name carrying the query and the day: ``archive-greve-sncf-2026-11-29.csv``."""
    slug = re.sub(r"[^a-z0-9]+", "-", fold(request.query).lower().encode("ascii", "ignore").decode())
    slug = slug.strip("-")[:60].strip("-")
    suffix = "-iramuteq" if fmt == "iramuteq" else ""
    return f"archive-{slug + '-' if slug else ''}{today.isoformat()}{suffix}.{MEDIA_TYPES[fmt][1]}"
