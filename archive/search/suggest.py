"""Suggest: "did you mean" for a query that finds (almost) nothing.

For ``gouvernemnt réforme``, each typed word that is rare in the archive
(fewer than three blocks hold it exactly) is looked up in the
:class:`~.vocabulary.Vocabulary` among the archive's frequent exact terms. The
closest candidate by optimal string alignment distance, then by frequency, replaces
the word *as the archive prints it* (``gouvernement``); the engine then checks
that the suggestion finds something before offering it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ..analysis import STOP_WORDS, fold
from ..query import Query
from .snapshot import Snapshot
from .vocabulary import Vocabulary

__all__ = ["suggest", "same_case"]


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
            replaced[typed] = same_case(typed, printed(best))
    text = parsed.text
    for typed, word in replaced.items():
        text = re.sub(r"(?<!\w)%s(?!\w)" % re.escape(typed), word, text)
    return text if text != parsed.text else None


def same_case(typed: str, word: str) -> str:
    """Give a suggested word the reader's capitals: ``Macorn`` → ``Macron``, ``MACORN`` → ``MACRON``."""
    if len(typed) > 1 and typed.isupper():
        return word.upper()
    if typed[:1].isupper():
        return word[:1].upper() + word[1:]
    return word
