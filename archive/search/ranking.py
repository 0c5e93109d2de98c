"""Ranking: block scores grouped into article scores.

For ``police OR syndicats``, :mod:`.matching` scores each block; an article
with one paragraph on the police and another on the unions must beat an
article repeating *police* in one paragraph. So an article scores half its
best block (plus a trace of its other matching blocks) and half its
*coverage* of the query: per query word, its best score anywhere in the
article, summed (a word counts once, so repeating it gains nothing).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .matching import Match, max_by_group
from .scoring import distinct_count, grouped
from .snapshot import Snapshot

__all__ = ["article_scores", "rank", "Ranked", "COVERAGE_WEIGHT", "OTHER_PARAGRAPHS_WEIGHT"]

#: Share of an article's score that comes from its coverage of the query.
COVERAGE_WEIGHT = 0.5
#: Share of an article's other matching paragraphs' scores added to its best one.
OTHER_PARAGRAPHS_WEIGHT = 0.01


def article_scores(snap: Snapshot, match: Match, size: int,
                   coverage: Callable[[np.ndarray], np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray, bool]:
    """Return the matching articles (sorted aids below ``size``), each one's score, and whether every
    matching block's article is below ``size`` (only the matching blocks are touched)."""
    found, group = match.articles(snap.aid)
    scores = match.score
    inside = bool(len(found) == 0 or found[-1] < size)
    if inside:  # (as a rule: the catalog knows every indexed article) the grouping is the match's own
        found, group, best = match.best(snap.aid)
    else:
        keep = found[group] < size
        found, group = grouped(snap.aid[match.ids[keep]])
        scores = scores[keep]
        best = np.full(len(found), -np.inf, dtype=np.float32)
        max_by_group(best, group, scores)
    # The article's other paragraphs count mainly through its coverage of the query,
    # each word once; a trace of their scores only breaks ties in favour of the article
    # that develops the subject (v1 gave them 0.05, which rewarded repeating a word in
    # every paragraph: lead MRR@10 0.842 at 0.05, 0.860 at 0.01, 0.863 at 0; headlines
    # 0.877, 0.882, 0.880).
    others = np.bincount(group, weights=scores, minlength=len(found))
    best += OTHER_PARAGRAPHS_WEIGHT * (others - best)
    if COVERAGE_WEIGHT and coverage is not None:
        best = ((1 - COVERAGE_WEIGHT) * best + COVERAGE_WEIGHT * coverage(found)).astype(np.float32)
    return found, best, inside


@dataclass(frozen=True)
class Ranked:
    """One page of a ranking: its aids, the hits in all (a copy cluster once when collapsed) and, per
    aid of the page with copies, the cluster's other matching aids, best ranked first."""

    page: np.ndarray
    total: int
    copies: dict[int, list[int]]


def rank(cand: np.ndarray, keys: Sequence[np.ndarray], cluster: np.ndarray, start: int, stop: int,
         collapse: bool) -> Ranked:
    """Rank articles (``cand``) by ``keys`` (per article, :func:`np.lexsort`'s order: the last one first)
    and return hits ``start`` to ``stop``, each copy cluster by its best-ranked member when ``collapse``.

    Only a prefix is sorted: the articles whose primary key reaches the ``m``-th best (ties included,
    so the prefix is exactly the ranking's) for a few times the page's end, more when copies
    collapsed it to fewer hits: "France" in 280,000 articles sorts a few hundred, not all of them.
    """
    n = len(cand)
    primary = keys[-1]
    wanted = max(PREFIX_FACTOR * stop, MIN_PREFIX)
    while True:
        if wanted >= n:
            chosen = np.arange(n)
        else:
            kth = np.partition(primary, wanted - 1)[wanted - 1]
            chosen = np.flatnonzero(primary <= kth)
        order = chosen[np.lexsort(tuple(k[chosen] for k in keys))]
        heads = _heads(order, cand, cluster) if collapse else order
        if len(heads) >= stop or len(chosen) == n:
            break
        wanted *= PREFIX_FACTOR
    page = heads[start:stop]
    if not collapse:
        return Ranked(cand[page], n, {})
    codes = cluster[cand]
    return Ranked(cand[page], _distinct(codes), _copies(page, cand, keys, codes))


#: A ranking sorts a prefix of at least MIN_PREFIX articles, PREFIX_FACTOR times the page's end, widened
#: by that factor until it holds the page's hits.
PREFIX_FACTOR, MIN_PREFIX = 4, 256


def _heads(order: np.ndarray, cand: np.ndarray, cluster: np.ndarray) -> np.ndarray:
    """Return the positions (in ranked ``order``) of each copy cluster's best-ranked member, order kept."""
    _, first = np.unique(cluster[cand[order]], return_index=True)
    return order[np.sort(first)]


def _distinct(codes: np.ndarray) -> int:
    """Return how many different cluster codes the codes of distinct articles hold.

    An article without copies has its own aid as its code: only clusters' (negative) codes repeat.
    """
    shared = codes[codes < 0]
    if not len(shared):
        return len(codes)
    # Cluster k's code is -1 - k: a mask over the clusters counts them in one pass, where
    # np.unique hashed or sorted them ("France" in a 4x archive: 34,880 codes, 1.75 ms; the mask 0.08).
    return len(codes) - len(shared) + distinct_count(-1 - shared, int(-shared.min()))


def _copies(page: np.ndarray, cand: np.ndarray, keys: Sequence[np.ndarray],
            codes: np.ndarray) -> dict[int, list[int]]:
    """Return, for each hit of the page (positions in ``cand``) with copies, the other matching members
    of its cluster, best ranked first (``codes``: the cluster code of every article of ``cand``)."""
    on_page = codes[page]
    shared = on_page[on_page < 0]  # (an article without copies has a code of its own, its aid)
    if not len(shared):
        return {}
    # The page's clusters as a mask over cluster codes (-1 - k), as in _distinct: one pass, where
    # np.isin compared every code with each of the page's in turn.
    wanted = np.zeros(int(-shared.min()), dtype=bool)
    wanted[-1 - shared] = True
    clustered = np.flatnonzero((codes < 0) & (codes >= -len(wanted)))
    members = clustered[wanted[-1 - codes[clustered]]]
    members = members[np.lexsort(tuple(k[members] for k in keys))]
    head = {int(c): int(a) for c, a in zip(on_page.tolist(), cand[page].tolist())}
    out: dict[int, list[int]] = {}
    for aid, code in zip(cand[members].tolist(), codes[members].tolist()):
        if code in head and head[code] != aid:
            out.setdefault(head[code], []).append(aid)
    return out
