"""Web archives: every HTML page of a WARC file (``.warc`` or ``.warc.gz``), read as a saved page.

Heritrix, Browsertrix and ``wget --warc-file`` write WARC files: records of
requests, responses, metadata, one after the other, each gzip member holding
one record. :func:`read_warc` streams them through warcio and reads each
``response`` (or ``resource``) record whose payload is HTML and whose status is
200 through :func:`archive.ingest.html.page_article`, keeping the record's
target URI as the page's address and its date when the page gives none. It
skips requests, metadata, redirects, non-HTML payloads and duplicates (the same
payload digest seen earlier in the file). Each article's origin is its record
id, so adding the same file again updates rather than duplicates.

Memory stays bounded whatever the file's size: the file is decompressed here,
one gzip member at a time, and a member that inflates more than
:data:`MAX_RATIO` times its compressed size past :data:`BOMB_FLOOR` bytes (a gzip
bomb) stops the file in one line, the pages before it kept. A page larger than
:data:`~archive.ingest.html.MAX_PAGE_BYTES` fails alone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from ..errors import IngestError
from ..identity import Incoming
from .html import MAX_PAGE_BYTES, charset_of, page_article
from .jsonl import Item
from .lang import marked

__all__ = ["read_warc", "MAX_RATIO", "BOMB_FLOOR"]

#: Inflation past which a gzip member is a bomb (HTML compresses 5 to 15 times; a bomb a thousand).
MAX_RATIO = 200
#: Bytes a member may inflate to before the ratio is checked.
BOMB_FLOOR = 8 * 1024 * 1024
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_BLOCK = 64 * 1024


class GzipBomb(Exception):
    """A gzip member inflates beyond any page's compression ratio."""


class _Gunzip(io.RawIOBase):
    """Decompress a stream of gzip members on the fly, refusing any member that inflates like a bomb."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.inflater = zlib.decompressobj(wbits=31)
        self.member_in = self.member_out = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        want = len(buffer)
        while True:
            if self.inflater.unconsumed_tail:
                data = self.inflater.decompress(self.inflater.unconsumed_tail, want)
            else:
                if self.inflater.eof:  # the next member starts in what is left over
                    rest = self.inflater.unused_data
                    self.inflater = zlib.decompressobj(wbits=31)
                    self.member_in = self.member_out = 0
                else:
                    rest = b""
                chunk = rest or self.raw.read(_BLOCK)
                if not chunk:
                    return 0
                self.member_in += len(chunk)
                data = self.inflater.decompress(chunk, want)
            if data:
                break
        self.member_out += len(data)
        if self.member_out > BOMB_FLOOR and self.member_out > MAX_RATIO * max(1, self.member_in):
            raise GzipBomb(f"a gzip member inflates to over {self.member_out // (1024 * 1024)} MiB from "
                           f"{self.member_in // 1024} KiB (a gzip bomb?)")
        buffer[:len(data)] = data
        return len(data)


def read_warc(path: Path, name: str, base: str, remember: bool) -> Iterator[Item]:
    """Yield the article of every HTML page of a WARC file, or the error of each page that fails."""
    from warcio.archiveiterator import ArchiveIterator  # here: `archive search` never pays for importing it
    from warcio.exceptions import ArchiveLoadFailed

    seen: set[str] = set()
    done = 0
    with path.open("rb") as raw:
        compressed = raw.read(2) == b"\x1f\x8b"
        raw.seek(0)
        stream: BinaryIO = io.BufferedReader(_Gunzip(raw), _BLOCK) if compressed else raw
        try:
            for record in ArchiveIterator(stream, check_digests=False):
                done += 1
                item = _page(record, name, seen, remember)
                if item is not None:
                    yield item
        except GzipBomb as exc:
            yield IngestError(f"{name}: after record {done}", f"{exc}: the rest of the file was not read",
                              code="gzip_bomb")
        except (ArchiveLoadFailed, zlib.error, EOFError, ValueError) as exc:
            if done == 0:
                raise IngestError(name, f"not a readable WARC file ({exc})", code="bad_warc") from None
            yield IngestError(f"{name}: after record {done}", f"damaged ({exc}): the rest of the file was not read",
                              code="bad_warc")


def _page(record: Any, name: str, seen: set[str], remember: bool) -> Item | None:
    """Return the article of one record, its error, or None for a record that is not an HTML page."""
    if record.rec_type not in ("response", "resource"):
        return None
    headers = record.rec_headers
    record_id = headers.get_header("WARC-Record-ID") or ""
    uri = headers.get_header("WARC-Target-URI") or ""
    if record.http_headers is not None:
        if record.http_headers.get_statuscode() != "200":
            return None  # redirects, errors, not-modified
        content_type = record.http_headers.get_header("Content-Type") or ""
    else:
        content_type = headers.get_header("Content-Type") or ""
    if not content_type.split(";")[0].strip().lower().startswith(_HTML_TYPES):
        return None
    where = f"{name}: record {record_id} ({uri})"
    payload = record.content_stream().read(MAX_PAGE_BYTES + 1)
    if len(payload) > MAX_PAGE_BYTES:
        return IngestError(where, f"page larger than {MAX_PAGE_BYTES // (1024 * 1024)} MiB: not read",
                           code="too_large", mib=MAX_PAGE_BYTES // (1024 * 1024))
    digest = headers.get_header("WARC-Payload-Digest") or "sha1:" + hashlib.sha1(payload).hexdigest()
    if digest in seen:
        return None  # the same page crawled twice
    seen.add(digest)
    try:
        article = page_article(payload, where, url=uri or None, date=_warc_date(headers.get_header("WARC-Date")),
                               charset=charset_of(content_type))
    except IngestError as exc:
        return exc
    return marked(Incoming(article, record_id or uri or where, True, remember and bool(record_id or uri)), where)


def _warc_date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None
