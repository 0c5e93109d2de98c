"""Analysis: how French text becomes index terms.

Take the sentence ``L’Assemblée a décidé d'investir aujourd’hui en R&D.``
The *search chain* (:func:`french_analyzer`) turns it into terms in five stages:

1. **Tokenize** Unicode words. An apostrophe (' or ’) or ``&`` between two word
   characters keeps a word whole, so ``aujourd’hui`` and ``R&D`` stay one
   token; « », no-break spaces (U+00A0, U+202F), hyphens and punctuation
   separate: ``L’Assemblée | a | décidé | d'investir | aujourd’hui | en | R&D``.
2. **Lowercase**, and strip **elisions** in both apostrophe forms (l' d' j' m'
   n' s' t' c' qu' jusqu' lorsqu' puisqu' quoiqu'): ``l’assemblée`` becomes
   ``assemblée`` and its start offset moves past the apostrophe, so a
   highlight marks ``Assemblée`` exactly as printed.
3. Drop French **stop words** (``a``, ``en``, ``le``…), in their accented and
   unaccented spellings.
4. **Stem** with Snowball French (PyStemmer): ``investir`` → ``invest``,
   ``investissements`` → ``invest``.
5. **Fold** accents and ligatures (``é`` → ``e``, ``œ`` → ``oe``, ``æ`` → ``ae``).

Stages 4 and 5 do not commute: Snowball relies on accents, so
``fold(stem("assemblée"))`` is ``assembl`` while ``stem(fold("assemblée"))`` =
``stem("assemblee")`` is ``assemble``. A reader typing without accents gets
the second. So every word is indexed under *both* terms, at the same position,
and a query word is looked up under both: accented and unaccented spellings of
a query meet the same documents (``bench/relevance.py`` measures it).

The *exact chain* (:func:`exact_analyzer`) stops after folding and keeps stop
words: it serves quoted phrases, where ``"investir"`` must not match
``investissements`` but ``"etat d'urgence"`` matches ``état d’urgence``.

Both chains are Whoosh analyzers (picklable, stored in the index schema) and
keep character offsets, which :func:`token_spans` uses for highlighting.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Iterator

import Stemmer
from whoosh.analysis import Filter, LowercaseFilter, RegexTokenizer, StopFilter, Token
from whoosh.analysis.analyzers import CompositeAnalyzer
from whoosh.lang import stopwords_for_language

__all__ = [
    "WORD_PATTERN",
    "WORD_RE",
    "ELISIONS",
    "STOP_WORDS",
    "fold",
    "stem_variants",
    "french_analyzer",
    "exact_analyzer",
    "token_spans",
    "analyze_word",
    "analyze_block",
    "analyze_spans",
    "words",
]

#: A Unicode word; ' ’ or & between word characters keep it whole.
WORD_PATTERN = r"\w+(?:['’&]\w+)*"
ELISIONS = ("l", "d", "j", "m", "n", "s", "t", "c", "qu", "jusqu", "lorsqu", "puisqu", "quoiqu")
_ELISION_RE = re.compile(r"^(?:%s)['’](?=\w)" % "|".join(ELISIONS))
WORD_RE = _WORD_RE = re.compile(WORD_PATTERN)
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss", "’": "'"})
_stemmer = Stemmer.Stemmer("french")


@lru_cache(maxsize=500_000)
def fold(word: str) -> str:
    """Remove accents and expand ligatures: ``Œuvre`` → ``Oeuvre``, ``été`` → ``ete``."""
    if word.isascii():
        return word
    decomposed = unicodedata.normalize("NFKD", word.translate(_LIGATURES))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _stop_words() -> frozenset[str]:
    # Snowball's list lacks a few of the most frequent function words.
    base = set(stopwords_for_language("fr")) | {"a", "les", "leurs", "ça", "cet", "cette", "ni", "si"}
    return frozenset(base | {fold(w) for w in base})


STOP_WORDS = _stop_words()


@lru_cache(maxsize=500_000)
def stem_variants(word: str) -> tuple[str, ...]:
    """Return the index terms of a lowercase word: fold(stem(w)), then stem(fold(w)) if it differs."""
    first = fold(_stemmer.stemWord(word))
    second = _stemmer.stemWord(fold(word))
    return (first,) if first == second else (first, second)


def words(text: str) -> list[str]:
    """Split text into tokens the way the chains do (before any filter)."""
    return _WORD_RE.findall(text)


class ElisionFilter(Filter):
    """Strip French elided articles and pronouns (l’, qu'…), moving the start offset along."""

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        for t in tokens:
            m = _ELISION_RE.match(t.text)
            if m:
                t.text = t.text[m.end():]
                if hasattr(t, "startchar"):
                    t.startchar += m.end()
            yield t


class FoldFilter(Filter):
    """Fold accents and ligatures, and spell every apostrophe as '."""

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        for t in tokens:
            t.text = fold(t.text).replace("’", "'")
            yield t


class StemFoldFilter(Filter):
    """Emit fold(stem(w)) and, when different, stem(fold(w)) at the same position."""

    def __init__(self, stem: bool = True, fold: bool = True) -> None:
        self.stem = stem
        self.fold = fold

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.__dict__ == self.__dict__

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        for t in tokens:
            word = t.text.replace("’", "'")
            if self.stem and self.fold:
                variants = stem_variants(word)
            elif self.stem:
                variants = (_stemmer.stemWord(word),)
            elif self.fold:
                variants = (fold(word),)
            else:
                variants = (word,)
            for v in variants:
                t.text = v
                yield t


def french_analyzer(*, stem: bool = True, fold: bool = True, elision: bool = True,
                    stop: bool = True) -> CompositeAnalyzer:
    """Return the search chain; the switches exist to measure what each stage buys."""
    chain = RegexTokenizer(WORD_PATTERN) | LowercaseFilter()
    if elision:
        chain = chain | ElisionFilter()
    if stop:
        chain = chain | StopFilter(stoplist=STOP_WORDS, minsize=1, renumber=False)
    return chain | StemFoldFilter(stem=stem, fold=fold)


def exact_analyzer() -> CompositeAnalyzer:
    """Return the exact chain for quoted phrases: no stemming, no stop words."""
    return RegexTokenizer(WORD_PATTERN) | LowercaseFilter() | ElisionFilter() | FoldFilter()


# ---------------------------------------------------------------------------- fast path
#
# The same two chains without Whoosh's generator pipeline: one regex pass and a cached
# analysis per distinct word. Indexing and highlighting use these; tests check that
# they agree with the Whoosh analyzers term for term.

@lru_cache(maxsize=1_000_000)
def analyze_word(raw: str) -> tuple[int, str, tuple[str, ...]]:
    """Return a raw token's elision length, exact term and search terms."""
    word = raw.lower()
    m = _ELISION_RE.match(word)
    cut = m.end() if m else 0
    word = word[cut:]
    exact = fold(word).replace("’", "'")
    if word in STOP_WORDS:
        return cut, exact, ()
    return cut, exact, stem_variants(word.replace("’", "'"))


def analyze_block(text: str) -> tuple[list[str], list[str]]:
    """Return the exact terms (one per position) and the search terms of a text."""
    exact: list[str] = []
    search: list[str] = []
    for raw in _WORD_RE.findall(text):
        _, e, s = analyze_word(raw)
        exact.append(e)
        search.extend(s)
    return exact, search


def analyze_spans(text: str) -> list[tuple[int, int, str, tuple[str, ...]]]:
    """Return ``(start, end, exact term, search terms)`` per token, elisions outside the span."""
    out = []
    for m in _WORD_RE.finditer(text):
        cut, e, s = analyze_word(m.group())
        out.append((m.start() + cut, m.end(), e, s))
    return out


def token_spans(analyzer: CompositeAnalyzer, text: str) -> list[tuple[int, int, int, str]]:
    """Return ``(position, start, end, term)`` for every term the analyzer makes of ``text``."""
    return [(t.pos, t.startchar, t.endchar, t.text)
            for t in analyzer(text, positions=True, chars=True, mode="index")]
