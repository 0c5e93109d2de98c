"""Results: OpenSearch responses made into the project's own results, marks computed here.

Hits carry their documents' fields and the paragraphs the query matched (inner
hits); the marks are not OpenSearch's highlighter's but the project's own
(:class:`~archive.search.highlight.Marks` through a
:class:`~archive.search.locate.Locator`) on the fetched text, so a paragraph is
marked exactly as the embedded engine marks it. Facet buckets become
:class:`~archive.search.results.FacetValue` through the embedded facets' own
ordering (:func:`~archive.search.filtering.facet_values`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from ...analysis import FRENCH
from ...model import Article
from ...query import Fuzzy, Node, Not
from ...search.facets import FACETS, facet_key
from ...search.filtering import contiguous_years, facet_values, selected_years
from ...search.highlight import Marks, Spans
from ...search.locate import Locator
from ...search.request import SearchRequest
from ...search.results import Copy, FacetValue, Hit, Paragraph
from ...search.vocabulary import distance_ok

__all__ = ["article_of", "hit_of", "copy_of", "facets_of", "day_ordinals", "date_of", "fuzzy_expansions",
           "locators", "SOURCE_FIELDS"]

#: The document fields a hit needs (its paragraphs come from inner hits, never whole).
SOURCE_FIELDS = ["title", "date", "source", "author", "tags", "url", "lang", "copies"]
_EPOCH = dt.date(1970, 1, 1)


def date_of(value: Any) -> dt.date | None:
    """Return a document's date (``2020-03-17``, or epoch milliseconds from doc values), or None."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return _EPOCH + dt.timedelta(milliseconds=int(value))
    return dt.date.fromisoformat(str(value)[:10])


def _listed(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return tuple(value) if isinstance(value, list) else (str(value),)


def article_of(doc_id: str, source: Mapping[str, Any]) -> Article:
    """Return the article a whole document holds (paragraphs in order, headings kept)."""
    paragraphs = sorted(source.get("paragraphs") or (), key=lambda p: int(p.get("n", 0)))
    record = {"id": doc_id, "title": source.get("title") or "", "date": source.get("date"),
              "source": source.get("source"), "authors": list(_listed(source.get("author"))),
              "url": source.get("url"), "tags": list(_listed(source.get("tags"))), "lang": source.get("lang"),
              "paragraphs": [p.get("text") or "" for p in paragraphs],
              "headings": [i for i, p in enumerate(paragraphs) if p.get("kind") == "heading"]}
    return Article.from_stored(record)


def hit_of(doc: Mapping[str, Any], paragraphs: tuple[Paragraph, ...], more: int, title_spans: Spans,
           copies: tuple[Copy, ...] = ()) -> Hit:
    """Return a hit from a search hit's fields, its shown paragraphs and the title's marks."""
    source = doc.get("_source") or {}
    return Hit(doc["_id"], source.get("title") or "", date_of(source.get("date")), source.get("source"),
               _listed(source.get("author")), _listed(source.get("tags")), source.get("url"),
               float(doc.get("_score") or 0.0), paragraphs, more, title_spans, copies)


def copy_of(doc: Mapping[str, Any]) -> Copy:
    """Return a copy (another printing of a hit's dispatch) from a collapsed inner hit."""
    source = doc.get("_source") or {}
    return Copy(doc["_id"], source.get("source"), date_of(source.get("date")), source.get("title") or "")


def locators(root: Node | None, expanded: dict[str, list[str]]) -> tuple[Locator, Locator]:
    """Return the locators of a query's marks in paragraphs and in titles."""
    return (Locator(Marks.of(root, FRENCH, expanded)), Locator(Marks.of(root, FRENCH, expanded, title=True)))


def fuzzy_expansions(root: Node | None, texts: Iterable[str], limit: int = 32) -> dict[str, list[str]]:
    """Return, per fuzzy word of a query, the exact terms of some texts within its distance.

    The embedded engine marks the archive's words a fuzzy word expanded to; the
    words of the texts shown are the ones that can be marked there.
    """
    fuzzy = [n for n in _leaves(root) if isinstance(n, Fuzzy)]
    if not fuzzy:
        return {}
    terms: dict[str, None] = {}
    for text in texts:
        for span in FRENCH.spans(text):
            terms.setdefault(span.exact)
    return {f.text: [t for t in terms if distance_ok(f.term, t, f.distance)][:limit] for f in fuzzy}


def _leaves(node: Node | None) -> list[Node]:
    if node is None:
        return []
    if isinstance(node, Not):
        return []
    children = getattr(node, "children", None)
    if children is not None:
        return [leaf for c in children for leaf in _leaves(c)]
    return [node]


def day_ordinals(buckets: Iterable[Mapping[str, Any]]) -> np.ndarray:
    """Return a day ordinal per article from a per-day date histogram (each day repeated by its count)."""
    days, counts = [], []
    for bucket in buckets:
        if bucket.get("doc_count"):
            days.append((_EPOCH + dt.timedelta(milliseconds=int(bucket["key"]))).toordinal())
            counts.append(int(bucket["doc_count"]))
    return np.repeat(np.array(days, dtype=np.int64), np.array(counts, dtype=np.int64))


def facets_of(aggregations: Mapping[str, Any], request: SearchRequest,
              spellings: Callable[[str], Mapping[str, list[str]]]) -> tuple[dict[str, list[FacetValue]],
                                                                           list[tuple[int, int]]]:
    """Return the facets and year histogram from the facet aggregations of a search.

    ``spellings(name)`` gives each key's spellings, the archive's most frequent first:
    a value is shown in that spelling, its others listed as variants (as the embedded facets do).
    """
    out: dict[str, list[FacetValue]] = {}
    selections = {"source": request.source, "author": request.author, "tags": request.tag}
    for name in FACETS:
        agg = aggregations.get(f"facet_{name}") or {}
        buckets = list((agg.get("values") or {}).get("buckets", []))
        buckets += (agg.get("selected") or {}).get("buckets", [])
        if name == "year":
            counts = [(str(b["key"]), str(b["key"]), int(b["doc_count"]), ()) for b in buckets if b["doc_count"]]
            out[name] = facet_values(list(dict.fromkeys(counts)), selected_years(request.low, request.high),
                                     by_value=True)
            continue
        known = spellings(name)
        counts_by_key: dict[str, tuple[str, str, int, tuple[str, ...]]] = {}
        for b in buckets:
            key = facet_key(str(b["key"]))
            if not b["doc_count"] or key in counts_by_key:
                continue
            forms = known.get(key) or [str(b["key"])]
            counts_by_key[key] = (key, forms[0], int(b["doc_count"]), tuple(forms[1:]))
        out[name] = facet_values(list(counts_by_key.values()), selections[name], by_value=False)
    return out, contiguous_years(out["year"], request)
