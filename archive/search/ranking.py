"""Ranking: block scores grouped into article scores.

For ``police OR syndicats``, :mod:`.matching` scores each block; an article
with one paragraph on the police and another on the unions must beat an
article repeating *police* in one paragraph. So an article scores half its
best block (plus a trace of its other matching blocks) and half its
*coverage* of the query: per query word, its best score anywhere in the
article, summed (a word counts once, so repeating it gains nothing).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .matching import Match, max_by_group
from .scoring import grouped
from .snapshot import Snapshot

__all__ = ["article_scores", "collapse", "copies_of", "COVERAGE_WEIGHT", "OTHER_PARAGRAPHS_WEIGHT"]

#: Share of an article's score that comes from its coverage of the query.
COVERAGE_WEIGHT = 0.5
#: Share of an article's other matching paragraphs' scores added to its best one.
OTHER_PARAGRAPHS_WEIGHT = 0.01


def article_scores(snap: Snapshot, match: Match, size: int,
                   coverage: Callable[[np.ndarray], np.ndarray] | None = None
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return the matching articles (sorted aids below ``size``) and each one's score, then the
    matching blocks of those articles and their aids (only the matching blocks are touched)."""
    aids = snap.aid[match.ids]
    inside = aids < size
    if inside.all():  # (as a rule: the catalog knows every indexed article) the grouping is the match's own
        idx, scores = match.ids, match.score
        found, group, best = match.best(snap.aid)
    else:
        idx, aids, scores = match.ids[inside], aids[inside], match.score[inside]
        found, group = grouped(aids)
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
    return found, best, idx, aids


def collapse(ranked: np.ndarray, cluster: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split ranked aids into the best-ranked member of each copy cluster and the rest, order kept."""
    _, first = np.unique(cluster[ranked], return_index=True)
    keep = np.zeros(len(ranked), dtype=bool)
    keep[first] = True
    return ranked[keep], ranked[~keep]


def copies_of(page: np.ndarray, collapsed: np.ndarray, cluster: np.ndarray) -> dict[int, list[int]]:
    """Return, for each aid of the page with copies, the collapsed aids of its cluster, best ranked first."""
    if not len(collapsed) or not len(page):
        return {}
    keys = cluster[page]
    members = collapsed[np.isin(cluster[collapsed], keys[keys < 0])]
    if not len(members):
        return {}
    # Only the page's clusters are walked: a handful of articles, not the result set.
    head = {int(k): int(a) for k, a in zip(keys.tolist(), page.tolist())}
    out: dict[int, list[int]] = {}
    for aid, key in zip(members.tolist(), cluster[members].tolist()):
        out.setdefault(head[key], []).append(aid)
    return out
