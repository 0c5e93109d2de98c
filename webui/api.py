"""JSON API: search (the contract of :meth:`SearchResults.to_dict`), articles, adding."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request

from archive import ArticleNotFound, valid_id

from .extension import engine
from .security import check_token, error_response
from .state import run_search
from .uploads import ingest_request

__all__ = ["bp"]

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/search")
def search() -> Any:
    """Return search results in the JSON contract."""
    _, results = run_search()
    return jsonify(results.to_dict())


@bp.get("/articles/<article_id>")
def article(article_id: str) -> Any:
    """Return one article as stored."""
    if not valid_id(article_id):
        raise ArticleNotFound(article_id)
    return jsonify(engine().article(article_id).to_record())


@bp.post("/articles")
def add_article() -> Any:
    """Add a JSON article, or uploaded files, when the admin token is given."""
    if not current_app.config.get("ARCHIVE_ADMIN_TOKEN"):
        return error_response("adding articles is disabled (ARCHIVE_ADMIN_TOKEN is not set)", 403)
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    # Auth schemes are case-insensitive (RFC 9110 §11.1): "bearer" is "Bearer".
    token = token.strip() if scheme.lower() == "bearer" else ""
    if not check_token(token):
        return error_response("a valid 'Authorization: Bearer <token>' header is required", 403)
    report = ingest_request()
    status = 201 if not report.failures else (207 if report.outcomes else 400)
    body = {"ok": not report.failures, "status": status, **report.counts(),
            "articles": [{"id": i, "outcome": o} for i, o in report.outcomes],
            "failures": [{"source": f.source, "reason": f.reason} for f in report.failures],
            "notes": report.notes, "undated": report.undated}
    if report.failures:
        # The error envelope's field, so that clients read every failure the same way.
        body["error"] = "; ".join(str(f) for f in report.failures)
    return jsonify(body), status
