"""Saved web pages: the article's text and metadata, without navigation, ads, comments or footers.

The extraction is trafilatura's (the reference for news pages), in its
precision mode; the date is htmldate's, as trafilatura finds it (published
date, else the date in the page's metadata or address). Title, authors, site
name (the article's source) and canonical address come from the page's
metadata. A page where no article body is found (a home page of links, a
login wall, an empty shell filled by JavaScript) fails alone with that reason.

:func:`fragment_blocks` reads the HTML a feed carries (``content:encoded``),
which is already the article: no boilerplate to remove, only markup.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import lxml.html
from lxml import etree

from ..errors import IngestError, InvalidArticle
from ..model import Article, Block, clean_block
from .lang import language

__all__ = ["page_article", "fragment_blocks", "decoded", "charset_of", "MAX_PAGE_BYTES"]

#: Largest page read: extraction costs about 0.75 s of CPU a MiB of dense text (bench/ingest.md), no article
#: page is near this; a 50 MB page is refused in one line.
MAX_PAGE_BYTES = 8 * 1024 * 1024
#: Characters of the longest paragraph of a page that has an article body.
MIN_PROSE = 40
_LANG_RE = re.compile(rb"<html[^>]*?\slang\s*=\s*[\"']?([A-Za-z]{2,3})", re.I)
_TITLE_RE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)
_SEPARATOR_RE = re.compile(r"\s+[-|–—·]{1,2}\s+")
_HEADING_RE = re.compile(r"<h[12][^>]*>(.{1,400}?)</h[12]>", re.I | re.S)
_CHARSET_RE = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?([\w.:-]+)""", re.I)
_BLOCK_TAGS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "dd", "dt", "figcaption"}


def page_article(data: bytes, name: str, *, url: str | None = None, date: dt.date | None = None,
                 charset: str | None = None) -> Article:
    """Return the article of one saved page; raise :class:`IngestError` when it has no article body.

    ``url`` is where the page was fetched (the canonical address wins when the page
    gives one), ``date`` the date to keep when the page tells none (a WARC record's),
    ``charset`` the encoding its server declared (HTTP ``Content-Type``).
    """
    from trafilatura import bare_extraction  # here: `archive search` never pays for importing it

    page = decoded(data, charset)
    try:
        doc: Any = bare_extraction(page, url=url, with_metadata=True, include_comments=False, include_tables=False,
                              include_images=False, deduplicate=False)
    except (ValueError, etree.LxmlError) as exc:
        raise IngestError(name, f"not a readable web page ({exc})", code="bad_page") from None
    body = doc.body if doc is not None else None
    blocks = _body_blocks(body) if body is not None else []
    # A sentence of prose, not only headings and lists of links (a home page, a tag page).
    if body is None or not any(e.tag in ("p", "quote") and _longest_line(e) >= MIN_PROSE for e in body):
        raise IngestError(name, "no article body found in the page (a list of links, a login wall "
                                "or an empty page?)", code="no_article_body")
    title, site = _headline(page, clean_block(doc.title or ""), doc.sitename or None)
    if blocks and blocks[0].heading and (not title or blocks[0].text == title):
        title = title or blocks[0].text
        blocks = blocks[1:]
    m = _LANG_RE.search(data[:65536])
    record: dict[str, Any] = {
        "title": title or None,
        "paragraphs": [b.text for b in blocks],
        "headings": [i for i, b in enumerate(blocks) if b.heading],
        "date": doc.date or (date.isoformat() if date else None),
        "source": site or doc.hostname or None,
        "authors": [a.strip() for a in (doc.author or "").split(";") if a.strip()],
        "url": doc.url or url,
        "lang": language(" ".join(b.text for b in blocks), m.group(1).decode() if m else None),
    }
    try:
        return Article.from_record(record)
    except InvalidArticle as exc:
        raise IngestError(name, str(exc), code=exc.code, **exc.params) from None


def decoded(data: bytes, charset: str | None = None) -> bytes | str:
    """Return a page's text when its bytes are not UTF-8, else its bytes (trafilatura reads UTF-8 and compressed pages).

    Trafilatura guesses any other encoding from the bytes alone, and a short French
    page in Latin-1 comes out in Central European letters (« aprčs », « ŕ »). The
    server's charset, else the page's ``<meta charset>``, else cp1252 (what a French
    page without UTF-8 is nearly always in) decides instead.
    """
    if data[:2] == b"\x1f\x8b":
        return data
    try:
        data.decode("utf-8")
        return data
    except UnicodeDecodeError:
        pass
    m = _CHARSET_RE.search(data[:65536])
    for encoding in (charset, m.group(1).decode("ascii", "replace") if m else None):
        if encoding:
            try:
                return data.decode(encoding)
            except (LookupError, UnicodeDecodeError):
                pass
    return data.decode("cp1252", "replace")


def charset_of(content_type: str) -> str | None:
    """Return the charset an HTTP ``Content-Type`` declares (``text/html; charset=iso-8859-1``), or None."""
    for param in content_type.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset" and value.strip().strip("\"'"):
            return value.strip().strip("\"'")
    return None


def _headline(page: bytes | str, title: str, site: str | None) -> tuple[str, str | None]:
    """Return the article's title and site name, reading ``<title>Site - Headline</title>`` both ways.

    Trafilatura keeps one part of a composite ``<title>``; an old page that names its site
    first gets the site as title. The part that is also a heading of the page is the headline,
    and the other part, when the page names no site, the site.
    """
    text = page[:65536] if isinstance(page, str) else page[:65536].decode("utf-8", "ignore")
    m = _TITLE_RE.search(text)
    if m is None:
        return title, site
    raw = _inner_text(m.group(1))
    parts = [clean_block(p) for p in _SEPARATOR_RE.split(raw)]
    if len(parts) < 2:
        return title, site
    headings = {_inner_text(h) for h in _HEADING_RE.findall(text) if h.strip()}
    for part in parts:
        if part in headings and part != title:
            others = [p for p in parts if p != part]
            return part, site or (others[0] if others else None)
    return title, site


def _longest_line(element: Any) -> int:
    """Return the length of an element's longest line of text (a list of links has only short ones)."""
    return max((len(line.strip()) for line in "".join(element.itertext()).split("\n")), default=0)


def _inner_text(markup: str) -> str:
    """Return the text of a bit of HTML (entities and tags resolved)."""
    return clean_block(lxml.html.fromstring(f"<p>{markup}</p>").text_content())


def _body_blocks(body: Any) -> list[Block]:
    """Return the blocks of trafilatura's body: ``head`` elements are headings, the rest paragraphs."""
    blocks: list[Block] = []
    for element in body:
        if element.tag == "list":
            texts = [clean_block("".join(item.itertext())) for item in element]
        else:
            texts = [clean_block("".join(element.itertext()))]
        blocks.extend(Block(text, element.tag == "head") for text in texts if text)
    return blocks


def fragment_blocks(fragment: str) -> list[Block]:
    """Return the paragraphs and headings of an HTML fragment (a feed item's content)."""
    if "<" not in fragment:
        return [Block(t) for t in (clean_block(p) for p in re.split(r"\n\s*\n", fragment)) if t]
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (etree.LxmlError, ValueError):
        return []
    for bad in root.xpath("//script|//style|//noscript|//iframe|//form"):
        bad.drop_tree()
    blocks: list[Block] = []
    loose: list[str] = []
    _walk(root, blocks, loose)
    _flush(blocks, loose)
    return blocks


# Module functions, not closures: a recursive closure is a reference cycle, which kept each
# item's text until a collection, and a write pauses the collector (archive.budget).
def _flush(blocks: list[Block], loose: list[str]) -> None:
    """Make the loose text gathered so far a paragraph (when it has any)."""
    text = clean_block(" ".join(loose))
    if text:
        blocks.append(Block(text))
    loose.clear()


def _walk(element: Any, blocks: list[Block], loose: list[str]) -> None:
    """Add an element's paragraphs and headings to ``blocks``, its text outside them to ``loose``."""
    if element.text:
        loose.append(element.text)
    for child in element:
        if not isinstance(child.tag, str):
            pass
        elif child.tag in _BLOCK_TAGS:
            _flush(blocks, loose)
            text = clean_block(child.text_content())
            if text:
                blocks.append(Block(text, child.tag in ("h1", "h2", "h3", "h4", "h5", "h6")))
        elif child.tag == "br":
            following = child.getnext()
            if following is not None and following.tag == "br" and not (child.tail or "").strip():
                _flush(blocks, loose)  # <br><br>: a blank line between two paragraphs
        else:
            _walk(child, blocks, loose)
            if child.tag in ("div", "section", "article", "ul", "ol", "table"):
                _flush(blocks, loose)
        if child.tail:
            loose.append(child.tail)
