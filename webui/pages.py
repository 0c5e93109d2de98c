"""HTML pages: the search page, the reading view and the CSV export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

from flask import Blueprint, Response, render_template, request
from flask_babel import gettext as _

from archive import ArticleNotFound, Block, SearchResults, Spans, marked_html, valid_id

from . import views
from .extension import engine
from .state import back_link, run_search, search_request

__all__ = ["bp"]

bp = Blueprint("pages", __name__)
_EXAMPLES = ('"{phrase}"', "{word} OR {other}", "{word} -{other}", "titre:{word}", "date:{year}")


@bp.get("/")
def index() -> str:
    """Render the search page (or the empty state with the query syntax)."""
    req, results = run_search()
    has_query = bool(req.query.strip())
    examples = _examples(results) if not has_query and not req.filtered else []
    return render_template("search.html", results=results, req=req, q=req.query,
                           has_query=has_query, filtered=req.filtered, examples=examples,
                           facets=views.facets(results), histogram=views.histogram(results),
                           explain=views.explain(results), timeline=views.timeline(results))


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
    """Render one article, every block anchored as #p<n>, matches of ?q= marked and numbered."""
    if not valid_id(article_id):
        raise ArticleNotFound(article_id)
    q = request.args.get("q", "")[:1000]
    store = engine().archive.store
    versions = store.history(article_id) if article_id in store else []
    shown = request.args.get("revision", type=int)
    if shown is not None and not (versions and shown == versions[-1].revision):
        # An earlier version: read from the revisions table, never highlighted (the index holds the current one).
        art = store.revision(article_id, shown)
        title_spans: Spans = ()
        spans: list[tuple[Block, Spans]] = [(block, ()) for block in art.blocks]
        versions = versions or store.history(article_id)
    else:
        shown = None
        art, title_spans, spans = engine().read(article_id, q)
    blocks = views.marked_blocks(spans)
    related = engine().related(article_id)
    back = back_link() if request.args else None
    modified = dt.datetime.fromisoformat(versions[-1].stored_at).date() if len(versions) > 1 else None
    return render_template("article.html", article=art, title_html=marked_html(art.title, title_spans),
                           blocks=blocks, q=q, related=related,
                           back=back, total_marks=sum(b.marks for b in blocks),
                           versions=versions, shown=shown, modified=modified)


@bp.get("/export.csv")
def export_csv() -> Response:
    """Return every matching article as CSV, cells neutralised for spreadsheets."""
    results = engine().export(search_request())
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "date", "title", "source", "author", "url", "score", "paragraphs"])
    for hit in results.hits:
        writer.writerow([_cell(v) for v in (
            hit.id, hit.date.isoformat() if hit.date else "", hit.title, hit.source or "",
            hit.author or "", hit.url or "", f"{hit.score:.4f}",
            " ".join(str(p.n) for p in hit.paragraphs))])
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="archive-export.csv"'})


def _cell(value: str) -> str:
    """Neutralise a cell a spreadsheet would read as a formula."""
    # Spreadsheets also read the full-width forms (＝＋－＠) as formula signs.
    if value and value[0] in "=+-@\t\r\uff1d\uff0b\uff0d\uff20":
        return "'" + value
    return value


@bp.app_context_processor
def labels() -> dict[str, object]:
    """Provide translated labels used by several templates."""
    return {"sort_labels": {"relevance": _("relevance"), "-date": _("newest first"),
                            "date": _("oldest first")}}
