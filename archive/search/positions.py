"""Positions: words in order, or near each other, found from the packed positions of a block.

The ``exact`` field keeps, for each block holding a word, where the word sits
(the 5th token, the 12th…). For the phrase ``"état d'urgence"``, read as the
exact terms ``etat urgence`` (the elision is dropped), :func:`positional`
takes the blocks holding both, writes every occurrence as ``docnum << 32 |
position`` (:func:`positions_in`)
and keeps the starts of ``etat`` that have ``urgence`` exactly one place
after them, in the same block: ``L’état d’urgence sanitaire`` does,
``l’urgence de l’état`` does not. Words near each other
(``manifestant NEAR/3 police``, ``"grève SNCF"~5``) are words as typed alone,
in any of their forms: :func:`near_positional` reads the positions of every
exact term of each word's forms (``manifestant``, ``manifestants``,
``Manifestants``… found under the stem in the ``accent`` field) and keeps the
occurrences of the first word that have one of each other word within three places.

:func:`proximity` would reward blocks where two neighbouring words of a query
sit close together without being a phrase; it is built and measured, and off
(:data:`PROXIMITY_WEIGHT` is 0: it helped one dev set and hurt another).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from ..analysis import accents_agree
from ..query import Near, Node, Phrase, Word
from ..whoosh_internals import EMPTY_IDS, EMPTY_WEIGHTS
from .scoring import Match, Scorer, contains, grouped, intersect
from .snapshot import Positions

__all__ = ["positions_in", "positional", "near_match", "near_forms", "near_positional", "proximity", "near",
           "MAX_NEAR_FORMS", "PROXIMITY_WEIGHT", "PROXIMITY_WINDOW"]

#: Weight and window of two neighbouring query words found close together in one block.
PROXIMITY_WEIGHT, PROXIMITY_WINDOW = 0.0, 8
#: Printed forms one word of a proximity query may read (each form's positions are read).
MAX_NEAR_FORMS = 512


def positions_in(ids: np.ndarray, found: Positions, candidates: np.ndarray) -> np.ndarray:
    """Return ``docnum << 32 | position`` of a term's occurrences (``ids``, ``found``) in the sorted
    ``candidates`` blocks."""
    hit = contains(candidates, ids)  # (a bitmap or bisection: np.isin sorted both, 0.3 ms at 4x)
    if not hit.any():
        return EMPTY_IDS
    chosen = np.repeat(hit, found.counts)
    return (np.repeat(ids[hit], found.counts[hit]) << 32) | found.at[chosen].astype(np.int64)


def positional(ev: Scorer, node: Phrase, fieldname: str) -> tuple[np.ndarray, np.ndarray]:
    """Return the blocks where a phrase (or its words within ``slop``) occurs, and how often."""
    read = {term: ev.occurrences(fieldname, term) for term in set(node.terms)}
    docs: np.ndarray | None = None
    for ids, _ in read.values():
        docs = ids if docs is None else intersect(docs, ids)
    if docs is None or not len(docs):
        return EMPTY_IDS, np.zeros(0, np.float32)
    # Occurrences as docnum << 32 | position: in a phrase, term k sits k places after
    # term 0 in the same block; near each other, every term within `slop` of term 0.
    starts = positions_in(*read[node.terms[0]], docs)
    for k, term in enumerate(node.terms[1:], start=1):
        if not len(starts):
            break
        others = positions_in(*read[term], docs)
        if node.slop:
            starts = starts[near(starts, np.sort(others), node.slop)]
        else:
            starts = intersect(starts, others - k)
    if not len(starts):
        return EMPTY_IDS, np.zeros(0, np.float32)
    ids, counts = _runs(starts >> 32)
    return ids, counts.astype(np.float32)


def near_match(ev: Scorer, node: Near, b: tuple[float, float], title_boost: float) -> Match:
    """Match words within ``slop`` positions of each other, each in any of its forms, in a paragraph
    or the title (``b``: BM25's b there); a word typed with accents keeps them (they choose its forms)."""
    groups = [near_forms(ev, word) for word in node.words]
    ev.expanded[node.text] = sorted({term for group in groups for term in group})
    # A form's positions are its exact term's, which other spellings share (pêche for
    # pèche): a block must also hold a form keeping each typed accent.
    allowed: np.ndarray | None = None
    for word in node.words:
        if word.accent:
            _, kept, _ = ev.accent_kept(word.accent, None)
            allowed = kept if allowed is None else intersect(allowed, kept)
    text: tuple[np.ndarray, np.ndarray] = (EMPTY_IDS, EMPTY_WEIGHTS)
    title: tuple[np.ndarray, np.ndarray] = (EMPTY_IDS, EMPTY_WEIGHTS)
    for fieldname, b_field, n_docs in (("exact", b[0], ev.snap.n_docs), ("title_exact", b[1], ev.snap.n_titled)):
        ids, tf = near_positional(ev, groups, node.slop, fieldname)
        if allowed is not None:
            keep = np.isin(ids, allowed, assume_unique=True)
            ids, tf = ids[keep], tf[keep]
        if not len(ids):
            continue
        # Scored as a phrase is: each word's BM25 weight at that frequency (its most frequent form's df).
        score = np.zeros(len(ids), np.float32)
        for group in groups:
            df = max([1] + [ev.snap.doc_frequency(fieldname, term) for term in group])
            score += ev.weigh(fieldname, ids, tf, df, b_field, n_docs)
        if fieldname == "exact":
            text = (ids, score)
        else:
            title = ev.lift(ids, title_boost * score)
    out = Match.of([text[0], title[0]], [text[0]])
    out.assign(*text)
    out.maximum(*title)
    return out


def near_forms(ev: Scorer, word: Word) -> list[str]:
    """Return the exact terms of a word's printed forms (those keeping its typed accents), once per snapshot."""
    def forms() -> list[str]:
        exact: set[str] = set()
        for key in word.terms:
            for term in ev.snap.expand_prefix("accent", key + "|", MAX_NEAR_FORMS):
                form = term.partition("|")[2]
                if word.accent is None or accents_agree(word.accent, form):
                    exact.add(ev.snap.chain.word(form).exact)
        return sorted(exact)
    found: list[str] = ev.snap.memo(("near", word.terms, word.accent), forms)
    return found


def near_positional(ev: Scorer, groups: Sequence[Sequence[str]], slop: int,
                    fieldname: str) -> tuple[np.ndarray, np.ndarray]:
    """Return the blocks where a token of every group sits within ``slop`` places of one of the
    first group, and how often (each group: the exact terms of one word's forms)."""
    reads = [[ev.occurrences(fieldname, term) for term in group] for group in groups]
    docs: np.ndarray | None = None
    for group in reads:
        ids = np.unique(np.concatenate([i for i, _ in group])) if group else EMPTY_IDS
        docs = ids if docs is None else intersect(docs, ids)
    if docs is None or not len(docs):
        return EMPTY_IDS, np.zeros(0, np.float32)

    def packed(group: list[tuple[np.ndarray, Positions]]) -> np.ndarray:
        return np.sort(np.concatenate([positions_in(ids, values, docs) for ids, values in group]))

    starts = packed(reads[0])
    for group in reads[1:]:
        if not len(starts):
            break
        starts = starts[near(starts, packed(group), slop)]
    if not len(starts):
        return EMPTY_IDS, np.zeros(0, np.float32)
    ids, counts = _runs(starts >> 32)
    return ids, counts.astype(np.float32)


def proximity(ev: Scorer, children: Sequence[Node], out: Match, b: float) -> None:
    """Reward blocks where neighbouring query words sit within a few positions of each other."""
    if not PROXIMITY_WEIGHT:
        return
    words = [c for c in children if isinstance(c, Word) and c.field is None]
    exact = [ev.snap.chain.word(w.text).exact for w in words]
    for first, second in itertools.pairwise(exact):
        if first == second:
            continue
        ids_a, values_a = ev.occurrences("exact", first)
        ids_b, values_b = ev.occurrences("exact", second)
        docs = intersect(ids_a, ids_b)
        docs = docs[contains(out.ids, docs)]
        if not len(docs):
            continue
        at = positions_in(ids_a, values_a, docs)
        close = at[near(at, np.sort(positions_in(ids_b, values_b, docs)), PROXIMITY_WINDOW)]
        if not len(close):
            continue
        blocks, counts = _runs(close >> 32)
        df = max(1, min(len(ids_a), len(ids_b)))
        out.add(blocks, PROXIMITY_WEIGHT * ev.weigh(
            "exact", blocks, counts.astype(np.float32), df, b, ev.snap.n_docs))


def near(at: np.ndarray, others: np.ndarray, slop: int) -> np.ndarray:
    """Tell, for each packed occurrence, whether a sorted packed other one is within ``slop`` positions."""
    if not len(others):
        return np.zeros(len(at), dtype=bool)
    i = np.searchsorted(others, at)
    after = others[np.minimum(i, len(others) - 1)]
    before = others[np.maximum(i - 1, 0)]
    # A different block differs by at least 1 << 32, far beyond any slop.
    return (np.abs(after - at) <= slop) | (np.abs(at - before) <= slop)


def _runs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return ``np.unique(values, return_counts=True)``, without its sort when the values are in order
    (the docnums of sorted occurrences are)."""
    found, inverse = grouped(values)
    return found, np.bincount(inverse, minlength=len(found))
