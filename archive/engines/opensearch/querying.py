"""Querying: the project's parsed query tree as OpenSearch query DSL, over article documents.

The tree comes from :func:`archive.query.parse_query` (the same parser, chain and
readings as the embedded engine); only its evaluation changes. One document is
one article, its paragraphs a ``nested`` list, so ``grève SNCF`` reads:

* each word is required *somewhere in the article*: per word, its best
  paragraph (a ``nested`` clause, ``score_mode: max``) or the title, and the
  words' scores add up (the embedded engine's *coverage*); a word's variants
  (the chain's search terms, both stem spellings) are a ``dis_max`` of ``term``
  queries, so the best spelling counts once, and the very form typed adds half
  its score (the *form bonus*); a title hit weighs :data:`TITLE_BOOST`;
* ``OR`` is a ``should``, ``-`` a ``must_not`` over the whole article;
* a phrase (``"état d’urgence"``) is a ``span_near`` of exact terms inside one
  paragraph or the title; ``a NEAR/5 b`` the same, in any order, within 5;
* ``invest*`` a ``prefix`` and ``gouvernemnt~`` a ``fuzzy`` on the exact terms;
* ``titre:``, ``auteur:``, ``source:``, ``tag:`` their fields; dates and facet
  selections are filters.

:func:`paragraph_query` is the query's positive words as one query over a
paragraph: which paragraphs the article's hit shows (inner hits), and how many
matched (a nested filter aggregation counts paragraphs exactly).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any

from ...analysis import FRENCH, Chain, fold, has_accents
from ...query import And, Fuzzy, Near, Node, Not, Or, Phrase, Prefix, Word
from ...search.facets import facet_key
from ...search.matching import EXACT_FORM_WEIGHT, TITLE_BOOST
from ...search.ranking import COVERAGE_WEIGHT, OTHER_PARAGRAPHS_WEIGHT
from ...search.request import SearchRequest

__all__ = ["article_query", "scored_query", "paragraph_query", "title_query", "accent_form", "stem_letters", "filters",
           "facet_filter", "PARAGRAPHS", "TEXT",
           "TEXT_EXACT", "TITLE", "TITLE_EXACT", "METADATA", "FACET_FIELDS", "MAX_EXPANSIONS"]

Query = dict[str, Any]

PARAGRAPHS, TEXT, TEXT_EXACT, NUMBER = "paragraphs", "paragraphs.text", "paragraphs.text.exact", "paragraphs.n"
TEXT_FORMS, TITLE, TITLE_EXACT, TITLE_FORMS = "paragraphs.text.forms", "title", "title.exact", "title.forms"
#: Where the metadata words of ``source:``, ``auteur:``, ``tag:`` are looked up: the folded value,
#: in which a word is found between non-word characters (``source:monde`` finds « Le Monde »).
METADATA = {"source": "source.folded", "author": "author.folded", "tag": "tags.folded"}
#: Per facet: the field that groups its spellings (folded, lowercased) and the field of the printed value.
FACET_FIELDS = {"source": ("source.folded", "source"), "author": ("author.folded", "author"),
                "tags": ("tags.folded", "tags")}
#: Letters at the end of a stem that Snowball French may have rewritten (``-ence`` → ``-ent``).
STEM_REWRITE = 3
#: Terms a prefix or a fuzzy word expands to (the embedded engine's limits).
MAX_EXPANSIONS, MAX_FUZZY = 64, 32


def article_query(node: Node | None, chain: Chain = FRENCH) -> Query:
    """Return the scoring query of a tree over article documents (every article for no tree)."""
    if node is None:
        return {"match_all": {}}
    return _Translator(chain).node(node)


def scored_query(node: Node | None, chain: Chain = FRENCH) -> Query:
    """Return the query that ranks articles as the embedded engine does (:mod:`archive.search.ranking`).

    Half the coverage (per word its best paragraph or the title, summed: :func:`article_query`),
    half the best paragraph (the words it holds, summed), and a trace of the other paragraphs.
    """
    query = article_query(node, chain)
    para = paragraph_query(node, chain)
    if para is None:
        return query
    weight, trace = 1.0 - COVERAGE_WEIGHT, OTHER_PARAGRAPHS_WEIGHT
    should: list[Query] = [
        {"nested": {"path": PARAGRAPHS, "query": para, "score_mode": "max", "boost": weight * (1 - trace)}},
        {"nested": {"path": PARAGRAPHS, "query": para, "score_mode": "sum", "boost": weight * trace}}]
    title = title_query(node, chain)
    if title is not None:
        # The embedded engine lifts a title's score into every paragraph of its article:
        # the best paragraph's share holds the title's words too.
        should.append({"bool": {"should": [title], "boost": weight}})
    return {"bool": {"must": [{"bool": {"must": [query], "boost": COVERAGE_WEIGHT}}], "should": should}}


def title_query(node: Node | None, chain: Chain = FRENCH) -> Query | None:
    """Return the positive words of a tree over the title, their scores summed (None: no such word)."""
    translator = _Translator(chain)
    clauses = [translator.in_title(leaf) for leaf in _positive_leaves(node)
               if not (isinstance(leaf, (Word, Phrase)) and leaf.field in METADATA)]
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"bool": {"should": clauses, "minimum_should_match": 1}}


def paragraph_query(node: Node | None, chain: Chain = FRENCH) -> Query | None:
    """Return the positive words of a tree as one query over paragraphs (inside ``nested``), or None."""
    leaves = list(_positive_leaves(node))
    translator = _Translator(chain)
    clauses = [c for c in (translator.in_paragraph(leaf) for leaf in leaves) if c is not None]
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"bool": {"should": clauses, "minimum_should_match": 1}}


def filters(request: SearchRequest, *, dates: bool = True, skip: str | None = None) -> list[Query]:
    """Return a request's filters: its date range (unless ``dates`` is False) and facet selections but ``skip``."""
    out: list[Query] = []
    if dates and (request.low is not None or request.high is not None):
        bounds: dict[str, str] = {}
        if request.low is not None:
            bounds["gte"] = request.low.isoformat()
        if request.high is not None:
            bounds["lte"] = request.high.isoformat()
        out.append({"range": {"date": bounds}})
    for name, values in (("source", request.source), ("author", request.author), ("tags", request.tag)):
        if values and name != skip:
            out.append(facet_filter(name, values))
    return out


def facet_filter(name: str, values: Sequence[str]) -> Query:
    """Return the articles having any spelling of any of ``values`` for facet ``name``."""
    return {"terms": {FACET_FIELDS[name][0]: sorted({facet_key(v) for v in values})}}


def _positive_leaves(node: Node | None) -> list[Node]:
    if node is None or isinstance(node, Not):
        return []
    if isinstance(node, (And, Or)):
        return [leaf for c in node.children for leaf in _positive_leaves(c)]
    return [node]


def _nested(query: Query) -> Query:
    return {"nested": {"path": PARAGRAPHS, "query": query, "score_mode": "max"}}


def _any(clauses: list[Query]) -> Query:
    clauses = [c for c in clauses if c]
    if len(clauses) == 1:
        return clauses[0]
    return {"bool": {"should": clauses, "minimum_should_match": 1}}


def _spans(field: str, terms: Sequence[str], slop: int) -> Query:
    if len(terms) == 1:
        return {"span_term": {field: terms[0]}}
    return {"span_near": {"clauses": [{"span_term": {field: t}} for t in terms], "slop": slop,
                          "in_order": slop == 0}}


def _near(field: str, near: Near) -> Query:
    """Return words in any of their forms (their stems) within ``slop`` positions, in any order."""
    clauses = [{"span_or": {"clauses": [{"span_term": {field: t}} for t in w.terms]}} if len(w.terms) > 1
               else {"span_term": {field: w.terms[0]}} for w in near.words]
    return {"span_near": {"clauses": clauses, "slop": near.slop, "in_order": False}}


def _near_accents(query: Query, forms_field: str, near: Near) -> Query:
    """Keep a proximity's typed accents: the paragraph (or title) holds a form agreeing with each."""
    kept = [accent_form(forms_field, w.accent, stem_letters(w)) for w in near.words if w.accent]
    return {"bool": {"must": [query], "filter": kept}} if kept else query


class _Translator:
    """Turn tree nodes into DSL clauses, article-level (:meth:`node`) or paragraph-level (:meth:`in_paragraph`)."""

    def __init__(self, chain: Chain) -> None:
        self.chain = chain

    def node(self, node: Node) -> Query:
        if isinstance(node, And):
            required = [self.node(c) for c in dict.fromkeys(node.children) if not isinstance(c, Not)]
            excluded = [self.node(c.child) for c in node.children if isinstance(c, Not)]
            body: dict[str, Any] = {"must": required or [{"match_all": {}}]}
            if excluded:
                body["must_not"] = excluded
            return {"bool": body}
        if isinstance(node, Or):
            return {"bool": {"should": [self.node(c) for c in dict.fromkeys(node.children)],
                             "minimum_should_match": 1}}
        if isinstance(node, Not):
            return {"bool": {"must": [{"match_all": {}}], "must_not": [self.node(node.child)]}}
        if isinstance(node, (Word, Phrase)) and node.field in METADATA:
            # No score, as in the embedded engine: a metadata word selects, it does not rank.
            return {"bool": {"filter": [_metadata_word(METADATA[node.field], t) for t in dict.fromkeys(node.terms)]}}
        title = self.in_title(node)
        if isinstance(node, (Word, Phrase)) and node.field == "title":
            return title
        paragraph = self.in_paragraph(node)
        return _any([_nested(paragraph) if paragraph else {}, title])

    def in_paragraph(self, node: Node) -> Query | None:
        """Return a leaf as a query over one paragraph's fields (None: it never matches a paragraph)."""
        query = self._in_paragraph(node)
        if query is not None and isinstance(node, Word) and node.accent:
            query = {"bool": {"must": [query], "filter": [accent_form(TEXT_FORMS, node.accent, stem_letters(node))]}}
        return query

    def _in_paragraph(self, node: Node) -> Query | None:
        if isinstance(node, Word):
            if node.field == "exact":
                return _best([{"term": {TEXT_EXACT: t}} for t in node.terms])
            if node.field is not None:
                return None
            return self._with_form(_best([{"term": {TEXT: t}} for t in node.terms]), TEXT_EXACT, node)
        if isinstance(node, Phrase):
            return _spans(TEXT_EXACT, node.terms, node.slop) if node.field is None else None
        if isinstance(node, Near):
            return _near_accents(_near(TEXT, node), TEXT_FORMS, node)
        if isinstance(node, Prefix):
            return {"prefix": {TEXT_EXACT: {"value": node.prefix, "rewrite": f"top_terms_{MAX_EXPANSIONS}"}}}
        if isinstance(node, Fuzzy):
            return {"fuzzy": {TEXT_EXACT: {"value": node.term, "fuzziness": node.distance,
                                           "max_expansions": MAX_FUZZY, "prefix_length": 0,
                                           "rewrite": f"top_terms_{MAX_FUZZY}"}}}
        return None

    def in_title(self, node: Node) -> Query:
        """Return a leaf as a query over the title, weighed :data:`TITLE_BOOST`."""
        query: Query
        if isinstance(node, Word):
            if node.field == "exact":
                query = _best([{"term": {TITLE_EXACT: t}} for t in node.terms])
            else:
                query = self._with_form(_best([{"term": {TITLE: t}} for t in node.terms]), TITLE_EXACT, node)
        elif isinstance(node, Phrase):
            query = _spans(TITLE_EXACT, node.terms, node.slop)
        elif isinstance(node, Near):
            query = _near_accents(_near(TITLE, node), TITLE_FORMS, node)
        elif isinstance(node, Prefix):
            query = {"prefix": {TITLE_EXACT: {"value": node.prefix, "rewrite": f"top_terms_{MAX_EXPANSIONS}"}}}
        elif isinstance(node, Fuzzy):
            query = {"fuzzy": {TITLE_EXACT: {"value": node.term, "fuzziness": node.distance,
                                             "max_expansions": MAX_FUZZY, "prefix_length": 0,
                                             "rewrite": f"top_terms_{MAX_FUZZY}"}}}
        else:
            raise TypeError(node)
        body: dict[str, Any] = {"must": [query], "boost": TITLE_BOOST,
                                # A title made of the first sentence repeats the text: it counts once, there.
                                "must_not": [{"term": {"title_derived": True}}]}
        if isinstance(node, Word) and node.accent:
            body["filter"] = [accent_form(TITLE_FORMS, node.accent, stem_letters(node))]
        return {"bool": body}

    def _with_form(self, query: Query, exact_field: str, node: Word) -> Query:
        """Add the score of the very form typed (``élections``, not only its stem) as an optional clause."""
        if not EXACT_FORM_WEIGHT or not node.text:
            return query
        exact = self.chain.word(node.text).exact
        if not exact:
            return query
        return {"bool": {"must": [query],
                         "should": [{"term": {exact_field: {"value": exact, "boost": EXACT_FORM_WEIGHT}}}]}}


def accent_form(field: str, typed: str, stem: int = 0) -> Query:
    """Return a printed form that keeps the accents a reader typed (:func:`archive.analysis.accents_agree`).

    In a regular expression over the printed forms (case and accents kept): up to the
    last accented letter typed, each letter agrees (the same accents, or a capital
    without any, or any accent on an ``e``); from there, letters agree as long as
    they are the typed ones, and once a letter differs (the inflection) anything may follow.
    ``stem`` letters at least agree (the word's shortest stem): the expression then has a
    fixed beginning, which keeps it cheap to run over the index's forms.
    """
    letters = unicodedata.normalize("NFC", typed.translate(_LIGATURES))
    # Up to the last accent typed, and along the stem (the forms looked at are the stem's):
    # every letter agrees; after, the inflection may differ.
    fixed = max(max((i for i, c in enumerate(letters) if has_accents(c)), default=-1) + 1, min(stem, len(letters)))
    tail = ".*"  # past the letters typed, an inflection
    for c in reversed(letters[fixed:]):
        tail = f"({_agreeing(c)}{tail}|{_other(c)}.*)?"
    head = "".join(_agreeing(c) for c in letters[:fixed])
    return {"regexp": {field: {"value": head + tail, "flags": "NONE", "max_determinized_states": 100_000}}}


def stem_letters(node: Word) -> int:
    """Return how many letters every form of a word's stems surely shares with it.

    That is the beginning a stem shares with the word, but the last letters Snowball may
    rewrite (``présidence`` has the stem ``président``: :data:`STEM_REWRITE`):
    ``hôpitaux``, stem ``hopital``: 3; ``élection``, stem ``élect``: 5.
    """
    typed = fold(unicodedata.normalize("NFC", node.text).translate(_LIGATURES).lower())
    # A stem the word goes past (``élect`` of ``élection``) was not rewritten: its forms begin with it.
    return min((len(t) if typed.startswith(t) and len(t) < len(typed) else max(0, _shared(t, typed) - STEM_REWRITE)
                for t in node.terms), default=0)


def _shared(a: str, b: str) -> int:
    """Return the length of the common beginning of two words."""
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def _agreeing(typed: str) -> str:
    """Return the class of printed letters that agree with one typed letter."""
    base, marks = _base(typed)
    same = [c for c in _VARIANTS.get(base, [base]) if (_base(c)[1] == marks
                                                       or (c.isupper() and not _base(c)[1])
                                                       or (base == "e" and marks and _base(c)[1]))]
    return "[" + "".join(_escaped(c) for c in sorted(set(same))) + "]"


def _other(typed: str) -> str:
    """Return the class of letters whose base letter is not the typed one's."""
    return "[^" + "".join(_escaped(c) for c in _VARIANTS.get(_base(typed)[0], [typed])) + "]"


def _base(c: str) -> tuple[str, str]:
    decomposed = unicodedata.normalize("NFD", c)
    return decomposed[:1].lower(), "".join(ch for ch in decomposed[1:] if unicodedata.combining(ch))


def _variants() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for code in range(0x41, 0x250):
        c = chr(code)
        if c.isalpha() and len(unicodedata.normalize("NFD", c)) >= 1:
            out.setdefault(_base(c)[0], []).append(c)
    return out


_VARIANTS = _variants()
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE"})


def _metadata_word(field: str, term: str) -> Query:
    """Return a word of a folded keyword value, whole (between non-word characters or the ends)."""
    return {"regexp": {field: {"value": f"(.*[^a-z0-9])?{_escaped(term)}([^a-z0-9].*)?", "flags": "NONE"}}}


def _escaped(text: str) -> str:
    return "".join("\\" + c if c in _REGEXP_SPECIAL else c for c in text)


_REGEXP_SPECIAL = set('.?+*|{}[]()"\\#@&<>~')


def _best(queries: list[Query]) -> Query:
    """Return the best-scoring of some alternatives (a word's spellings count once)."""
    return queries[0] if len(queries) == 1 else {"dis_max": {"queries": queries}}
