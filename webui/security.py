"""Security headers, the JSON error envelope, CSRF tokens and the admin token check."""

from __future__ import annotations

import hmac
import secrets
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, jsonify, render_template, request, session
from werkzeug.exceptions import HTTPException

from archive import ArchiveError

from .messages import error_message, http_message

__all__ = ["init_app", "error_response", "check_token", "csrf_token", "check_csrf"]

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


def check_token(given: str | None) -> bool:
    """Compare a token with ARCHIVE_ADMIN_TOKEN in constant time."""
    expected = current_app.config.get("ARCHIVE_ADMIN_TOKEN")
    if not expected or not given:
        return False
    return hmac.compare_digest(given.encode("utf-8"), str(expected).encode("utf-8"))


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

    @app.after_request
    def headers(response: Response) -> Response:
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


def web_url(url: str | None) -> str | None:
    """Return ``url`` if it is an http(s) link, else None: stored URLs are never trusted as links."""
    if url and urlsplit(url.strip()).scheme.lower() in ("http", "https"):
        return url.strip()
    return None
