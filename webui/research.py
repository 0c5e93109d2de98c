"""Research pages: trends, concordance, exports, the Atom feed, and citing an article.

Each view builds :class:`archive.SearchRequest` s from the URL (the search
page's parameters), asks :mod:`archive.research`, and renders: HTML through
templates (geometry from :mod:`.charts`), JSON through the core's ``to_dict``,
files with a name carrying the query and the day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, render_template, request, url_for
from flask_babel import get_locale, pgettext
from flask_babel import gettext as _

from archive import Article, BadParameter, SearchRequest
from archive.csvfile import FLAVOURS, table_lines
from archive.research import (
    EXPORT_FORMATS,
    KWIC_SORTS,
    MAX_QUERIES,
    MEDIA_TYPES,
    Concordance,
    Trend,
    as_by,
    atom,
    concordance,
    export_filename,
    export_lines,
    highwire,
    permalink,
    reference,
    ris,
    trend,
)

from . import charts
from .extension import Held, engine, exporting, slot
from .i18n import format_number
from .state import article_link, link, search_request

__all__ = ["bp", "csv_labels", "csv_flavour", "download"]

bp = Blueprint("research", __name__)
MEASURES = ("share", "count")


def here(endpoint: str, /, **changes: Any) -> str:
    """Return ``endpoint`` with every current URL parameter (research ones too), some changed."""
    args = request.args.copy()
    for key, value in changes.items():
        args.poplist(key)
        for v in value if isinstance(value, (list, tuple)) else [value]:
            if v is not None and v != "":
                args.add(key, v)
    if "page" not in changes:
        args.poplist("page")
    values: dict[str, Any] = args.to_dict(flat=False)
    return url_for(endpoint, **values)


# -- trends ---------------------------------------------------------------------------------

def _trend_requests() -> list[SearchRequest]:
    """Return one request per non-empty ``q`` (at most four), each with the URL's filters."""
    queries = [q.strip() for q in request.args.getlist("q") if q.strip()]
    if len(queries) > MAX_QUERIES:
        raise BadParameter(f"a trend compares at most {MAX_QUERIES} queries")
    base = search_request()
    return [base.replace(query=q, page=1) for q in queries]


def _trend() -> Trend | None:
    requests = _trend_requests()
    return trend(engine(), requests, as_by(request.args.get("by"))) if requests else None


def trends_url(**changes: Any) -> str:
    """Return the trends page in the current language (/tendances or /trends)."""
    endpoint = "research.trends_en" if str(get_locale()) == "en" else "research.trends"
    return link(endpoint, **changes)


@bp.get("/tendances")
@bp.get("/trends", endpoint="trends_en")
def trends() -> str:
    """Render the trends page: up to four queries as lines over time."""
    result = _trend()
    measure = request.args.get("measure") or "share"
    if measure not in MEASURES:
        raise BadParameter("measure must be share or count")
    chart = charts.trend_chart(result, measure, format_number) if result else None
    phone = charts.trend_chart(result, measure, format_number, **charts.PHONE) if result else None
    queries = [s.query for s in result.series] if result else []
    slots = queries + [""] * (MAX_QUERIES - len(queries))
    return render_template("trends.html", trend=result, chart=chart, phone_chart=phone, measure=measure, slots=slots,
                           req=search_request(), by=request.args.get("by") or "",
                           min_share_base=charts.MIN_SHARE_BASE,
                           csv_url=here("research.trend_csv", measure=None),
                           json_url=here("research.api_trend", measure=None),
                           measure_links={m: here(request.endpoint or "research.trends", measure=m)
                                          for m in MEASURES},
                           by_links={b: here(request.endpoint or "research.trends", by=b)
                                     for b in ("", "year", "month", "day")})


@bp.get("/api/trend")
def api_trend() -> Any:
    """Return the trend in the JSON contract."""
    result = _trend()
    if result is None:
        raise BadParameter("give at least one query: ?q=…")
    return jsonify(result.to_dict())


@bp.get("/trend.csv")
def trend_csv() -> Response:
    """Return the trend's table as CSV (one row per period, count and share per query)."""
    flavour = csv_flavour()
    result = _trend()
    if result is None:
        raise BadParameter("give at least one query: ?q=…")
    header, *rows = result.rows(csv_labels(flavour))
    first = result.series[0].request
    name = export_filename(first, "csv", dt.date.today()).replace("archive-", "archive-trend-", 1)
    return download(table_lines([str(h) for h in header], rows, flavour), "text/csv", name)


# -- concordance ----------------------------------------------------------------------------

def _concordance(per_page: int = 50) -> Concordance | None:
    req = search_request()
    if not req.query.strip():
        return None
    width, page, size = _int("width", 60), _int("page", 1), _int("per_page", per_page)
    sort = request.args.get("order") or "date"
    with exporting():  # a sort may read up to its budget of paragraphs: one at a time
        return concordance(engine(), req, width=width, page=page, per_page=size, sort=sort)


def _int(name: str, default: int) -> int:
    value = request.args.get(name) or ""
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise BadParameter(f"{name} must be a whole number") from None


@bp.get("/concordance")
def concordance_page() -> str:
    """Render the concordance: every occurrence in its context, aligned on the match.

    ``?order=left|right`` sorts by the word before or after (``sort`` stays the search's).
    """
    kwic = _concordance()
    lines = [(line, article_link(line.id, line.n)) for line in kwic.lines] if kwic else []
    return render_template("concordance.html", kwic=kwic, lines=lines, req=search_request(),
                           order=request.args.get("order") or "date",
                           order_links={s: here("research.concordance_page", order=None if s == "date" else s)
                                        for s in KWIC_SORTS},
                           page_link=lambda p: here("research.concordance_page", page=p),
                           search_url=link("pages.index"), trends=trends_url(),
                           csv_url=here("research.kwic_csv"), json_url=here("research.api_kwic"))


@bp.get("/api/kwic")
def api_kwic() -> Any:
    """Return one page of the concordance in the JSON contract."""
    kwic = _concordance()
    if kwic is None:
        raise BadParameter("give a query: ?q=…")
    return jsonify(kwic.to_dict())


@bp.get("/kwic.csv")
def kwic_csv() -> Response:
    """Return the concordance's page as CSV (200 lines a page unless asked)."""
    flavour = csv_flavour()
    kwic = _concordance(per_page=200)
    if kwic is None:
        raise BadParameter("give a query: ?q=…")
    labels = csv_labels(flavour)
    header, *rows = kwic.rows()
    name = export_filename(kwic.request, "csv", dt.date.today()).replace("archive-", "archive-kwic-", 1)
    return download(table_lines([labels.get(str(h), str(h)) for h in header], rows, flavour), "text/csv", name)


# -- exports and feed -----------------------------------------------------------------------

@bp.get("/export")
def export_file() -> Response:
    """Return every matching article as csv, csv-excel, jsonl or an IRaMuTeQ corpus, streamed."""
    fmt = request.args.get("format") or "csv"
    if fmt not in EXPORT_FORMATS:
        raise BadParameter(f"format must be one of {', '.join(EXPORT_FORMATS)}")
    req = search_request()
    media, _ext = MEDIA_TYPES[fmt]
    return streamed_export(req, fmt, media, export_filename(req, fmt, dt.date.today()), snippets=False)


def streamed_export(req: SearchRequest, fmt: str, media: str, name: str, *, snippets: bool,
                    disposition: str | None = None) -> Response:
    """Return an export read from the store as it is sent, holding the export slot until it ends.

    The request is ranked (and refused if wrong) before anything is sent; the
    server closing the response (the client left) stops the reading.
    """
    held = slot()
    held.acquire()
    try:
        lines = export_lines(engine(), req, fmt, labels=csv_labels(fmt), snippets=snippets)
    except BaseException:
        held.release()
        raise
    return Response(Held(lines, held), mimetype=media,
                    headers={"Content-Disposition": disposition or f'attachment; filename="{name}"'})


@bp.get("/feed.atom")
def feed() -> Response:
    """Return the 20 newest matching articles as an Atom feed."""
    req = search_request().replace(sort="-date", page=1, per_page=20)
    results = engine().search(req, suggestion=False)
    title = _("French news archive") + (f" · {req.query}" if req.query else "")
    body = atom(results, title=title, self_url=request.url, page_url=request.host_url.rstrip("/") + link("pages.index"),
                article_url=lambda i: _permalink(i) or url_for("pages.article", article_id=i, _external=True),
                now=dt.datetime.now(dt.UTC))
    return Response(body, mimetype="application/atom+xml")


def download(chunks: Iterator[str], media: str, name: str) -> Response:
    """Return a file to download, named ``name``."""
    return Response(chunks, mimetype=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


def csv_flavour() -> str:
    """Return the CSV flavour asked by ``?format=`` (csv unless csv-excel)."""
    flavour = request.args.get("format") or "csv"
    if flavour not in FLAVOURS:
        raise BadParameter(f"format must be one of {', '.join(FLAVOURS)}")
    return flavour


def csv_labels(flavour: str) -> dict[str, str]:
    """Return the CSV columns named in the reader's language for the spreadsheet flavour (none otherwise)."""
    if flavour != "csv-excel":
        return {}
    return {key: pgettext("CSV column", key) for key in _CSV_KEYS}


_CSV_KEYS = ("id", "date", "title", "source", "author", "tags", "url", "score", "paragraphs", "first_paragraph",
             "snippet", "n", "left", "match", "right", "period", "count", "share")


# -- citing ---------------------------------------------------------------------------------

@bp.get("/article/<article_id>.ris")
def article_ris(article_id: str) -> Response:
    """Return one article as an RIS record, for reference managers."""
    article = engine().article(article_id)
    return Response(ris(article, _permalink(article.id)), mimetype="application/x-research-info-systems",
                    headers={"Content-Disposition": f'attachment; filename="{article.id}.ris"'})


def _permalink(article_id: str) -> str | None:
    """Return the article's permalink under ``ARCHIVE_PUBLIC_URL`` (never this server's own host)."""
    return permalink(article_id, current_app.config.get("ARCHIVE_PUBLIC_URL"))


def citation(article: Article) -> dict[str, Any]:
    """Return what the reading view shows to cite an article: meta tags, reference, permalink, RIS.

    The permalink shown is the public one, else this page's address as the reader
    reached it (``canonical`` stays relative then: it names no host).
    """
    public = _permalink(article.id)
    here = url_for("pages.article", article_id=article.id)
    return {"meta": highwire(article, public), "permalink": public or request.host_url.rstrip("/") + here,
            "canonical": public or here, "reference": reference(article, public, dt.date.today()),
            "ris": url_for("research.article_ris", article_id=article.id)}


@bp.app_context_processor
def helpers() -> dict[str, Any]:
    """Give templates the research links of the current search and the citation of an article."""

    def research_links() -> dict[str, Any]:
        if "research_links" not in g:
            g.research_links = {
                "trends": trends_url(page=None, sort=None),
                "concordance": link("research.concordance_page", page=None, sort=None),
                "feed": link("research.feed", page=None, sort=None, lang=None),
                "exports": [(f, link("research.export_file", format=f, page=None)) for f in EXPORT_FORMATS]}
        found: dict[str, Any] = g.research_links
        return found

    return {"research_links": research_links, "citation": citation, "trends_url": trends_url}
