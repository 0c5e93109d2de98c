"""Query language: what a reader types, parsed into a small tree.

``l’Assemblée "état d’urgence" -Sénat grève NEAR/5 cheminots gouvernemnt~``
reads, piece by piece:

* plain words are required *somewhere in the article* (title or any
  paragraph); their forms match (``élections`` finds ``élection``); a word
  typed with accents must keep them (``côte`` does not find ``côté``; an
  unaccented capital such as ``ETAT`` is no evidence against ``état``), a word
  typed without accents matches every accented spelling;
* ``OR``/``OU`` join alternatives (binding tighter than the implicit AND);
  ``NOT``/``SAUF``/a leading ``-`` exclude whole articles; parentheses group;
* ``"quoted phrases"`` match word for word within one paragraph or the title
  (accents and apostrophes as above, no word forms); ``"a b"~5``,
  ``a NEAR/5 b`` and ``a PRES/5 b`` want the words within 5 positions, in any
  order; ``Notre-Dame`` is the phrase ``"Notre Dame"``;
* ``invest*`` is a prefix, ``gouvernemnt~`` (one edit) and ``mot~2`` are fuzzy;
* ``titre:``/``title:``, ``auteur:``/``author:``, ``source:``, ``tag:`` look
  in the metadata; ``date:2020``, ``date:2019..2020`` and
  ``date:[2019-03 TO 2020-06]`` restrict dates;
* stop words (``le``, ``de``…) are ignored beside other words, and searched
  word for word when a query has nothing else (``de la``).

Input is normalised as texts are (NFKC, every apostrophe form, no zero-width
characters). Parsing never raises: an unbalanced quote or parenthesis, a lone
operator or a screenful of noise degrade to plain words. Besides the tree,
:class:`Query` keeps a :class:`Reading` per piece, which says how it was read.
The tree is evaluated by :mod:`archive.search.matching`, through the same
:class:`~archive.analysis.Chain` that indexed the archive.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from .analysis import ELISIONS, FRENCH, Chain, has_accents, join_numbers, normalize_text, words
from .dates import read_bound
from .model import parse_date

__all__ = ["Word", "Phrase", "Near", "Prefix", "Fuzzy", "And", "Or", "Not", "Node", "Reading", "Query",
           "parse_query", "parse_date_bound", "repeated_clauses", "MAX_CLAUSES"]

#: Clauses beyond this many are ignored, which bounds the work of one query.
MAX_CLAUSES = 128
_FIELDS = {"title": "title", "titre": "title", "author": "author", "auteur": "author",
           "source": "source", "tag": "tag", "tags": "tag", "date": "date"}
_OR = {"OR", "OU", "|"}
_NOT = {"NOT", "SAUF"}
_AND = {"AND", "ET", "&&"}
_NEAR_RE = re.compile(r"(NEAR|PRES|PRÈS)/(\d+)")
#: The widest proximity: ``NEAR/1000`` is read as ``NEAR/99`` (and the explanation says so).
MAX_NEAR = 99


def _capped_near(token: str) -> str:
    """Return a NEAR/N operator with N capped at :data:`MAX_NEAR` (any other token unchanged)."""
    m = _NEAR_RE.fullmatch(token.upper())
    return f"{token.split('/')[0]}/{MAX_NEAR}" if m and int(m.group(2)) > MAX_NEAR else token


_FUZZY_RE = re.compile(r"(.+?)~([12])?")
_TOKEN_RE = re.compile(
    r"""(?P<lp>\()|(?P<rp>\))
      |(?P<field>[^\W\d_]+):(?P<fvalue>"[^"]*"|\[[^\]]*\]|[^\s()"]+)
      |(?P<phrase>"[^"]*"(?:~\d{1,2})?)
      |(?P<neg>-)(?=[\w"(])
      |(?P<word>[^\s()"]+)
      |(?P<junk>")""",
    re.X,
)


@dataclass(frozen=True)
class Word:
    """A word: its search terms (variants), or exact terms for ``exact`` and metadata fields.

    ``accent`` is the word as typed when it carries accents, which printed forms must keep.
    """

    text: str
    terms: tuple[str, ...]
    field: str | None = None
    accent: str | None = None


@dataclass(frozen=True)
class Phrase:
    """Exact terms that must follow each other, or (``slop`` > 0) sit within ``slop`` positions."""

    text: str
    terms: tuple[str, ...]
    field: str | None = None
    slop: int = 0


@dataclass(frozen=True)
class Near:
    """Words within ``slop`` positions of the first, in any order, each in any of its forms.

    Each word is read as a plain word is (its search terms, a typed accent kept).
    """

    text: str
    words: tuple[Word, ...]
    slop: int


@dataclass(frozen=True)
class Fuzzy:
    """A word to match within ``distance`` edits, against the archive's own words."""

    text: str
    term: str
    distance: int


@dataclass(frozen=True)
class Prefix:
    """A trailing wildcard on the exact chain: ``invest*``."""

    text: str
    prefix: str


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    child: Node


Node = Word | Phrase | Near | Prefix | Fuzzy | And | Or | Not


@dataclass
class Reading:
    """How one piece of the query, as typed, was read: its role and the forms searched."""

    text: str
    role: str  # word, phrase, prefix, fuzzy, near, stopword, field, date, excluded
    terms: list[str]

    def to_dict(self) -> dict[str, object]:
        """Return the reading in the JSON contract."""
        return {"text": self.text, "role": self.role, "terms": self.terms}


@dataclass
class Query:
    """A parsed query: its tree (None when it has no words) and the date range it asked for."""

    text: str
    root: Node | None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    words: list[str] = field(default_factory=list)
    readings: list[Reading] = field(default_factory=list)
    stop_words_only: bool = False


def parse_date_bound(value: str | dt.date | None, *, end: bool) -> dt.date | None:
    """Parse a typed bound (``2019``, ``2019-12``, ``05/12/2019``, ``5 décembre 2019``…) as its first (or last) day."""
    if value is None or value == "" or isinstance(value, dt.date):
        return parse_date(value)
    bound = read_bound(str(value))  # (a BadDate is a ValueError)
    return bound.last() if end else bound.first()


def parse_query(text: str, chain: Chain = FRENCH) -> Query:
    """Parse a query with the chain that indexed the archive; never raise."""
    text = text or ""
    normal = join_numbers(normalize_text(text))
    try:
        query = _Parser(text, normal, chain, keep_stops=False).parse()
        if query.root is None and query.words:
            # Only stop words (`de la`): search them word for word rather than everything.
            query = _Parser(text, normal, chain, keep_stops=True).parse()
            query.stop_words_only = query.root is not None
        return query
    except (ValueError, RecursionError, IndexError):
        return _plain_words(text, normal, chain)


def _plain_words(text: str, normal: str, chain: Chain) -> Query:
    typed = words(normal)[:MAX_CLAUSES]
    nodes = [n for n in (_Parser(text, "", chain, False).word(w, None) for w in typed) if n is not None]
    return Query(text, _and(nodes), words=typed, readings=[Reading(w, "word", []) for w in typed])


def _and(nodes: list[Node]) -> Node | None:
    nodes = [n for n in nodes if n is not None]
    if not nodes:
        return None
    return nodes[0] if len(nodes) == 1 else And(tuple(nodes))


def _exact_terms(chain: Chain, text: str) -> tuple[str, ...]:
    typed = chain.exact_terms(text)
    # `"état d urgence"` (apostrophe lost, as the peer harness and many users type
    # it): the index holds `état d’urgence` as etat, urgence, so a lone elided
    # article before another word is dropped.
    return tuple(t for i, t in enumerate(typed) if t not in ELISIONS or i == len(typed) - 1)


class _Parser:
    def __init__(self, text: str, normal: str, chain: Chain, keep_stops: bool) -> None:
        self.text = text
        self.chain = chain
        self.keep_stops = keep_stops
        self.tokens: list[tuple[str, str]] = []
        self.date_from: dt.date | None = None
        self.date_to: dt.date | None = None
        self.words: list[str] = []
        self.readings: list[Reading] = []
        self.negated = 0
        for m in _TOKEN_RE.finditer(normal):
            kind = m.lastgroup or ""
            if kind == "fvalue":
                kind = "field"
            if kind == "junk":
                continue
            if kind == "field":
                self.tokens.append(("field", m.group("field").lower() + ":" + m.group("fvalue")))
            else:
                self.tokens.append((kind, m.group(kind)))
        self.i = 0
        self.clauses = 0

    def parse(self) -> Query:
        nodes = []
        while self.i < len(self.tokens):
            node = self.and_expr()
            if node is not None:
                nodes.append(node)
            if self.peek() is not None:
                self.i += 1  # a stray ')': skip it
        return Query(self.text, _and(nodes), self.date_from, self.date_to, self.words, self.readings)

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def read(self, text: str, role: str, terms: list[str]) -> None:
        self.readings.append(Reading(text, "excluded" if self.negated else role, terms))

    def or_expr(self) -> Node | None:
        # OR binds tighter than the implicit AND, as in web search engines:
        # `retraites OR pensions réforme` is (retraites OR pensions) AND réforme.
        children = [self.near_expr()]
        while (tok := self.peek()) and tok[0] == "word" and tok[1] in _OR:
            self.i += 1
            if (nxt := self.peek()) is None or nxt[0] == "rp":
                break
            children.append(self.near_expr())
        kept = [c for c in children if c is not None]
        if not kept:
            return None
        return kept[0] if len(kept) == 1 else Or(tuple(kept))

    def near_expr(self) -> Node | None:
        start = self.i
        node = self.unary()
        while (tok := self.peek()) and tok[0] == "word" and (m := _NEAR_RE.fullmatch(tok[1].upper())):
            self.i += 1
            if (nxt := self.peek()) is None or nxt[0] != "word":
                break
            self.i += 1
            pieces = [t[1] for t in self.tokens[start:self.i] if not _NEAR_RE.fullmatch(t[1].upper())]
            within = min(int(m.group(2)), MAX_NEAR) or 1
            # The explanation shows the distance searched, capped: NEAR/1000 reads NEAR/99.
            typed = " ".join(_capped_near(t[1]) for t in self.tokens[start:self.i])
            self.readings = [r for r in self.readings if r.text not in pieces]
            self.words.extend(words(pieces[-1]))
            node = self.near(typed, " ".join(p.strip('"') for p in pieces), within) or node
        return node

    def near(self, typed: str, text: str, slop: int) -> Node | None:
        """Read words within ``slop`` positions of each other, each as a plain word (forms, accents)."""
        found: list[Word] = []
        for raw in words(text):
            variants = self.chain.search_terms(raw)
            if variants:
                form = self.chain.word(raw).form
                found.append(Word(raw, variants, None, form.lower() if has_accents(form) else None))
        self.read(typed, "near", [t for w in found for t in w.terms])
        if not found:
            return None
        return Near(typed, tuple(found), slop) if len(found) > 1 else found[0]

    def and_expr(self) -> Node | None:
        nodes: list[Node] = []
        while (tok := self.peek()) is not None and tok[0] != "rp":
            start = self.i
            node = self.or_expr()
            if node is not None:
                nodes.append(node)
            elif self.i == start:
                self.i += 1  # a stray operator
        return _and(nodes)

    def unary(self) -> Node | None:
        tok = self.peek()
        assert tok is not None
        kind, value = tok
        if kind == "neg" or (kind == "word" and value in _NOT):
            self.i += 1
            if self.peek() is None:
                return None
            self.negated += 1
            child = self.unary()
            self.negated -= 1
            return Not(child) if child is not None else None
        return self.atom()

    def atom(self) -> Node | None:
        kind, value = self.tokens[self.i]
        self.i += 1
        if kind == "lp":
            node = self.and_expr()
            if (tok := self.peek()) and tok[0] == "rp":
                self.i += 1
            return node
        if kind in ("rp",) or (kind == "word" and value in _AND | _OR):
            return None
        if self.clauses >= MAX_CLAUSES:
            return None
        self.clauses += 1
        if kind == "phrase":
            body, _, slop = value[1:].rpartition('"')
            return self.phrase(body, None, int(slop[1:]) if slop else 0, value)
        if kind == "field":
            name, _, raw = value.partition(":")
            target = _FIELDS.get(name)
            if target == "date":
                if self.date_range(raw):
                    self.read(value, "date", [d.isoformat() for d in (self.date_from, self.date_to) if d])
                    return None
                target = None
            if target is None:
                # Not a field we know: read `foo:bar` as the words it contains.
                return _and([n for n in (self.word(w, None) for w in words(value)) if n])
            if raw.startswith('"'):
                return self.phrase(raw.strip('"'), target, 0, value)
            return self.word(raw, target, value)
        return self.word(value, None)

    def word(self, text: str, field_name: str | None, typed: str | None = None) -> Node | None:
        """Analyze one typed word into a node (None for an ignored stop word)."""
        shown = typed or text
        chain = self.chain
        if field_name in ("source", "author", "tag"):
            self.words.extend(words(text))
            terms = chain.exact_terms(text)
            self.read(shown, "field", terms)
            if not terms:
                return None
            return Phrase(text, tuple(terms), field_name) if len(terms) > 1 else Word(text, (terms[0],), field_name)
        fuzzy = _FUZZY_RE.fullmatch(text) if field_name is None else None
        if fuzzy and len(chain.exact_terms(fuzzy.group(1))) == 1:
            self.words.extend(words(fuzzy.group(1)))
            self.read(shown, "fuzzy", [])
            return Fuzzy(text, chain.exact_terms(fuzzy.group(1))[0], int(fuzzy.group(2) or 1))
        if text.endswith("*") and len(text.rstrip("*")) >= 2 and field_name is None:
            stem = chain.exact_terms(text.rstrip("*"))
            if len(stem) == 1:
                self.words.extend(words(text))
                self.read(shown, "prefix", [])
                return Prefix(text, stem[0])
        tokens = words(text)
        self.words.extend(tokens)
        if len(tokens) > 1:
            # `Notre-Dame`, `Saint-Germain-des-Prés`: every part, in order.
            return self.phrase(text, field_name, 0, shown)
        if not tokens:
            return None
        variants = chain.search_terms(text)
        if not variants:
            if not self.keep_stops:
                self.read(shown, "stopword", [])
                return None
            exact = chain.exact_terms(text)
            self.read(shown, "stopword", exact)
            return Word(text, tuple(exact), "exact")
        analysis = chain.word(tokens[0])
        accent = analysis.form.lower() if has_accents(analysis.form) else None
        self.read(shown, "field" if field_name else "word", list(variants))
        return Word(text, variants, field_name, accent)

    def phrase(self, text: str, field_name: str | None, slop: int, typed: str) -> Node | None:
        self.words.extend(words(text))
        if slop and field_name is None:
            return self.near(typed, text, slop)
        terms = _exact_terms(self.chain, text)
        self.read(typed, "near" if slop else ("field" if field_name else "phrase"), list(terms))
        if not terms:
            return None
        if len(terms) == 1 and field_name is None:
            form = self.chain.word(words(text)[-1]).form
            return Word(text, terms, "exact", form.lower() if has_accents(form) else None)
        return Phrase(text, terms, field_name, slop)

    def date_range(self, raw: str) -> bool:
        """Read a ``date:`` value into the query's range; False when it is not a date."""
        inner = raw.strip()
        if inner.startswith("[") and inner.endswith("]"):
            parts = re.split(r"\s+(?:TO|À|A)\s+", inner[1:-1].strip(), flags=re.I)
        else:
            parts = inner.split("..")
        if len(parts) == 1:
            parts = [parts[0], parts[0]]
        if len(parts) != 2:
            return False
        try:
            low = parse_date_bound(parts[0].strip() or None, end=False) if parts[0].strip() not in ("*", "") else None
            high = parse_date_bound(parts[1].strip() or None, end=True) if parts[1].strip() not in ("*", "") else None
        except ValueError:
            return False
        if low and (self.date_from is None or low > self.date_from):
            self.date_from = low
        if high and (self.date_to is None or high < self.date_to):
            self.date_to = high
        return True


def repeated_clauses(root: Node) -> set[Node]:
    """Return the clauses that occur more than once in a query tree."""
    seen: set[Node] = set()
    twice: set[Node] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if node in seen:
            twice.add(node)
            continue  # (its own children are counted once: the whole clause is kept)
        seen.add(node)
        if isinstance(node, (And, Or)):
            stack.extend(node.children)
        elif isinstance(node, Not):
            stack.append(node.child)
    return twice
