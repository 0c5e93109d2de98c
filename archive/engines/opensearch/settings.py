"""Index settings and mappings: the embedded French chain as OpenSearch's analysis expresses it.

One document per article (``_id`` = the article's id), its paragraphs nested, so
that every count (``hits.total``, facet buckets, histogram) counts articles exactly.

Each text field is analyzed three ways, like the embedded index's three kinds of terms:

* the field itself (analyzer ``archive_search``): the *search terms*. Every
  apostrophe becomes one (``’ ʼ ‘ ` ´`` → ``'``); words are cut by the chain's own
  pattern (:data:`archive.analysis.WORD_PATTERN`, so ``aujourd'hui``, ``R&D`` and
  ``O.N.U.`` stay whole and hyphens separate); dots inside a word go; lowercase;
  elisions (:data:`archive.analysis.ELISIONS`) are cut; the chain's stop words
  (:data:`archive.analysis.STOP_WORDS`, question words included) leave a gap;
  then a ``multiplexer`` puts both search terms at the same position, as the
  chain does: Snowball French then folding, and folding then Snowball French
  (Lucene's ``FrenchStemmer`` of the Snowball project, the algorithm PyStemmer runs).
* ``.exact`` (analyzer ``archive_exact``): the exact terms of phrases, folded, no
  stop words, no stemming (``"etat d'urgence"`` matches ``état d’urgence``).
* ``.forms`` (analyzer ``archive_forms``): the printed forms, elision cut, case and
  accents kept, for typed accents and the form bonus (query them with
  ``case_insensitive`` where case does not matter).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from ...analysis import APOSTROPHES, ELISIONS, STOP_WORDS, WORD_PATTERN
from ...search.bm25 import B_TEXT, B_TITLE, K1, MIN_BLOCK_LENGTH

__all__ = ["SHARDS", "REPLICAS", "analysis_settings", "index_settings", "mappings", "index_body",
           "alias_name", "index_name", "JAVA_WORD_PATTERN", "VERSIONS_MAPPING"]

#: Shards and replicas of a new index (overridable per call).
SHARDS = 3
REPLICAS = 1

#: The chain's word pattern in Java's syntax: the same pattern, read with Unicode classes.
JAVA_WORD_PATTERN = WORD_PATTERN

#: Exact terms (stop words kept) per search term in French running text, for the exact field's length floor.
EXACT_PER_TEXT = 1.8

_INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff"


def _apostrophe_mappings() -> list[str]:
    # The mapping char filter reads "\\uXXXX" escapes; the plain apostrophe maps to itself.
    return [f"\\u{ord(c):04x}=>'" for c in APOSTROPHES if c != "'"] + [
        f"\\u{ord(c):04x}=>" for c in _INVISIBLE]


def analysis_settings() -> dict[str, Any]:
    """Return the ``analysis`` section: char filter, tokenizer, filters and the three analyzers."""
    stop_words = sorted({w.replace("’", "'") for w in STOP_WORDS})
    return {
        "char_filter": {
            "archive_apostrophes": {"type": "mapping", "mappings": _apostrophe_mappings()},
        },
        "tokenizer": {
            "archive_words": {"type": "pattern", "pattern": JAVA_WORD_PATTERN, "group": 0,
                              "flags": "UNICODE_CHARACTER_CLASS"},
        },
        "filter": {
            "archive_dots": {"type": "pattern_replace", "pattern": "\\.", "replacement": "", "all": True},
            "archive_elision": {"type": "elision", "articles": list(ELISIONS), "articles_case": True},
            "archive_stop": {"type": "stop", "stopwords": stop_words, "ignore_case": False},
            "archive_stem": {"type": "snowball", "language": "French"},
            "archive_fold": {"type": "asciifolding", "preserve_original": False},
            "archive_stem_fold": {"type": "multiplexer",
                                  "filters": ["archive_stem, archive_fold", "archive_fold, archive_stem"],
                                  "preserve_original": False},
        },
        "analyzer": {
            "archive_search": {"type": "custom", "char_filter": ["archive_apostrophes"],
                               "tokenizer": "archive_words",
                               "filter": ["archive_dots", "lowercase", "archive_elision", "archive_stop",
                                          "archive_stem_fold"]},
            "archive_exact": {"type": "custom", "char_filter": ["archive_apostrophes"],
                              "tokenizer": "archive_words",
                              "filter": ["archive_dots", "lowercase", "archive_elision", "archive_fold"]},
            "archive_forms": {"type": "custom", "char_filter": ["archive_apostrophes"],
                              "tokenizer": "archive_words", "filter": ["archive_dots", "archive_elision"]},
        },
        "normalizer": {
            "archive_folded": {"type": "custom", "filter": ["lowercase", "asciifolding"]},
        },
    }


def index_settings(shards: int = SHARDS, replicas: int = REPLICAS) -> dict[str, Any]:
    """Return the ``settings`` of a new index."""
    return {"index": {"number_of_shards": shards, "number_of_replicas": replicas,
                      "max_result_window": 10_000, "refresh_interval": "1s"},
            "analysis": analysis_settings(), "similarity": similarity_settings()}


def _bm25(b: float, floor: float) -> dict[str, Any]:
    # The embedded engine's BM25 (archive.search.matching): a block shorter than ``floor``
    # terms scores as if that long, so a two-word heading does not outrank the article it heads.
    source = ("double idf = Math.log(1.0 + (field.docCount - term.docFreq + 0.5) / (term.docFreq + 0.5));"
              "double avg = field.sumTotalTermFreq / (double) Math.max(1, field.docCount);"
              f"double norm = {K1} * (1.0 - {b} + {b} * Math.max(doc.length, {floor}) / avg);"
              f"return query.boost * idf * doc.freq * {K1 + 1.0} / (doc.freq + norm);")
    return {"type": "scripted", "script": {"source": source}}


def similarity_settings() -> dict[str, Any]:
    """Return the ``similarity`` section: BM25 as the embedded engine weighs paragraphs and titles."""
    # The exact field counts stop words too: its floor is as many words of running text.
    return {"archive_text": _bm25(B_TEXT, MIN_BLOCK_LENGTH),
            "archive_exact": _bm25(B_TEXT, MIN_BLOCK_LENGTH * EXACT_PER_TEXT),
            "archive_title": _bm25(B_TITLE, 0.0)}


def _text(kind: str = "text") -> dict[str, Any]:
    similarity = "archive_title" if kind == "title" else "archive_text"
    exact = "archive_title" if kind == "title" else "archive_exact"
    return {"type": "text", "analyzer": "archive_search", "index_options": "offsets", "similarity": similarity,
            "fields": {"exact": {"type": "text", "analyzer": "archive_exact", "index_options": "offsets",
                                 "similarity": exact},
                       "forms": {"type": "text", "analyzer": "archive_forms", "index_options": "positions"}}}


def _keyword_folded() -> dict[str, Any]:
    return {"type": "keyword", "fields": {"folded": {"type": "keyword", "normalizer": "archive_folded"}}}


#: Every version's entry and the earlier ones' records: shown, never searched.
VERSIONS_MAPPING: dict[str, Any] = {"type": "object", "enabled": False}


def mappings() -> dict[str, Any]:
    """Return the mappings of the article documents (one per article, paragraphs nested)."""
    return {
        "dynamic": "strict",
        "properties": {
            "title": _text("title"),
            "title_derived": {"type": "boolean"},
            "paragraphs": {"type": "nested", "properties": {
                "n": {"type": "integer"},
                "kind": {"type": "keyword"},
                "text": _text(),
            }},
            "date": {"type": "date", "format": "strict_date_optional_time||yyyy-MM-dd||yyyy-MM||yyyy"},
            "year": {"type": "integer"},
            "source": _keyword_folded(),
            "author": _keyword_folded(),
            "tags": _keyword_folded(),
            "url": {"type": "keyword"},
            "lang": {"type": "keyword"},
            "copy_group": {"type": "keyword"},
            "copies": {"type": "object", "enabled": False},
            "representative": {"type": "boolean"},
            "revisions": {"type": "integer"},
            "versions": VERSIONS_MAPPING,
            "content_hash": {"type": "keyword"},
            # The article's id as a field with doc values: the tie-breaker of walks (sorting on _id is deprecated).
            "id": {"type": "keyword"},
            "paragraph_count": {"type": "integer"},
            "indexed_at": {"type": "date"},
        },
    }


def index_body(shards: int = SHARDS, replicas: int = REPLICAS) -> dict[str, Any]:
    """Return the body that creates an index: settings and mappings."""
    return {"settings": index_settings(shards, replicas), "mappings": mappings()}


def alias_name(home: str | Path) -> str:
    """Return the default alias of a home's index: ``archive-`` and a hash of the home's path."""
    digest = hashlib.sha1(str(Path(home).resolve()).encode()).hexdigest()[:12]
    return f"archive-{digest}"


def index_name(alias: str, generation: int) -> str:
    """Return the name of generation ``generation`` of the index behind an alias."""
    return f"{alias}-{generation:06d}"
