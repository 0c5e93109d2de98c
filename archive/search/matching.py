"""Matching: a query tree evaluated over every block at once, and scored with BM25.

For ``investir (Chine OR Xiaomi) -Apple``, :class:`Evaluator` walks the tree
of :mod:`archive.query`. A word reads its posting lists in the ``text`` and
``title`` fields (one list per search term: ``invest``) and yields a
:class:`Match`, three dense arrays over the snapshot's blocks: does the block
match, its BM25 score, does its own text match (not only its article's title).
``AND`` intersects the masks and adds the scores, ``OR`` unites them, ``-`` /
``NOT`` removes whole articles. A title, indexed on block 0 only, is *lifted*
to every block of its article through the ``aid`` column. A quoted phrase
intersects the packed positions of its exact terms, shifted by their place in
the phrase.

A word also adds half the score of the very form typed (``élections`` ranks a
paragraph saying *élections* above one saying *élection*, both matched through
the stem ``élect``). :mod:`.ranking` then groups blocks into articles.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..analysis import accents_agree, fold
from ..query import And, Fuzzy, Near, Node, Not, Or, Phrase, Prefix, Word, repeated_clauses
from ..whoosh_format import EMPTY_IDS, EMPTY_WEIGHTS
from .positions import near_match, positional, proximity
from .snapshot import Positions, Snapshot

__all__ = ["Match", "Evaluator", "match", "max_by_group", "K1", "B_TEXT", "B_TITLE", "TITLE_BOOST",
           "EXACT_FORM_WEIGHT"]

#: BM25 parameters, and how much a title word weighs against a text word (chosen over
#: the four dev sets together: 2.0 won title-word queries and lost lead paragraphs).
K1, B_TEXT, B_TITLE, TITLE_BOOST = 1.2, 0.75, 0.5, 1.25
#: Blocks shorter than this many terms are scored as if this long: a two-word
#: heading is not a better answer than the article it heads.
MIN_BLOCK_LENGTH = 8.0
#: Weight of the exact form the reader typed (``élections``, not only ``élection``), over its stem's score.
EXACT_FORM_WEIGHT = 0.5
MAX_PREFIX_TERMS = 64
#: Postings one query may read (each term once): about 40 of the most frequent words.
MAX_POSTINGS = 4_000_000
MAX_ACCENT_FORMS = 256


@dataclass
class Match:
    """Per-block arrays of a (sub)query's match."""

    mask: np.ndarray          # blocks that match
    score: np.ndarray         # their BM25 score
    para: np.ndarray          # blocks whose own text matched (not only the title)


class Evaluator:
    """Evaluate a query tree over one snapshot as dense per-block arrays."""

    def __init__(self, snap: Snapshot, fuzzy: Callable[[str, int], list[str]] | None = None) -> None:
        self.snap = snap
        self.size = snap.size
        self.fuzzy_terms = fuzzy or (lambda term, distance: [])
        #: What prefixes, fuzzy words and accented words expanded to, by the text typed.
        self.expanded: dict[str, list[str]] = {}
        #: Per word typed with accents (not in quotes), by its text and search terms: the blocks
        #: holding forms that keep the accents, and their count of such tokens (for the concordance).
        self.accent_tokens: dict[tuple[str, frozenset[str]], tuple[np.ndarray, np.ndarray]] = {}
        #: Per article, the sum over required or optional query words of its best score for each.
        self.coverage = np.zeros(len(snap.aid_count), dtype=np.float32)
        self._negated = 0
        #: Postings read so far (each read once per query), against the query's budget.
        self.spent = 0
        self.truncated = False
        self._reads: dict[tuple[str, str, bool], tuple[np.ndarray, Any]] = {}
        # Clauses repeated in one query (32 copies of "de la") are evaluated once.
        self._repeated: set[Node] = set()
        self._done: dict[Node, Match] = {}

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
        if MIN_BLOCK_LENGTH and fieldname in ("text", "exact"):
            # The exact field counts stop words too: its floor is as many words of running text.
            length = np.maximum(length, MIN_BLOCK_LENGTH * self.snap.avg[fieldname] / self.snap.avg["text"])
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

    def run(self, node: Node) -> Match:
        """Evaluate a query tree."""
        m = self._run(node)
        if not self._negated and isinstance(node, (Word, Phrase, Near, Prefix, Fuzzy)):
            ids = np.nonzero(m.mask)[0]
            per_article = np.zeros(len(self.coverage), dtype=np.float32)
            max_by_group(per_article, self.snap.aid[ids], m.score[ids])
            self.coverage += per_article
        return m

    def _run(self, node: Node) -> Match:
        if node in self._repeated:
            if node not in self._done:
                self._done[node] = self._evaluate(node)
            return self._done[node]
        return self._evaluate(node)

    def _evaluate(self, node: Node) -> Match:
        if isinstance(node, And):
            return self.all_of(node)
        if isinstance(node, Or):
            out = self.zeros()
            for child in dict.fromkeys(node.children):  # a repeated clause adds nothing
                m = self.run(child)
                out.mask |= m.mask
                out.score += m.score  # (a match scores 0 outside its mask)
                out.para |= m.para
            proximity(self, node.children, out, B_TEXT)
            return out
        if isinstance(node, Not):
            self._negated += 1
            m = self.run(node.child)
            self._negated -= 1
            return Match(self.snap.alive & ~self.whole_articles(m.mask), np.zeros(self.size, np.float32),
                         np.zeros(self.size, bool))
        if isinstance(node, Word):
            return self.word(node)
        if isinstance(node, Phrase):
            return self.phrase(node)
        if isinstance(node, Near):
            return self.near(node)
        if isinstance(node, Prefix):
            terms = list(dict.fromkeys(self.snap.expand_prefix("exact", node.prefix, MAX_PREFIX_TERMS)
                                       + self.snap.expand_prefix("title_exact", node.prefix, MAX_PREFIX_TERMS)))
            self.expanded[node.text] = terms
            return self.exact_terms(terms)
        if isinstance(node, Fuzzy):
            terms = self.fuzzy_terms(node.term, node.distance)
            self.expanded[node.text] = terms
            return self.exact_terms(terms)
        raise TypeError(node)

    def all_of(self, node: And) -> Match:
        """Match articles holding every required part somewhere (title or any paragraph).

        A block scores the parts it holds itself, so an article whose words sit in one
        paragraph outranks one that scatters them.
        """
        out = self.zeros()
        # A clause repeated in the same AND counts once (32 copies of "de la" are one).
        required = [c for c in dict.fromkeys(node.children) if not isinstance(c, Not)]
        keep = self.snap.live_articles.copy()
        for child in required:
            m = self.run(child)
            keep &= self.articles(m.mask)
            out.mask |= m.mask
            out.score += m.score  # (a match scores 0 outside its mask)
            out.para |= m.para
        if not required:
            out.mask[:] = self.snap.alive
        out.mask &= keep[self.snap.aid]
        proximity(self, required, out, B_TEXT)
        for excluded in node.children:
            if isinstance(excluded, Not):
                self._negated += 1
                out.mask &= ~self.whole_articles(self.run(excluded.child).mask)
                self._negated -= 1
        out.score *= out.mask
        out.para &= out.mask
        return out

    def word(self, node: Word) -> Match:
        """Match a word in the text and the title, or in a metadata field."""
        out = self.zeros()
        if node.field in ("source", "author", "tag"):
            for term in node.terms:
                ids, _ = self.postings(node.field, term)
                docs, _ = self.lift(ids, np.ones(len(ids), np.float32))
                out.mask[docs] = True
            return out
        if node.field == "exact":
            out = self.exact_terms(list(node.terms))
        else:
            fields = [("title", TITLE_BOOST)] if node.field == "title" else [("text", 1.0), ("title", TITLE_BOOST)]
            for fieldname, boost in fields:
                # A word's spellings (stem variants) score as the best of them in each block (sparse).
                best_ids, best = EMPTY_IDS, EMPTY_WEIGHTS
                for term in node.terms:
                    if fieldname == "title":
                        ids, scores = self.titled("title", term)
                    else:
                        ids, scores = self.bm25(fieldname, term, B_TEXT, self.snap.n_docs)
                        out.para[ids] = True
                    out.mask[ids] = True
                    best_ids, best = _best_of(best_ids, best, ids, scores)
                out.score[best_ids] += boost * best  # ids are unique within one term's list
            if EXACT_FORM_WEIGHT:
                self.exact_form(node, out)
        if node.accent:
            self.keep_accents(node, out)
        return out

    def exact_form(self, node: Word, out: Match) -> None:
        """Add a share of the score of the very form typed (``élections``) to its stem's score."""
        exact = self.snap.chain.word(node.text).exact
        # Only where the word matched (a query cut short by its budget may have read the form alone).
        if node.field is None:
            ids, scores = self.bm25("exact", exact, B_TEXT, self.snap.n_docs)
            out.score[ids] += EXACT_FORM_WEIGHT * scores * out.mask[ids]
        docs, lifted = self.titled("title_exact", exact)
        out.score[docs] += EXACT_FORM_WEIGHT * TITLE_BOOST * lifted * out.mask[docs]

    def keep_accents(self, node: Word, out: Match) -> None:
        """Keep the blocks whose printed forms carry the accents the reader typed.

        Forms are looked up under the word's stems in the ``accent`` field (see
        :func:`archive.analysis.accent_term`); a title's forms sit on its block 0, and
        an article matched through its title keeps every block if block 0 agrees.
        """
        typed = node.accent or ""
        exact = node.terms[0] if node.field == "exact" else None
        forms, ids, tokens = self.accent_kept(typed, exact)
        self.expanded[node.text] = forms
        if exact is None:
            self.accent_tokens[(typed, frozenset(node.terms))] = (ids, tokens)
        allowed = np.zeros(self.size, dtype=bool)
        allowed[ids] = True
        # A title match lifts block 0's verdict to its whole article; a paragraph needs its own.
        lifted = out.mask & ~out.para
        allowed |= lifted & self.articles(allowed & self.snap.first_block)[self.snap.aid]
        out.mask &= allowed
        out.para &= allowed
        out.score *= out.mask

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

    def exact_terms(self, terms: list[str]) -> Match:
        """Match any of some exact terms in the text (per paragraph) or the title (per article)."""
        out = self.zeros()
        for term in terms:
            ids, scores = self.bm25("exact", term, B_TEXT, self.snap.n_docs)
            out.mask[ids] = True
            out.para[ids] = True
            out.score[ids] = np.maximum(out.score[ids], scores)
            docs, lifted = self.titled("title_exact", term)
            lifted = TITLE_BOOST * lifted
            out.mask[docs] = True
            out.score[docs] = np.maximum(out.score[docs], lifted)
        return out

    def phrase(self, node: Phrase) -> Match:
        """Match words in order (or, with a slop, near each other) in a paragraph or the title."""
        out = self.zeros()
        if node.field in ("source", "author", "tag"):
            # Metadata fields have no positions: all words present is close enough there.
            common: np.ndarray | None = None
            for term in set(node.terms):
                ids, _ = self.postings(node.field, term)
                common = ids if common is None else np.intersect1d(common, ids, assume_unique=True)
            if common is None:
                return out
            lifted, _ = self.lift(common, np.ones(len(common), np.float32))
            out.mask[lifted] = True
            return out
        if node.field is None:
            ids, tf = positional(self, node, "exact")
            out.mask[ids] = out.para[ids] = True
            out.score[ids] = self.phrase_score(node, "exact", ids, tf, B_TEXT, self.snap.n_docs)
        ids, tf = positional(self, node, "title_exact")
        if len(ids):
            scores = TITLE_BOOST * self.phrase_score(node, "title_exact", ids, tf, B_TITLE, self.snap.n_titled)
            docs, lifted = self.lift(ids, scores)
            out.mask[docs] = True
            out.score[docs] = np.maximum(out.score[docs], lifted)
        return out

    def near(self, node: Near) -> Match:
        """Match words within ``slop`` positions of each other (see :func:`.positions.near_match`)."""
        return near_match(self, node, (B_TEXT, B_TITLE), TITLE_BOOST)

    def phrase_score(self, node: Phrase, fieldname: str, ids: np.ndarray, tf: np.ndarray, b: float,
                     n_docs: int) -> np.ndarray:
        """Score a phrase's occurrences as the sum of its words' BM25 weights at that frequency."""
        score = np.zeros(len(ids), np.float32)
        for term in node.terms:
            df = max(1, self.snap.doc_frequency(fieldname, term))
            score += self.weigh(fieldname, ids, tf, df, b, n_docs)
        return score



def _best_of(ids: np.ndarray, scores: np.ndarray, more: np.ndarray, more_scores: np.ndarray) -> tuple[np.ndarray, ...]:
    """Return the union of two sparse score lists (unique ids each), the larger score where both have one."""
    if not len(ids):
        return more, more_scores
    both, values = np.concatenate([ids, more]), np.concatenate([scores, more_scores])
    order = np.lexsort((-values, both))  # by block, its best score first
    both, values = both[order], values[order]
    first = np.r_[True, both[1:] != both[:-1]]
    return both[first], values[first]


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


def match(evaluator: Evaluator, root: Node | None) -> Match | None:
    """Evaluate a query tree over a snapshot's live blocks (None for a query without words)."""
    if root is None:
        return None
    # Only repeated clauses are kept: each kept match is three arrays over every block.
    evaluator._repeated = repeated_clauses(root)
    m = evaluator.run(root)
    m.mask &= evaluator.snap.alive
    return m
