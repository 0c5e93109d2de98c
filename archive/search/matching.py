"""Matching: a query tree evaluated over the blocks its words occur in, and scored with BM25.

For ``investir (Chine OR Xiaomi) -Apple``, :class:`Evaluator` walks the tree
of :mod:`archive.query`. A word reads its posting lists in the ``text`` and
``title`` fields (one list per search term: ``invest``) and yields a sparse
:class:`Match`: the sorted docnums of the blocks it matches, each with its BM25
score and whether its own text matches (not only its article's title), so that
a query costs what its postings hold, not the size of the archive.
``AND`` keeps the blocks of the articles every part matches and adds the
scores (its words read rarest first, a frequent one only within the articles
of the rarer ones), ``OR`` unites them (scores summed), ``-`` / ``NOT`` removes whole
articles. A title, indexed on block 0 only, is *lifted* to every block of its
article through the snapshot's blocks-by-article order. A quoted phrase
intersects the packed positions of its exact terms, shifted by their place in
the phrase.

A word also adds half the score of the very form typed (``élections`` ranks a
paragraph saying *élections* above one saying *élection*, both matched through
the stem ``élect``). :mod:`.ranking` then groups blocks into articles.

The reads and weights every node needs (postings once per query, BM25, lifting a
title to its article, accented forms) are :class:`~.scoring.Scorer`'s, which the
evaluator extends; phrases and proximity read positions in :mod:`.positions`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..query import And, Fuzzy, Near, Node, Not, Or, Phrase, Prefix, Word, repeated_clauses
from ..whoosh_internals import EMPTY_IDS, EMPTY_WEIGHTS
from .caches import frozen
from .positions import near_match, positional, proximity
from .scoring import (
    B_TEXT,
    B_TITLE,
    K1,
    MAX_ACCENT_FORMS,
    Match,
    Scorer,
    contains,
    intersect,
    max_by_group,
    summed,
)
from .snapshot import Snapshot
from .unions import max_union, scored_union

__all__ = ["Match", "Evaluator", "match", "max_by_group", "K1", "B_TEXT", "B_TITLE", "TITLE_BOOST",
           "EXACT_FORM_WEIGHT", "MAX_ACCENT_FORMS"]

#: How much a title word weighs against a text word (chosen over the four dev sets
#: together: 2.0 won title-word queries and lost lead paragraphs).
TITLE_BOOST = 1.25
#: Weight of the exact form the reader typed (``élections``, not only ``élection``), over its stem's score.
EXACT_FORM_WEIGHT = 0.5
MAX_PREFIX_TERMS = 64


class Evaluator(Scorer):
    """Evaluate a query tree over one snapshot, touching only the blocks its words' postings hold."""

    def __init__(self, snap: Snapshot, fuzzy: Callable[[str, int], list[str]] | None = None) -> None:
        super().__init__(snap)
        self.fuzzy_terms = fuzzy or (lambda term, distance: [])
        #: Per word typed with accents (not in quotes), by its text and search terms: the blocks
        #: holding forms that keep the accents, and their count of such tokens (for the concordance).
        self.accent_tokens: dict[tuple[str, frozenset[str]], tuple[np.ndarray, np.ndarray]] = {}
        #: Per required or optional query word, its articles (sorted aids) and its best score in each.
        self.covered: list[tuple[np.ndarray, np.ndarray]] = []
        #: Blocks held by the matches of the tree's nodes, summed: what evaluating the query touched
        #: (a rare word's few blocks, whatever the size of the archive).
        self.touched = 0
        self._negated = 0
        # Clauses repeated in one query (32 copies of "de la") are evaluated once.
        self._repeated: set[Node] = set()
        self._done: dict[Node, Match] = {}
        self._root: Node | None = None
        #: The articles (a mask by aid) a word of the root AND is read within: those its parts read
        #: before hold, when they are few against the word's postings.
        self._within: np.ndarray | None = None
        #: The parts those articles come from (words and phrases only: the same articles in every
        #: search of this snapshot), under which the word's match is kept; None: not kept.
        self._within_parts: tuple[Node, ...] | None = None

    def run(self, node: Node) -> Match:
        """Evaluate a query tree."""
        m = self._run(node)
        self.touched += len(m)
        if not self._negated and isinstance(node, (Word, Phrase, Near, Prefix, Fuzzy)) and len(m):
            aids, _, best = m.best(self.snap.aid)
            self.covered.append((aids, best))
        return m

    def coverage(self, aids: np.ndarray) -> np.ndarray:
        """Return, for some articles (sorted aids), the sum over the query's words of each one's best score."""
        out = np.zeros(len(aids), dtype=np.float32)
        for covered, best in self.covered:
            if covered is aids:  # a one-word query: its articles are the query's (the match's grouping)
                out += best
                continue
            # The articles both hold, in the same order from either side (both sorted): no bisection.
            out[np.flatnonzero(contains(covered, aids))] += best[contains(aids, covered)]
        return out

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
            # A repeated clause adds nothing.
            out = summed([self.run(child) for child in dict.fromkeys(node.children)])
            proximity(self, node.children, out, B_TEXT)
            return out
        if isinstance(node, Not):
            self._negated += 1
            m = self.run(node.child)
            self._negated -= 1
            return self.without_articles(self.everything(), self.articles(m.ids))
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

    def everything(self) -> Match:
        """Return every live block, scored 0 (a query of exclusions only starts from them)."""
        ids = self.snap.alive_ids
        return Match(ids, np.zeros(len(ids), np.float32), np.zeros(len(ids), bool))

    def all_of(self, node: And) -> Match:
        """Match articles holding every required part somewhere (title or any paragraph).

        A block scores the parts it holds itself, so an article whose words sit in one
        paragraph outranks one that scatters them. At the root, the words are read rarest
        first, each within the articles the parts before it hold: in ``état d'urgence``,
        *état* costs the blocks of the articles that say *urgence*, not its own 40,000.
        The same blocks, the same sums: only a query stopped by its posting budget
        (:data:`~.scoring.MAX_POSTINGS`) differs, its cut falling on its frequent words.
        """
        # A clause repeated in the same AND counts once (32 copies of "de la" are one).
        required = [c for c in dict.fromkeys(node.children) if not isinstance(c, Not)]
        if required:
            parts: list[Match] = []
            keep: np.ndarray | None = None
            # (Elsewhere the query's order: no part would be read within the others' articles.)
            root = node is self._root
            reach = [self._reach(child) for child in required] if root else [0] * len(required)
            order = sorted(range(len(required)), key=reach.__getitem__)  # (stable: all 0 keeps the query's order)
            found: dict[int, tuple[Match, list[tuple[np.ndarray, np.ndarray]]]] = {}
            for i in order:
                child, start = required[i], len(self.covered)
                # Only at the root: a part of an OR also serves articles outside this AND's (its coverage).
                if keep is not None and root and child not in self._repeated and len(keep) * 4 < reach[i]:
                    self._within = self._articles_mask(keep)
                    before = tuple(required[j] for j in found)
                    self._within_parts = before if all(isinstance(p, (Word, Phrase)) for p in before) else None
                try:
                    m = self.run(child)
                finally:
                    self._within, self._within_parts = None, None
                found[i] = m, self.covered[start:]
                del self.covered[start:]
                aids = m.articles(self.snap.aid)[0]
                keep = aids if keep is None else intersect(keep, aids)
            for i in range(len(required)):  # in the query's order: coverage sums its words in that order
                parts.append(found[i][0])
                self.covered.extend(found[i][1])
            # Each part is cut to the articles every part holds before the parts are summed: a
            # frequent word (``de``) beside a rarer one is not united whole (same blocks, same sums).
            kept = keep if keep is not None else EMPTY_IDS
            cut = []
            for m in parts:
                aids, inverse = m.articles(self.snap.aid)
                cut.append(m.where(contains(kept, aids)[inverse]))
            out = summed(cut)
        else:
            out = self.everything()
        proximity(self, required, out, B_TEXT)
        for excluded in node.children:
            if isinstance(excluded, Not):
                self._negated += 1
                out = self.without_articles(out, self.articles(self.run(excluded.child).ids))
                self._negated -= 1
        return out

    def word(self, node: Word) -> Match:
        """Match a word in the text and the title, or in a metadata field."""
        if node.field in ("source", "author", "tag"):
            found = []
            for term in node.terms:
                ids, _ = self.postings(node.field, term)
                found.append(self.lift(ids, np.ones(len(ids), np.float32))[0])
            return Match.of(found)
        if node.field == "exact":
            return self._accented(node, self.exact_terms(list(node.terms)))
        fields = [("title", TITLE_BOOST)] if node.field == "title" else [("text", 1.0), ("title", TITLE_BOOST)]
        reads = [(fieldname, boost, [self.titled("title", term) if fieldname == "title"
                                     else self.bm25(fieldname, term, B_TEXT, self.snap.n_docs)
                                     for term in node.terms])
                 for fieldname, boost in fields]
        extra = self.exact_form(node) if EXACT_FORM_WEIGHT else []
        within = self._within

        def united() -> Match:
            if within is None:
                return self._accented(node, scored_union(reads, extra))
            inside = [(fieldname, boost, [self._inside(r) for r in rs]) for fieldname, boost, rs in reads]
            return self._accented(node, scored_union(inside, [self._inside(r) for r in extra]))

        if self.truncated or (within is not None and self._within_parts is None):
            return united()
        # Whole reads: the same match for every search of this snapshot, kept with its articles as
        # its terms' weights are (France at 4x: 2.4 ms of union and grouping, once); read within
        # the articles of an AND's rarer words and phrases, kept under those (an intersection kept).
        if node.accent:
            self.accent_forms(node)  # (what the typed accents keep, for marking: each search)
        return self._kept(("word", node, TITLE_BOOST, EXACT_FORM_WEIGHT, self._within_parts), united)

    def _kept(self, key: tuple[object, ...], compute: Callable[[], Match]) -> Match:
        """Return the match kept in this snapshot under ``key`` (computed once, with its articles)."""
        return Match.restore(self.snap.aid, self.snap.kept(key, lambda: compute().kept(self.snap.aid)))

    def _accented(self, node: Word, out: Match) -> Match:
        return self.keep_accents(node, out) if node.accent else out

    def _reach(self, node: Node) -> int:
        """Return how many blocks a part of an AND reads: its words' postings (0: a part read first)."""
        if not isinstance(node, Word) or node.field not in (None, "title"):
            return 0
        # (Read as the word's evaluation reads them: once per query, against its budget.)
        fields = ("title",) if node.field == "title" else ("text", "title")
        return sum(len(self.postings(f, t)[0]) for t in node.terms for f in fields)

    def _articles_mask(self, aids: np.ndarray) -> np.ndarray:
        """Return a mask of some articles (one bool per aid of the snapshot)."""
        mask = np.zeros(len(self.snap.aid_count), dtype=bool)
        mask[aids] = True
        return mask

    def _inside(self, read: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Return the blocks of a read (and their scores) whose articles ``_within`` holds."""
        ids, scores = read
        assert self._within is not None
        keep = self._within.take(self.snap.aid.take(ids))
        return ids[keep], scores[keep]

    def exact_form(self, node: Word) -> list[tuple[np.ndarray, np.ndarray]]:
        """Return a share of the scores of the very form typed (``élections``), to add to its stem's."""
        exact = self.snap.chain.word(node.text).exact
        out = []
        if node.field is None:
            ids, scores = self.bm25("exact", exact, B_TEXT, self.snap.n_docs)
            out.append((ids, EXACT_FORM_WEIGHT * scores))
        docs, lifted = self.titled("title_exact", exact)
        out.append((docs, EXACT_FORM_WEIGHT * TITLE_BOOST * lifted))
        return out

    def keep_accents(self, node: Word, out: Match) -> Match:
        """Keep the blocks whose printed forms carry the accents the reader typed.

        Forms are looked up under the word's stems in the ``accent`` field (see
        :func:`archive.analysis.accent_term`); a title's forms sit on its block 0, and
        an article matched through its title keeps every block if block 0 agrees.
        """
        typed, exact, ids = self.accent_forms(node)
        allowed = contains(ids, out.ids)
        # A title match lifts block 0's verdict to its whole article; a paragraph needs its own.
        # (Kept with the forms: the same for every search of this snapshot typing this word.)
        agreeing = self.snap.memo(("accent titles", typed, exact),
                                  lambda: frozen((self.articles(ids[self.snap.n[ids] == 0]),))[0])
        allowed |= ~out.para & contains(agreeing, self.snap.aid[out.ids])
        return out.where(allowed)

    def accent_forms(self, node: Word) -> tuple[str, str | None, np.ndarray]:
        """Note the printed forms keeping a word's typed accents (and their blocks, for the concordance);
        return the accents typed, the exact term (of an ``exact:`` word) and those blocks."""
        typed = node.accent or ""
        exact = node.terms[0] if node.field == "exact" else None
        forms, ids, tokens = self.accent_kept(typed, exact)
        self.expanded[node.text] = forms
        if exact is None:
            self.accent_tokens[(typed, frozenset(node.terms))] = (ids, tokens)
        return typed, exact, ids

    def exact_terms(self, terms: list[str]) -> Match:
        """Match any of some exact terms in the text (per paragraph) or the title (per article)."""
        reads = []
        for term in terms:
            ids, scores = self.bm25("exact", term, B_TEXT, self.snap.n_docs)
            docs, lifted = self.titled("title_exact", term)
            reads.append((ids, scores, docs, TITLE_BOOST * lifted))
        out = Match.of([r[0] for r in reads] + [r[2] for r in reads], [r[0] for r in reads])
        for ids, scores, docs, lifted in reads:
            out.maximum(ids, scores)
            out.maximum(docs, lifted)
        return out

    def phrase(self, node: Phrase) -> Match:
        """Match words in order (or, with a slop, near each other) in a paragraph or the title."""
        if node.field in ("source", "author", "tag"):
            # Metadata fields have no positions: all words present is close enough there.
            common: np.ndarray | None = None
            for term in set(node.terms):
                ids, _ = self.postings(node.field, term)
                common = ids if common is None else intersect(common, ids)
            if common is None:
                return Match.empty()
            lifted, _ = self.lift(common, np.ones(len(common), np.float32))
            return Match.of([lifted])
        fields = ("exact", "title_exact") if node.field is None else ("title_exact",)
        for fieldname in fields:  # (read as positional reads them, against the budget)
            for term in set(node.terms):
                self.occurrences(fieldname, term)
        if self.truncated:
            return self._phrase(node)
        # Whole reads: the same phrase for every search of this snapshot, kept as a word's union is.
        return self._kept(("phrase", node, TITLE_BOOST), lambda: self._phrase(node))

    def _phrase(self, node: Phrase) -> Match:
        ids, tf = EMPTY_IDS, EMPTY_WEIGHTS
        if node.field is None:
            ids, tf = positional(self, node, "exact")
        titled, title_tf = positional(self, node, "title_exact")
        docs, lifted = EMPTY_IDS, EMPTY_WEIGHTS
        if len(titled):
            scores = TITLE_BOOST * self.phrase_score(node, "title_exact", titled, title_tf, B_TITLE,
                                                     self.snap.n_titled)
            docs, lifted = self.lift(titled, scores)
        own = self.phrase_score(node, "exact", ids, tf, B_TEXT, self.snap.n_docs) if len(ids) else EMPTY_WEIGHTS
        # A block scores the better of its own text's phrase and its article's title's.
        return Match(*max_union(ids, own, docs, lifted))

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


def match(evaluator: Evaluator, root: Node | None) -> Match | None:
    """Evaluate a query tree over a snapshot's live blocks (None for a query without words)."""
    if root is None:
        return None
    # Only repeated clauses are kept.
    evaluator._repeated = repeated_clauses(root)
    evaluator._root = root
    m = evaluator.run(root)
    alive = evaluator.snap.alive.take(m.ids)
    return m if alive.all() else m.where(alive)  # (the same match: its grouping is kept)
