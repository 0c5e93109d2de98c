"""Citing: one article as a French reference, an RIS record and Highwire meta tags.

For the article « La grève s’étend à la SNCF », published by *Le Monde* on
17 March 2020, signed Anne Dupont, read in the archive at
``https://archive.example/article/lm-42``:

* :func:`reference` gives the reference in the French style of the
  humanities (ISO 690 as French universities teach it):
  ``Anne Dupont, « La grève s’étend à la SNCF », Le Monde, 17 mars 2020. En ligne :
  https://archive.example/article/lm-42 (consulté le 29 novembre 2026).``
* :func:`ris` gives the same article as an RIS record (``TY  - NEWS`` …
  ``ER  -``), which Zotero, EndNote and JabRef import;
* :func:`highwire` gives the ``citation_*`` meta tags that Zotero's connector
  and Google Scholar read from the page itself.

The core returns text and pairs; the web page escapes and prints them.
"""

from __future__ import annotations

import datetime as dt

from ..model import Article

__all__ = ["french_date", "reference", "ris", "highwire"]

_MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
           "octobre", "novembre", "décembre")


def french_date(day: dt.date) -> str:
    """Return a date as French prints it: ``1er mars 2020``, ``17 mars 2020``."""
    return f"{'1er' if day.day == 1 else day.day} {_MONTHS[day.month - 1]} {day.year}"


def reference(article: Article, permalink: str, accessed: dt.date) -> str:
    """Return the article's reference in French style, with the permalink and the day it was read."""
    parts = []
    if article.authors:
        parts.append(", ".join(article.authors))
    parts.append(f"«\u00a0{article.title}\u00a0»")  # no-break spaces: a guillemet never starts a line
    if article.source:
        parts.append(article.source)
    if article.date:
        parts.append(french_date(article.date))
    return ", ".join(parts) + f". En ligne : {permalink} (consulté le {french_date(accessed)})."


def ris(article: Article, permalink: str) -> str:
    """Return the article as an RIS record (CRLF line ends, as the format asks)."""
    lines = [("TY", "NEWS"), ("TI", article.title)]
    lines += [("AU", a) for a in article.authors]
    if article.date:
        lines += [("PY", str(article.date.year)), ("DA", article.date.strftime("%Y/%m/%d"))]
    if article.source:
        lines += [("T2", article.source), ("PB", article.source)]
    lines += [("KW", t) for t in article.tags]
    lines += [("LA", article.lang), ("UR", permalink)]
    if article.url:
        lines.append(("L2", article.url))
    lines += [("ID", article.id), ("ER", "")]
    return "".join(f"{tag}  - {_one_line(value)}".rstrip() + "\r\n" for tag, value in lines)


def highwire(article: Article, permalink: str) -> list[tuple[str, str]]:
    """Return the article's Highwire ``citation_*`` meta tags as (name, content) pairs."""
    tags = [("citation_title", article.title)]
    tags += [("citation_author", a) for a in article.authors]
    if article.date:
        tags += [("citation_date", article.date.strftime("%Y/%m/%d")),
                 ("citation_publication_date", article.date.strftime("%Y/%m/%d"))]
    if article.source:
        tags += [("citation_publisher", article.source), ("citation_journal_title", article.source)]
    tags += [("citation_language", article.lang), ("citation_public_url", permalink)]
    tags += [("citation_keywords", t) for t in article.tags]
    return tags


def _one_line(value: str) -> str:
    # A line break inside a value would start a new (bogus) RIS tag.
    return " ".join(value.split())
