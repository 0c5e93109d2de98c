"""Analysis: how French text becomes index terms, in one chain.

Take the sentence ``L’Assemblée a décidé d'investir aujourd’hui en R&D.``
The chain (:class:`Chain`) reads it in five stages:

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

Each token comes out with two kinds of terms. Its *search terms* went through
all five stages; its *exact term* skipped stages 3 and 4 (quoted phrases:
``"investir"`` must not match ``investissements`` but ``"etat d'urgence"``
matches ``état d’urgence``).

Stages 4 and 5 do not commute: Snowball relies on accents, so
``fold(stem("assemblée"))`` is ``assembl`` while ``stem(fold("assemblée"))`` =
``stem("assemblee")`` is ``assemble``. A reader typing without accents gets
the second. So every word is indexed under *both* search terms, at the same
position, and a query word is looked up under both: accented and unaccented
spellings of a query meet the same documents (``bench/relevance.py`` measures
it).

Indexing, query parsing and highlighting all call :meth:`Chain.word` (cached
per distinct raw word); :class:`ChainAnalyzer` only wraps it in the shape
Whoosh's schema expects, so there is one chain, not two kept in step.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, NamedTuple

import Stemmer
from whoosh.analysis import Analyzer, Token
from whoosh.lang import stopwords_for_language

__all__ = ["WORD_PATTERN", "WORD_RE", "APOSTROPHES", "ELISIONS", "STOP_WORDS", "fold", "stem_variants",
           "words", "tokens", "split_words", "normalize", "normalize_text", "join_numbers", "has_accents",
           "accents_agree", "GROUP_SEPARATORS", "NUMBER_RE", "Analysis", "Span", "Chain", "FRENCH", "accent_term",
           "ChainAnalyzer", "COMBINING_MARKS", "INVISIBLE"]

#: Every character a reader or a PDF uses as an apostrophe.
APOSTROPHES = "'’ʼ‘`´"
#: Combining marks (a character class's ranges) and the invisible characters a word may hold:
#: soft hyphen, zero-width characters.
COMBINING_MARKS = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
_PART = rf"\w[\w{COMBINING_MARKS}{INVISIBLE}]*"
#: What separates the digit groups of one number: a space, a no-break, narrow no-break
#: or thin space, or a dot (``2 000``, ``2\u202f000``, ``2.000``).
GROUP_SEPARATORS = " \u00a0\u202f\u2009."
# A number: groups of three digits after one to three (``1 000 000``), a decimal comma
# after (``2 000,5``), or a decimal comma alone (``2,5``). Not inside a longer number or word.
_NUMBER = (rf"(?<![\w.,])(?:[0-9]{{1,3}}(?:[{GROUP_SEPARATORS}][0-9]{{3}})+(?:,[0-9]+)?|[0-9]+,[0-9]+)"
           rf"(?![\w{COMBINING_MARKS}{INVISIBLE}]|[{GROUP_SEPARATORS},][0-9])")
# After an apostrophe or &, a word may start with an invisible character (``aujourd’\u00adhui``).
_LINKED = rf"(?:[{APOSTROPHES}&][{INVISIBLE}]*{_PART})*"
#: A Unicode word (decomposed accents and invisible characters inside it included);
#: an apostrophe or & between word characters keeps it whole; ``O.N.U.`` is one word;
#: a number's digit groups are one word (``2 000``).
WORD_PATTERN = (rf"{_NUMBER}"
                rf"|(?:{_PART}[{APOSTROPHES}])?(?:(?:[^\W\d_]\.){{2,}}|[^\W\d_](?:\.[^\W\d_])+)(?!\w)"
                rf"|{_PART}{_LINKED}")
WORD_RE = re.compile(WORD_PATTERN)
NUMBER_RE = re.compile(_NUMBER)
# The pattern's first branch (numbers) needs a digit, a separator or comma and a digit,
# its second (acronyms) a letter right after a dot: text without them is tokenized by
# the last branch alone, about a third faster, same tokens.
_PLAIN_WORD_RE = re.compile(rf"{_PART}{_LINKED}")
_NUMBER_WORD_RE = re.compile(rf"(?=[0-9])(?:{_NUMBER})|{_PART}{_LINKED}")
_DOT_LETTER_RE = re.compile(r"\.[^\W\d_]")
_DIGIT_GROUP_RE = re.compile(rf"[0-9][{GROUP_SEPARATORS},][0-9]")


def _pattern(text: str) -> re.Pattern[str]:
    """Return the fastest pattern that finds the chain's words in ``text``."""
    if _DOT_LETTER_RE.search(text):
        return WORD_RE
    return _NUMBER_WORD_RE if _DIGIT_GROUP_RE.search(text) else _PLAIN_WORD_RE


# Splitting at the chain's words keeps them (the group) between the gaps.
_SPLITS = {p: re.compile(f"({p.pattern})") for p in (WORD_RE, _NUMBER_WORD_RE, _PLAIN_WORD_RE)}
ELISIONS = ("l", "d", "j", "m", "n", "s", "t", "c", "qu", "jusqu", "lorsqu", "puisqu", "quoiqu")
_ELISION_RE = re.compile(r"^(?:%s)’(?=\w)" % "|".join(ELISIONS))
# (No word but a number holds a space: dropping them joins a number's digit groups.)
_NORMAL = str.maketrans({**{c: "’" for c in APOSTROPHES}, **{c: None for c in INVISIBLE + GROUP_SEPARATORS}})
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss", "’": "'"})
_stemmer = Stemmer.Stemmer("french", 0)  # no cache of its own: ours are larger, and its own slowed new words


@lru_cache(maxsize=500_000)
def fold(word: str) -> str:
    """Remove accents and expand ligatures: ``Œuvre`` → ``Oeuvre``, ``été`` → ``ete``."""
    if word.isascii():
        return word
    decomposed = unicodedata.normalize("NFKD", word.translate(_LIGATURES))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


#: Interrogative and relative words: grammatical words, like Snowball's pronouns and
#: determiners, that give a question its form, not its subject (``Quand la tour a-t-elle
#: été construite ?`` is about a tower being built). ``comment`` (how) also shared its
#: stem with *commenter*.
QUESTION_WORDS = frozenset(
    "où quand comment pourquoi combien quoi dont quel quelle quels quelles lequel laquelle lesquels "
    "lesquelles auquel auxquels auxquelles duquel desquels desquelles".split())


def _stop_words() -> frozenset[str]:
    # Snowball's list lacks a few of the most frequent function words.
    base = set(stopwords_for_language("fr")) | {"a", "les", "leurs", "ça", "cet", "cette", "ni", "si"}
    # Folded forms too, but only of Snowball's list: ``où`` folds to ``ou`` (a stop word already).
    return frozenset(base | {fold(w) for w in base} | QUESTION_WORDS)


STOP_WORDS = _stop_words()


@lru_cache(maxsize=500_000)
def stem_variants(word: str) -> tuple[str, ...]:
    """Return the search terms of a lowercase word: fold(stem(w)), then stem(fold(w)) if it differs."""
    first = fold(_stemmer.stemWord(word))
    second = _stemmer.stemWord(fold(word))
    return (first,) if first == second else (first, second)


def words(text: str) -> list[str]:
    """Split text into raw tokens the way the chain does."""
    return WORD_RE.findall(text)


def tokens(text: str) -> list[str]:
    """Split text into raw tokens exactly as :func:`words` does, faster on text without acronyms."""
    return _pattern(text).findall(text)




def split_words(text: str) -> list[str]:
    """Split text into gap, token, gap, token, …, gap: the tokens of :func:`tokens`, and what lies between."""
    return _SPLITS[_pattern(text)].split(text)


def normalize(raw: str) -> str:
    """Return a raw token as the chain reads it: NFKC, one apostrophe, no invisible characters or dots.

    ``l\u02bcE\u0301tat`` (modifier apostrophe, decomposed accent) → ``l’État``;
    ``ﬁ`` → ``fi``; full-width letters → ASCII; ``O.N.U.`` → ``ONU``.
    """
    return unicodedata.normalize("NFKC", raw.translate(_NORMAL))


_TEXT_NORMAL = str.maketrans({**{c: "’" for c in APOSTROPHES}, **{c: None for c in INVISIBLE}})


def normalize_text(text: str) -> str:
    """Return a typed query as the chain reads text: NFKC, one apostrophe, no invisible characters."""
    return unicodedata.normalize("NFKC", text.translate(_TEXT_NORMAL))


_DROP_SEPARATORS = str.maketrans({c: None for c in GROUP_SEPARATORS})


def join_numbers(text: str) -> str:
    """Write a number's digit groups together, as the chain reads them: ``2 000`` → ``2000`` (queries)."""
    return NUMBER_RE.sub(lambda m: m.group().translate(_DROP_SEPARATORS), text)


def has_accents(word: str) -> bool:
    """Tell whether a word carries accents (ligatures are spelling, not accents)."""
    return any(unicodedata.combining(c) for c in unicodedata.normalize("NFD", word.translate(_LIGATURES)))


def _letters(word: str) -> list[tuple[str, str, bool]]:
    """Return (base letter, its accents, uppercase?) per letter, ligatures expanded."""
    out: list[tuple[str, str, bool]] = []
    for c in unicodedata.normalize("NFD", word.translate(_LIGATURES)):
        if unicodedata.combining(c) and out:
            base, marks, upper = out[-1]
            out[-1] = (base, marks + c, upper)
        else:
            out.append((c.lower(), "", c.isupper()))
    return out


_ACUTE, _GRAVE, _CIRCUMFLEX, _DIAERESIS = "\u0301", "\u0300", "\u0302", "\u0308"
_VOWELS = frozenset("aeiouy")
#: Consonant pairs read as one consonant before a vowel (``réglementaire``, ``sécheresse``).
_PAIRS = frozenset("bl br cl cr dr fl fr gl gr pl pr tr vr ch gn ph th gu qu".split())


def _mute_e_follows(letters: list[tuple[str, str, bool]], i: int) -> bool:
    """Tell whether the letter after ``i`` opens a syllable whose e is mute (``é|ne|ment``, ``é|gle|ment``).

    The syllable is a consonant (or a pair such as ``gl``, ``ch``) then an unaccented e,
    which ends the word (``-e``, ``-es``, ``-ent``) or is followed by one consonant and a vowel.
    """
    # An accented letter is written as its base and a mark, so that it is never an unaccented e.
    rest = ["".join((base, marks)) for base, marks, _ in letters[i + 1:]]
    k = 2 if "".join(rest[:2]) in _PAIRS else 1
    if len(rest) <= k or rest[0] in _VOWELS or not rest[0].isalpha() or rest[k] != "e":
        return False
    after = "".join(rest[k + 1:])
    return (after in ("", "s", "nt") or (len(rest) >= k + 3 and rest[k + 1] not in _VOWELS
                                         and rest[k + 1].isalpha() and rest[k + 2][:1] in _VOWELS))


#: Words keeping their circumflex in the 1990 reform (it tells them apart): dû, mû, crû, fût,
#: and mûr, sûr, jeûne with their derivatives (by their folded beginnings).
_KEEPS_CIRCUMFLEX = frozenset({"du", "mu", "cru", "fut"})
_KEEPS_CIRCUMFLEX_START = (("mur", 1), ("sur", 1), ("jeun", 2))


def _reform_allows(typed: list[tuple[str, str, bool]], printed: list[tuple[str, str, bool]], i: int) -> bool:
    """Tell whether the 1990 spelling reform makes two accents on letter ``i`` the same word's spellings."""
    base, marks, _ = typed[i]
    pmarks = printed[i][1]
    if base == "e" and {marks, pmarks} == {_ACUTE, _GRAVE}:
        # é or è before a syllable with a mute e: événement / évènement, réglementaire / règlementaire.
        return _mute_e_follows(typed, i) and _mute_e_follows(printed, i)
    if base in "iu" and {marks, pmarks} == {_CIRCUMFLEX, ""}:
        # No circumflex on i and u (maîtresse / maitresse, coût / cout), but where it tells words apart.
        folded = "".join(b for b, _, _ in typed)
        if folded in _KEEPS_CIRCUMFLEX or any(folded.startswith(w) and i == at for w, at in _KEEPS_CIRCUMFLEX_START):
            return False
        # The passé simple and the imperfect subjunctive keep theirs: nous vînmes, vous fûtes.
        ending = folded[i + 1:]
        return not (ending in ("mes", "tes", "nmes", "ntes") and i and folded[i - 1] not in _VOWELS)
    if {marks, pmarks} == {_DIAERESIS, ""}:
        # The tréma moves onto the u it makes heard: aiguë / aigüe, ambiguïté / ambigüité.
        return _trema_moved(typed, printed, i)
    return False


def _trema_moved(typed: list[tuple[str, str, bool]], printed: list[tuple[str, str, bool]], i: int) -> bool:
    """Tell whether one word has the tréma on ``gu`` + e/i's vowel and the other on its u, at ``i``."""
    at = i if typed[i][0] == "u" else i - 1  # the u's place
    if at < 1 or at + 1 >= min(len(typed), len(printed)) or typed[at - 1][0] != "g":
        return False
    if typed[at][0] != "u" or typed[at + 1][0] not in "ei" or printed[at + 1][0] != typed[at + 1][0]:
        return False
    pair, other = (typed[at][1], typed[at + 1][1]), (printed[at][1], printed[at + 1][1])
    return {pair, other} == {(_DIAERESIS, ""), ("", _DIAERESIS)}


def accents_agree(typed: str, printed: str) -> bool:
    """Tell whether a printed form carries the accents a reader typed.

    Letters are compared while they agree (the stem; an inflection may follow), and
    each accent is a letter of its own: ``côte`` agrees with ``côtes`` and ``COTE``
    (an unaccented capital may have lost its accent in print) but not with ``côté``,
    nor ``maïs`` with *Maya* (another letter where the stem has the typed accent);
    ``pécheur`` does not agree with ``pêcheur``, nor ``élève`` with ``élévation``.
    The 1990 spelling reform's alternatives agree: ``événement`` and ``évènement``
    (é or è before a mute e), ``maîtresse`` and ``maitresse`` (no circumflex on i, u),
    ``aiguë`` and ``aigüe`` (the tréma on the u).
    """
    t, p = _letters(typed), _letters(printed)
    stem = _letters(_stemmer.stemWord(typed.lower()))
    in_stem = next((i for i, (a, b) in enumerate(zip(stem, t)) if a[:2] != b[:2]), min(len(stem), len(t)))
    for i, ((base, marks, _), (pbase, pmarks, upper)) in enumerate(zip(t, p)):
        if base != pbase:
            # Past the typed word's stem, the inflection: accents there are the word's form, not the
            # reader's. Within it, a typed accent the printed letter lacks (``maïs`` and *Maya*,
            # which the stemmer also reads ``mai``) is a missing accent.
            return not (i < in_stem and marks)
        if marks != pmarks and not (upper and not pmarks) and not _reform_allows(t, p, i):
            return False
    return True


class Analysis(NamedTuple):
    """What the chain makes of one raw token: elision length, exact term, search terms, printed form."""

    cut: int
    exact: str
    search: tuple[str, ...]
    form: str


class Span(NamedTuple):
    """One token of a text: its printed span (elision outside it) and its terms."""

    start: int
    end: int
    exact: str
    search: tuple[str, ...]


@lru_cache(maxsize=1_000_000)
def _analyze(raw: str, stem: bool, folding: bool, elision: bool, stop: bool) -> Analysis:
    normal = normalize(raw)
    lowered = normal.lower()
    m = _ELISION_RE.match(lowered)
    # The span starts past the apostrophe as printed (the raw token may be longer).
    cut = _raw_cut(raw) if m else 0
    form = normal[m.end():] if m else normal
    word = lowered[m.end():] if m else lowered
    exact = fold(word).replace("’", "'")  # phrases always drop elisions
    if not elision:
        word = lowered
    if stop and word in STOP_WORDS:
        return Analysis(cut, exact, (), form)
    word = word.replace("’", "'")
    if stem and folding:
        search = stem_variants(word)
    elif stem:
        search = (_stemmer.stemWord(word),)
    else:
        search = (fold(word),) if folding else (word,)
    return Analysis(cut, exact, search, form)


def _raw_cut(raw: str) -> int:
    for i, c in enumerate(raw):
        if c in APOSTROPHES:
            return i + 1
    return 0


@dataclass(frozen=True)
class Chain:
    """The French chain; the switches turn stages off to measure what each buys (benchmarks)."""

    stem: bool = True
    fold: bool = True
    elision: bool = True
    stop: bool = True

    def word(self, raw: str) -> Analysis:
        """Analyze one raw token (cached per distinct token)."""
        return _analyze(raw, self.stem, self.fold, self.elision, self.stop)

    def word_once(self, raw: str) -> Analysis:
        """Analyze one raw token without caching it: for a caller that keeps its own (an index build).

        Filling the cache cost a third of the analysis of a build's new words, and its memory.
        """
        return _analyze.__wrapped__(raw, self.stem, self.fold, self.elision, self.stop)

    def spans(self, text: str) -> list[Span]:
        """Return every token of ``text`` with its printed span and terms."""
        out = []
        analyze = self.word
        for m in WORD_RE.finditer(text):
            cut, exact, search, _ = analyze(m.group())
            out.append(Span(m.start() + cut, m.end(), exact, search))
        return out

    def block(self, text: str) -> tuple[list[str], list[str], list[str]]:
        """Return a text's exact terms (one per position), search terms and accent terms."""
        exact: list[str] = []
        search: list[str] = []
        accent: list[str] = []
        analyze = self.word
        for raw in WORD_RE.findall(text):
            _, e, s, form = analyze(raw)
            exact.append(e)
            if s:
                search.extend(s)
                accent.extend(accent_term(key, form) for key in s)
        return exact, search, accent

    def search_terms(self, text: str) -> tuple[str, ...]:
        """Return the distinct search terms of a text, in order."""
        return tuple(dict.fromkeys(t for raw in WORD_RE.findall(text) for t in self.word(raw).search))

    def exact_terms(self, text: str) -> list[str]:
        """Return the exact terms of a text, one per token."""
        return [self.word(raw).exact for raw in WORD_RE.findall(text)]


FRENCH = Chain()


def accent_term(key: str, form: str) -> str:
    """Return an accent field's term of a printed form: one of its search terms, ``|``, the form.

    Every form is indexed (a lowercase unaccented one too: ``citant`` keeps the
    accent of ``cité``, which lies past their common stem). A form is indexed under
    each of its search terms, and all forms of a search term share a prefix, so
    ``côte`` finds ``Côtes`` and ``COTE`` under ``cot|`` and keeps those whose
    accents agree (:func:`accents_agree`); ``manifestant NEAR/3 police`` reads the
    forms of ``manifest`` there to find their positions.
    """
    return f"{key}|{form}"


class ChainAnalyzer(Analyzer):
    """A :class:`Chain` in the shape of a Whoosh analyzer, for the index schema.

    ``kind="search"`` yields each token's search terms (stop words yield none),
    ``kind="exact"`` its exact term, ``kind="accent"`` its accent terms (see
    :func:`accent_term`); positions count every token.
    """

    def __init__(self, chain: Chain = FRENCH, kind: Literal["search", "exact", "accent"] = "search") -> None:
        self.chain = chain
        self.kind = kind

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, ChainAnalyzer) and other.chain == self.chain
                and other.kind == self.kind)

    def __hash__(self) -> int:
        return hash((self.chain, self.kind))

    def __call__(self, value: str, positions: bool = False, chars: bool = False,
                 keeporiginal: bool = False, removestops: bool = True, start_pos: int = 0,
                 start_char: int = 0, mode: str = "", **kwargs: Any) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for pos, m in enumerate(WORD_RE.finditer(value), start_pos):
            cut, exact, search, form = self.chain.word(m.group())
            if self.kind == "search":
                terms = search
            elif self.kind == "exact":
                terms = (exact,)
            else:
                terms = tuple(accent_term(key, form) for key in search)
            for term in terms:
                token.text = term
                token.boost = 1.0
                token.stopped = False
                if keeporiginal:
                    token.original = term
                if positions:
                    token.pos = pos
                if chars:
                    token.startchar = start_char + m.start() + cut
                    token.endchar = start_char + m.end()
                yield token
