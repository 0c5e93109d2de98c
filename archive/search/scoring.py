"""Scoring: a query's postings read once against its budget, weighed with BM25, lifted to articles.

What every part of a query's evaluation needs, below the tree walk of
:mod:`.matching` and the positions of :mod:`.positions`: a :class:`Match` (three
dense arrays over the snapshot's blocks: does the block match, its BM25 score,
does its own text match), and a :class:`Scorer` that reads a term's postings or
positions once per query and counts them against :data:`MAX_POSTINGS`, weighs
them with BM25 (:meth:`Scorer.weigh`, parameters in :mod:`.bm25`; once per snapshot: :meth:`Scorer.bm25`),
lifts a title's match on block 0 to every block of its article
(:meth:`Scorer.lift`), and finds the printed forms that keep a typed word's
accents (:meth:`Scorer.accent_kept`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..analysis import accents_agree, fold
from ..whoosh_internals import EMPTY_IDS
from . import bm25
from .bm25 import B_TEXT, B_TITLE, K1
from .snapshot import Positions, Snapshot

__all__ = ["Match", "Scorer", "max_by_group", "K1", "B_TEXT", "B_TITLE", "MAX_POSTINGS", "MAX_ACCENT_FORMS"]

#: Postings one query may read (each term once): about 40 of the most frequent words.
MAX_POSTINGS = 4_000_000
MAX_ACCENT_FORMS = 256


@dataclass
class Match:
    """Per-block arrays of a (sub)query's match."""

    mask: np.ndarray          # blocks that match
    score: np.ndarray         # their BM25 score
    para: np.ndarray          # blocks whose own text matched (not only the title)


class Scorer:
    """A query's reads and weights over one snapshot: each term read once, counted against the budget."""

    def __init__(self, snap: Snapshot) -> None:
        self.snap = snap
        self.size = snap.size
        #: What prefixes, fuzzy words and accented words expanded to, by the text typed.
        self.expanded: dict[str, list[str]] = {}
        #: Postings read so far (each read once per query), against the query's budget.
        self.spent = 0
        self.truncated = False
        self._reads: dict[tuple[str, str, bool], tuple[np.ndarray, Any]] = {}

    def postings(self, fieldname: str, term: str) -> tuple[np.ndarray, np.ndarray]:
        """Return a term's live blocks and frequencies, read once per query and counted."""
        key = (fieldname, term, False)
        if key not in self._reads:
            self._reads[key] = self._charge(self.snap.postings(fieldname, term))
        ids, tf = self._reads[key]
        return ids, tf

    def occurrences(self, fieldname: str, term: str) -> tuple[np.ndarray, Positions]:
        """Return a term's live blocks and positions, read once per query and counted."""
        key = (fieldname, term, True)
        if key not in self._reads:
            self._reads[key] = self._charge(self.snap.occurrences(fieldname, term))
        ids, values = self._reads[key]
        return ids, values

    def _charge(self, read: tuple[np.ndarray, Any]) -> tuple[np.ndarray, Any]:
        # Past the budget, further terms read as absent: the query is cut short, and says so.
        if self.spent > MAX_POSTINGS:
            self.truncated = True
            none = Positions(EMPTY_IDS, np.zeros(0, np.uint32))
            return EMPTY_IDS, (none if isinstance(read[1], Positions) else np.zeros(0, np.float32))
        self.spent += len(read[0])
        return read

    def zeros(self) -> Match:
        """Return an empty match."""
        return Match(np.zeros(self.size, bool), np.zeros(self.size, np.float32),
                     np.zeros(self.size, bool))

    def bm25(self, fieldname: str, text: str, b: float, n_docs: int) -> tuple[np.ndarray, np.ndarray]:
        """Return the blocks holding a term and their BM25 weights (weighed once per snapshot)."""
        ids, tf = self.postings(fieldname, text)
        if not len(ids):
            return ids, tf
        weights, = self.snap.kept(("bm25", fieldname, text, b),
                                  lambda: (self.weigh(fieldname, ids, tf, len(ids), b, n_docs),))
        return ids, weights

    def titled(self, fieldname: str, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Return the blocks of the articles whose title holds a term, each with the title's BM25 weight."""
        ids, scores = self.bm25(fieldname, text, B_TITLE, self.snap.n_titled)
        if not len(ids):
            return ids, scores
        docs, lifted = self.snap.kept(("titled", fieldname, text), self.lift, ids, scores)
        return docs, lifted

    def weigh(self, fieldname: str, ids: np.ndarray, tf: np.ndarray, df: int, b: float,
              n_docs: int) -> np.ndarray:
        """Return BM25 weights of a term occurring ``tf`` times in blocks ``ids``."""
        idf = math.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))
        length = self.snap.length[fieldname][ids]
        if bm25.MIN_BLOCK_LENGTH and fieldname in ("text", "exact"):
            # The exact field counts stop words too: its floor is as many words of running text.
            length = np.maximum(length, bm25.MIN_BLOCK_LENGTH * self.snap.avg[fieldname] / self.snap.avg["text"])
        norm = K1 * (1.0 - b + b * length / self.snap.avg[fieldname])
        return (idf * tf * (K1 + 1.0) / (tf + norm)).astype(np.float32)

    def lift(self, ids: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Spread article-level hits (block-0 docs) over every live block of their articles.

        Returns the blocks and, for each, its article's score.
        """
        docs, counts = self.snap.blocks_of(self.snap.aid[ids])
        keep = self.snap.alive[docs]
        return docs[keep], np.repeat(scores, counts)[keep]

    def articles(self, mask: np.ndarray) -> np.ndarray:
        """Return, per aid, whether any block of the mask belongs to the article."""
        has = np.zeros(len(self.snap.aid_count), dtype=bool)
        has[self.snap.aid[mask]] = True
        return has

    def whole_articles(self, mask: np.ndarray) -> np.ndarray:
        """Extend a block mask to every block of the articles it touches (exclusion is per article)."""
        return self.articles(mask)[self.snap.aid]

    def accent_kept(self, typed: str, exact: str | None) -> tuple[list[str], np.ndarray, np.ndarray]:
        """Return :meth:`accent_blocks`, computed once per snapshot."""
        found: tuple[list[str], np.ndarray, np.ndarray] = self.snap.memo(
            ("accent", typed, exact), lambda: self.accent_blocks(typed, exact))
        return found

    def accent_blocks(self, typed: str, exact: str | None) -> tuple[list[str], np.ndarray, np.ndarray]:
        """Return the printed forms that keep a typed word's accents, the blocks holding them
        and how many tokens of those forms each block has (a title's count in its block 0)."""
        terms: dict[str, str] = {}  # form -> its accent term under the first stem having it
        for key in self.snap.chain.search_terms(typed):
            for term in self.snap.expand_prefix("accent", key + "|", MAX_ACCENT_FORMS):
                form = term.partition("|")[2]
                if accents_agree(typed, form) and (exact is None or fold(form.lower()) == exact):
                    terms.setdefault(form, term)
        read = [self.postings("accent", term) for term in terms.values()]
        if not read:
            return [], EMPTY_IDS, EMPTY_IDS
        ids, tokens = np.unique(np.concatenate([r[0] for r in read]), return_inverse=True)
        counts = np.bincount(tokens, weights=np.concatenate([r[1] for r in read]), minlength=len(ids))
        return sorted(terms), ids, counts.astype(np.int64)


def max_by_group(out: np.ndarray, groups: np.ndarray, values: np.ndarray) -> None:
    """Set ``out[g]`` to the largest value of each group (``np.maximum.at``, without its slowness)."""
    if not len(groups):
        return
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    # An article's blocks lie side by side: unless a group comes back in a later run, no sort.
    if np.bincount(groups[starts]).max() > 1:
        order = np.argsort(groups, kind="stable")
        groups, values = groups[order], values[order]
        starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    out[groups[starts]] = np.maximum.reduceat(values, starts)
