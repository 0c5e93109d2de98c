"""Suggesting: "did you mean" from the cluster's own vocabulary (a term suggester on the exact terms).

As in the embedded engine (:mod:`archive.search.suggest`): each typed word of
four letters or more that is not a stop word is looked up among the exact terms
of the archive's paragraphs; the closest more frequent term (Damerau-Levenshtein,
then frequency) replaces it *as the archive prints it*, read from one paragraph
holding it, in the reader's capitals. The engine then checks that the
suggestion finds something.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ...analysis import FRENCH, STOP_WORDS, fold
from ...query import Query
from ...search.suggest import same_case
from .querying import PARAGRAPHS, TEXT_EXACT

if TYPE_CHECKING:
    from .engine import OpenSearchEngine

__all__ = ["suggestion"]


def suggestion(engine: OpenSearchEngine, parsed: Query) -> str | None:
    """Return the query with each rare word replaced by a close, more frequent archive word, or None."""
    typed = {w: fold(w.lower()) for w in parsed.words}
    asked = {w: t for w, t in typed.items() if len(t) >= 4 and t not in STOP_WORDS}
    if not asked:
        return None
    suggest = {f"w{i}": {"text": term, "term": {"field": TEXT_EXACT, "suggest_mode": "popular", "max_edits": 2,
                                                "string_distance": "damerau_levenshtein", "size": 1,
                                                "min_word_length": 4}}
               for i, term in enumerate(asked.values())}
    answer = engine.run({"size": 0, "suggest": suggest})
    replaced: dict[str, str] = {}
    for i, word in enumerate(asked):
        options = [o for entry in answer.get("suggest", {}).get(f"w{i}", []) for o in entry.get("options", [])]
        if options:
            replaced[word] = same_case(word, _printed(engine, str(options[0]["text"])))
    text = parsed.text
    for word, better in replaced.items():
        text = re.sub(r"(?<!\w)%s(?!\w)" % re.escape(word), better, text)
    return text if text != parsed.text else None


def _printed(engine: OpenSearchEngine, term: str) -> str:
    """Return an exact term as the archive prints it (with its accents), from one paragraph holding it."""
    answer = engine.run({"size": 1, "_source": False, "query": {"nested": {
        "path": PARAGRAPHS, "query": {"term": {TEXT_EXACT: term}},
        "inner_hits": {"size": 1, "_source": [f"{PARAGRAPHS}.text"]}}}})
    for doc in answer.get("hits", {}).get("hits", []):
        for inner in doc.get("inner_hits", {}).get(PARAGRAPHS, {}).get("hits", {}).get("hits", []):
            text = inner.get("_source", {}).get("text") or ""
            for span in FRENCH.spans(text):
                if span.exact == term:
                    return text[span.start:span.end].lower()
    return term
