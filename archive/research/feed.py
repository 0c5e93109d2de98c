"""Feed: the newest articles of a search as an Atom 1.0 document.

A reader following ``grève SNCF`` subscribes to ``/feed.atom?q=grève+SNCF``:
the web page runs the same request sorted newest first (20 articles) and
:func:`atom` writes each as an ``<entry>`` (id, title, updated, a link to
the reading view, the first matching paragraph as summary). Ids are the
permalinks, stable across rebuilds, so a feed reader never shows an article
twice. The XML is built with :mod:`xml.etree`, which escapes every text;
characters XML 1.0 forbids (control characters such as ``\x01``, which an
ingested title or a typed query may hold, lone surrogates, ``\ufffe``) are
dropped first by :func:`xml_text`, so that the feed always parses.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from xml.etree import ElementTree as ET

from ..search import SearchResults

__all__ = ["atom", "ATOM_NS", "FEED_SIZE", "xml_text"]

ATOM_NS = "http://www.w3.org/2005/Atom"
#: Articles in a feed.
FEED_SIZE = 20


#: Characters outside XML 1.0's Char production.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """Return ``text`` without the characters XML 1.0 forbids."""
    return _NOT_XML.sub("", text)


def _stamp(day: dt.date | None, fallback: dt.datetime) -> str:
    if day is None:
        return fallback.strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{day.isoformat()}T00:00:00Z"


def atom(results: SearchResults, *, title: str, self_url: str, page_url: str,
         article_url: Callable[[str], str], now: dt.datetime) -> bytes:
    """Return the results as an Atom feed (entries in the order given: newest first)."""
    ET.register_namespace("", ATOM_NS)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        el = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", {k: xml_text(v) for k, v in attrs.items()})
        if text is not None:
            el.text = xml_text(text)
        return el

    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    sub(feed, "id", self_url)
    sub(feed, "title", title)
    dates = [h.date for h in results.hits if h.date]
    sub(feed, "updated", _stamp(max(dates) if dates else None, now))
    sub(feed, "link", rel="self", type="application/atom+xml", href=self_url)
    sub(feed, "link", rel="alternate", type="text/html", href=page_url)
    author = sub(feed, "author")
    sub(author, "name", title)
    for hit in results.hits:
        entry = sub(feed, "entry")
        url = article_url(hit.id)
        sub(entry, "id", url)
        sub(entry, "title", hit.title)
        sub(entry, "updated", _stamp(hit.date, now))
        sub(entry, "link", rel="alternate", type="text/html", href=url)
        for name in hit.authors:
            sub(sub(entry, "author"), "name", name)
        if hit.paragraphs:
            p = hit.paragraphs[0]
            text = ("…" if p.clipped_start else "") + p.text + ("…" if p.clipped_end else "")
            sub(entry, "summary", text, type="text")
        for tag in hit.tags:
            sub(entry, "category", term=tag)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
