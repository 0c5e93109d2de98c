"""HTML pages: the search page, the reading view and the CSV export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

from flask import Blueprint, Response, render_template, request
from flask_babel import gettext as _
from markupsafe import escape

from archive.errors import ArticleNotFound
from archive.model import valid_id
from archive.search import SearchResults

from .params import back_link, engine, run_search, search_kwargs

__all__ = ["bp"]

bp = Blueprint("pages", __name__)
_MARK = re.compile(r"<mark>")
_EXAMPLES = ('"{phrase}"', "{word} OR {other}", "{word} -{other}", "titre:{word}", "date:{year}")


@bp.get("/")
def index() -> str:
    """Render the search page (or the empty state with the query syntax)."""
    kwargs, results = run_search()
    has_query = bool(kwargs["query"].strip())
    filtered = any(kwargs[k] for k in ("source", "author", "tag", "date_from", "date_to"))
    examples = _examples(results) if not has_query and not filtered else []
    return render_template("search.html", results=results, q=kwargs["query"], args=kwargs,
                           has_query=has_query, filtered=filtered, examples=examples)


def _examples(results: SearchResults) -> list[str]:
    """Build clickable query examples from the archive itself (its tags and a frequent title word)."""
    words = []
    for hit in results.hits[:5]:
        words += [w for w in re.findall(r"\w{6,}", hit.title)]
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
    """Render one article, every block anchored as #p<n>, matches of ?q= marked."""
    if not valid_id(article_id):
        raise ArticleNotFound(article_id)
    q = request.args.get("q", "")[:1000]
    store = engine().archive.store
    versions = store.history(article_id) if article_id in store else []
    shown = request.args.get("revision", type=int)
    if shown is not None and not (versions and shown == versions[-1].revision):
        # An earlier version: read from the revisions table, never highlighted (the index holds the current one).
        art = store.revision(article_id, shown)
        marked = [(b, str(escape(b.text)), 0) for b in art.blocks]
        versions = versions or store.history(article_id)
    else:
        shown = None
        art, marked = engine().read(article_id, q)
    # Number the marks server-side so that #m<k> anchors work without JavaScript.
    counter = iter(range(1, sum(c for _, _, c in marked) + 1))
    blocks = [(b, _MARK.sub(lambda _m: f'<mark id="m{next(counter)}">', html), c) for b, html, c in marked]
    related = engine().related(article_id)
    back = back_link() if request.args else None
    modified = dt.datetime.fromisoformat(versions[-1].stored_at).date() if len(versions) > 1 else None
    return render_template("article.html", article=art, blocks=blocks, q=q, related=related,
                           back=back, total_marks=sum(c for _, _, c in blocks),
                           versions=versions, shown=shown, modified=modified)


@bp.get("/export.csv")
def export_csv() -> Response:
    """Return every matching article as CSV, cells neutralised for spreadsheets."""
    kwargs = search_kwargs()
    kwargs.pop("page")
    kwargs.pop("per_page")
    results = engine().export(**kwargs)
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
    if value and value[0] in "=+-@\t\r":
        return "'" + value
    return value


@bp.app_context_processor
def labels() -> dict[str, object]:
    """Provide translated labels used by several templates."""
    return {"sort_labels": {"relevance": _("relevance"), "-date": _("newest first"),
                            "date": _("oldest first")},
            "facet_labels": {"source": _("Source"), "author": _("Author"), "tags": _("Tags"),
                             "year": _("Year")}}
