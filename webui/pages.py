"""HTML pages: the search page, the reading view and the CSV export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from pathlib import Path
from urllib.parse import quote

from flask import Blueprint, Response, g, redirect, render_template, request
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

from . import views
from .extension import engine, exporting
from .messages import error_message
from .state import back_link, link, run_search, search_request

__all__ = ["bp"]

bp = Blueprint("pages", __name__)
_EXAMPLES = ('"{phrase}"', "{word} OR {other}", "{word} -{other}", "titre:{word}", "date:{year}")


@bp.get("/")
def index() -> ResponseReturnValue:
    """Render the search page (or the empty state with the query syntax); bad dates are shown by their boxes.

    A bad date answers 400, like the API, with the page searched without it.
    """
    date_errors = _checked_dates()
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


def _checked_dates() -> dict[str, str]:
    """Validate the Du/Au boxes: a bad one is left out of the search and its message returned by its name."""
    args = MultiDict(request.args)
    errors: dict[str, str] = {}
    while True:
        try:
            g.search_request = SearchRequest.from_args(args)
            return errors
        except BadParameter as exc:
            param = str(exc.params.get("param"))
            if exc.code != "bad_date" or param in errors:
                raise
            errors[param] = error_message(exc)
            args.poplist(param)


def _examples(results: SearchResults) -> list[str]:
    """Build clickable query examples from the archive itself (its tags and a frequent title word)."""
    words = []
    for hit in results.hits[:5]:
        words += re.findall(r"\w{6,}", hit.title)
    tags = [v.value for v in results.facets.get("tags", [])]
    years = [v.value for v in results.facets.get("year", [])]
    if not words:
        return []
    word = words[0]
    other = tags[0] if tags else (words[1] if len(words) > 1 else word)
    titles = [h.title for h in results.hits if len(h.title.split()) >= 2]
    phrase = " ".join(titles[0].split()[:2]) if titles else word
    year = years[0] if years else "2020"
    return [e.format(word=word, other=other, phrase=phrase, year=year) for e in _EXAMPLES]


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
                           versions=versions, shown=shown, modified=modified)


@bp.get("/export.csv")
def export_csv() -> Response:
    """Return every matching article as CSV (paragraphs numbered from 1), cells neutralised for spreadsheets."""
    with exporting():
        return _export_csv(search_request())


def _export_csv(req: SearchRequest) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "date", "title", "source", "author", "tags", "url", "score", "paragraphs",
                     "snippet"])
    for hit, article in engine().export_articles(req):
        first = hit.paragraphs[0].n if hit.paragraphs else 0
        snippet = _snippet(article.blocks[first].text) if first < len(article.blocks) else ""
        writer.writerow([_cell(v) for v in (
            hit.id, hit.date.isoformat() if hit.date else "", hit.title, hit.source or "",
            hit.author or "", "; ".join(hit.tags), hit.url or "", f"{hit.score:.4f}",
            " ".join(str(p.n + 1) for p in hit.paragraphs), snippet)])
    name = _csv_name(req.query)
    disposition = f"attachment; filename=\"{_ascii(name)}\"; filename*=UTF-8''{quote(name)}"
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": disposition})


_SNIPPET_CHARS = 240


def _snippet(text: str) -> str:
    """Return the start of a paragraph, cut at a word, for the CSV's snippet column."""
    if len(text) <= _SNIPPET_CHARS:
        return text
    return text[:_SNIPPET_CHARS].rsplit(" ", 1)[0] + "…"


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


def _cell(value: str) -> str:
    """Neutralise a cell a spreadsheet would read as a formula."""
    # Spreadsheets also read the full-width forms (＝＋－＠) as formula signs.
    if value and value[0] in "=+-@\t\r\uff1d\uff0b\uff0d\uff20":
        return "'" + value
    return value


@bp.app_context_processor
def labels() -> dict[str, dict[str, str]]:
    """Provide translated labels used by several templates."""
    return {"sort_labels": {"relevance": _("relevance"), "-date": _("newest first"),
                            "date": _("oldest first")}}
