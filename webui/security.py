"""Security headers, the JSON error envelope, CSRF tokens and the admin token check.

Redirects carry a relative ``Location``: Werkzeug builds its canonical redirects
(``/article//x`` → ``/article/x``, 308) from the request's ``Host`` header, which
the client chooses, so an absolute URL would send a victim's browser wherever a
forged header pointed. Wrong admin tokens are counted per client address: past
``MAX_TOKEN_FAILURES`` in a minute, every token from that address is refused with
429 until the minute has passed, so guessing costs a minute per ten guesses.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from flask import Flask, Response, current_app, jsonify, render_template, request, session
from werkzeug.exceptions import HTTPException

from archive import ArchiveError, BadParameter, TooManyAttempts
from archive.research import MAX_QUERIES

from .messages import error_message, http_message

__all__ = ["init_app", "error_response", "check_token", "csrf_token", "check_csrf", "FailureLimiter"]

#: Bounds on a URL's query string, checked before it is read.
MAX_QUERY_STRING, MAX_PARAMETERS = 8192, 60
#: The trends compare several queries: there, q may repeat (up to MAX_QUERIES times).
_SEVERAL_QUERIES = {"research.trends", "research.trends_en", "research.api_trend", "research.trend_csv"}
_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(message: str, status: int, code: str | None = None) -> Response:
    """Return the error as the JSON envelope (API) or as an HTML page."""
    if _wants_json():
        body: dict[str, Any] = {"ok": False, "error": message, "status": status}
        if code:
            body["code"] = code
        response = jsonify(body)
    else:
        response = current_app.make_response((render_template("error.html", message=message,
                                                              status=status), status))
    response.status_code = status
    return response


class FailureLimiter:
    """Count failures per client in a sliding window; tell when a client has had too many."""

    def __init__(self, limit: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic,
                 clients: int = 10_000) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self.clients = clients  # addresses remembered at most: memory stays bounded
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def blocked(self, client: str) -> bool:
        """Tell whether ``client`` failed ``limit`` times within the last window."""
        with self._lock:
            failures = self._recent(client)
            return failures is not None and len(failures) >= self.limit

    def fail(self, client: str) -> None:
        """Record one failure of ``client``."""
        with self._lock:
            failures = self._recent(client)
            if failures is None:
                failures = self._failures[client] = deque(maxlen=self.limit)
                while len(self._failures) > self.clients:
                    self._failures.popitem(last=False)
            failures.append(self.clock())
            self._failures.move_to_end(client)

    def _recent(self, client: str) -> deque[float] | None:
        failures = self._failures.get(client)
        if failures is None:
            return None
        horizon = self.clock() - self.window
        while failures and failures[0] <= horizon:
            failures.popleft()
        if not failures:
            del self._failures[client]
            return None
        return failures


def check_token(given: str | None) -> bool:
    """Compare a token with ARCHIVE_ADMIN_TOKEN in constant time; raise TooManyAttempts past the limit."""
    expected = current_app.config.get("ARCHIVE_ADMIN_TOKEN")
    if not expected or not given:
        return False
    limiter: FailureLimiter = current_app.extensions["token_failures"]
    client = request.remote_addr or "unknown"
    if limiter.blocked(client):
        raise TooManyAttempts("too many wrong admin tokens from this address; try again in a minute")
    if hmac.compare_digest(given.encode("utf-8"), str(expected).encode("utf-8")):
        return True
    limiter.fail(client)
    return False


def csrf_token() -> str:
    """Return this session's CSRF token, creating it if needed."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return str(session["csrf"])


def check_csrf(given: str | None) -> bool:
    """Tell whether ``given`` is this session's CSRF token."""
    expected = session.get("csrf")
    return bool(expected and given and hmac.compare_digest(str(expected), given))


def init_app(app: Flask) -> None:
    """Install headers and error handlers."""

    app.extensions["token_failures"] = FailureLimiter(int(app.config["MAX_TOKEN_FAILURES"]))

    @app.before_request
    def bounded_url() -> Response | None:
        # Checked before anything is built from the URL: a query string of 60,000
        # repeated parameters would otherwise be parsed, validated and linked.
        if len(request.query_string) > MAX_QUERY_STRING:
            return error_response(f"the URL's query is longer than {MAX_QUERY_STRING} bytes", 414)
        if sum(1 for _ in request.args.items(multi=True)) > MAX_PARAMETERS:
            return error_response(f"more than {MAX_PARAMETERS} URL parameters", 400)
        several = request.endpoint in _SEVERAL_QUERIES
        if len(request.args.getlist("q")) > (MAX_QUERIES if several else 1):
            # The core's own error, said in the reader's language like any other.
            raise BadParameter(f"a trend compares at most {MAX_QUERIES} queries", code="too_many_queries",
                               max=MAX_QUERIES) if several else BadParameter("q given twice", code="q_twice")
        return None

    @app.after_request
    def headers(response: Response) -> Response:
        location = response.headers.get("Location")
        if location:
            response.headers["Location"] = _relative(location)
        response.headers.setdefault("Content-Security-Policy", _CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "DENY"
        return response

    @app.errorhandler(ArchiveError)
    def archive_error(exc: ArchiveError) -> Any:
        # The API keeps the core's English message (clients match the code); pages say it
        # in the reader's language.
        message = str(exc) if _wants_json() else error_message(exc)
        return error_response(message, exc.http_status, exc.code)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        status = exc.code or 500
        english = {413: "the upload is too large", 404: "not found", 405: "method not allowed"}
        fallback = english.get(status, exc.description or exc.name)
        return error_response(fallback if _wants_json() else http_message(status, fallback), status)

    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.filters["web_url"] = web_url


def _relative(location: str) -> str:
    """Return a redirect target without scheme and host (this app only redirects to itself)."""
    parts = urlsplit(location)
    if not (parts.scheme or parts.netloc or parts.path.startswith("//")):
        return location
    # A path starting with // would itself name a host ("//evil.example/").
    path = "/" + parts.path.lstrip("/")
    return urlunsplit(("", "", path, parts.query, parts.fragment))


def web_url(url: str | None) -> str | None:
    """Return ``url`` if it is an http(s) link, else None: stored URLs are never trusted as links."""
    if url and urlsplit(url.strip()).scheme.lower() in ("http", "https"):
        return url.strip()
    return None
