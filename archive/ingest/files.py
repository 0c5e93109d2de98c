"""Files: find the sources to read, decode their bytes, and read plain text with its sidecar.

A source is a file, ``-`` (JSON Lines on standard input) or an ``http(s)://``
address (fetched by :mod:`archive.ingest.web`). Folders are walked for every
suffix some reader knows; a sidecar (``article.json``, ``.toml``, ``.yaml`` or
``.yml`` beside ``article.txt``) is that text's metadata, never an article.

Bytes are decoded as UTF-8 and, failing that, as cp1252 or Latin-1 (common in
French archives). Empty, binary, oversized or malformed files raise
:class:`~archive.errors.IngestError` naming the file and the reason.
"""

from __future__ import annotations

import glob
import json
import os
import re
import tomllib
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import IngestError, InvalidArticle
from ..model import Article, Block, clean_block, derive_title, is_heading, nfc

__all__ = ["Source", "find_sources", "shown_path", "read_bytes", "read_limited", "load_json", "load_yaml",
           "apply_overrides", "sidecar", "text_blocks", "titled", "record_from", "is_url", "suffix_of", "SUFFIXES",
           "MAX_FILE_BYTES"]

TEXT_SUFFIXES = (".txt", ".md", ".markdown")
RECORD_SUFFIXES = (".json", ".jsonl", ".ndjson")
#: Saved pages, Europresse exports, feeds and web archives (told apart by their content).
WEB_SUFFIXES = (".html", ".htm", ".xhtml", ".xml", ".rss", ".atom", ".warc", ".warc.gz")
SUFFIXES = TEXT_SUFFIXES + RECORD_SUFFIXES + WEB_SUFFIXES
SIDECAR_SUFFIXES = (".json", ".toml", ".yaml", ".yml")
#: Largest single-article file (and largest JSON Lines line) we accept.
MAX_FILE_BYTES = 16 * 1024 * 1024
_BLANK_LINE_RE = re.compile(r"\n[ \t\u00a0]*\n")
#: Code points that cannot be encoded (lone UTF-16 halves, from JSON escapes like \ud800).
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Source:
    """One thing to read: a file path, ``-`` for JSON Lines on standard input, or a web address."""

    path: str
    #: The bytes of a fetched address (read before the write lock is taken).
    data: bytes | None = field(default=None, compare=False, repr=False)

    @property
    def is_stdin(self) -> bool:
        """Tell whether this source is standard input."""
        return self.path == "-"

    @property
    def is_url(self) -> bool:
        """Tell whether this source is an ``http(s)://`` address."""
        return is_url(self.path)

    def __str__(self) -> str:
        return "<stdin>" if self.is_stdin else shown_path(self.path)


#: What a file name may hold but no printed or stored name should: every C0 and C1 control
#: (a newline in a name would forge a line of the report), DEL, bidi overrides.
_NAME_CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def shown_path(path: str) -> str:
    """Return a path as text to print or store: bytes that are not UTF-8 as ``\\xe8``, controls escaped."""
    # os functions give undecodable bytes as lone surrogates (surrogateescape); they cannot be stored.
    text = path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return _NAME_CONTROL_RE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def is_url(text: str) -> bool:
    """Tell whether ``text`` is an ``http://`` or ``https://`` address."""
    return text.lower().startswith(("http://", "https://"))


def suffix_of(name: str) -> str:
    """Return a file name's suffix, lowercase, with ``.warc.gz`` as one."""
    lower = name.lower()
    return ".warc.gz" if lower.endswith(".warc.gz") else os.path.splitext(lower)[1]


def find_sources(paths: Sequence[str], *, follow_symlinks: bool = False,
                 skipped: list[str] | None = None) -> tuple[list[Source], list[IngestError]]:
    """Expand files, folders (recursively), globs and addresses into sources, plus the paths that do not exist.

    In a folder, a symbolic link whose target lies outside it is skipped (and said
    in ``skipped``) unless ``follow_symlinks``: a folder of articles must not read
    ``/etc/shadow`` through a link planted in it.
    """
    sources: list[Source] = []
    missing: list[IngestError] = []
    seen: set[str] = set()

    def push(path: Path) -> None:
        key = str(path.resolve())
        if key not in seen:
            seen.add(key)
            sources.append(Source(str(path)))

    def inside(file: Path, folder: Path) -> bool:
        if follow_symlinks or file.resolve().is_relative_to(folder.resolve()):
            return True
        if skipped is not None:
            skipped.append(f"{shown_path(str(file))}: a symbolic link leaving the folder, skipped "
                           "(--follow-symlinks reads it)")
        return False

    for raw in paths:
        if raw == "-" or is_url(raw):
            sources.append(Source(raw))
            continue
        matches = sorted(glob.glob(raw, recursive=True)) if glob.has_magic(raw) else [raw]
        if not matches:
            missing.append(IngestError(raw, "no file matches this pattern", code="no_match"))
        for match in matches:
            path = Path(match)
            if path.is_dir():
                for file in _walk(path):
                    if inside(file, path):
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
            suffix = suffix_of(name)
            if suffix not in SUFFIXES:
                continue
            if suffix in SIDECAR_SUFFIXES and os.path.splitext(name)[0] in text_stems:
                continue  # the metadata of `stem.txt`, read with it
            yield Path(root) / name


def read_limited(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """Read a file of at most ``limit`` bytes; raise :class:`IngestError` for a larger one."""
    with path.open("rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise IngestError(str(path), f"file too large (over {limit // (1024 * 1024)} MiB "
                                     "for one article; split it or use JSON Lines)", code="too_large",
                          mib=limit // (1024 * 1024))
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


def load_json(text: str, name: str) -> Any:
    """Parse JSON, naming ``name`` and the line and column of a syntax error."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise IngestError(name, f"malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
                          code="malformed_json", line=exc.lineno, column=exc.colno) from None
    except RecursionError:
        raise IngestError(name, "JSON nested too deeply", code="json_too_deep") from None


def apply_overrides(article: Article, overrides: Mapping[str, Any] | None, where: str, derived: bool) -> Article:
    """Return the article with the command line's fields applied (and checked encodable)."""
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
    try:  # one pass over all the texts (UTF-8 refuses surrogates: 3x faster than the regex); then name the field
        "\n".join(text for _, text in texts).encode("utf-8")
    except UnicodeEncodeError:
        key, m = next((k, m) for k, t in texts if (m := _SURROGATE_RE.search(t)))
        raise IngestError(where, f"'{key}' holds a lone surrogate \\u{ord(m.group()):04x} "
                                 "(an invalid \\u escape), which is not text") from None
    return article


def sidecar(path: Path) -> dict[str, Any]:
    """Return the metadata of the sidecar beside a text file (``{}`` without one)."""
    for suffix in SIDECAR_SUFFIXES:
        candidate = path.with_suffix(suffix)
        if not candidate.exists():
            continue
        name = str(candidate)
        text = read_bytes(candidate, read_limited(candidate), name)
        if suffix == ".json":
            meta = load_json(text, name)
        elif suffix == ".toml":
            try:
                meta = tomllib.loads(text)
            except tomllib.TOMLDecodeError as exc:
                raise IngestError(name, f"malformed TOML: {exc}", code="malformed_metadata") from None
        else:
            meta = load_yaml(text, name)
        if not isinstance(meta, dict):
            raise IngestError(name, "metadata must be a mapping of fields", code="malformed_metadata")
        return meta
    return {}


def load_yaml(text: str, name: str) -> Any:
    """Parse YAML safely, naming ``name`` in the error."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise IngestError(name, f"malformed YAML: {str(exc).splitlines()[0]}", code="malformed_metadata") from None


def text_blocks(text: str) -> list[Block]:
    """Split plain text into blocks at blank lines."""
    cleaned = (clean_block(chunk) for chunk in _BLANK_LINE_RE.split(text.strip("\n")))
    return [Block(c, is_heading(c)) for c in cleaned if c]


def titled(meta: Mapping[str, Any], blocks: list[Block], overrides: Mapping[str, Any] | None
           ) -> tuple[Mapping[str, Any], list[Block]]:
    """Take a text's first block as its title when it reads as one and nothing else gives a title.

    It is then the title only, not also paragraph 1 (as a Markdown file's first ``#`` heading).
    """
    if "title" in meta or (overrides or {}).get("title") or len(blocks) < 2 or not blocks[0].heading:
        return meta, blocks
    return {**meta, "title": blocks[0].text}, blocks[1:]


def record_from(meta: Mapping[str, Any], blocks: list[Block], path: Path) -> tuple[Article, bool]:
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


