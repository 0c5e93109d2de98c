"""Locate: the highlighter's spans in a paragraph, reading only the words that may be marked.

:meth:`Marks.spans <archive.search.highlight.Marks.spans>` analyses every word
of a paragraph, about a microsecond each: for a concordance of ``France``,
a million words to find 23,001 marks. A word can only be marked if its exact
term starts with an *anchor* of the query: the prefix every word with a query
stem starts with (``franc`` for ``France``: ``Français``, ``FRANCE``…), a
quoted term, a typed prefix, a phrase's first term. :class:`Locator` looks for
each anchor in the lowercased paragraph with every accented spelling of its
letters (``fr[aàâ…][nñ…][cç…]``, ``œ`` for ``oe``), and analyses only the words
around what it finds, with the highlighter's own judgement:

    « Le gouvernement de la France … » : ``franc`` found at 24, the word ``France``
    judged by the same :class:`Marks`, span (24, 30).

Its answer is the highlighter's, span for span: a query's
:class:`~.marking.MarkPlan` holds one, through which result pages, the reading
view and the concordance all mark. A paragraph with characters the
letter classes do not stand for (decomposed accents, invisible characters,
``O.N.U.``, letters beyond Latin-1 such as ``ł`` or ``ğ``) goes to the highlighter itself.
The letter classes stay within Latin-1 because Python compiles such a class in
tens of microseconds and one reaching past it in a millisecond: every new query
compiles its own.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from ..analysis import APOSTROPHES, FRENCH, WORD_RE, fold
from .highlight import Marks, Spans, merge_spans

__all__ = ["Locator", "anchors", "restart", "stem_prefixes", "exotic_characters"]

# Snowball French endings written over a suffix, with the beginnings of the suffixes they
# replace: …emment and …ence → …ent, …amment → …ant, …ication or …icité → …iqu, …eusement
# and …euse → …eux, …abilité → …abl, …aux → …al, a final y → i. (…logie → …log, …usion →
# …u, …eaux → …eau keep their letters.) Elsewhere a stem is a prefix of its word.
_REPLACED = {"ent": ("emment", "ence"), "ant": ("amment",), "iqu": ("ic",), "eux": ("eus",), "abl": ("abil",),
             "al": ("aux",), "i": ("y",)}


def stem_prefixes(stem: str) -> tuple[str, ...]:
    """Return prefixes one of which every word with this Snowball stem starts with."""
    out = [stem]
    for ending, replaced in _REPLACED.items():
        if stem.endswith(ending):
            out += [stem[:len(stem) - len(ending)] + r for r in replaced]
    return tuple(out)

# Ligatures stand for two letters of an exact term: an anchor's "oe" also finds "œ".
_LIGATURES = {"oe": "(?:oe|œ)", "ae": "(?:ae|æ)", "ss": "(?:ss|ß)"}
_LIGATURE_STARTS = {pair[0]: either[-2] for pair, either in _LIGATURES.items()}  # o: œ, a: æ, s: ß
#: A dot before a letter: after a letter, an acronym (``O.N.U.`` is the word ``ONU``).
_DOT, _LETTER = re.compile(r"\.[^\W\d_]"), re.compile(r"[^\W\d_]")


@functools.cache
def _letters() -> dict[str, str]:
    """Return, for each letter of an exact term, the lowercase letters that fold to it alone."""
    out: dict[str, set[str]] = {}
    for code in range(0x20, 0x100):
        c = chr(code)
        if (c.isalnum() or c == "_") and _plain(c):
            out.setdefault(fold(c.lower()), set()).add(c.lower())
    out["'"] = set(APOSTROPHES)
    return {k: "".join(sorted(v)) for k, v in out.items()}


def _plain(c: str) -> bool:
    """Tell whether a word character is read by the chain as one letter, lowercased one to one."""
    return (unicodedata.normalize("NFKC", c) == c and len(c.lower()) == 1 and len(fold(c.lower())) == 1
            and c.lower() != "i\u0307")


@functools.cache
def exotic_characters() -> re.Pattern[str]:
    """Return a pattern of the characters the letter classes do not stand for (built once, 20 ms)."""
    ranges: list[tuple[int, int]] = []
    for code in range(0x80, 0x10000):
        c = chr(code)
        # Combining marks, invisible (format) and unassigned characters may sit inside a word;
        # a word character other than a plain letter reads otherwise than its letter class.
        odd = unicodedata.category(c) in ("Mn", "Mc", "Me", "Cf", "Cn") or ((c.isalnum() or c == "_") and not (
            (code < 0x100 and _plain(c)) or c in APOSTROPHES or c in "œŒæÆß"))
        if odd:
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    body = "".join(re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges)
    return re.compile(f"[{body}\U00010000-\U0010ffff]")


def _dotted(text: str) -> bool:
    """Tell whether a text has letters joined by dots (searching for the dot first is fast)."""
    return any(m.start() and _LETTER.match(text, m.start() - 1) for m in _DOT.finditer(text))


def anchors(marks: Marks) -> list[str]:
    """Return the prefixes the exact term of every word ``marks`` may mark starts with."""
    found = {p for t in marks.stems() for p in stem_prefixes(t)} | set(marks.exact) | set(marks.prefixes)
    found |= {phrase[0] for phrase in marks.phrases}
    # An anchor starting with another one adds nothing (``etats`` after ``etat``).
    return [a for a in sorted(found) if not any(a != b and a.startswith(b) for b in found)]


def restart(text: str, at: int) -> int:
    """Return a position at or before ``at`` where tokenising ``text`` may start: after a space.

    No word holds a space but a number (``2 000``), so the words found from a space with
    no digit on both sides are the words found from the start.
    """
    space = text.rfind(" ", 0, at)
    while space > 0 and text[space - 1].isdigit() and text[space + 1:space + 2].isdigit():
        space = text.rfind(" ", 0, space)
    return space + 1


class Locator:
    """The spans of one query's :class:`Marks`, found from its anchors."""

    def __init__(self, marks: Marks) -> None:
        self.marks = marks
        found = anchors(marks)
        self.pattern: re.Pattern[str] | None = None
        # The anchors are the French chain's: an index built otherwise is read word by word,
        # and so are numbers (``2000`` is printed ``2 000``, ``2.000``…).
        if marks and all(found) and marks.chain == FRENCH and not any(c.isdigit() for a in found for c in a):
            letters = _letters()
            pieces = []
            for anchor in found:
                parts = [f"[{re.escape(letters[c])}]" if c in letters else re.escape(c) for c in anchor]
                piece = "".join(parts)
                for pair, either in _LIGATURES.items():
                    # ("oe" was written [oò…][eé…] above: the ligature joins it as a whole.)
                    piece = piece.replace("".join(f"[{re.escape(letters[c])}]" for c in pair), either)
                # A ligature may begin at the anchor's last letter: ``vita`` is in ``vitæ``.
                if anchor[-1] in _LIGATURE_STARTS and piece.endswith(parts[-1]):
                    piece = f"{piece[:-len(parts[-1])]}(?:{parts[-1]}|{_LIGATURE_STARTS[anchor[-1]]})"
                pieces.append(piece)
            self.pattern = re.compile("|".join(pieces))
        #: Tokens to read past a word, for the longest phrase to end inside them.
        self.reach = max((len(p) for p in marks.phrases), default=1) - 1

    def spans(self, text: str) -> Spans:
        """Return the spans :meth:`Marks.spans` would return for ``text``."""
        marks = self.marks
        if self.pattern is None or (not text.isascii() and exotic_characters().search(text)) or _dotted(text):
            return marks.spans(text)
        # Matches may not overlap: a match inside an earlier one is inside the same word.
        hits = [m.start() for m in self.pattern.finditer(text.lower())]
        if not self.marks.phrases:  # (not even a one-word one, ``titre:"France"``: each word judged alone)
            return self._word_spans(text, hits)
        runs: list[list[tuple[int, int, str]]] = []
        done = 0  # the text before is tokenised, into the last run
        for h in hits:
            if not runs or h >= done:
                start = max(done, restart(text, h))
                if not runs or start > done:
                    runs.append([])
                done = start
            run = runs[-1]
            # The word at the hit, and enough after it for a phrase starting there.
            ahead = len(_after(run, h))
            if ahead > self.reach:
                continue
            for m in WORD_RE.finditer(text, done):
                run.append((m.start(), m.end(), m.group()))
                done = m.end()
                if m.end() > h:
                    ahead += 1
                    if ahead > self.reach:
                        break
            else:
                done = len(text)
        out: list[tuple[int, int]] = []
        for run in runs:
            out += self._run_spans(run)
        return merge_spans(out)

    def _word_spans(self, text: str, hits: list[int]) -> Spans:
        """Return the spans of a query without phrases: each word up to the one at a hit, judged alone."""
        # (What spans() does with runs, without them: no phrase looks across the words.)
        judge = self.marks.judge
        out: list[tuple[int, int]] = []
        done = 0  # the text before is tokenised
        for h in hits:
            if h < done:
                continue  # inside a word already judged
            for m in WORD_RE.finditer(text, max(done, restart(text, h))):
                s, e = m.span()
                mark = judge(m.group())[0]
                if mark >= 0:
                    out.append((s + mark, e))
                done = e
                if e > h:
                    break
            else:
                done = len(text)
        return merge_spans(out)

    def _run_spans(self, run: list[tuple[int, int, str]]) -> list[tuple[int, int]]:
        """Return the spans of consecutive tokens, as :meth:`Marks.spans` finds them."""
        judge = self.marks.judge
        out: list[tuple[int, int]] = []
        tokens: list[tuple[int, int, str]] = []
        for s, e, raw in run:
            mark, cut, exact = judge(raw)
            if mark >= 0:
                out.append((s + mark, e))
            tokens.append((s + cut, e, exact))
        for phrase in self.marks.phrases:
            k = len(phrase)
            for i in range(len(tokens) - k + 1):
                if all(tokens[i + j][2] == phrase[j] for j in range(k)):
                    out.append((tokens[i][0], tokens[i + k - 1][1]))
        return out


def _after(run: list[tuple[int, int, str]], at: int) -> list[tuple[int, int, str]]:
    """Return the tokens at the end of a run that end after ``at``."""
    i = len(run)
    while i and run[i - 1][1] > at:
        i -= 1
    return run[i:]
