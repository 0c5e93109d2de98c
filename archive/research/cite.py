"""Citing: one article as a French reference, an RIS record and Highwire meta tags.

For the article « La grève s’étend à la SNCF », published by *Le Monde* on
17 March 2020 at ``https://www.lemonde.fr/…/greve.html``, signed Anne Dupont:

* :func:`reference` gives the reference in the French style of the
  humanities (ISO 690 as French universities teach it):
  ``Anne Dupont, « La grève s’étend à la SNCF », Le Monde, 17 mars 2020. En ligne :
  https://www.lemonde.fr/…/greve.html (consulté le 29 novembre 2026).``
* :func:`ris` gives the same article as an RIS record (``TY  - NEWS`` …
  ``ER  -``), which Zotero, EndNote and JabRef import;
* :func:`highwire` gives the ``citation_*`` meta tags that Zotero's connector
  and Google Scholar read from the page itself.

A citation names the newspaper's own address (:func:`cited_url`): the article's
original URL when it has one, else its permalink in the archive as the public
knows it (``ARCHIVE_PUBLIC_URL``, :func:`permalink`), never the address of the
server that happens to render the page (``http://127.0.0.1:5000`` means nothing
to a reader). With neither, the reference names no address.

The core returns text and pairs; the web page escapes and prints them.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote, urlsplit

from ..model import Article

__all__ = ["french_date", "reference", "ris", "highwire", "permalink", "cited_url", "original_url"]

_MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
           "octobre", "novembre", "décembre")


def french_date(day: dt.date) -> str:
    """Return a date as French prints it: ``1er mars 2020``, ``17 mars 2020``."""
    return f"{'1er' if day.day == 1 else day.day} {_MONTHS[day.month - 1]} {day.year}"


def original_url(article: Article) -> str | None:
    """Return the article's address at its newspaper, if it is an http(s) link (anything else is never cited)."""
    url = (article.url or "").strip()
    return url if urlsplit(url).scheme.lower() in ("http", "https") and urlsplit(url).netloc else None


def permalink(article_id: str, public_url: str | None) -> str | None:
    """Return the article's permalink under the archive's public address (None without one)."""
    if not public_url or not public_url.strip():
        return None
    return f"{public_url.strip().rstrip('/')}/article/{quote(article_id, safe='')}"


def cited_url(article: Article, permalink: str | None) -> str | None:
    """Return the address a citation gives: the original URL, else the archive's public permalink."""
    return original_url(article) or permalink


def reference(article: Article, permalink: str | None, accessed: dt.date) -> str:
    """Return the article's reference in French style, with its address (:func:`cited_url`) and the day it was read."""
    parts = []
    if article.authors:
        parts.append(", ".join(article.authors))
    parts.append(f"«\u00a0{article.title}\u00a0»")  # no-break spaces: a guillemet never starts a line
    if article.source:
        parts.append(article.source)
    if article.date:
        parts.append(french_date(article.date))
    url = cited_url(article, permalink)
    return ", ".join(parts) + (f". En ligne : {url} (consulté le {french_date(accessed)})." if url else ".")


def ris(article: Article, permalink: str | None) -> str:
    """Return the article as an RIS record (CRLF line ends): ``UR`` the cited address, ``L2`` the archive's copy."""
    lines = [("TY", "NEWS"), ("TI", article.title)]
    lines += [("AU", a) for a in article.authors]
    if article.date:
        lines += [("PY", str(article.date.year)), ("DA", article.date.strftime("%Y/%m/%d"))]
    if article.source:
        lines += [("T2", article.source), ("PB", article.source)]
    lines += [("KW", t) for t in article.tags]
    lines.append(("LA", article.lang))
    url = cited_url(article, permalink)
    if url:
        lines.append(("UR", url))
    if permalink and permalink != url:
        lines.append(("L2", permalink))  # the full text, as the archive keeps it
    lines += [("ID", article.id), ("ER", "")]
    return "".join(f"{tag}  - {_one_line(value)}".rstrip() + "\r\n" for tag, value in lines)


def highwire(article: Article, permalink: str | None) -> list[tuple[str, str]]:
    """Return the article's Highwire ``citation_*`` meta tags as (name, content) pairs."""
    tags = [("citation_title", article.title)]
    tags += [("citation_author", a) for a in article.authors]
    if article.date:
        tags += [("citation_date", article.date.strftime("%Y/%m/%d")),
                 ("citation_publication_date", article.date.strftime("%Y/%m/%d"))]
    if article.source:
        tags += [("citation_publisher", article.source), ("citation_journal_title", article.source)]
    tags.append(("citation_language", article.lang))
    url = cited_url(article, permalink)
    if url:
        tags.append(("citation_public_url", url))
    tags += [("citation_keywords", t) for t in article.tags]
    return tags


def _one_line(value: str) -> str:
    # A line break inside a value would start a new (bogus) RIS tag.
    return " ".join(value.split())
