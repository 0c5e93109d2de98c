"""Occurrences: how many lines each paragraph gives a concordance, counted in the index.

The concordance of ``gouvernement`` has one line per span the query's plan of
marks (:class:`~archive.search.marking.MarkPlan`, made once by
:meth:`Engine.select <archive.search.Engine.select>`) marks in the matching paragraphs:
``Gouvernement``, ``gouvernements``, ``gouverner``… 6,631 over the corpus.
Reading and marking every paragraph to count them takes a second; the index
answers in milliseconds, mostly from what matching has just read:

* **Words** (the common case, ``grève SNCF``, ``président OR ministre``): a
  word typed without accents marks the tokens having its stem, which the
  ``text`` field counts per paragraph; one typed with accents (``réforme``)
  marks the tokens whose printed form keeps them, which matching counted from
  the ``accent`` field when it selected the paragraphs.

Otherwise (quoted terms, prefixes, phrases, or words whose tokens the above
would count twice) each token is judged by its *exact term*, and a few by
their printed form:

* **Sure terms** have every token marked whatever its form: a term typed in
  quotes, a prefix's terms, a term whose stem is a query word's stem
  (``gouvernements`` → ``gouvern``). A paragraph holds as many of their
  occurrences as the ``exact`` field's frequency says.
* **Mixed terms** depend on the printed form: ``élection`` typed with its
  accent marks ``Élection`` and ``ÉLECTION`` but not ``election``. The
  ``accent`` field counts each printed form per paragraph (every form since
  index format fr-11; the term's other tokens, if any, are stop-word forms).
* **Phrases** (``"premier ministre"``) come from the ``exact`` field's
  positions; a word marked inside a phrase joins its span, as the highlighter
  merges overlapping spans.

The stems' terms are found by prefix (a Snowball stem is a prefix of its word
but for a few replaced suffixes) and checked against the ``text`` field, which
counts the tokens having each stem. Whatever the index cannot settle exactly (a
stem whose terms were not all found, block 0 whose ``accent`` terms include its
article's title, a stop word typed with accents, a phrase over a mixed term) is
-1: the caller reads those paragraphs.
"""

from __future__ import annotations

import numpy as np

from ..analysis import FRENCH, STOP_WORDS, stem_variants
from .highlight import Marks
from .locate import stem_prefixes
from .marking import MarkPlan
from .matching import MAX_ACCENT_FORMS, Evaluator
from .positions import positions_in
from .scoring import intersect

__all__ = ["count_marks", "stem_of", "UNKNOWN", "MAX_TERMS"]

UNKNOWN = -1
#: Terms one prefix or stem may expand to; past it, the paragraphs left unexplained are read.
MAX_TERMS = 512


def count_marks(evaluator: Evaluator, plan: MarkPlan, docs: np.ndarray) -> np.ndarray:
    """Return how many spans ``plan`` marks in each block of ``docs`` (-1: read its text).

    ``evaluator`` matched the blocks: its posting reads are reused.
    """
    if not len(docs) or plan.chain != FRENCH:
        return np.full(len(docs), UNKNOWN, dtype=np.int64)
    counts = _Counter(evaluator, plan.marks, docs).run()
    # Past the query's posting budget, reads come back empty: the counts would be short.
    return np.full(len(docs), UNKNOWN, dtype=np.int64) if evaluator.truncated else counts


def stem_of(term: str) -> str:
    """Return the stem every token of an exact term has among its search terms (unless a stop word)."""
    return stem_variants(term)[-1]


class _Counter:
    """Count one query's marks over the selected blocks."""

    def __init__(self, evaluator: Evaluator, marks: Marks, docs: np.ndarray) -> None:
        self.evaluator, self.snap, self.marks = evaluator, evaluator.snap, marks
        self.chain = self.snap.chain
        self.n = len(docs)
        self.docs = np.sort(docs)  # (in reading order: the positions' lookup wants them sorted)
        self.where = np.full(self.snap.size, -1, dtype=np.int64)
        self.where[docs] = np.arange(self.n)
        self.unknown = np.zeros(self.n, dtype=bool)
        self.first_blocks = self.snap.n[docs] == 0  # (block 0 carries its article's title)
        self._tf: dict[tuple[str, str], np.ndarray] = {}
        self._forms: dict[str, list[tuple[str, str]] | None] = {}
        #: Exact terms whose every token is marked.
        self.sure: set[str] = set()
        #: Mixed exact terms: their accent-field terms with each one's verdict, and the
        #: verdict on their other tokens (lowercase unaccented form, stop-word forms).
        self.mixed: dict[str, tuple[list[tuple[str, bool]], bool]] = {}

    def tf(self, fieldname: str, term: str) -> np.ndarray:
        """Return a term's frequency in each selected block (read once)."""
        key = (fieldname, term)
        found = self._tf.get(key)
        if found is None:
            ids, weights = self.evaluator.postings(fieldname, term)
            rows = self.where[ids]
            keep = rows >= 0
            found = np.zeros(self.n, dtype=np.int64)
            found[rows[keep]] = weights[keep].astype(np.int64)
            self._tf[key] = found
        return found

    def terms_with_stem(self, stem: str) -> list[str]:
        """Return the index's exact terms whose stem is ``stem`` (up to MAX_TERMS read)."""
        found = [t for prefix in stem_prefixes(stem) for t in self.snap.expand_prefix("exact", prefix, MAX_TERMS)]
        return [t for t in found if stem_of(t) == stem and self.chain.word(t).exact == t]

    def forms(self, key: str) -> list[tuple[str, str]] | None:
        """Return the printed forms indexed under a stem in the ``accent`` field: (accent term, form).

        None when there are more than MAX_TERMS.
        """
        if key not in self._forms:
            found = self.snap.expand_prefix("accent", key + "|", MAX_TERMS + 1)
            self._forms[key] = None if len(found) > MAX_TERMS else [(t, t.partition("|")[2]) for t in found]
        return self._forms[key]

    def run(self) -> np.ndarray:
        """Return the counts, -1 where the index cannot settle them."""
        marks = self.marks
        if not (marks.exact or marks.prefixes or marks.phrases):
            quick = self.words()
            if quick is not None:
                return quick
        self.sure.update(marks.exact)
        for prefix in marks.prefixes:
            found = self.snap.expand_prefix("exact", prefix, MAX_TERMS + 1)
            if len(found) > MAX_TERMS:
                return np.full(self.n, UNKNOWN, dtype=np.int64)
            self.sure.update(found)
        candidates = {t for terms, _ in marks.accented for t in terms if self.chain.word(t).exact == t}
        enumerated: dict[str, set[str]] = {}
        for stem in marks.stems():
            words = self.terms_with_stem(stem)
            plain = {t for t in words if t not in STOP_WORDS}
            enumerated[stem] = plain
            if stem in marks.terms:
                self.sure |= plain
                candidates |= set(words) - plain
            else:
                candidates |= set(words)
            candidates |= {self.chain.word(form).exact for _, form in self.forms(stem) or ()}
        for term in candidates - self.sure:
            self.judge(term)
        counts = sum((self.tf("exact", t) for t in self.sure), np.zeros(self.n, dtype=np.int64))
        for term in self.mixed:
            counts += self.mixed_count(term)
        for stem, plain in enumerated.items():
            self.check_stem(stem, plain)
        if marks.phrases:
            self.phrases(counts)
        counts[self.unknown] = UNKNOWN
        return counts

    def words(self) -> np.ndarray | None:
        """Return the counts of a query of words alone from the matching's reads (None: it cannot).

        A word typed without accents marks the tokens having its stem, which the ``text``
        field counts per block; one typed with accents, those whose printed form keeps
        them, which matching counted (``accent`` field). That is all, unless a printed
        form has stems of two words (it would count twice: ``assemblée`` has assembl and
        assemble), a lowercase unaccented word or a stop word keeps the typed accents, or
        a typed word's stem is a word of its own.
        """
        marks, chain = self.marks, self.chain
        stems = list(marks.terms) + [stem for terms, _ in marks.accented for stem in terms]
        if len(stems) != len(set(stems)):
            return None
        for stem in stems if len(stems) > 1 else ():
            forms = self.forms(stem)
            if forms is None or any(len(set(stems).intersection(chain.word(form).search)) > 1 for _, form in forms):
                return None
        counts = sum((self.tf("text", t) for t in marks.terms), np.zeros(self.n, dtype=np.int64))
        for terms, typed in marks.accented:
            found = self.evaluator.accent_tokens.get((typed, terms))
            if found is None or not self.keeps_to_forms(terms):
                return None
            rows = self.where[found[0]]
            keep = rows >= 0
            tokens = np.zeros(self.n, dtype=np.int64)
            tokens[rows[keep]] = found[1][keep]
            # Block 0's accent terms hold its title's forms too.
            if (touched := self.first_blocks & (tokens > 0)).any():
                for term in {chain.word(f).exact for stem in terms for _, f in self.forms(stem) or ()}:
                    self.unknown |= touched & (self.tf("title_exact", term) > 0)
            counts += tokens
        counts[self.unknown] = UNKNOWN
        return counts

    def keeps_to_forms(self, stems: frozenset[str]) -> bool:
        """Tell whether only printed forms in the accent field can keep a typed word's accents."""
        chain, marks = self.chain, self.marks
        for stem in stems:
            forms = self.forms(stem)
            if forms is None or len(forms) > MAX_ACCENT_FORMS:  # (matching read this many at most)
                return False
            plain = {t for t in self.terms_with_stem(stem) if t not in STOP_WORDS}
            if (stem in STOP_WORDS or (self.snap.frequency("exact", stem) and stem_of(stem) not in stems)
                    or any(marks.judge(t)[0] >= 0 for t in plain if t.isascii() and t.islower())
                    or not self.complete(stem, plain, [(a, chain.word(f).exact) for a, f in forms
                                                       if chain.word(f).exact not in plain])):
                return False
        return True

    def judge(self, term: str) -> None:
        """Sort a candidate exact term into sure, mixed or never marked by judging each of its forms."""
        forms = self.forms(stem_of(term))
        if forms is None:
            self.unknown |= self.tf("exact", term) > 0
            return
        verdicts = []
        for accent_term, form in forms:
            a = self.chain.word(form)
            if a.exact != term:
                continue
            if a.form != form or a.cut:
                self.unknown |= self.tf("exact", term) > 0  # (a form the chain reads otherwise alone)
                return
            verdicts.append((accent_term, self.marks.judge(form)[0] >= 0))
        # Tokens outside the accent field: the lowercase unaccented form, and stop-word forms
        # (which no search term marks: an accented one typed in quotes would need its form).
        rest = self.marks.judge(term)[0] >= 0 if term.isascii() and term.islower() else False
        if term in STOP_WORDS and any(term in terms for terms, _ in self.marks.accented):
            self.unknown |= self.tf("exact", term) > 0
            return
        every = {v for _, v in verdicts} | {rest}
        if every == {True}:
            self.sure.add(term)
        elif every == {True, False}:
            self.mixed[term] = (verdicts, rest)

    def mixed_count(self, term: str) -> np.ndarray:
        """Return a mixed term's marked tokens per block, from its forms' frequencies."""
        verdicts, rest_marked = self.mixed[term]
        marked = sum((self.tf("accent", a) for a, verdict in verdicts if verdict), np.zeros(self.n, dtype=np.int64))
        lowercase = (term.isascii() and term.islower()) or term in STOP_WORDS
        if not rest_marked and lowercase:
            self.untitled(term, marked)
            return marked  # (the other tokens, lowercase or stop-word forms, are not marked)
        # The term's tokens outside the accent field exist only lowercase or as stop words.
        formed = sum((self.tf("accent", a) for a, _ in verdicts), np.zeros(self.n, dtype=np.int64))
        self.untitled(term, formed)
        rest = self.tf("exact", term) - formed
        self.unknown |= (rest < 0) | ((rest > 0) & (not lowercase))
        return marked + (rest if rest_marked else 0)

    def untitled(self, term: str, counted: np.ndarray) -> None:
        """Mark unknown the blocks 0 whose counted accent terms may come from the title."""
        if (touched := self.first_blocks & (counted > 0)).any():
            self.unknown |= touched & (self.tf("title_exact", term) > 0)

    def check_stem(self, stem: str, plain: set[str]) -> None:
        """Mark unknown the blocks where tokens having ``stem`` are not all accounted for."""
        forms = self.forms(stem)
        if forms is None:
            self.unknown |= self.tf("text", stem) > 0
            return
        others = [(a, self.chain.word(form).exact) for a, form in forms if self.chain.word(form).exact not in plain]
        if stem not in self.marks.terms and self.complete(stem, plain, others):
            return
        accounted = sum((self.tf("exact", t) for t in plain), np.zeros(self.n, dtype=np.int64))
        for accent_term, _ in others:
            accounted = accounted + self.tf("accent", accent_term)
        self.unknown |= accounted != self.tf("text", stem)

    def complete(self, stem: str, plain: set[str], others: list[tuple[str, str]]) -> bool:
        """Tell from whole-index frequencies, without reading postings, that every token having
        ``stem`` is one of ``plain`` or has a printed form in the accent field.

        The tokens left over (unaccounted) are the ``text`` field's count, less the plain
        terms' and the other forms' counts, plus those forms' title tokens (in block 0's
        accent terms): at most the titles' count of their terms.
        """
        left = self.snap.frequency("text", stem) - sum(self.snap.frequency("exact", t) for t in plain)
        left -= sum(self.snap.frequency("accent", a) for a, _ in others)
        return left + sum(self.snap.frequency("title_exact", t) for t in {t for _, t in others}) <= 0

    def phrases(self, counts: np.ndarray) -> None:
        """Count the blocks holding a phrase from positions, merging the spans that overlap."""
        starts, ends = [], []
        for phrase in self.marks.phrases:
            at = self.positions(phrase[0])
            for k, term in enumerate(phrase[1:], start=1):
                at = intersect(at, self.positions(term) - k)
            starts.append(at)
            ends.append(at + len(phrase) - 1)
        hit = np.unique(np.concatenate(starts) >> 32)
        if not len(hit):
            return
        rows = self.where[hit]
        inside = np.zeros(self.n, dtype=bool)
        inside[rows] = True
        for term in self.sure:
            at = self.positions(term, hit)
            starts.append(at)
            ends.append(at)
        for term in self.mixed:
            marked, total = self.mixed_count(term), self.tf("exact", term)
            self.unknown |= inside & (marked > 0) & (marked < total)
            at = self.positions(term, hit[marked[rows] == total[rows]])
            starts.append(at)
            ends.append(at)
        start, end = np.concatenate(starts), np.concatenate(ends)
        order = np.argsort(start, kind="stable")
        start, end = start[order], end[order]
        # A span opens a new line unless it begins inside the ones before it (same block:
        # a block's positions are packed under its docnum, so blocks never overlap).
        reach = np.maximum.accumulate(end)
        opens = np.ones(len(start), dtype=bool)
        opens[1:] = start[1:] > reach[:-1]
        counts[rows] = 0
        np.add.at(counts, self.where[start[opens] >> 32], 1)

    def positions(self, term: str, docs: np.ndarray | None = None) -> np.ndarray:
        """Return ``docnum << 32 | position`` of a term's tokens in the selected blocks (or ``docs``)."""
        ids, values = self.evaluator.occurrences("exact", term)
        return positions_in(ids, values, self.docs if docs is None else docs)
