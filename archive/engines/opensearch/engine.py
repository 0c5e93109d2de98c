"""The OpenSearch engine: the seam's :class:`~archive.engines.SearchEngine` over an article index.

``OpenSearchEngine(config).search(SearchRequest.build("grève", tag="social"))``:

1. **Parse** with the project's own parser (the request already holds the tree)
   and translate the tree (:mod:`.querying`): article-level AND, each word's best
   paragraph or the title, phrases in one paragraph, exclusions, fields.
2. **One search** returns the page (copies collapsed on ``copy_group``, their
   other members as inner hits), the best three matching paragraphs of each hit
   (a nested inner hit of the query's words), and aggregations that count exactly,
   since a document is an article: facets (each without its own selection), the
   year histogram, the days of the timeline, the matching paragraphs, and the copy
   groups matching more than once (so that the collapsed total is exact too).
3. **Marks** come from the project's own :class:`~archive.search.locate.Locator`
   on the fetched text: the same spans as the embedded engine's.

Reading views, related articles, selections and exports are in :mod:`.reading`
and :mod:`.scrolling`. When no node of the cluster answers, the client raises
:class:`~archive.errors.EngineUnavailable`, which the edges turn into a 503.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Hashable, Iterator, Sequence
from typing import Any

from ...errors import BadParameter, EngineUnavailable
from ...home import Archive
from ...lru import LRU
from ...model import Article
from ...query import Interpretation, Query, parse_query
from ...revisions import HistoryEntry
from ...search.article_view import ArticleView
from ...search.engine import DERIVED_SIZE
from ...search.facets import MAX_FACET_VALUES, facet_key
from ...search.request import SearchRequest
from ...search.results import Copy, Health, Hit, Paragraph, ParagraphText, SearchResults, Selection
from ..config import EngineConfig
from . import reading, scrolling
from .calls import Cluster
from .querying import FACET_FIELDS, NUMBER, PARAGRAPHS, article_query, filters, paragraph_query, scored_query
from .results import (
    SOURCE_FIELDS,
    copy_of,
    day_ordinals,
    facets_of,
    fuzzy_expansions,
    hit_of,
    locators,
)
from .suggesting import suggestion

__all__ = ["OpenSearchEngine", "SHOWN_PARAGRAPHS", "MAX_WINDOW"]

#: Paragraphs shown per hit; the deepest result a page may reach (the index's ``max_result_window``).
SHOWN_PARAGRAPHS, MAX_WINDOW = 3, 10_000
#: Distinct facet values counted per shard: above every facet's number of values, so counts are exact.
SHARD_SIZE = 10_000
#: Copies listed under a hit; seconds the archive's facet spellings are kept.
MAX_COPIES, SPELLINGS_SECONDS = 50, 60.0
_PARAGRAPH_FIELDS = [f"{PARAGRAPHS}.n", f"{PARAGRAPHS}.text"]


class OpenSearchEngine(Cluster):
    """Search an archive's article index in an OpenSearch cluster (a :class:`SearchEngine`)."""

    name = "opensearch"

    def __init__(self, config: EngineConfig, archive: Archive | None = None) -> None:
        """Search the index alias of a config on its hosts; ``archive`` (on the store's host) adds histories."""
        super().__init__(config, archive)
        self._spellings: dict[str, tuple[float, dict[str, list[str]]]] = {}
        self._lock = threading.Lock()
        self.derived: LRU[Hashable, Any] = LRU(DERIVED_SIZE)

    # -- search ------------------------------------------------------------------------

    def search(self, request: SearchRequest, *, suggestion: bool = True) -> SearchResults:
        """Return a page of articles matching a request, with exact facets, histogram and a suggestion."""
        parsed = request.parsed
        start = (request.page - 1) * request.per_page
        if start + request.per_page > MAX_WINDOW:
            raise BadParameter(f"on a cluster, results go as far as the {MAX_WINDOW:,}th: narrow the search",
                               code="page_range", max=MAX_WINDOW // request.per_page)
        body = self._page_body(request, parsed, start, request.per_page)
        body["aggs"] = self._aggregations(request, parsed)
        answer = self.run(body, ranked=parsed.root is not None)
        results = self._results(request, parsed, answer)
        if suggestion and parsed.root is not None and results.total_articles < 3:
            results.suggestion = self._suggest(request, parsed)
        return results

    def _page_body(self, request: SearchRequest, parsed: Query, start: int, size: int) -> dict[str, Any]:
        root = parsed.root
        should: list[dict[str, Any]] = [
            # Block 0, shown when no paragraph matched (a title match, or no words).
            {"nested": {"path": PARAGRAPHS, "query": {"term": {NUMBER: 0}}, "score_mode": "none", "boost": 0,
                        "inner_hits": {"name": "first", "size": 1, "_source": _PARAGRAPH_FIELDS}}}]
        para = paragraph_query(root)
        if para is not None:
            should.append({"nested": {"path": PARAGRAPHS, "query": para, "score_mode": "none", "boost": 0,
                                      "inner_hits": {"name": "shown", "size": SHOWN_PARAGRAPHS,
                                                     "_source": _PARAGRAPH_FIELDS}}})
        body: dict[str, Any] = {
            "query": {"bool": {"must": [scored_query(root)], "should": should}},
            "post_filter": {"bool": {"filter": filters(request)}},
            "from": start, "size": size, "track_total_hits": True, "_source": SOURCE_FIELDS,
            "sort": _sort(request)}
        if not request.show_copies:
            # (No inner hits here: they would run the whole query again for every hit.)
            body["collapse"] = {"field": "copy_group"}
        return body

    def _copies(self, request: SearchRequest, parsed: Query, docs: list[dict[str, Any]]) -> dict[str, list[Copy]]:
        """Return, per hit with copies, the other matching members of its copy group, best ranked first."""
        mates = {m["id"]: doc["_id"] for doc in docs for m in (doc.get("_source") or {}).get("copies") or ()}
        if request.show_copies or not mates:
            return {}
        body = {"query": {"bool": {"must": [scored_query(parsed.root)], "filter": [
            {"ids": {"values": sorted(mates)}}, *filters(request)]}},
            "size": min(len(mates), MAX_COPIES * len(docs)), "_source": ["title", "source", "date"],
            "sort": _sort(request)}
        out: dict[str, list[Copy]] = {}
        for mate in self.run(body, ranked=parsed.root is not None).get("hits", {}).get("hits", []):
            out.setdefault(mates[mate["_id"]], []).append(copy_of(mate))
        return out

    def _aggregations(self, request: SearchRequest, parsed: Query) -> dict[str, Any]:
        everything = filters(request)
        aggs: dict[str, Any] = {}
        for name, (folded, _) in FACET_FIELDS.items():
            values = {"terms": {"field": folded, "size": MAX_FACET_VALUES, "shard_size": SHARD_SIZE,
                                "order": [{"_count": "desc"}, {"_key": "asc"}]}}
            facet: dict[str, Any] = {"values": values}
            chosen = {"source": request.source, "author": request.author, "tags": request.tag}[name]
            if chosen:
                facet["selected"] = {"terms": {"field": folded, "include": sorted({facet_key(v) for v in chosen}),
                                               "size": len(chosen)}}
            aggs[f"facet_{name}"] = {"filter": {"bool": {"filter": filters(request, skip=name)}}, "aggs": facet}
        aggs["facet_year"] = {"filter": {"bool": {"filter": filters(request, dates=False)}},
                              "aggs": {"values": {"terms": {"field": "year", "size": 5000}}}}
        aggs["days"] = {"filter": {"bool": {"filter": filters(request, dates=False)}},
                        "aggs": {"per_day": {"date_histogram": {"field": "date", "calendar_interval": "day",
                                                                "min_doc_count": 1}}}}
        para = paragraph_query(parsed.root)
        if para is not None:
            aggs["paragraphs"] = {"filter": {"bool": {"filter": everything}}, "aggs": {
                "in": {"nested": {"path": PARAGRAPHS}, "aggs": {"matching": {"filter": para}}}}}
        if not request.show_copies:
            # Each copy group matching n times lists once: n - 1 articles fewer than the hits.
            aggs["repeated_groups"] = {"filter": {"bool": {"filter": everything}}, "aggs": {"groups": {
                "terms": {"field": "copy_group", "min_doc_count": 2, "size": 65_000, "shard_size": 65_000}}}}
        return aggs

    def _results(self, request: SearchRequest, parsed: Query, answer: dict[str, Any]) -> SearchResults:
        aggs = answer.get("aggregations") or {}
        hits_part = answer.get("hits") or {}
        total = int((hits_part.get("total") or {}).get("value", 0))
        repeated = (aggs.get("repeated_groups") or {}).get("groups", {}).get("buckets", [])
        total -= sum(int(b["doc_count"]) - 1 for b in repeated)
        docs = hits_part.get("hits") or []
        shown_texts = [p["_source"].get("text") or "" for d in docs for p in _inner(d, "shown")]
        expanded = fuzzy_expansions(parsed.root, shown_texts + [(d.get("_source") or {}).get("title") or ""
                                                                 for d in docs])
        marks, title_marks = locators(parsed.root, expanded)
        copied = self._copies(request, parsed, docs)
        hits: list[Hit] = []
        for doc in docs:
            inner = _inner(doc, "shown")
            matched = int(((doc.get("inner_hits") or {}).get("shown") or {}).get("hits", {}).get("total", {})
                          .get("value", 0))
            chosen = sorted(inner, key=lambda p: int(p["_source"].get("n", 0)))
            if not chosen:
                chosen = _inner(doc, "first")
            paragraphs = tuple(Paragraph.shown(int(p["_source"].get("n", 0)), p["_source"].get("text") or "",
                                               marks.spans) for p in chosen)
            copies = tuple(copied.get(doc["_id"], ()))
            title = (doc.get("_source") or {}).get("title") or ""
            hits.append(hit_of(doc, paragraphs, max(0, matched - len(inner)), title_marks.spans(title), copies))
        facets, histogram = facets_of(aggs, request, self.spellings)
        paragraphs_total = int(((aggs.get("paragraphs") or {}).get("in") or {}).get("matching", {})
                               .get("doc_count", 0))
        explain = [Interpretation(r.text, r.role, list(dict.fromkeys(r.terms + expanded.get(r.text, []))))
                   for r in parsed.interpretations]
        days = day_ordinals(((aggs.get("days") or {}).get("per_day") or {}).get("buckets", []))
        return SearchResults(request, total, paragraphs_total, hits, facets, histogram, explain=explain, days=days)

    def spellings(self, name: str) -> dict[str, list[str]]:
        """Return facet ``name``'s spellings per key, the archive's most frequent first (kept a minute)."""
        with self._lock:
            kept = self._spellings.get(name)
            if kept is not None and time.monotonic() - kept[0] < SPELLINGS_SECONDS:
                return kept[1]
        _, raw = FACET_FIELDS[name]
        every = {"terms": {"field": raw, "size": 65_000, "shard_size": 65_000}}
        answer = self.run({"size": 0, "aggs": {"values": every}})
        buckets = answer.get("aggregations", {}).get("values", {}).get("buckets", [])
        found: dict[str, list[str]] = {}
        # The most frequent spelling first, then alphabetical (the embedded facets' order).
        for b in sorted(buckets, key=lambda b: (-int(b["doc_count"]), str(b["key"]))):
            found.setdefault(facet_key(str(b["key"])), []).append(str(b["key"]))
        with self._lock:
            self._spellings[name] = (time.monotonic(), found)
        return found

    def _suggest(self, request: SearchRequest, parsed: Query) -> str | None:
        text = suggestion(self, parsed)
        if text is None:
            return None
        again = SearchRequest.build(text, source=request.source, author=request.author, tag=request.tag,
                                    date_from=request.date_from, date_to=request.date_to)
        return text if self.count(again) else None

    def count(self, request: SearchRequest) -> int:
        """Return how many articles match a request (copies counted each)."""
        body = {"query": {"bool": {"must": [article_query(request.parsed.root)], "filter": filters(request)}}}
        return int(self.call("POST", f"/{self.alias}/_count", body).get("count", 0))

    # -- the rest of the seam --------------------------------------------------------------

    def export_articles(self, request: SearchRequest) -> Iterator[tuple[Hit, Article]]:
        """Yield every matching article in the request's order, whole, through a point in time (no cap)."""
        return scrolling.export_articles(self, request)

    def select(self, request: SearchRequest, *, blocks: bool = False, counts: bool = False) -> Selection:
        """Return every matching article, oldest first (no cap), and if asked their matching paragraphs."""
        return scrolling.select(self, request, blocks=blocks or counts)

    def paragraphs(self, wanted: Sequence[tuple[str, int]],
                   records: dict[str, list[str]] | None = None) -> list[ParagraphText | None]:
        """Return paragraph ``n`` of article ``id`` for each ``(id, n)``, with title and date (None if gone)."""
        return reading.paragraphs(self, wanted)

    def read(self, article_id: str, query: str = "", at: int | None = None) -> ArticleView:
        """Return the window of an article holding block ``at`` (or its first match), marked."""
        return reading.read(self, article_id, parse_query(query) if query else None, at)

    def related(self, article_id: str, limit: int = 5) -> list[Hit]:
        """Return articles close to one (``more_like_this`` on its beginning's paragraphs and title)."""
        return reading.related(self, article_id, limit)

    def article(self, article_id: str) -> Article:
        """Return an article whole from its document; raise :class:`ArticleNotFound` if there is none."""
        return reading.article(self, article_id)

    def history(self, article_id: str, *, removed: bool = False) -> list[HistoryEntry]:
        """Return an article's versions: the store's on the writing host (removed ones' too), else the document's."""
        if self.archive is None:
            return reading.history(self, article_id, removed)
        store = self.archive.store
        if not (removed or article_id in store):
            return []
        return store.history(article_id)

    def revision(self, article_id: str, number: int) -> Article:
        """Return version ``number`` of an article (the store's, else the document's); raise ArticleNotFound."""
        if self.archive is None:
            return reading.revision(self, article_id, number)
        return self.archive.store.revision(article_id, number)

    def generation(self) -> Hashable:
        """Return the index behind the alias, its article count and last indexing time."""
        indices = tuple(sorted(self.call("GET", f"/_alias/{self.alias}")))
        answer = self.run({"size": 0, "track_total_hits": True, "aggs": {"last": {"max": {"field": "indexed_at"}}}})
        return (indices, answer["hits"]["total"]["value"], answer.get("aggregations", {}).get("last", {}).get("value"))

    def stats(self) -> dict[str, Any]:
        """Return the engine's name, its index and the number of articles it holds."""
        count = int(self.call("GET", f"/{self.alias}/_count").get("count", 0))
        return {"engine": self.name, "articles": count, "index": self.alias}

    def health(self) -> Health:
        """Tell whether the cluster answers, and its status."""
        from ...errors import ArchiveError

        try:
            answer = self.call("GET", "/_cluster/health")
        except ArchiveError as exc:
            return Health(self.name, False, str(exc))
        status = str(answer.get("status", "red"))
        return Health(self.name, status != "red", f"cluster {status}")

    def warm(self, *, postings: bool = True) -> None:
        """Open the connections and read the facets' spellings before the first reader (if the cluster answers)."""
        try:
            for name in FACET_FIELDS:
                self.spellings(name)
        except EngineUnavailable:
            pass  # a server starts while its cluster is down: searches answer 503 until it is back

    def close(self) -> None:
        """Let the engine go (the client's pooled connections are the process's: :func:`close_clients`)."""
        self.derived.clear()


def _inner(doc: dict[str, Any], name: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = (((doc.get("inner_hits") or {}).get(name) or {}).get("hits") or {}).get("hits") or []
    return found


def _sort(request: SearchRequest) -> list[Any]:
    """Return the order of a request: by score then newest, or by date (undated last either way)."""
    sort = request.effective_sort
    if sort == "relevance":
        return [{"_score": "desc"}, {"date": {"order": "desc", "missing": "_last"}}]
    return [{"date": {"order": "desc" if sort == "-date" else "asc", "missing": "_last"}}]
