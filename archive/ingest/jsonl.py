"""Records: ``.json`` (one article or a list) and JSON Lines (one article a line).

The record format is :meth:`Article.from_record`'s (the shared corpus's), with
the ``history`` and ``stored`` fields that ``archive export --with-history``
writes. A bad line of JSON Lines fails alone, named ``file:line``: the lines
before and after it are read (``archive add --all-or-nothing`` turns the first
failure into the failure of the whole file, as before).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, BinaryIO

from ..errors import IngestError, InvalidArticle
from ..identity import Incoming, Revision
from ..model import Article
from .files import MAX_FILE_BYTES, apply_overrides, load_json

__all__ = ["Item", "LinesReader", "read_lines", "jsonl_lines", "jsonl_articles", "records_to_articles"]

#: What a reader yields: an article on its way in, or the failure of one item that stands alone.
Item = Incoming | IngestError
LinesReader = Callable[[Iterable[tuple[int, bytes]], str, Mapping[str, Any] | None, str, bool], Iterator[Item]]
#: Stands for a line over the size limit (blank lines are never yielded, so it is unambiguous).
TOO_LONG = b""
_MIB = MAX_FILE_BYTES // (1024 * 1024)


def read_lines(lines: Iterable[tuple[int, bytes]], name: str, overrides: Mapping[str, Any] | None, base: str,
               remember: bool) -> Iterator[Item]:
    """Read numbered JSON Lines into articles, one after the other; a bad line yields its error."""
    for lineno, raw in lines:
        try:
            yield from jsonl_articles(raw, lineno, name, overrides, base, remember)
        except IngestError as exc:
            yield exc


def jsonl_lines(stream: BinaryIO, name: str) -> Iterator[tuple[int, bytes]]:
    """Yield the numbered non-blank lines of a JSON Lines stream; raise on an empty one."""
    any_line = False
    for lineno in itertools.count(1):
        raw = stream.readline(MAX_FILE_BYTES + 1)
        if not raw:
            break
        if len(raw) > MAX_FILE_BYTES and not raw.endswith(b"\n"):
            while (rest := stream.readline(1 << 20)) and not rest.endswith(b"\n"):
                pass  # skip the rest of the line, a MiB at a time: memory stays bounded
            any_line = True
            yield lineno, TOO_LONG
        elif raw.strip():
            any_line = True
            yield lineno, raw
    if not any_line:
        raise IngestError(name, "empty file", code="empty_file")


def jsonl_articles(raw: bytes, lineno: int, name: str, overrides: Mapping[str, Any] | None, base: str,
                   remember: bool) -> list[Item]:
    """Read line ``lineno`` of a JSON Lines file (a worker process may: see :mod:`archive.bulk`)."""
    where = f"{name}:{lineno}"
    if raw is TOO_LONG or raw == TOO_LONG:
        raise IngestError(where, f"a line longer than {_MIB} MiB", code="line_too_long", mib=_MIB)
    try:
        line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
    except UnicodeDecodeError:
        raise IngestError(where, "not UTF-8 (JSON Lines must be UTF-8)", code="not_utf8") from None
    record = load_json(line, where)
    return list(records_to_articles(record, where, overrides, f"{base}:{lineno}", remember, single=True))


def records_to_articles(data: Any, where: str, overrides: Mapping[str, Any] | None, base: str,
                        remember: bool, single: bool = False) -> Iterator[Item]:
    """Yield the articles of parsed JSON (one record, or a list unless ``single``).

    A bad record of a list yields its error and the others go on; a single one raises it.
    """
    records = data if isinstance(data, list) and not single else [data]
    for i, record in enumerate(records):
        label = where if len(records) == 1 else f"{where}[{i}]"
        origin = base if len(records) == 1 else f"{base}:{i}"
        try:
            if isinstance(record, Mapping) and record.get("removed") is True:
                yield _removed(record, origin)
                continue
            derived = not (isinstance(record, Mapping) and record.get("id") not in (None, ""))
            article = apply_overrides(Article.from_record(record), overrides, label, derived)
            history, stored = _history(record)
        except (InvalidArticle, IngestError) as exc:
            failure = exc if isinstance(exc, IngestError) else IngestError(label, str(exc), code=exc.code,
                                                                          **exc.params)
            if len(records) == 1:
                raise failure from None
            yield failure
            continue
        where_from: str | None = origin
        if stored is not None:  # an export with history: keep where and when the version was stored
            source = stored.get("source")
            where_from, remember = (source if isinstance(source, str) else None), False
        yield Incoming(article, where_from, derived, remember, history,
                       str(stored["stored_at"]) if stored and stored.get("stored_at") else None)


def _removed(record: Mapping[str, Any], origin: str) -> Incoming:
    """Read the line ``export --with-history`` writes for a removed article whose versions were kept."""
    history, _ = _history(record)
    if not history or not isinstance(record.get("id"), str):
        raise InvalidArticle("a removed article's line needs its 'id' and its 'history'")
    last = Article.from_record(dict(history[-1].record, id=record["id"]))
    return Incoming(last, origin, history=history, removed=True)


def _history(record: Mapping[str, Any]) -> tuple[tuple[Revision, ...], Mapping[str, Any] | None]:
    """Read the earlier versions an ``export --with-history`` record carries."""
    stored = record.get("stored")
    history = record.get("history")
    if history is None and stored is None:
        return (), None
    if not isinstance(history or [], list) or not isinstance(stored or {}, Mapping):
        raise InvalidArticle("'history' must be a list of versions and 'stored' a mapping")
    revisions: list[Revision] = []
    for entry in history or []:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("record"), Mapping):
            raise InvalidArticle("each 'history' entry needs a 'record'")
        old = Article.from_record(entry["record"])  # checks it, and gives the stored form
        number = entry.get("revision") or len(revisions) + 1
        if not isinstance(number, int) or isinstance(number, bool):
            raise InvalidArticle("a 'history' entry's 'revision' must be a number")
        source = entry.get("source")
        revisions.append(Revision(number, str(entry.get("stored_at") or ""),
                                  source if isinstance(source, str) else None, old.to_record()))
    return tuple(revisions), stored
