"""Fetching: one page or feed over HTTP(S), bounded in time and size, failing in one clear line.

``archive add https://…`` and ``archive feeds fetch`` read the web through
:func:`fetch`: a connect and read timeout, an overall deadline (a server that
trickles a byte a second is cut off), a size limit read as the body arrives
(never the whole of an oversized answer in memory), and conditional requests
(``If-None-Match`` / ``If-Modified-Since``) for feeds. Offline, a refused
connection or an unknown host is one line: ``could not reach example.org
(…): offline?``.
"""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ..errors import IngestError
from .files import MAX_FILE_BYTES
from .html import charset_of, decoded

__all__ = ["Response", "fetch", "TIMEOUT", "DEADLINE", "USER_AGENT"]

#: Seconds to connect, and between two reads.
TIMEOUT = 20.0
#: Seconds for a whole answer.
DEADLINE = 60.0
USER_AGENT = "french-news-archive/0.1 (+https://github.com/; archive feeds fetch)"
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Response:
    """An answer: its final address, status (200, or 304 when not modified), body and headers."""

    url: str
    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)


def fetch(url: str, *, etag: str | None = None, modified: str | None = None, limit: int = MAX_FILE_BYTES,
          timeout: float = TIMEOUT, deadline: float = DEADLINE) -> Response:
    """Fetch ``url``; raise :class:`IngestError` naming it when it cannot be had."""
    host = urlsplit(url).hostname or url
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    if etag:
        headers["If-None-Match"] = etag
    if modified:
        headers["If-Modified-Since"] = modified
    request = urllib.request.Request(url, headers=headers)
    start = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            declared = answer.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > limit:
                raise _too_large(url, limit)
            chunks: list[bytes] = []
            size = 0
            while chunk := answer.read(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise _too_large(url, limit)
                if time.monotonic() - start > deadline:
                    raise IngestError(url, f"the answer took longer than {deadline:g} s", code="fetch_timeout")
                chunks.append(chunk)
            body = _utf8(b"".join(chunks), answer.headers.get("Content-Type") or "")
            return Response(answer.geturl(), answer.status, body, dict(answer.headers.items()))
    except urllib.error.HTTPError as exc:
        exc.close()  # it holds the connection's socket
        if exc.code == 304:
            return Response(url, 304, b"", dict(exc.headers.items()))
        raise IngestError(url, f"the server answered HTTP {exc.code} ({exc.reason})", code="http_error",
                          status=exc.code) from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, socket.timeout | TimeoutError):
            raise IngestError(url, f"no answer from {host} within {timeout:g} s", code="fetch_timeout") from None
        raise IngestError(url, f"could not reach {host} ({reason}): offline?", code="unreachable") from None
    except TimeoutError:
        raise IngestError(url, f"no answer from {host} within {timeout:g} s", code="fetch_timeout") from None
    except (OSError, ValueError) as exc:  # a connection reset half-way, a malformed address
        raise IngestError(url, f"could not fetch it ({exc})", code="unreachable") from None


def _utf8(body: bytes, content_type: str) -> bytes:
    """Return an HTML page in UTF-8 when it is in the charset its server declared (which the page may not repeat)."""
    if not content_type.lower().lstrip().startswith(("text/html", "application/xhtml")):
        return body  # a feed's XML declares its own encoding, which feedparser reads
    text = decoded(body, charset_of(content_type))
    return text.encode("utf-8") if isinstance(text, str) else body


def _too_large(url: str, limit: int) -> IngestError:
    return IngestError(url, f"larger than {limit // (1024 * 1024)} MiB: not read", code="too_large",
                       mib=limit // (1024 * 1024))
