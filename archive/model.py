"""The article model: what the archive stores, whatever format it came in.

An :class:`Article` is metadata (id, title, date, source, authors, url, tags,
language) and an ordered tuple of :class:`Block` s: paragraphs and short
headings. Block numbers (0-based positions in that tuple) are stable: the index,
the search results (``n``) and the reading view's anchors (``#p<n>``) all use
them.

Text is normalised to Unicode NFC and otherwise kept as printed: French
typography (« », U+00A0, U+202F, ’, œ) is never rewritten, so highlights and the
reading view show exactly what the source said.

An article given without an ``id`` gets one derived from its content
(:func:`derive_id`): the slug of its title and a short hash of everything else
it says, so « Grève à la SNCF » becomes ``greve-a-la-sncf-3f2a9c81d0`` and two
different texts never share an id (:mod:`archive.identity` decides the rest).

The record form (:meth:`Article.to_record` / :meth:`Article.from_record`) is the
JSON Lines format of the shared corpus (``id, title, date, source, url, author,
tags, lang, paragraphs``), extended with ``authors`` (when there are several)
and ``headings`` (block numbers that are headings), so export and import round
trip exactly.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import orjson

from .dates import BadDate, read_bound
from .errors import BadParameter, InvalidArticle

__all__ = ["Block", "Article", "parse_stored", "parse_date", "check_date_bound", "is_heading", "valid_id", "nfc",
           "derive_title", "derive_id", "slug"]

_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,127}$")
_FINAL_PUNCT = tuple(".!?…:;,»\"”)]")
#: Runs of spaces and tabs to fold into one space. A single space is left alone (it
#: would be replaced by itself): matching every one cost more than the rest of reading.
_WS_RE = re.compile(r"[ \t\r\f\v]{2,}|[\t\r\f\v]")
#: Longest title slug kept in a derived id (the hash follows it).
SLUG_CHARS = 48
#: Hex digits of the content hash in a derived id (40 bits: no collision short of ~10⁶ texts per slug).
HASH_CHARS = 10

_MONTHS_FR = {
    "janvier": 1, "janv": 1, "février": 2, "fevrier": 2, "févr": 2, "fevr": 2, "mars": 3,
    "avril": 4, "avr": 4, "mai": 5, "juin": 6, "juillet": 7, "juil": 7, "août": 8, "aout": 8,
    "septembre": 9, "sept": 9, "octobre": 10, "oct": 10, "novembre": 11, "nov": 11,
    "décembre": 12, "decembre": 12, "déc": 12, "dec": 12,
}
_FR_DATE_RE = re.compile(
    r"^(?:(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)\s+)?"
    r"(\d{1,2})(?:er)?\s+([a-zéèûô]+)\.?\s+(\d{4})$"
)
_ISO_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[t ][0-9:.+\-z]*)?$")
_DMY_RE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def nfc(text: str) -> str:
    """Return ``text`` in Unicode NFC."""
    return unicodedata.normalize("NFC", text)


def valid_id(article_id: str) -> bool:
    """Tell whether ``article_id`` is a safe, stable article id."""
    return bool(_ID_RE.match(article_id))


def parse_date(value: Any) -> dt.date | None:
    """Parse an ISO (``2025-03-05``), French (``5 mars 2025``) or ``05/03/2025`` date."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        raise InvalidArticle(f"date must be a string, not {type(value).__name__}", code="bad_article_date",
                             value=str(value))
    text = nfc(value).strip().lower()
    try:
        if m := _ISO_RE.match(text):
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        if m := _DMY_RE.match(text):
            return dt.date(int(m[3]), int(m[2]), int(m[1]))
        if m := _FR_DATE_RE.match(text):
            month = _MONTHS_FR.get(m[2])
            if month is None:
                raise InvalidArticle(f"unknown month {m[2]!r} in date {value!r}", code="bad_article_date", value=value)
            return dt.date(int(m[3]), month, int(m[1]))
    except ValueError as exc:
        raise InvalidArticle(f"impossible date {value!r} ({exc})", code="impossible_date", value=value) from None
    raise InvalidArticle(f"unreadable date {value!r} (use 2025-03-05 or 5 mars 2025)", code="bad_article_date",
                         value=value)


def check_date_bound(value: str | None, name: str) -> str | None:
    """Return a search bound as typed (the forms of :mod:`archive.dates`); raise BadParameter if it is no date."""
    if value is None or value.strip() == "":
        return None
    # Checked here, at the edges, because the search stage's own parser once turned month 0
    # into an OverflowError (a 500) and month 13 of an upper bound into January.
    try:
        read_bound(value)
    except BadDate as exc:
        raise BadParameter(f"{name}: {exc}", code="bad_date", param=name, value=value) from None
    return value


def is_heading(text: str) -> bool:
    """Tell whether a block reads as a heading: one short line without final punctuation."""
    if "\n" in text or len(text) > 80 or len(text.split()) > 10:
        return False
    if text.endswith(_FINAL_PUNCT) or not any(c.isalpha() for c in text):
        return False
    return True


def clean_block(text: str) -> str:
    """Normalise a block's text: NFC, runs of spaces folded, lines joined; NBSPs kept."""
    text = nfc(text)
    if "\n" not in text:  # (most paragraphs: one line, no list to build and join)
        return _spaces_folded(text).strip()
    lines = [_spaces_folded(line).strip() for line in text.split("\n")]
    return " ".join(line for line in lines if line)


def _spaces_folded(line: str) -> str:
    # The regular expression scans a paragraph at 20 ns a character; most have nothing for
    # it, which five substring searches (at C speed) tell: cleaning one took 6.1 µs, now 1.7.
    if "  " in line or "\t" in line or "\r" in line or "\f" in line or "\v" in line:
        return _WS_RE.sub(" ", line)
    return line


def derive_title(blocks: Iterable[Block], limit: int = 120) -> str:
    """Derive a title: the first heading, else the first sentence cut on a word boundary."""
    blocks = list(blocks)
    for block in blocks[:1]:
        if block.heading:
            return block.text
    if not blocks:
        return ""
    text = blocks[0].text
    m = re.search(r"[.!?…](?=\s|$)", text)
    sentence = text[: m.end()] if m else text
    if len(sentence) <= limit:
        return sentence
    cut = sentence[:limit].rsplit(" ", 1)[0].rstrip(" ,;:")
    return cut + " …"


def slug(text: str, limit: int = SLUG_CHARS) -> str:
    """Return a lowercase ASCII slug of ``text``, cut on a word boundary: ``Grève à Lille`` → ``greve-a-lille``."""
    ascii_text = unicodedata.normalize("NFKD", text.replace("œ", "oe").replace("Œ", "Oe"))
    ascii_text = ascii_text.encode("ascii", "ignore").decode().lower()
    words = re.findall(r"[a-z0-9]+", ascii_text)
    out = ""
    for word in words:
        candidate = f"{out}-{word}" if out else word
        if len(candidate) > limit:
            break
        out = candidate
    return out or (words[0][:limit] if words else "article")


def parse_stored(text: str | bytes) -> Any:
    """Parse JSON the store wrote: a record, or a part of one SQLite cut out (``$.paragraphs``)."""
    try:
        # orjson reads a 5 kB record in 6 µs, the json module in 14: a result page reads ten.
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)  # (what orjson refuses, a lone surrogate escaped, json reads)


def _content_digest(article: Article) -> str:
    """Return a hash of everything the article says except its id."""
    record = article.to_record()
    record.pop("id")
    payload = json.dumps(record, ensure_ascii=False, sort_keys=True)
    # "surrogatepass": a lone surrogate must reach the ingest check that names its file, not fail here.
    return hashlib.sha256(payload.encode("utf-8", "surrogatepass")).hexdigest()


def derive_id(article: Article) -> str:
    """Return the content-derived id: title slug plus a short content hash."""
    return f"{slug(article.title)}-{_content_digest(article)[:HASH_CHARS]}"


@dataclass(frozen=True)
class Block:
    """One paragraph or heading of an article."""

    text: str
    heading: bool = False

    def __reduce__(self) -> tuple[type[Block], tuple[str, bool]]:
        # Pickled as a call: reading processes send thousands, and this halves their cost.
        return (Block, (self.text, self.heading))


@dataclass(frozen=True)
class Article:
    """An article as the archive stores it."""

    id: str
    title: str
    blocks: tuple[Block, ...]
    date: dt.date | None = None
    source: str | None = None
    authors: tuple[str, ...] = ()
    url: str | None = None
    tags: tuple[str, ...] = ()
    lang: str = "fr"

    def __post_init__(self) -> None:
        if not valid_id(self.id):
            raise InvalidArticle(
                f"invalid id {self.id!r}: use 1-128 letters, digits, '_', '.', ':' or '-', "
                "starting with a letter or digit", code="invalid_id", id=self.id
            )
        if not self.blocks:
            raise InvalidArticle(f"article {self.id!r} has no text", code="no_text", id=self.id)
        if not self.title.strip():
            raise InvalidArticle(f"article {self.id!r} has no title", code="no_title", id=self.id)

    @property
    def year(self) -> int | None:
        """Return the publication year, if the date is known."""
        return self.date.year if self.date else None

    @property
    def paragraphs(self) -> list[str]:
        """Return every block's text, headings included, in order."""
        return [b.text for b in self.blocks]

    def content_hash(self) -> str:
        """Return a digest of everything stored, to tell an update from a re-add."""
        # Computed once per object: storing an article asks for it three times. The
        # dataclass is frozen, so the cache goes into the instance's __dict__ directly.
        digest: str | None = self.__dict__.get("_digest")
        if digest is None:
            payload = json.dumps(self.to_record(), ensure_ascii=False, sort_keys=True)
            digest = self.__dict__["_digest"] = hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]
        return digest

    def record_json(self) -> str:
        """Return :meth:`to_record` as the store's ``record`` column holds it (computed once per object)."""
        text: str | None = self.__dict__.get("_record_json")
        if text is None:
            record = self.to_record()
            try:
                # orjson writes the corpus's records in a third of the json module's time (compact,
                # which SQLite's json_extract and every reader read alike).
                text = orjson.dumps(record).decode()
            except orjson.JSONEncodeError:
                text = json.dumps(record, ensure_ascii=False)  # (a lone surrogate, which orjson refuses)
            self.__dict__["_record_json"] = text
        return text

    def __reduce__(self) -> tuple[Any, tuple[dict[str, Any]]]:
        # An article whose record JSON is known travels without its blocks, which that JSON
        # holds: a bulk reading process sends the store's process thousands, whose blocks it
        # never reads (unpickling them was a third of its work). They are read back when
        # first asked for (__getattr__).
        state = dict(self.__dict__)
        if "_record_json" in state:
            state.pop("blocks", None)
        return (_unpickled, (state,))

    if not TYPE_CHECKING:  # (hidden from the type checker, which would then accept any attribute)
        def __getattr__(self, name: str) -> Any:
            # Called only for what __dict__ lacks: the blocks of an article unpickled without them.
            state = self.__dict__
            if name != "blocks" or "_record_json" not in state:
                raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
            blocks = state["blocks"] = _stored_blocks(parse_stored(state["_record_json"]))
            return blocks

    def to_record(self) -> dict[str, Any]:
        """Return the article as a JSON Lines record (the corpus format, extended)."""
        record: dict[str, Any] = {
            "id": self.id,
            "title": self.title,
            "date": self.date.isoformat() if self.date else None,
            "source": self.source,
            "url": self.url,
            "author": self.authors[0] if len(self.authors) == 1 else (", ".join(self.authors) or None),
            "tags": list(self.tags),
            "lang": self.lang,
            "paragraphs": self.paragraphs,
            "headings": [i for i, b in enumerate(self.blocks) if b.heading],
        }
        if len(self.authors) > 1:
            record["authors"] = list(self.authors)
        return record

    @classmethod
    def from_stored(cls, record: Mapping[str, Any], digest: str | None = None) -> Article:
        """Rebuild an article from a record the store wrote (already clean and checked).

        ``digest`` is its content hash as the store recorded it, which saves computing it again.
        """
        authors = record.get("authors")
        if authors is None:
            authors = [record["author"]] if record.get("author") else []
        # Checked when stored: built without __init__'s checks and frozen setattrs (5 µs → 2,
        # and a result page or a rebuild reads many).
        article = object.__new__(cls)
        article.__dict__.update(
            id=record["id"], title=record["title"],
            blocks=_stored_blocks(record),
            date=dt.date.fromisoformat(record["date"]) if record.get("date") else None,
            source=record.get("source"), authors=tuple(authors), url=record.get("url"),
            tags=tuple(record.get("tags") or ()), lang=record.get("lang") or "fr")
        if digest is not None:
            article.__dict__["_digest"] = digest
        return article

    @classmethod
    def from_record(cls, record: Mapping[str, Any], *, default_id: str | None = None) -> Article:
        """Build an article from a record; raise :class:`InvalidArticle` when it cannot be one."""
        if not isinstance(record, Mapping):
            raise InvalidArticle(f"an article must be a JSON object, not {type(record).__name__}")
        paragraphs = record.get("paragraphs")
        if paragraphs is None and isinstance(record.get("text"), str):
            paragraphs = re.split(r"\n\s*\n", record["text"])
        if not isinstance(paragraphs, list) or not all(isinstance(p, str) for p in paragraphs):
            raise InvalidArticle("'paragraphs' must be a list of strings")
        texts = [clean_block(p) for p in paragraphs]
        headings = record.get("headings")
        if headings is not None:
            if not isinstance(headings, list) or not all(isinstance(i, int) for i in headings):
                raise InvalidArticle("'headings' must be a list of block numbers")
            heading_set = set(headings)
            blocks = [Block(t, i in heading_set) for i, t in enumerate(texts)]
            blocks = [b for b in blocks if b.text]
        else:
            blocks = [Block(t, is_heading(t)) for t in texts if t]
        blocks_t = tuple(blocks)

        title = _opt_str(record, "title")
        if not title:
            title = derive_title(blocks_t)
        # Without an id, a placeholder stands in until the content (hence the id) is known.
        article_id = _opt_str(record, "id") or default_id or "pending"
        authors = record.get("authors")
        if authors is None:
            author = record.get("author")
            authors = [author] if isinstance(author, str) else (author or [])
        tags = record.get("tags") or []
        if isinstance(tags, str):
            tags = [t for t in re.split(r"[,;]", tags)]
        for name, values in (("authors", authors), ("tags", tags)):
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise InvalidArticle(f"'{name}' must be a list of strings")
        article = cls(
            id=nfc(str(article_id)).strip(),
            title=clean_block(title),
            blocks=blocks_t,
            date=parse_date(record.get("date")),
            source=_opt_str(record, "source"),
            authors=_unique(clean_block(a) for a in authors),
            url=_opt_str(record, "url"),
            tags=_unique(clean_block(t) for t in tags),
            lang=_opt_str(record, "lang") or "fr",
        )
        if not (_opt_str(record, "id") or default_id):
            article = replace(article, id=derive_id(article))
        return article


def _stored_blocks(record: Mapping[str, Any]) -> tuple[Block, ...]:
    """Return the blocks of a record the store wrote."""
    headings = set(record.get("headings") or ())
    return tuple(Block(t, i in headings) for i, t in enumerate(record["paragraphs"]))


def _unpickled(state: dict[str, Any]) -> Article:
    """Return the article pickled as ``state`` (see :meth:`Article.__reduce__`)."""
    article = object.__new__(Article)
    article.__dict__.update(state)
    return article


def _opt_str(record: Mapping[str, Any], key: str) -> str | None:
    value = record.get(key)
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and key == "id":
        value = str(value)
    if not isinstance(value, str):
        raise InvalidArticle(f"'{key}' must be a string")
    value = clean_block(value)
    return value or None


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for v in values:
        if v:
            seen.setdefault(v, None)
    return tuple(seen)
