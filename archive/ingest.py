"""Ingest: turn files as people have them into :class:`~archive.model.Article` s.

This module owns all knowledge of source formats; nothing else in the archive
opens a source file.

* ``.txt`` — blocks separated by blank lines. Metadata comes from a *sidecar*
  with the same stem (``article.json``, ``.toml``, ``.yaml`` or ``.yml``); in a
  folder a sidecar is that text's metadata, never an article of its own.
  Without one, the title is the first heading or first sentence.
* ``.md`` — YAML front matter between ``---`` lines, then a Markdown body
  (paragraphs and ``#`` headings).
* ``.json`` — one article (an object in the record format of
  :meth:`Article.from_record`), or a list of them.
* ``.jsonl`` — one article a line, the format of the shared corpus.

An article that gives no ``id`` gets one derived from its content, never from
its file name (``nord/greve.txt`` and ``sud/greve.txt`` are two articles);
:func:`read_incoming` also says where each article came from, so that the store
can tell an edited file from a different one (:mod:`archive.identity`).

Bytes are decoded as UTF-8 and, failing that, as cp1252 or Latin-1 (common in
French archives). Empty, binary, oversized or malformed files raise
:class:`~archive.errors.IngestError` naming the file and the reason. A source
file is all-or-nothing: the store adds a file's articles in one transaction,
so a file that fails half-way leaves nothing behind.
"""

from __future__ import annotations

import glob
import itertools
import json
import os
import re
import sys
import tomllib
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import yaml

from .errors import IngestError, InvalidArticle
from .identity import Incoming, Revision
from .model import Article, Block, clean_block, derive_title, is_heading, nfc

__all__ = ["Source", "find_sources", "read_articles", "read_incoming", "read_bytes", "jsonl_lines",
           "jsonl_articles", "read_lines", "LinesReader", "SUFFIXES", "MAX_FILE_BYTES"]

TEXT_SUFFIXES = (".txt", ".md", ".markdown")
RECORD_SUFFIXES = (".json", ".jsonl", ".ndjson")
SUFFIXES = TEXT_SUFFIXES + RECORD_SUFFIXES
SIDECAR_SUFFIXES = (".json", ".toml", ".yaml", ".yml")
LinesReader = Callable[[Iterable[tuple[int, bytes]], str, Mapping[str, Any] | None, str, bool], Iterator[Incoming]]
#: Largest single-article file (and largest JSON Lines line) we accept.
MAX_FILE_BYTES = 16 * 1024 * 1024
_FRONT_MATTER_RE = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
_BLANK_LINE_RE = re.compile(r"\n[ \t\u00a0]*\n")
_MD_HEADING_RE = re.compile(r"#{1,6}\s+")
# Every pattern below runs on untrusted text and must stay linear: each opener's scan
# stops at the next character that could start or end another one ([ ] ( ) * `),
# so no character is scanned by more than a bounded number of openers. An italics
# pattern that let `.+?` run to the end of the text made `"*a " * 20000` quadratic.
_URL = r"\(((?:[^()]|\([^()]*\))*)\)"  # one level of parentheses: wiki/Paris_(France)
_MD_INLINE = [
    (re.compile(r"!\[([^\[\]]*)\]" + _URL), r"\1"),
    (re.compile(r"\[([^\[\]]+)\]" + _URL), r"\1"),
    (re.compile(r"\*\*([^*]+)\*\*|__([^_]+)__"), r"\1\2"),
    (re.compile(r"(?<![\w*])\*(?!\s)([^*]+)(?<!\s)\*(?![\w*])"), r"\1"),
    (re.compile(r"`([^`]*)`"), r"\1"),
]
#: Code points that cannot be encoded (lone UTF-16 halves, from JSON escapes like \ud800).
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Source:
    """One thing to read: a file path, or ``-`` for JSON Lines on standard input."""

    path: str

    @property
    def is_stdin(self) -> bool:
        """Tell whether this source is standard input."""
        return self.path == "-"

    def __str__(self) -> str:
        return "<stdin>" if self.is_stdin else self.path


def find_sources(paths: Sequence[str]) -> tuple[list[Source], list[IngestError]]:
    """Expand files, folders (recursively) and globs into sources, plus the paths that do not exist."""
    sources: list[Source] = []
    missing: list[IngestError] = []
    seen: set[str] = set()

    def push(path: Path) -> None:
        key = str(path.resolve())
        if key not in seen:
            seen.add(key)
            sources.append(Source(str(path)))

    for raw in paths:
        if raw == "-":
            sources.append(Source("-"))
            continue
        matches = sorted(glob.glob(raw, recursive=True)) if glob.has_magic(raw) else [raw]
        if not matches:
            missing.append(IngestError(raw, "no file matches this pattern", code="no_match"))
        for match in matches:
            path = Path(match)
            if path.is_dir():
                for file in _walk(path):
                    push(file)
            elif path.exists():
                push(path)
            else:
                missing.append(IngestError(match, "no such file or folder", code="no_file"))
    return sources, missing


def _walk(folder: Path) -> Iterator[Path]:
    """Yield the article files below ``folder``, sorted, skipping sidecars and hidden files."""
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        names = set(files)
        text_stems = {Path(f).stem for f in files if f.lower().endswith(TEXT_SUFFIXES[:1])}
        for name in sorted(names):
            if name.startswith("."):
                continue
            stem, suffix = os.path.splitext(name)
            suffix = suffix.lower()
            if suffix not in SUFFIXES:
                continue
            if suffix in SIDECAR_SUFFIXES and stem in text_stems:
                continue  # the metadata of `stem.txt`, read with it
            yield Path(root) / name


def read_articles(source: Source, overrides: Mapping[str, Any] | None = None,
                  stdin: BinaryIO | None = None) -> Iterator[Article]:
    """Yield the articles of one source; raise :class:`IngestError` naming it on the first problem."""
    for item in read_incoming(source, overrides, stdin):
        yield item.article


def read_incoming(source: Source, overrides: Mapping[str, Any] | None = None,
                  stdin: BinaryIO | None = None, *, origin: str | None = None,
                  lines: LinesReader | None = None) -> Iterator[Incoming]:
    """Yield the articles of one source with their provenance (see :mod:`archive.identity`).

    A real file is remembered by its absolute path (record ``n`` of a JSON list or
    line ``n`` of JSON Lines by ``path:n``); ``origin`` names a source with no
    lasting path instead (a paste, an upload), which is then not remembered.
    ``lines`` reads JSON Lines (default :func:`read_lines`; :mod:`archive.bulk` in parallel).
    """
    remember = origin is None and not source.is_stdin
    base = origin or ("<stdin>" if source.is_stdin else str(Path(source.path).resolve()))
    path = Path(source.path)
    suffix = path.suffix.lower()
    try:
        if source.is_stdin or suffix in (".jsonl", ".ndjson"):
            with nullcontext(stdin or sys.stdin.buffer) if source.is_stdin else path.open("rb") as f:
                yield from (lines or read_lines)(jsonl_lines(f, str(source)), str(source), overrides, base,
                                                 remember)
            return
        if suffix not in SUFFIXES:
            raise IngestError(source.path, f"unsupported file type {suffix or '(none)'!r} "
                                           f"(use {', '.join(SUFFIXES)})", code="unsupported_type",
                              suffix=suffix or "", suffixes=", ".join(SUFFIXES))
        text = read_bytes(path, _read_limited(path), source.path)
        if suffix == ".json":
            yield from _records_to_articles(_load_json(text, source.path), source.path, overrides,
                                            base, remember)
            return
        article, derived = (_record_from(*_titled(_sidecar(path), _blocks_from_text(text), overrides), path)
                            if suffix == ".txt" else _markdown_article(text, path))
        yield Incoming(_apply(article, overrides, source.path, derived), base, derived, remember)
    except InvalidArticle as exc:
        raise IngestError(str(source), str(exc)) from None
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        raise IngestError(str(source), exc.strerror or str(exc), code="unreadable") from None
    except OSError as exc:
        raise IngestError(str(source), f"could not read the file ({exc})", code="unreadable") from None


def _read_limited(path: Path) -> bytes:
    with path.open("rb") as f:
        data = f.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise IngestError(str(path), f"file too large (over {MAX_FILE_BYTES // (1024 * 1024)} MiB "
                                     "for one article; split it or use JSON Lines)", code="too_large",
                          mib=MAX_FILE_BYTES // (1024 * 1024))
    return data


def read_bytes(path: Path | None, data: bytes, name: str) -> str:
    """Decode a text file's bytes (UTF-8, else cp1252, else Latin-1), refusing binary and empty data."""
    if not data.strip():
        raise IngestError(name, "empty file", code="empty_file")
    if b"\x00" in data[:65536]:
        raise IngestError(name, "binary file (contains NUL bytes), not text", code="binary")
    text: str | None = None
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    assert text is not None  # latin-1 decodes any bytes
    sample = text[:65536]
    controls = sum(1 for c in sample if unicodedata.category(c) == "Cc" and c not in "\t\n\r\f")
    if controls > max(8, len(sample) // 100):
        raise IngestError(name, "binary file (too many control characters), not text", code="binary")
    return nfc(text.replace("\r\n", "\n").replace("\r", "\n"))


def _load_json(text: str, name: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise IngestError(name, f"malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
                          code="malformed_json", line=exc.lineno, column=exc.colno) from None
    except RecursionError:
        raise IngestError(name, "JSON nested too deeply", code="json_too_deep") from None


def read_lines(lines: Iterable[tuple[int, bytes]], name: str, overrides: Mapping[str, Any] | None, base: str,
               remember: bool) -> Iterator[Incoming]:
    """Read numbered JSON Lines into articles, one after the other."""
    for lineno, raw in lines:
        yield from jsonl_articles(raw, lineno, name, overrides, base, remember)


def jsonl_lines(stream: BinaryIO, name: str) -> Iterator[tuple[int, bytes]]:
    """Yield the numbered non-blank lines of a JSON Lines stream; raise on an empty one."""
    any_line = False
    for lineno in itertools.count(1):
        raw = stream.readline(MAX_FILE_BYTES + 1)
        if not raw:
            break
        if len(raw) > MAX_FILE_BYTES and not raw.endswith(b"\n"):
            raise IngestError(name, f"a line longer than {MAX_FILE_BYTES // (1024 * 1024)} MiB",
                              code="line_too_long", mib=MAX_FILE_BYTES // (1024 * 1024))
        if raw.strip():
            any_line = True
            yield lineno, raw
    if not any_line:
        raise IngestError(name, "empty file", code="empty_file")


def jsonl_articles(raw: bytes, lineno: int, name: str, overrides: Mapping[str, Any] | None, base: str,
                   remember: bool) -> list[Incoming]:
    """Read line ``lineno`` of a JSON Lines file (a worker process may: see :mod:`archive.bulk`)."""
    where = f"{name}:{lineno}"
    try:
        line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
    except UnicodeDecodeError:
        raise IngestError(where, "not UTF-8 (JSON Lines must be UTF-8)", code="not_utf8") from None
    record = _load_json(line, where)
    return list(_records_to_articles(record, where, overrides, f"{base}:{lineno}", remember, single=True))


def _records_to_articles(data: Any, where: str, overrides: Mapping[str, Any] | None, base: str,
                         remember: bool, single: bool = False) -> Iterator[Incoming]:
    records = data if isinstance(data, list) and not single else [data]
    for i, record in enumerate(records):
        label = where if len(records) == 1 else f"{where}[{i}]"
        origin = base if len(records) == 1 else f"{base}:{i}"
        try:
            if isinstance(record, Mapping) and record.get("removed") is True:
                yield _removed(record, origin)
                continue
            derived = not (isinstance(record, Mapping) and record.get("id") not in (None, ""))
            article = _apply(Article.from_record(record), overrides, label, derived)
            history, stored = _history(record)
        except InvalidArticle as exc:
            raise IngestError(label, str(exc), code=exc.code, **exc.params) from None
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


def _apply(article: Article, overrides: Mapping[str, Any] | None, where: str, derived: bool) -> Article:
    if not overrides or all(value in (None, (), []) for value in overrides.values()):
        # (The command line passes every option, empty: a rebuild would merge the authors.)
        return _encodable(article, where)
    record = article.to_record()
    record.pop("authors", None)
    if derived:
        record.pop("id")  # derive it again from the final content
    for key, value in overrides.items():
        if value in (None, (), []):
            continue
        if key == "authors":
            record["authors"] = list(value)
        else:
            record[key] = list(value) if key == "tags" else value
    try:
        return _encodable(Article.from_record(record), where)
    except InvalidArticle as exc:
        raise IngestError(where, str(exc), code=exc.code, **exc.params) from None


def _encodable(article: Article, where: str) -> Article:
    """Return the article, or raise :class:`IngestError` if some text of it is not encodable."""
    # Decoded bytes never hold lone surrogates, but JSON (and YAML) escapes such as
    # "\ud800" do; they would fail later in the store, after earlier files went in.
    texts = [(key, text) for key, value in article.to_record().items()
             for text in (value if isinstance(value, list) else [value]) if isinstance(text, str)]
    if _SURROGATE_RE.search("\n".join(text for _, text in texts)):  # one scan; then name the field
        key, m = next((k, m) for k, t in texts if (m := _SURROGATE_RE.search(t)))
        raise IngestError(where, f"'{key}' holds a lone surrogate \\u{ord(m.group()):04x} "
                                 "(an invalid \\u escape), which is not text")
    return article


def _sidecar(path: Path) -> dict[str, Any]:
    for suffix in SIDECAR_SUFFIXES:
        candidate = path.with_suffix(suffix)
        if not candidate.exists():
            continue
        name = str(candidate)
        text = read_bytes(candidate, _read_limited(candidate), name)
        if suffix == ".json":
            meta = _load_json(text, name)
        elif suffix == ".toml":
            try:
                meta = tomllib.loads(text)
            except tomllib.TOMLDecodeError as exc:
                raise IngestError(name, f"malformed TOML: {exc}", code="malformed_metadata") from None
        else:
            meta = _load_yaml(text, name)
        if not isinstance(meta, dict):
            raise IngestError(name, "metadata must be a mapping of fields", code="malformed_metadata")
        return meta
    return {}


def _load_yaml(text: str, name: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise IngestError(name, f"malformed YAML: {str(exc).splitlines()[0]}", code="malformed_metadata") from None


def _blocks_from_text(text: str) -> list[Block]:
    cleaned = (clean_block(chunk) for chunk in _BLANK_LINE_RE.split(text.strip("\n")))
    return [Block(c, is_heading(c)) for c in cleaned if c]


def _titled(meta: Mapping[str, Any], blocks: list[Block], overrides: Mapping[str, Any] | None
            ) -> tuple[Mapping[str, Any], list[Block]]:
    """Take a text's first block as its title when it reads as one and nothing else gives a title.

    It is then the title only, not also paragraph 1 (as a Markdown file's first ``#`` heading).
    """
    if "title" in meta or (overrides or {}).get("title") or len(blocks) < 2 or not blocks[0].heading:
        return meta, blocks
    return {**meta, "title": blocks[0].text}, blocks[1:]


def _record_from(meta: Mapping[str, Any], blocks: list[Block], path: Path) -> tuple[Article, bool]:
    """Return the article of a text file and whether its id is derived (none in the metadata)."""
    if not blocks:
        raise IngestError(str(path), "no text in the file", code="no_text_in_file")
    record = dict(meta)
    record["paragraphs"] = [b.text for b in blocks]
    record["headings"] = [i for i, b in enumerate(blocks) if b.heading]
    record.setdefault("title", derive_title(blocks))
    if "author" in record and isinstance(record["author"], list):
        record["authors"] = record.pop("author")
    return Article.from_record(record), record.get("id") in (None, "")


def _markdown_article(text: str, path: Path) -> tuple[Article, bool]:
    meta: Any = {}
    if text.startswith("---"):
        m = _FRONT_MATTER_RE.match(text)
        if not m:
            raise IngestError(str(path), "malformed front matter (no closing '---' line)", code="malformed_metadata")
        meta = _load_yaml(m.group(1), str(path)) or {}
        if not isinstance(meta, dict):
            raise IngestError(str(path), "malformed front matter (not a mapping of fields)", code="malformed_metadata")
        text = text[m.end():]
    blocks: list[Block] = []
    for chunk in _BLANK_LINE_RE.split(text.strip("\n")):
        lines = [ln for ln in chunk.split("\n") if ln.strip()]
        paragraph: list[str] = []
        for line in lines:
            heading = _md_heading(line.strip())
            if heading is not None:
                if paragraph:
                    blocks.append(Block(_md_inline(" ".join(paragraph)), False))
                    paragraph = []
                blocks.append(Block(_md_inline(heading), True))
            else:
                paragraph.append(re.sub(r"^\s*(?:>\s?|[-*+]\s+)", "", line))
        if paragraph:
            blocks.append(Block(_md_inline(" ".join(paragraph)), False))
    blocks = [b for b in blocks if b.text]
    if "title" not in meta:
        for block in blocks[:1]:
            if block.heading:
                meta = {**meta, "title": block.text}
                blocks = blocks[1:]
    return _record_from(meta, blocks, path)


def _md_heading(line: str) -> str | None:
    """Return the text of an ATX heading line (``## Titre ##``), or None for any other line."""
    m = _MD_HEADING_RE.match(line)
    if m is None:
        return None
    # String methods, not a `(.*?)\s*#*\s*$` pattern: that one backtracks quadratically
    # over a long run of spaces.
    return line[m.end():].rstrip().rstrip("#").rstrip()


def _md_inline(text: str) -> str:
    for pattern, repl in _MD_INLINE:
        text = pattern.sub(repl, text)
    return clean_block(text)

