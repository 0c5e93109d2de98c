"""BM25's parameters: one set, read by the embedded engine's scoring and the cluster's similarity scripts."""

from __future__ import annotations

__all__ = ["K1", "B_TEXT", "B_TITLE", "MIN_BLOCK_LENGTH"]

#: BM25 parameters (the title field's own length normalisation).
K1, B_TEXT, B_TITLE = 1.2, 0.75, 0.5
#: Blocks shorter than this many terms are scored as if this long: a two-word
#: heading is not a better answer than the article it heads.
MIN_BLOCK_LENGTH = 8.0
