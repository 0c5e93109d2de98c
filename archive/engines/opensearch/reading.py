"""Reading: one article from its document, as the reading view shows it, and what is close to it.

The document holds the whole article (title, every paragraph with its number and
kind) and its versions (the earlier ones whole), so a web server next to the cluster
needs no store: the reading view is
the window of :data:`~archive.search.article_view.WINDOW` blocks holding the paragraph
asked for (or the first match), marked by the project's own
:class:`~archive.search.locate.Locator`; the paragraphs that match are those the
query's words mark. Related articles come from ``more_like_this`` over the
paragraphs and the title of the article's beginning.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from ...errors import ArticleNotFound
from ...model import Article
from ...query import Query
from ...revisions import HistoryEntry
from ...search.article_view import WINDOW, ArticleView, window_start
from ...search.results import Hit, ParagraphText
from .calls import Cluster
from .querying import PARAGRAPHS, TEXT, TITLE
from .results import SOURCE_FIELDS, article_of, date_of, fuzzy_expansions, hit_of, locators

__all__ = ["article", "read", "related", "paragraphs", "history", "revision", "RELATED_CHARS"]

#: Characters of an article's beginning that related articles are looked for from; documents read at once.
RELATED_CHARS, BATCH = 10_000, 100
#: The document's field of versions, and what an entry of the history shows.
VERSIONS, _ENTRY = "versions", ("revision", "stored_at", "source", "title")


def _documents(engine: Cluster, ids: Sequence[str], fields: list[str] | None = None) -> dict[str, Any]:
    """Return the documents of some article ids (their ``_source`` but the versions, or its ``fields``), by id."""
    out: dict[str, Any] = {}
    for start in range(0, len(ids), BATCH):
        chunk = list(ids[start:start + BATCH])
        body: dict[str, Any] = {"query": {"ids": {"values": chunk}}, "size": len(chunk),
                                "_source": fields if fields is not None else {"excludes": [VERSIONS]}}
        for doc in engine.run(body).get("hits", {}).get("hits", []):
            out[doc["_id"]] = doc.get("_source") or {}
    return out


def article(engine: Cluster, article_id: str) -> Article:
    """Return an article whole from its document; raise :class:`ArticleNotFound` if there is none."""
    found = _documents(engine, [article_id]).get(article_id)
    if found is None:
        raise ArticleNotFound(article_id)
    return article_of(article_id, found)


def read(engine: Cluster, article_id: str, parsed: Query | None, at: int | None) -> ArticleView:
    """Return the window of an article holding block ``at`` (or its first match), marked as printed."""
    whole = article(engine, article_id)
    total = len(whole.blocks)
    if parsed is None or parsed.root is None:
        first = min(window_start(at or 0), window_start(total - 1))
        cut = dataclasses.replace(whole, blocks=whole.blocks[first:first + WINDOW])
        return ArticleView(cut, (), [(b, ()) for b in cut.blocks], first, total)
    expanded = fuzzy_expansions(parsed.root, [whole.title] + [b.text for b in whole.blocks])
    marks, title_marks = locators(parsed.root, expanded)
    matching = tuple(n for n, b in enumerate(whole.blocks) if marks.spans(b.text))
    start = at if at is not None else (matching[0] if matching else 0)
    first = min(window_start(start), window_start(total - 1))
    cut = dataclasses.replace(whole, blocks=whole.blocks[first:first + WINDOW])
    return ArticleView(cut, title_marks.spans(whole.title), [(b, marks.spans(b.text)) for b in cut.blocks],
                       first, total, matching)


def related(engine: Cluster, article_id: str, limit: int) -> list[Hit]:
    """Return up to ``limit`` articles close to one, copies collapsed."""
    try:
        whole = article(engine, article_id)
    except ArticleNotFound:
        return []
    # A bounded text: a 30,000-paragraph article costs what a long one does.
    text = " ".join([whole.title] + [b.text for b in whole.blocks])[:RELATED_CHARS]
    like = {"like": text, "min_term_freq": 1, "min_doc_freq": 1, "max_query_terms": 12, "minimum_should_match": 1}
    body = {"query": {"bool": {
        "should": [{"nested": {"path": PARAGRAPHS, "score_mode": "max",
                               "query": {"more_like_this": {"fields": [TEXT], **like}}}},
                   {"more_like_this": {"fields": [TITLE], **like}}],
        "minimum_should_match": 1, "must_not": [{"ids": {"values": [article_id]}}]}},
        "size": limit, "_source": SOURCE_FIELDS, "collapse": {"field": "copy_group"}}
    return [hit_of(doc, (), 0, ()) for doc in engine.run(body, ranked=True).get("hits", {}).get("hits", [])]


def paragraphs(engine: Cluster, wanted: Sequence[tuple[str, int]]) -> list[ParagraphText | None]:
    """Return paragraph ``n`` of article ``id`` for each ``(id, n)``, with title and date (None if gone)."""
    docs = _documents(engine, list(dict.fromkeys(i for i, _ in wanted)),
                      ["title", "date", f"{PARAGRAPHS}.n", f"{PARAGRAPHS}.text"])
    by_id: dict[str, dict[int, str]] = {i: {int(p.get("n", 0)): p.get("text") or "" for p in d.get(PARAGRAPHS) or ()}
                                        for i, d in docs.items()}
    out: list[ParagraphText | None] = []
    for article_id, n in wanted:
        doc = docs.get(article_id)
        text = by_id.get(article_id, {}).get(n)
        out.append(None if doc is None or text is None else (text, doc.get("title") or "", date_of(doc.get("date"))))
    return out


def history(engine: Cluster, article_id: str, removed: bool = False) -> list[HistoryEntry]:
    """Return an article's versions from its document, oldest first (none for an article indexed without them).

    A removed article has no document: with ``removed``, raise :class:`ArticleNotFound`
    (its versions are kept in the store, on the writing host).
    """
    doc = _documents(engine, [article_id], [f"{VERSIONS}.{f}" for f in _ENTRY]).get(article_id)
    if doc is None:
        if removed:
            raise ArticleNotFound(article_id)
        return []
    return [HistoryEntry(int(v["revision"]), str(v["stored_at"]), v.get("source"), str(v.get("title") or ""))
            for v in doc.get(VERSIONS) or ()]


def revision(engine: Cluster, article_id: str, number: int) -> Article:
    """Return version ``number`` of an article from its document; raise :class:`ArticleNotFound` if none."""
    doc = _documents(engine, [article_id], [VERSIONS]).get(article_id)
    found = [v for v in (doc or {}).get(VERSIONS) or () if v.get("revision") == number]
    if not found:
        raise ArticleNotFound(f"{article_id} revision {number}")
    record = found[0].get("record")
    # The live version's text is the document's own.
    return article(engine, article_id) if record is None else Article.from_stored(record)
