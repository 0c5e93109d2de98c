"""Search state in the URL: the request it holds, and links that change one part of it."""

from __future__ import annotations

from typing import Any

from flask import Flask, g, request, url_for
from werkzeug.datastructures import MultiDict

from archive import READING_WINDOW, BadParameter, SearchRequest, SearchResults

from .extension import engine
from .i18n import LANGUAGES

__all__ = ["search_request", "adopt_request", "run_search", "link", "toggle_link", "article_link", "back_link",
           "lang_link", "state_fields", "init_app", "FACET_PARAMS"]

#: Facet name in the results -> its URL parameter.
FACET_PARAMS = {"source": "source", "author": "author", "tags": "tag"}
_STATE = ("q", "source", "author", "tag", "from", "to", "sort", "page", "per_page", "copies", "lang")


def search_request() -> SearchRequest:
    """Return the current URL's search request, validated once per request."""
    if "search_request" not in g:
        g.search_request = SearchRequest.from_args(request.args)
    found: SearchRequest = g.search_request
    return found


def adopt_request(req: SearchRequest) -> None:
    """Make ``req`` the current request's search (a page that corrected the URL's): searches and links use it."""
    g.search_request = req


def run_search() -> tuple[SearchRequest, SearchResults]:
    """Search with the current URL's request; a page past the last one is a bad parameter."""
    req = search_request()
    results = engine().search(req)
    if results.total_articles and req.page > results.pages:
        raise BadParameter(f"page {req.page} is beyond the last page ({results.pages})",
                           code="page_beyond", page=req.page, last=results.pages)
    return req, results


def _state() -> MultiDict[str, str]:
    """Return the current search state as URL parameters, each once (never the URL's repeats)."""
    # Computed once per request: a results page builds hundreds of links from it.
    if "state_args" not in g:
        try:
            pairs = search_request().to_args()
        except BadParameter:
            pairs = []
        if request.args.get("lang") in LANGUAGES:
            pairs.append(("lang", request.args["lang"]))
        g.state_args = pairs
    return MultiDict(g.state_args)


def link(endpoint: str = "pages.index", /, **changes: Any) -> str:
    """Return a URL for ``endpoint`` with the current search state, some parameters changed."""
    args = _state()
    for key, value in changes.items():
        args.poplist(key)
        if value is None or value == "" or value == []:
            continue
        for v in value if isinstance(value, (list, tuple)) else [value]:
            args.add(key, v)
    if "page" not in changes:
        args.poplist("page")
    return _url(endpoint, args.to_dict(flat=False))


def toggle_link(param: str, value: str, variants: tuple[str, ...] = ()) -> str:
    """Return a URL that selects ``value`` of facet ``param`` if it is not selected, else unselects it.

    ``variants`` are the value's other spellings: any of them in the URL selects it.
    """
    current = _state().getlist(param)
    spellings = {value, *variants}
    if spellings & set(current):
        new = [v for v in current if v not in spellings]
    else:
        new = [*current, value]
    return link(**{param: new})


def article_link(article_id: str, n: int | None = None, *, window: bool = False) -> str:
    """Return the reading view of an article at block ``n`` (the core's, 0-based), carrying the search state.

    Anchors are numbered from 1, as the reader sees paragraphs: block 3 is ``#p4``. A
    long article is shown a window at a time: a block past the first window is named
    (``at=``), and so is every block of a link between windows (``window``).
    """
    args = {k: v for k, v in _state().to_dict(flat=False).items() if k != "lang"}
    if n is not None and (window or n >= READING_WINDOW):
        args["at"] = [str(n + 1)]
    url = _url("pages.article", {"article_id": article_id, **args})
    return url + (f"#p{n + 1}" if n is not None else "")


def back_link(article_id: str | None = None) -> str:
    """Return the results page the reading view was opened from, scrolled to the article's hit."""
    return _url("pages.index", _state().to_dict(flat=False)) + (f"#r-{article_id}" if article_id else "")


def state_fields(*dropped: str) -> list[tuple[str, str]]:
    """Return the current search state as hidden form fields, without ``dropped`` (and the page)."""
    skip = {*dropped, "page"}
    return [(k, v) for k, v in _state().items(multi=True) if k not in skip]


def lang_link(code: str) -> str:
    """Return the current page's URL in another language."""
    args = {k: v[:1] for k, v in request.args.to_dict(flat=False).items() if k not in _STATE}
    args.update(_state().to_dict(flat=False))
    args["lang"] = [code]
    return _url(request.endpoint or "pages.index", {**(request.view_args or {}), **args})


def _url(endpoint: str, values: dict[str, Any]) -> str:
    """Return ``url_for(endpoint)`` with these URL parameters (lists repeat a parameter)."""
    return url_for(endpoint, **values)


def init_app(app: Flask) -> None:
    """Make the link helpers available in templates."""
    app.jinja_env.globals.update(link=link, toggle_link=toggle_link, lang_link=lang_link,
                                 article_link=article_link, state_fields=state_fields)
