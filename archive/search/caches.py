"""Caches of a search's arrays: decoded posting lists and what searches derive from them, bounded in bytes.

A search on *France* at 32 copies of the corpus decodes 9 MB of posting lists (Whoosh
pickles each block of 128 postings: the costliest step of a search) and derives as
much again (live blocks, BM25 weights); kept, the next search on it costs its
arithmetic only. :func:`cache_budget` sizes each cache by the index it serves.
"""

from __future__ import annotations

import os
from collections.abc import Hashable
from pathlib import Path

import numpy as np

from ..lru import LRU

__all__ = ["POSTINGS_CACHE_BYTES", "TERMS_CACHE_BYTES", "MIN_CACHE_BYTES", "cache_budget", "array_cache", "frozen"]

#: Bytes of decoded posting lists kept per index generation at most (per process: each
#: ``archive serve --workers`` worker keeps its own; see :func:`cache_budget`).
POSTINGS_CACHE_BYTES = 256 << 20
#: Bytes of what searches derive from the lists (a term's live blocks and BM25 weights, a word's
#: match and its articles, a phrase's) kept per snapshot, at most: the peer harness's 48 queries
#: derive about 290 MB at 32 copies of the corpus, and a mix cycling through an LRU larger
#: than its budget finds none of it kept (p95 13 ms at 16x, 50 ms at 32x with 256 MiB).
TERMS_CACHE_BYTES = 320 << 20
#: Either cache holds at least this much (when its most allows), and a quarter of the index's files beyond.
MIN_CACHE_BYTES = 64 << 20


def cache_budget(most: int, folder: Path) -> int:
    """Return the bytes a search cache of an index generation (its folder) keeps: a quarter of its
    files, at least :data:`MIN_CACHE_BYTES`, at most ``most``.

    A frequent word's decoded lists grow with the archive: at 32 copies of the corpus
    *France* alone decodes to 9 MB, and caches of a fixed 64 and 32 MB (whose entries
    may not exceed a quarter) decoded it again for every query (p95 355 ms of CPU
    over the peer harness's queries; 96 ms at 256 MB each, for 140 MB more RSS).
    """
    try:
        files = sum(entry.stat().st_size for entry in os.scandir(folder) if entry.is_file())
    except OSError:
        files = 0
    return min(most, max(MIN_CACHE_BYTES, files // 4))


def array_cache(budget: int) -> LRU[Hashable, tuple[np.ndarray, ...]]:
    """Return a cache of array tuples within ``budget`` bytes (an entry over a quarter of it is not kept)."""
    return LRU(budget, sizeof=_size, largest=budget // 4)


def frozen(arrays: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    """Return arrays made read-only: what a cache keeps is shared by every search at once."""
    for a in arrays:
        if len(a):  # (an absent term's lists are the module's shared empty arrays)
            a.flags.writeable = False
    return arrays


def _size(arrays: tuple[np.ndarray, ...]) -> int:
    return sum(a.nbytes for a in arrays) + 200  # (the key and the tuple, roughly)
