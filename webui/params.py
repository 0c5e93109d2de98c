"""Search state in the URL: parsing it, and building links that change one part of it."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, request, url_for
from werkzeug.datastructures import MultiDict

from archive.errors import BadParameter
from archive.model import check_date_bound
from archive.search import Engine, SearchResults, engine_for

__all__ = ["search_kwargs", "run_search", "link", "toggle_link", "article_link", "back_link",
           "lang_link", "engine", "init_app", "FACET_PARAMS"]

#: Facet name in the results -> its URL parameter.
FACET_PARAMS = {"source": "source", "author": "author", "tags": "tag"}
_STATE = ("q", "source", "author", "tag", "from", "to", "sort", "page", "per_page", "lang")


def engine() -> Engine:
    """Return the process-wide search engine of the configured home."""
    return engine_for(current_app.config["ARCHIVE_HOME"])


def _int(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name, "")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadParameter(f"{name} must be a whole number") from None
    if not low <= value <= high:
        raise BadParameter(f"{name} must be from {low} to {high}")
    return value


def search_kwargs() -> dict[str, Any]:
    """Read the search parameters of the current URL; raise BadParameter beyond the limits."""
    cfg = current_app.config
    args = request.args
    q = args.get("q", "")
    if len(q) > cfg["MAX_QUERY_CHARS"]:
        raise BadParameter(f"the query is longer than {cfg['MAX_QUERY_CHARS']} characters")
    filters = {name: [v for v in args.getlist(name) if v] for name in ("source", "author", "tag")}
    if sum(len(v) for v in filters.values()) > cfg["MAX_FILTERS"]:
        raise BadParameter(f"more than {cfg['MAX_FILTERS']} filters")
    sort = args.get("sort") or "relevance"
    if sort not in ("relevance", "date", "-date"):
        raise BadParameter("sort must be relevance, date or -date")
    return {"query": q, **filters, "date_from": check_date_bound(args.get("from"), "from"),
            "date_to": check_date_bound(args.get("to"), "to"), "sort": sort,
            "page": _int("page", 1, 1, cfg["MAX_PAGE"]), "per_page": _int("per_page", 20, 1, 100)}


def run_search() -> tuple[dict[str, Any], SearchResults]:
    """Search with the current URL's parameters; a page past the last one is a bad parameter."""
    kwargs = search_kwargs()
    results = engine().search(**kwargs)
    if results.total_articles and kwargs["page"] > results.pages:
        raise BadParameter(f"page {kwargs['page']} is beyond the last page ({results.pages})")
    return kwargs, results


def link(endpoint: str = "pages.index", **changes: Any) -> str:
    """Return a URL for ``endpoint`` with the current search state, some parameters changed."""
    args = MultiDict((k, v) for k, v in request.args.items(multi=True) if k in _STATE)
    for key, value in changes.items():
        args.poplist(key)
        if value is None or value == "" or value == []:
            continue
        for v in value if isinstance(value, (list, tuple)) else [value]:
            args.add(key, v)
    if "page" not in changes:
        args.poplist("page")
    return url_for(endpoint, **args.to_dict(flat=False))


def toggle_link(param: str, value: str) -> str:
    """Return a URL that selects ``value`` of facet ``param`` if it is not selected, else unselects it."""
    current = request.args.getlist(param)
    new = [v for v in current if v != value] if value in current else current + [value]
    return link(**{param: new})


def article_link(article_id: str, n: int | None = None) -> str:
    """Return the reading view of an article, carrying the search state (for marks and the way back)."""
    args = {k: v for k, v in request.args.to_dict(flat=False).items() if k in _STATE and k != "lang"}
    url = url_for("pages.article", article_id=article_id, **args)
    return url + (f"#p{n}" if n is not None else "")


def back_link() -> str:
    """Return the results page the reading view was opened from."""
    args = {k: v for k, v in request.args.to_dict(flat=False).items() if k in _STATE}
    return url_for("pages.index", **args)


def lang_link(code: str) -> str:
    """Return the current page's URL in another language."""
    args = request.args.to_dict(flat=False)
    args["lang"] = [code]
    return url_for(request.endpoint or "pages.index", **(request.view_args or {}), **args)


def init_app(app: Flask) -> None:
    """Make the link helpers available in templates."""
    app.jinja_env.globals.update(link=link, toggle_link=toggle_link, lang_link=lang_link,
                                 article_link=article_link,
                                 FACET_PARAMS=FACET_PARAMS)
