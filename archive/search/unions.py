"""Unions: the posting lists of one word (its stems, in the text and the title) united and scored.

A word typed as ``élections`` reads the stem ``élect`` in the ``text`` and ``title``
fields, and its exact form ``elections`` beside them: :func:`scored_union` returns the
blocks of every list, each block scoring in each field the best of the word's stems
(a block saying *élection* and *élections* scores once), times the field's boost, summed
over the fields, plus the exact form's share where the block is matched. A frequent
word's lists are united over a bitmap of their range, a rare one's merged by sorting.
"""

from __future__ import annotations

import numpy as np

from ..whoosh_internals import EMPTY_IDS, EMPTY_WEIGHTS
from .scoring import Match, dense_enough

__all__ = ["best_of", "max_union", "scored_union"]


def best_of(ids: np.ndarray, scores: np.ndarray, more: np.ndarray, more_scores: np.ndarray) -> tuple[np.ndarray, ...]:
    """Return the union of two sparse score lists (unique ids each), the larger score where both have one."""
    if not len(ids):
        return more, more_scores
    return max_union(ids, scores, more, more_scores)[:2]


def max_union(ids: np.ndarray, scores: np.ndarray, more: np.ndarray, more_scores: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return :func:`best_of` and, for each id of the union, whether the first list holds it."""
    both, values = np.concatenate([ids, more]), np.concatenate([scores, more_scores])
    # Two sorted runs, merged (not np.lexsort with the scores: 3.7x slower on a word's two spellings).
    order = np.argsort(both, kind="stable")
    both, values = both[order], values[order]
    first = np.r_[True, both[1:] != both[:-1]] if len(both) else np.zeros(0, bool)
    second = np.flatnonzero(~first)  # (a block in both lists sits beside itself, once from each)
    values[second - 1] = np.maximum(values[second - 1], values[second])
    # The first list's ids come first among equals (a stable sort): an id is its own or its twin's.
    held = order < len(ids)
    held[second - 1] |= held[second]
    return both[first], values[first], held[first]


def scored_union(fields: list[tuple[str, float, list[tuple[np.ndarray, np.ndarray]]]],
                  extra: list[tuple[np.ndarray, np.ndarray]]) -> Match:
    """Return a word's match: the blocks of every read of its fields (the ``text`` field's as its own
    text), each scoring per field the best of its terms times the field's boost, summed over fields,
    plus the ``extra`` scores of the blocks it holds (only there: a query cut short by its budget
    may have read the exact form alone)."""
    lists = [ids for _, _, reads in fields for ids, _ in reads if len(ids)]
    total = sum(len(ids) for ids in lists)
    top = max((int(ids[-1]) for ids in lists), default=0) + 1  # (posting lists are sorted)
    scored = []
    for _, boost, reads in fields:
        # A word's spellings (stem variants) score as the best of them in each block.
        best_ids, best = EMPTY_IDS, EMPTY_WEIGHTS
        for ids, scores in reads:
            best_ids, best = best_of(best_ids, best, ids, scores)
        scored.append((best_ids, boost * best))
    if len(lists) > 1 and dense_enough(total, top):
        # A frequent word: its scores summed over the range of its blocks, in the same order
        # as below (the same float32 sums), without locating each list's blocks in the union.
        score = np.zeros(top, dtype=np.float32)
        # Two bool arrays, not one of flags: numpy finds the True of a bool array 3-6x faster than
        # the nonzero bytes of another, and a plain store beats a read-modify-write.
        member = np.zeros(top, dtype=bool)
        own = np.zeros(top, dtype=bool)
        for fieldname, _, reads in fields:
            for ids, _ in reads:
                member[ids] = True
                if fieldname == "text":
                    own[ids] = True
        for ids, weighted in scored:
            score[ids] += weighted  # (unique within a list)
        for ids, weighted in extra:
            # (Sorted: ids[-1] is the largest. As a rule the exact form's blocks hold its stem's: none past top.)
            if len(ids) and ids[-1] < top:
                score[ids] += weighted
            else:
                inside = ids < top
                score[ids[inside]] += weighted[inside]
        found = np.flatnonzero(member)
        return Match(found, score.take(found), own.take(found))
    # Fewer blocks: every list sorted once together; each entry's place in the union comes with it.
    parts = [*scored, *extra]
    every = np.concatenate([ids for ids, _ in parts]) if parts else EMPTY_IDS
    order = np.argsort(every, kind="stable")  # (a few sorted runs)
    ordered = every[order]
    starts = np.r_[True, ordered[1:] != ordered[:-1]] if len(ordered) else np.zeros(0, bool)
    place = np.empty(len(every), dtype=np.int64)
    place[order] = np.cumsum(starts) - 1
    union = ordered[starts]
    member = np.zeros(len(union), dtype=bool)
    para = np.zeros(len(union), dtype=bool)
    score = np.zeros(len(union), dtype=np.float32)
    at = 0
    for k, (ids, weighted) in enumerate(parts):
        where = place[at:at + len(ids)]
        at += len(ids)
        if k < len(scored):  # (the extra scores add to the blocks matched, no block of their own)
            member[where] = True
            para[where] |= fields[k][0] == "text"
        score[where] += weighted
    return Match(union[member], score[member], para[member])
