"""Highlight: which characters of a paragraph the query matched, as printed.

For the query ``investir "état d'urgence"`` and the paragraph
``L’État d’urgence freine les investissements.``, :class:`Marks` collects what
the query looks for (the search term ``invest``, the exact phrase ``etat
urgence``) and :meth:`Marks.spans` runs the paragraph through the same chain
that indexed it, returning character spans: ``((2, 16), (28, 43))``, that is
``État d’urgence`` (the elided ``L’`` left outside) and ``investissements``.

Spans are the core's answer; rendering is the edges' business. :func:`clip`
picks the window of a long paragraph shown in a result list, and
:func:`marked_html` is the one place where text and spans become HTML
(escaped, each span in ``<mark>``, as :class:`markupsafe.Markup`); the command
line styles the same spans for a terminal instead.
"""

from __future__ import annotations

import functools
import html
import itertools
import re
from dataclasses import dataclass, field

from markupsafe import Markup

from ..analysis import FRENCH, Chain, accents_agree, split_words
from ..query import And, Fuzzy, Near, Node, Not, Or, Phrase, Prefix, Word

__all__ = ["Marks", "Spans", "merge_spans", "clip", "marked_html", "FRAGMENT_CHARS"]

#: The length past which a paragraph is cut in a result list.
FRAGMENT_CHARS = 360
Spans = tuple[tuple[int, int], ...]
# Quotes stay as printed: the text is element content, never an attribute.
_escape = functools.partial(html.escape, quote=False)
_SPECIAL = re.compile("[&<>]")


@dataclass
class Marks:
    """What to mark in a paragraph: search terms, exact terms, exact phrases and prefixes.

    Words typed with accents mark only the printed forms that keep them
    (``accented``: their search terms and the word as typed).
    """

    terms: set[str] = field(default_factory=set)
    exact: set[str] = field(default_factory=set)
    phrases: list[tuple[str, ...]] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    accented: list[tuple[frozenset[str], str]] = field(default_factory=list)
    chain: Chain = FRENCH
    _memo: dict[str, tuple[int, int, str]] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, node: Node | None, chain: Chain = FRENCH, expanded: dict[str, list[str]] | None = None,
           *, title: bool = False) -> Marks:
        """Collect what a query tree looks for, leaving out what it excludes (``title``: in a title)."""
        marks = cls(chain=chain)
        expanded = expanded or {}

        def walk(n: Node | None, negated: bool) -> None:
            if n is None:
                return
            if isinstance(n, (And, Or)):
                for c in n.children:
                    walk(c, negated)
            elif isinstance(n, Not):
                walk(n.child, not negated)
            elif negated:
                return
            elif isinstance(n, Word) and n.field in (None, "title", "exact"):
                if n.accent:
                    marks.accented.append((frozenset(n.terms), n.accent))
                elif n.field == "exact":
                    marks.exact.update(n.terms)
                else:
                    marks.terms.update(n.terms)
            elif isinstance(n, Phrase) and n.slop:
                marks.exact.update(n.terms)
            elif isinstance(n, Phrase) and (n.field is None or (title and n.field == "title")):
                marks.phrases.append(n.terms)
            elif isinstance(n, Prefix):
                marks.prefixes.append(n.prefix)
            elif isinstance(n, (Fuzzy, Near)):
                # (Words near each other: every exact term of their forms, as matching read them.)
                marks.exact.update(expanded.get(n.text, []))

        walk(node, False)
        marks.phrases = list(dict.fromkeys(marks.phrases))  # 32 copies of "de la" are looked for once
        marks.prefixes = list(dict.fromkeys(marks.prefixes))
        return marks

    def __bool__(self) -> bool:
        return bool(self.terms or self.exact or self.phrases or self.prefixes or self.accented)

    def stems(self) -> set[str]:
        """Return the search terms whose words may be marked: the words' and the accented words' stems."""
        return self.terms.union(*(terms for terms, _ in self.accented))

    def _matches(self, exact: str, search: tuple[str, ...], form: str) -> bool:
        if exact in self.exact or (self.terms and not self.terms.isdisjoint(search)):
            return True
        if self.prefixes and exact.startswith(tuple(self.prefixes)):
            return True
        for terms, typed in self.accented:
            if (exact in terms or not terms.isdisjoint(search)) and accents_agree(typed, form):
                return True
        return False

    def judge(self, raw: str) -> tuple[int, int, str]:
        """Return what one raw token gets: its mark's start (-1: unmarked), its elision length, its exact term."""
        seen = self._memo.get(raw)
        if seen is None:
            self._judge([raw])
            seen = self._memo[raw]
        return seen

    def _judge(self, raws: list[str]) -> None:
        """Judge new raw tokens, remembering each verdict for the rest of the query."""
        memo, terms, exact = self._memo, self.terms, self.exact
        analyses = zip(raws, map(self.chain.word, raws))
        if self.prefixes or self.accented:
            for raw, a in analyses:
                memo[raw] = (a.cut if self._matches(a.exact, a.search, a.form) else -1, a.cut, a.exact)
        else:  # the usual query: words and phrases, judged by two set lookups
            for raw, a in analyses:
                hit = a.exact in exact or not terms.isdisjoint(a.search)
                memo[raw] = (a.cut if hit else -1, a.cut, a.exact)

    def spans(self, text: str) -> Spans:
        """Return the character spans of ``text`` to mark, merged and sorted."""
        if not self:
            return ()
        # The text split at its words: gap, word, gap, word, …, gap, so that the start of
        # word i is the length of everything before it (accumulated in C, not per word).
        parts = split_words(text)
        raws = parts[1::2]
        memo, distinct = self._memo, set(raws)
        self._judge(list(distinct.difference(memo)))  # each distinct raw word is judged once per query
        marked = {raw for raw in distinct if memo[raw][0] >= 0}
        if not marked and not self.phrases:
            return ()
        at = list(itertools.accumulate(map(len, parts), initial=0))
        spans = [(at[2 * i + 1] + memo[raw][0], at[2 * i + 2]) for i, raw in enumerate(raws) if raw in marked]
        if self.phrases:
            exact = [memo[raw][2] for raw in raws]
            for phrase in self.phrases:
                k, words = len(phrase), list(phrase)
                for i in [i for i, term in enumerate(exact) if term == words[0]]:
                    if exact[i:i + k] == words:
                        spans.append((at[2 * i + 1] + memo[raws[i]][1], at[2 * (i + k)]))
        return merge_spans(spans)


def merge_spans(spans: list[tuple[int, int]]) -> Spans:
    """Return spans sorted, overlapping or touching ones merged into one."""
    merged: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return tuple(merged)


def clip(text: str, spans: Spans, limit: int = FRAGMENT_CHARS) -> tuple[int, int]:
    """Return the window of ``text`` to show: all of it, or ``limit`` characters around the first span."""
    if len(text) <= limit:
        return 0, len(text)
    first = spans[0][0] if spans else 0
    start = max(0, first - limit // 3)
    if start:
        # Back to the word's beginning (the text's own, when no space comes before it).
        boundary = text.rfind(" ", 0, start) + 1
        start = boundary if start - boundary < 30 else start
    end = min(len(text), start + limit)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start + limit // 2 else end
    return start, end


def marked_html(text: str, spans: Spans, *, first_id: int | None = None, before: str = "",
                after: str = "") -> Markup:
    """Return ``text`` escaped, each span in ``<mark>`` (numbered ``m<k>`` from ``first_id``).

    ``before`` and ``after`` (text, escaped too) frame it: the ``…`` of a cut paragraph.
    """
    # Most paragraphs hold no ``&``, ``<`` or ``>``: their pieces need no escaping (a third of the cost).
    escape = _escape if _SPECIAL.search(text) else str
    out: list[str] = [_escape(before)] if before else []
    pos = 0
    for k, (s, e) in enumerate(spans, first_id or 0):
        out.append(escape(text[pos:s]))
        anchor = f' id="m{k}"' if first_id is not None else ""
        out.append(f"<mark{anchor}>{escape(text[s:e])}</mark>")
        pos = e
    out.append(escape(text[pos:]))
    if after:
        out.append(_escape(after))
    return Markup("".join(out))
