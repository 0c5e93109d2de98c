"""Suggest: "did you mean" for a query that finds (almost) nothing.

For ``gouvernemnt réforme``, each typed word that is rare in the archive
(fewer than three blocks hold it exactly) is looked up in a :class:`Vocabulary`
of the archive's frequent exact terms, indexed by their one-letter deletions
(the "symmetric delete" method): a word and a vocabulary word within one
substitution, insertion, deletion or transposition share a key, so candidates
cost a few dictionary lookups instead of a walk over every term. The closest
candidate by Damerau-Levenshtein distance, then by frequency, replaces the word
*as the archive prints it* (``gouvernement``); the engine then checks that the
suggestion finds something before offering it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ..analysis import STOP_WORDS, fold
from ..query import Query
from .snapshot import Snapshot

__all__ = ["Vocabulary", "suggest", "distance", "distance_ok"]


class Vocabulary:
    """Frequent archive words (exact terms), indexed by their one-letter deletions."""

    MIN_DF = 3

    def __init__(self, snap: Snapshot) -> None:
        self.df: dict[str, int] = {}
        self.keys: dict[str, list[str]] = {}
        for word, info in snap.terms("exact", private=True):
            df = info.doc_frequency()
            if df < self.MIN_DF or len(word) < 3 or not word.isalpha():
                continue
            self.df[word] = df
            for key in _deletions(word):
                self.keys.setdefault(key, []).append(word)

    def within(self, term: str, distance: int, limit: int) -> list[str]:
        """Return the archive's words within ``distance`` edits of ``term``, most frequent first."""
        keys = _deletions(term)
        if distance > 1:
            keys = {d for k in keys for d in _deletions(k)}
        candidates = {c for key in keys for c in self.keys.get(key, ())}
        found = [c for c in candidates if distance_ok(term, c, distance)]
        return sorted(found, key=lambda c: (-self.df[c], c))[:limit]

    def closest(self, term: str) -> str | None:
        """Return the most frequent vocabulary word within two edits of ``term``."""
        candidates: set[str] = set()
        for key in _deletions(term):
            candidates.update(self.keys.get(key, ()))
        candidates.discard(term)
        scored = [(distance(term, c), -self.df[c], c) for c in candidates
                  if len(c) >= len(term) - 1 and c not in STOP_WORDS]
        scored = [s for s in scored if s[0] <= 2]
        return min(scored)[2] if scored else None


def suggest(snap: Snapshot, vocabulary: Vocabulary, parsed: Query,
            printed: Callable[[str], str]) -> str | None:
    """Return the query with each rare word replaced by a close, frequent archive word, or None."""
    replaced: dict[str, str] = {}
    for typed in parsed.words:
        term = fold(typed.lower())
        if len(term) < 4 or term in STOP_WORDS or snap.doc_frequency("exact", term) >= 3:
            continue
        best = vocabulary.closest(term)
        if best is not None:
            replaced[typed] = _same_case(typed, printed(best))
    text = parsed.text
    for typed, word in replaced.items():
        text = re.sub(r"(?<!\w)%s(?!\w)" % re.escape(typed), word, text)
    return text if text != parsed.text else None


def _same_case(typed: str, word: str) -> str:
    """Give a suggested word the reader's capitals: ``Macorn`` → ``Macron``, ``MACORN`` → ``MACRON``."""
    if len(typed) > 1 and typed.isupper():
        return word.upper()
    if typed[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def distance_ok(a: str, b: str, limit: int) -> bool:
    """Tell whether two words are within ``limit`` edits (lengths checked first)."""
    return abs(len(a) - len(b)) <= limit and distance(a, b) <= limit


def _deletions(word: str) -> set[str]:
    return {word} | {word[:i] + word[i + 1:] for i in range(len(word))}


def distance(a: str, b: str) -> int:
    """Return the Damerau-Levenshtein (optimal string alignment) distance."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]
