"""Bulk reading: a large JSON Lines file read by worker processes while the store writes.

``archive add news-fr.jsonl`` stores 17,854 articles in one transaction. Reading
each line into an article ready to store (its JSON, every paragraph cleaned, its
content hash, its copy signature of :mod:`archive.copies`) cost more than
storing it, on one core while the other waited. :func:`lines_reader` returns a
line reader for :func:`archive.ingest.read_incoming` that sends the file's
lines, a few hundred at a time, to worker processes; they return the articles
with their hash and signature computed, and the store takes them in the file's
order, a few chunks ahead of it at most (memory does not grow with the file).
A bad line fails alone with the same message as when read in one process.
The reader also reports the bytes read, for the progress bar.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import replace
from itertools import islice
from typing import Any, cast

from . import copies
from .errors import IngestError
from .identity import Incoming
from .ingest import Item, LinesReader, jsonl_articles, read_lines
from .tables import row_columns
from .workers import die_with_parent

__all__ = ["BULK_BYTES", "lines_reader"]

#: Files from this size on are read by worker processes (a pool's start costs ~0.1 s).
BULK_BYTES = 4 << 20
#: Lines sent to a worker at once, and chunks in flight per worker.
CHUNK_LINES = 256
AHEAD = 2

Failure = tuple[str, str, str, dict[str, Any]]


def lines_reader(procs: int, advance: Callable[[int], None]) -> LinesReader:
    """Return a JSON Lines reader using ``procs`` worker processes (1: this one) that reports bytes read."""

    def read(lines: Iterable[tuple[int, bytes]], name: str, overrides: Mapping[str, Any] | None, base: str,
             remember: bool) -> Iterator[Item]:
        if procs <= 1:
            yield from read_lines(_counted(lines, advance), name, overrides, base, remember)
            return
        chunks = _chunks(lines)
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(procs, initializer=die_with_parent, initargs=(os.getpid(),)) as pool:
            def submit(chunk: list[tuple[int, bytes]]) -> tuple[Any, int]:
                size = sum(len(raw) for _, raw in chunk)
                return pool.apply_async(_read_chunk, (chunk, name, overrides, base, remember)), size

            pending = deque(submit(chunk) for chunk in islice(chunks, procs * AHEAD))
            while pending:
                result, size = pending.popleft()
                for entry in result.get():
                    if isinstance(entry, Incoming):
                        yield entry
                    else:
                        source, reason, code, params = entry
                        yield IngestError(source, reason, code=code, **params)
                advance(size)
                pending.extend(submit(chunk) for chunk in islice(chunks, 1))

    return read


def _counted(lines: Iterable[tuple[int, bytes]], advance: Callable[[int], None]) -> Iterator[tuple[int, bytes]]:
    for lineno, raw in lines:
        yield lineno, raw
        advance(len(raw))


def _chunks(lines: Iterable[tuple[int, bytes]]) -> Iterator[list[tuple[int, bytes]]]:
    it = iter(lines)
    while chunk := list(islice(it, CHUNK_LINES)):
        yield chunk


def _read_chunk(chunk: list[tuple[int, bytes]], name: str, overrides: Mapping[str, Any] | None, base: str,
                remember: bool) -> list[Incoming | Failure]:
    """Read lines into articles ready to store (a worker process); a bad line gives its failure, in order."""
    out: list[Incoming | Failure] = []
    for lineno, raw in chunk:
        try:
            items = jsonl_articles(raw, lineno, name, overrides, base, remember)
        except IngestError as exc:
            # Sent back as fields: an exception with keyword-only arguments does not unpickle.
            params = {k: v for k, v in exc.params.items() if k not in ("source", "reason")}
            out.append((exc.source, exc.reason, exc.code, params))
            continue
        out.extend(item for item in items if isinstance(item, Incoming))
    # Signed for the whole chunk at once (copies.prepare_many), then attached in order.
    incoming = [i for i, entry in enumerate(out) if isinstance(entry, Incoming)]
    signed = copies.prepare_many([cast(Incoming, out[i]).article for i in incoming])
    for i, sig in zip(incoming, signed):
        item = cast(Incoming, out[i])
        # Kept in the article, which travels back with it: its hash and the store's columns.
        row_columns(item.article, item.article.content_hash())
        out[i] = replace(item, signed=sig)
    return out
