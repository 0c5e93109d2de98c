"""HTML pages: the search page, the reading view and the CSV export."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from pathlib import Path
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from archive import (
    ArticleNotFound,
    ArticleView,
    BadParameter,
    SearchRequest,
    SearchResults,
    marked_html,
    valid_id,
)

from . import examples, views
from .extension import archive as home
from .extension import engine, has_store
from .messages import bound_text, date_hint, error_message
from .research import streamed_export
from .state import adopt_request, back_link, link, run_search, search_request

__all__ = ["bp"]

bp = Blueprint("pages", __name__)


@bp.get("/")
def index() -> ResponseReturnValue:
    """Render the search page (or the empty state with the query syntax); bad dates are shown by their boxes.

    A bad date answers 400, like the API, with the page searched without it.
    """
    req, date_errors = _checked_dates()
    adopt_request(req)  # the page's links keep what was searched, without the bad dates
    try:
        req, results = run_search()
    except BadParameter as exc:
        if exc.code != "page_beyond":
            raise
        # A page past the end (the archive shrank, a hand-made URL): show the last one.
        last = int(exc.params["last"])
        return redirect(link(page=last if last > 1 else None))
    has_query = bool(req.query.strip())
    examples = _examples(results) if not has_query and not req.filtered else []
    return render_template("search.html", results=results, req=req, q=req.query,
                           has_query=has_query, filtered=req.filtered, examples=examples,
                           facets=views.facets(results), histogram=views.histogram(results),
                           date_errors=date_errors, sorts=views.sorts(req, labels()["sort_labels"]),
                           paging=views.paging(results), explain=views.explain(results),
                           timeline=views.timeline(results),
                           date_inputs={k: request.args.get(k, "") for k in ("from", "to")}), \
        400 if date_errors else 200


def _checked_dates() -> tuple[SearchRequest, dict[str, str]]:
    """Return the URL's search request with bad Du/Au boxes left out, and their messages by name."""
    args = MultiDict(request.args)
    errors: dict[str, str] = {}
    while True:
        try:
            return SearchRequest.from_args(args), errors
        except BadParameter as exc:
            param = str(exc.params.get("param"))
            if exc.code != "bad_date" or param in errors:
                raise
            errors[param] = error_message(exc)
            args.poplist(param)


def _examples(results: SearchResults) -> list[str]:
    """Build clickable query examples from the archive's frequent headline words (:mod:`.examples`)."""
    years = [(v.value, v.count) for v in results.facets.get("year", [])]
    # (A web server reading a cluster alone has no store to count headline words in.)
    return examples.examples(home(), years) if has_store() else []


@bp.get("/article/<article_id>")
def article(article_id: str) -> str:
    """Render one article (a window of a long one), every block anchored as #p<n>, matches of ?q= marked."""
    if not valid_id(article_id):
        raise ArticleNotFound(article_id)
    q = request.args.get("q", "")[:1000]
    at = request.args.get("at", type=int)  # a paragraph number, from 1: its window is shown
    at = at - 1 if at is not None and at > 0 else None
    versions = engine().history(article_id)
    shown = request.args.get("revision", type=int)
    if shown is not None and not (versions and shown == versions[-1].revision):
        # An earlier version: read from the revisions table, never highlighted (the index holds the current one).
        view = ArticleView.unmarked(engine().revision(article_id, shown), at)
        versions = versions or engine().history(article_id, removed=True)
    else:
        shown = None
        view = engine().read(article_id, q, at)
    blocks = views.marked_blocks(view.blocks, view.first)
    related = engine().related(article_id)
    back = back_link(article_id) if request.args else None
    modified = dt.datetime.fromisoformat(versions[-1].stored_at).date() if len(versions) > 1 else None
    return render_template("article.html", article=view.article,
                           title_html=marked_html(view.article.title, view.title_spans),
                           blocks=blocks, q=q, related=related, windows=views.windows(view),
                           matching=len(view.matching), back=back, total_marks=sum(b.marks for b in blocks),
                           title_marks=len(view.title_spans),
                           versions=versions, shown=shown, modified=modified)


@bp.get("/export.csv")
def export_csv() -> Response:
    """Return every matching article as CSV (paragraphs numbered from 1, a snippet of the first match)."""
    req = search_request()
    name = _csv_name(req.query)
    disposition = f"attachment; filename=\"{_ascii(name)}\"; filename*=UTF-8''{quote(name)}"
    return streamed_export(req, "csv", "text/csv", name, snippets=True, disposition=disposition)


def _csv_name(query: str) -> str:
    """Name an export after its query and today's date: ``archive-reforme-retraites-2026-11-29.csv``."""
    words = re.findall(r"\w+", query.lower())
    slug = "-".join(words)[:60].strip("-") or "all"
    return f"archive-{slug}-{dt.date.today().isoformat()}.csv"


def _ascii(name: str) -> str:
    """Return a file name's plain-ASCII form, for the clients that ignore ``filename*``."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9._-]+", "-", folded)


@bp.get("/favicon.ico")
def favicon() -> Response:
    """Serve the icon browsers ask for on every page."""
    return Response(_FAVICON, mimetype="image/svg+xml", headers={"Cache-Control": "public, max-age=604800"})


_FAVICON = (Path(__file__).resolve().parent / "static" / "favicon.svg").read_bytes()


@bp.app_context_processor
def labels() -> dict[str, dict[str, str]]:
    """Provide translated labels used by several templates."""
    return {"sort_labels": {"relevance": _("relevance"), "-date": _("newest first"),
                            "date": _("oldest first")}}


@bp.app_context_processor
def date_helpers() -> dict[str, Any]:
    """Give templates the one date hint and the bound format the date boxes read back."""
    return {"date_hint": date_hint, "bound_text": bound_text}
