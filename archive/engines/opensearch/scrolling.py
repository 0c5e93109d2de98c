"""Scrolling: every matching article, with no 10,000-result cap (point in time + ``search_after``).

A trend of ``la`` selects every article of the archive; an export of ``grève``
writes all of them. Both walk the results in pages of :data:`PAGE` through a
*point in time* (the index as it was when the walk began, whatever is indexed
meanwhile), each page asking for the hits after the last one's sort values,
ties broken by the article's id.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from ...errors import ArchiveError
from ...model import Article
from ...search.request import SearchRequest
from ...search.results import Hit, Paragraph, Selection
from .querying import NUMBER, PARAGRAPHS, article_query, filters, paragraph_query, scored_query
from .results import article_of, date_of, hit_of

if TYPE_CHECKING:
    from .engine import OpenSearchEngine

__all__ = ["walk", "select", "export_articles", "PAGE", "MAX_BLOCKS"]

#: Hits per page of a walk; matching paragraph numbers listed per article (``index.max_inner_result_window``).
PAGE, MAX_BLOCKS = 1000, 100
KEEP_ALIVE = "2m"
#: The last sort key of a walk: the article's id (a keyword field: sorting on ``_id`` is deprecated).
TIE = {"id": {"order": "asc", "unmapped_type": "keyword"}}


def walk(engine: OpenSearchEngine, body: dict[str, Any], page: int = PAGE, *,
         ranked: bool = False) -> Iterator[dict[str, Any]]:
    """Yield every hit of a search body (its ``sort`` ending on :data:`TIE`) through a point in time."""
    pit = engine.call("POST", f"/{engine.alias}/_search/point_in_time?keep_alive={KEEP_ALIVE}")["pit_id"]
    try:
        after: list[Any] | None = None
        while True:
            query = {**body, "size": page, "pit": {"id": pit, "keep_alive": KEEP_ALIVE}, "track_total_hits": False}
            if after is not None:
                query["search_after"] = after
            answer = engine.call("POST", "/_search?search_type=dfs_query_then_fetch" if ranked else "/_search", query)
            pit = answer.get("pit_id", pit)
            hits = answer.get("hits", {}).get("hits", [])
            yield from hits
            if len(hits) < page:
                return
            after = hits[-1]["sort"]
    finally:
        try:
            engine.call("DELETE", "/_search/point_in_time", {"pit_id": [pit]})
        except ArchiveError:
            pass  # a point in time left behind expires by itself


def _query(request: SearchRequest, blocks: bool, scored: bool = False) -> dict[str, Any]:
    root = request.parsed.root
    query: dict[str, Any] = {"bool": {"must": [scored_query(root) if scored else article_query(root)],
                                      "filter": filters(request)}}
    para = paragraph_query(root) if blocks else None
    if para is not None:
        query["bool"]["should"] = [{"nested": {
            "path": PARAGRAPHS, "query": para, "score_mode": "none", "boost": 0,
            "inner_hits": {"name": "blocks", "size": MAX_BLOCKS, "_source": False, "docvalue_fields": [NUMBER],
                           "sort": [{NUMBER: "asc"}]}}}]
    return query


def _blocks(doc: dict[str, Any]) -> list[int]:
    inner = (((doc.get("inner_hits") or {}).get("blocks") or {}).get("hits") or {}).get("hits") or []
    return sorted(int(h["fields"][NUMBER][0]) for h in inner if h.get("fields", {}).get(NUMBER))


def select(engine: OpenSearchEngine, request: SearchRequest, *, blocks: bool) -> Selection:
    """Return every matching article, oldest first (undated last), and if asked their matching paragraphs.

    Each paragraph's count of marks is left to the text (-1): the concordance reads them.
    """
    body = {"query": _query(request, blocks), "_source": False,
            "docvalue_fields": [{"field": "date", "format": "strict_date"}],
            "sort": [{"date": {"order": "asc", "missing": "_last"}}, TIE]}
    ids: list[str] = []
    days: list[int] = []
    block_article: list[int] = []
    block_n: list[int] = []
    for doc in walk(engine, body):
        date = date_of((doc.get("fields", {}).get("date") or [None])[0])
        if blocks:
            numbers = _blocks(doc)
            block_article += [len(ids)] * len(numbers)
            block_n += numbers
        ids.append(doc["_id"])
        days.append(date.toordinal() if date else -1)
    values = np.full(len(block_n), -1, dtype=np.int64) if blocks else None
    return Selection(ids, np.array(days, dtype=np.int64), np.array(block_article, dtype=np.int64),
                     np.array(block_n, dtype=np.int64), {}, values)


def export_articles(engine: OpenSearchEngine, request: SearchRequest) -> Iterator[tuple[Hit, Article]]:
    """Yield every matching article in the request's order (copies too), whole, with its matching paragraphs."""
    sort = request.effective_sort
    order: list[Any]
    if sort == "relevance":
        order = [{"_score": "desc"}, {"date": {"order": "desc", "missing": "_last"}}, TIE]
    else:
        order = [{"date": {"order": "desc" if sort == "-date" else "asc", "missing": "_last"}}, TIE]
    body = {"query": _query(request, True, scored=sort == "relevance"), "sort": order}
    for doc in walk(engine, body, page=200, ranked=sort == "relevance"):
        article = article_of(doc["_id"], doc.get("_source") or {})
        numbers = tuple(Paragraph(n, "") for n in _blocks(doc))
        yield hit_of(doc, numbers, 0, ()), article
