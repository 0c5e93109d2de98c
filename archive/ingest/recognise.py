"""Recognise a source's format by its first bytes, not only by its name.

A Europresse export arrives as ``export.HTML``, a feed as ``rss``, ``.xml`` or
an upload with no name, a web archive as ``.warc.gz``: the content says which.
Markup is told apart by its root element (``<rss>``, ``<feed>``, ``<rdf:RDF>``
are feeds, ``<html>`` a page) and a page by Europresse's class names; a WARC by
its ``WARC/1.x`` first line, compressed or not. Plain text, Markdown and JSON
carry no such mark: their suffix decides, as before.
"""

from __future__ import annotations

import re
import zlib

__all__ = ["recognise", "HEAD_BYTES", "KINDS"]

#: How much of a file recognition reads (a Europresse export's first document may follow a long <style>).
HEAD_BYTES = 256 * 1024
KINDS = ("txt", "md", "json", "jsonl", "page", "europresse", "feed", "warc", None)
_BY_SUFFIX = {".txt": "txt", ".md": "md", ".markdown": "md", ".json": "json", ".jsonl": "jsonl",
              ".ndjson": "jsonl"}
#: The first element of a markup document, past the XML declaration, comments and the doctype.
_ROOT_RE = re.compile(rb"\A(?:\s|<\?[^>]*\?>|<!--.*?-->|<!DOCTYPE[^>]*>)*<([A-Za-z][\w:.-]*)", re.S | re.I)
_HTML_RE = re.compile(rb"<(?:html|head|body|article|p|div)\b", re.I)
_EUROPRESSE_RE = re.compile(rb"class=[\"'][^\"']*\b(?:DocPublicationName|docOcurrContainer|titreArticleVisu)\b")


def recognise(head: bytes, suffix: str) -> str | None:
    """Return the kind of a source from its first bytes and its suffix (None: not one we read)."""
    if head[:2] == b"\x1f\x8b":
        try:
            inner = zlib.decompressobj(wbits=31).decompress(head, 64)
        except zlib.error:
            return None
        return "warc" if inner.startswith(b"WARC/") else None
    if head.startswith(b"WARC/"):
        return "warc"
    if suffix in _BY_SUFFIX:
        return _BY_SUFFIX[suffix]
    body = head.removeprefix(b"\xef\xbb\xbf")
    m = _ROOT_RE.match(body)
    root = m.group(1).lower() if m else b""
    if root in (b"rss", b"feed", b"rdf:rdf"):
        return "feed"
    if root == b"html" or (m and _HTML_RE.search(body)):
        return "europresse" if _EUROPRESSE_RE.search(body) else "page"
    stripped = body.lstrip()
    if stripped.startswith(b"["):
        return "json"
    if stripped.startswith(b"{"):
        first = stripped.split(b"\n", 1)[0]
        return "jsonl" if first.rstrip().endswith(b"}") else "json"
    return None
