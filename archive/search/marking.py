"""Marking: one plan of what a query marks, made once per query and used by every surface.

For ``investir "état d'urgence"``, :meth:`MarkPlan.of` takes the parsed tree
and what matching expanded (prefixes, fuzzy and accented words) and decides,
once, what is marked: the search term ``invest``, the phrase ``etat urgence``
(:class:`~.highlight.Marks`), and the anchors a paragraph is scanned for
(:class:`~.locate.Locator`, whose pattern is compiled here, once per query, when first used;
the plans of the last queries are kept: paging or filtering a result list marks the same).
Result pages (:meth:`Engine.search <archive.search.Engine.search>`, and the
command line, which prints their spans), the reading view
(:meth:`Engine.read <archive.search.Engine.read>`) and the concordance
(:mod:`archive.research.kwic`, which counts the same marks in the index
through :mod:`archive.search.occurrences`) all take their spans from one plan:

    plan = MarkPlan.of(parsed.root, FRENCH, evaluator.expanded)
    plan.spans("L’État d’urgence freine les investissements.")  # ((2, 16), (28, 43))

A title is marked by its own plan (``title:"…"`` phrases count there), built beside
the paragraphs' one.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..analysis import FRENCH, Chain
from ..lru import LRU
from ..query import Node
from .highlight import Marks, Spans
from .locate import Locator

__all__ = ["MarkPlan"]

#: Plans kept, by query (tree, chain and expansions): 30-70 µs each to decide and compile.
PLANS = 256


class MarkPlan:
    """What one query marks in paragraphs and in titles, with the locators that find it."""

    __slots__ = ("_body", "_title", "chain", "marks", "title_marks")

    def __init__(self, marks: Marks, title_marks: Marks) -> None:
        #: The paragraphs' marks (what the concordance counts in the index), and the title's.
        self.marks, self.title_marks, self.chain = marks, title_marks, marks.chain
        # Compiled when first used: a selection for trends never marks anything.
        self._body: Locator | None = None
        self._title: Locator | None = None

    @classmethod
    def of(cls, root: Node | None, chain: Chain = FRENCH,
           expanded: Mapping[str, list[str]] | None = None) -> MarkPlan:
        """Decide what a query tree marks, given what matching expanded its words to."""
        found = dict(expanded or {})
        key = (root, chain, tuple((text, tuple(forms)) for text, forms in sorted(found.items())))
        return _PLANS.get(key, lambda: cls(Marks.of(root, chain, found), Marks.of(root, chain, found, title=True)))

    def __bool__(self) -> bool:
        return bool(self.marks or self.title_marks)

    def spans(self, text: str) -> Spans:
        """Return the spans to mark in a paragraph (or heading), merged and sorted."""
        if self._body is None:
            self._body = Locator(self.marks)
        return self._body.spans(text)

    def title_spans(self, title: str) -> Spans:
        """Return the spans to mark in an article's title."""
        if self._title is None:
            self._title = Locator(self.title_marks)
        return self._title.spans(title)


_PLANS: LRU[object, MarkPlan] = LRU(PLANS)
