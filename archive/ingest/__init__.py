"""Ingest: turn articles as people have them into :class:`~archive.model.Article` s.

This package owns all knowledge of source formats; nothing else in the archive
opens a source file. Each format has its module, and :func:`recognise` picks it
by the file's first bytes (the suffix only breaks ties between text formats):

* ``.txt`` and ``.md`` — plain text with a sidecar, Markdown with front matter
  (:mod:`.files`, :mod:`.markdown`);
* ``.json`` and JSON Lines — the record format (:mod:`.jsonl`);
* saved web pages — the article's text and metadata, without navigation,
  ads or footers, by trafilatura (:mod:`.html`); ``archive add https://…``
  fetches one (:mod:`.web`);
* RSS and Atom feeds (:mod:`.feeds`), WARC web archives (:mod:`.warc`) and
  Europresse HTML exports (:mod:`.europresse`): one source, many articles.

An article that gives no ``id`` gets one derived from its content, never from
its file name; :func:`read_incoming` also says where each came from (a file, a
line, an address, a WARC record), so that adding it again updates it
(:mod:`archive.identity`). A reader yields each article or, for one that cannot
be read, its :class:`~archive.errors.IngestError` (naming the file and the
record or item), and goes on with the next; a problem with the source as a
whole (unreadable, empty, not any known format) is raised.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path
from typing import Any, BinaryIO

from ..errors import IngestError, InvalidArticle
from ..identity import Incoming
from ..model import Article
from . import europresse, feeds, html, warc, web
from .files import (
    MAX_FILE_BYTES,
    SUFFIXES,
    Source,
    apply_overrides,
    find_sources,
    load_json,
    read_bytes,
    read_limited,
    record_from,
    shown_path,
    sidecar,
    suffix_of,
    text_blocks,
    titled,
)
from .jsonl import Item, LinesReader, jsonl_articles, jsonl_lines, read_lines, records_to_articles
from .lang import marked
from .markdown import markdown_article
from .recognise import HEAD_BYTES, recognise

__all__ = ["Source", "Item", "find_sources", "read_articles", "read_incoming", "read_bytes", "jsonl_lines",
           "jsonl_articles", "read_lines", "recognise", "LinesReader", "SUFFIXES", "MAX_FILE_BYTES"]


def read_articles(source: Source, overrides: Mapping[str, Any] | None = None,
                  stdin: BinaryIO | None = None) -> Iterator[Article]:
    """Yield the articles of one source; raise :class:`IngestError` naming it on the first problem."""
    for item in read_incoming(source, overrides, stdin):
        if isinstance(item, IngestError):
            raise item
        yield item.article


def read_incoming(source: Source, overrides: Mapping[str, Any] | None = None,
                  stdin: BinaryIO | None = None, *, origin: str | None = None,
                  lines: LinesReader | None = None) -> Iterator[Item]:
    """Yield the articles of one source with their provenance, or the error of each item that fails alone.

    A real file is remembered by its absolute path (record ``n`` of a JSON list or
    line ``n`` of JSON Lines by ``path:n``), a fetched page by its address, an item
    of a feed, an export or a web archive by its own address or record id;
    ``origin`` names a source with no lasting path instead (a paste, an upload),
    which is then not remembered. ``lines`` reads JSON Lines (default
    :func:`read_lines`; :mod:`archive.bulk` in parallel).
    """
    remember = origin is None and not source.is_stdin
    name = str(source)
    try:
        if source.is_stdin:
            with nullcontext(stdin or sys.stdin.buffer) as f:
                yield from (lines or read_lines)(jsonl_lines(f, name), name, overrides, origin or name, remember)
            return
        if source.is_url:
            data = source.data if source.data is not None else web.fetch(source.path).body
            yield from _markup(recognise(data[:HEAD_BYTES], ".html") or "", data, source, origin or source.path,
                               remember, overrides)
            return
        path = Path(source.path)
        base = origin or shown_path(str(path.resolve()))
        with path.open("rb") as f:
            head = f.read(HEAD_BYTES)
        kind = recognise(head, suffix_of(path.name))
        if kind == "jsonl":
            with path.open("rb") as f:
                yield from (lines or read_lines)(jsonl_lines(f, name), name, overrides, base, remember)
        elif kind == "warc":
            yield from _overridden(warc.read_warc(path, name, base, remember), overrides)
        elif kind == "europresse":
            yield from _overridden(europresse.read_export(path, name, base, remember), overrides)
        elif kind in ("feed", "page"):
            limit = html.MAX_PAGE_BYTES if kind == "page" else MAX_FILE_BYTES
            yield from _markup(kind, read_limited(path, limit), source, base, remember, overrides)
        elif kind == "json":
            text = read_bytes(path, read_limited(path), name)
            yield from records_to_articles(load_json(text, name), name, overrides, base, remember)
        elif kind in ("txt", "md"):
            text = read_bytes(path, read_limited(path), name)
            article, derived = (record_from(*titled(sidecar(path), text_blocks(text), overrides), path)
                                if kind == "txt" else markdown_article(text, path))
            yield Incoming(apply_overrides(article, overrides, name, derived), base, derived, remember)
        else:
            suffix = suffix_of(path.name)
            raise IngestError(name, f"unsupported file type {suffix or '(none)'!r} "
                                    f"(use {', '.join(SUFFIXES)})", code="unsupported_type",
                              suffix=suffix or "", suffixes=", ".join(SUFFIXES))
    except InvalidArticle as exc:
        raise IngestError(name, str(exc)) from None
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        raise IngestError(name, exc.strerror or str(exc), code="unreadable") from None
    except OSError as exc:
        raise IngestError(name, f"could not read the file ({exc})", code="unreadable") from None


def _markup(kind: str, data: bytes, source: Source, base: str, remember: bool,
            overrides: Mapping[str, Any] | None) -> Iterator[Item]:
    """Read a page or a feed already in memory."""
    name = str(source)
    if kind == "feed":
        yield from _overridden(feeds.read_feed(data, name, base, remember), overrides)
    elif kind == "europresse":
        yield from _overridden(europresse.read_export_bytes(data, name, base, remember), overrides)
    elif kind == "page":
        article = html.page_article(data, name, url=source.path if source.is_url else None)
        yield marked(Incoming(apply_overrides(article, overrides, name, True), base, True, remember), name)
    else:
        raise IngestError(name, "not a web page nor a feed (no HTML, RSS or Atom found)", code="not_a_page")


def _overridden(items: Iterator[Item], overrides: Mapping[str, Any] | None) -> Iterator[Item]:
    """Apply the command line's fields to every article of a many-article source."""
    for item in items:
        if isinstance(item, Incoming) and overrides:
            try:
                article = apply_overrides(item.article, overrides, item.origin or "", item.derived)
            except IngestError as exc:
                yield exc
                continue
            item = replace(item, article=article)
        yield item

