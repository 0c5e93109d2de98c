"""Europresse exports: the HTML file Europresse's « Exporter » gives, one ``<article>`` per document.

Every French university subscribes to Europresse, and researchers take corpora
from it; its HTML export is what IRaMuTeQ and TXM users convert by hand. Each
``<article>`` holds the publication (``span.DocPublicationName``), a French
date line (``span.DocHeader``: « vendredi 14 mars 2025 1234 mots, p. 12 »), the
title (``.titreArticle``, ``p.titreArticleVisu``), the author (the
``p.sm-margin-bottomNews`` after the title), the text (``div.docOcurrContainer``
or ``div.DocText``) and the link « Cet article est paru dans … » to the
original. The footer's legal notice is never read.

The parser is written on lxml rather than taken from europarser, the
maintained converter for this format: europarser is a web application
(FastAPI, uvicorn, pandas, polars, pyarrow, matplotlib, plotly among its
requirements) whose parsing is one method of a class that writes its results
to disk; those twenty dependencies for forty lines of selectors were not worth
it. The file is read with lxml's incremental HTML parser, one ``<article>`` at
a time, so that an export of thousands of documents stays in bounded memory;
a document without a title or a text fails alone, named by its number.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lxml import etree

from ..errors import IngestError, InvalidArticle
from ..identity import Incoming
from ..model import Article, clean_block, parse_date
from .jsonl import Item
from .lang import language, marked

__all__ = ["read_export", "read_export_bytes", "MAX_EXPORT_BYTES"]

#: Largest export read (Europresse exports at most a thousand documents at once).
MAX_EXPORT_BYTES = 512 * 1024 * 1024
_DATE_RE = re.compile(r"(\d{1,2})(?:er)?\s+(janvier|février|fevrier|mars|avril|mai|juin|juillet|août|aout|"
                      r"septembre|octobre|novembre|décembre|decembre)\s+(\d{4})", re.I)
_PARU_RE = re.compile(r"^\s*Cet article est paru dans\b", re.I)
_DOC_NUMBER_RE = re.compile(r"\bnews[·.]\d{8}[·.]\w+[·.]\S+")


def read_export(path: Path, name: str, base: str, remember: bool) -> Iterator[Item]:
    """Yield the article of every document of an export file, or the error of each one that fails."""
    if path.stat().st_size > MAX_EXPORT_BYTES:
        raise IngestError(name, f"export larger than {MAX_EXPORT_BYTES // (1024 * 1024)} MiB: split it",
                          code="too_large", mib=MAX_EXPORT_BYTES // (1024 * 1024))
    with path.open("rb") as f:
        yield from _articles(f, name, base, remember)


def read_export_bytes(data: bytes, name: str, base: str, remember: bool) -> Iterator[Item]:
    """Yield the articles of an export already in memory (an upload, a fetched file)."""
    import io

    yield from _articles(io.BytesIO(data), name, base, remember)


def _articles(stream: Any, name: str, base: str, remember: bool) -> Iterator[Item]:
    n = 0
    for _, element in etree.iterparse(stream, events=("end",), tag="article", html=True, recover=True,
                                      huge_tree=False):
        n += 1
        where = f"{name}: article {n}"
        try:
            article, key = _document(element)
        except (IngestError, InvalidArticle) as exc:
            reason = exc.reason if isinstance(exc, IngestError) else str(exc)
            yield IngestError(where, reason, code=exc.code)
        else:
            origin = f"europresse:{key}" if remember and key else f"{base}:{n}"
            yield marked(Incoming(article, origin, True, remember), where)
        element.clear(keep_tail=True)  # one document at a time in memory
    if n == 0:
        raise IngestError(name, "no <article> found: not a Europresse export", code="not_europresse")


def _document(article: Any) -> tuple[Article, str | None]:
    """Return one document's article and a key that recognises it in a later export."""
    source = _text(_first(article, ".//*[contains(concat(' ', @class, ' '), ' DocPublicationName ')]"))
    header = _text(_first(article, ".//*[contains(concat(' ', @class, ' '), ' DocHeader ')]"))
    title_box = _first(article, ".//*[contains(concat(' ', @class, ' '), ' titreArticle ')]",
                       ".//*[contains(concat(' ', @class, ' '), ' titreArticleVisu ')]")
    if title_box is None or not _text(title_box):
        raise IngestError("", "no title (.titreArticle)", code="europresse_no_title")
    visu = _first(title_box, ".//*[contains(concat(' ', @class, ' '), ' titreArticleVisu ')]")
    title = _text(visu if visu is not None else title_box)
    author = None
    following = title_box.getnext()
    if following is not None and "sm-margin-bottomNews" in (following.get("class") or "").split():
        author = _text(following) or None
    body = _first(article, ".//div[contains(concat(' ', @class, ' '), ' docOcurrContainer ')]",
                  ".//div[contains(concat(' ', @class, ' '), ' DocText ')]")
    if body is None:
        raise IngestError("", "no text (div.docOcurrContainer or div.DocText)", code="europresse_no_text")
    paragraphs, url = _paragraphs(body)
    if not paragraphs:
        raise IngestError("", "no text (div.docOcurrContainer or div.DocText)", code="europresse_no_text")
    m = _DATE_RE.search(header)
    record = {"title": title, "source": source or None, "authors": [author] if author else [],
              "date": parse_date(f"{m[1]} {m[2].lower()} {m[3]}") if m else None, "url": url,
              "paragraphs": paragraphs, "lang": language(" ".join(paragraphs[:5]), "fr")}
    number = _DOC_NUMBER_RE.search(" ".join(article.itertext()))
    return Article.from_record(record), (number.group() if number else url)


def _paragraphs(body: Any) -> tuple[list[str], str | None]:
    """Return the text's paragraphs, without the « Cet article est paru dans » line, and that line's link."""
    url = None
    blocks = body.findall(".//p") or [body]
    paragraphs = []
    for p in blocks:
        text = _text(p)
        if _PARU_RE.match(text):
            link = p.find(".//a")
            url = link.get("href") if link is not None else None
            continue
        if text:
            paragraphs.append(text)
    return paragraphs, url


def _first(element: Any, *xpaths: str) -> Any:
    """Return the first element the first matching expression finds, or None."""
    for xpath in xpaths:
        found = element.xpath(xpath)
        if found:
            return found[0]
    return None


def _text(element: Any) -> str:
    """Return an element's text, cleaned (empty for None)."""
    return clean_block("".join(element.itertext())) if element is not None else ""
