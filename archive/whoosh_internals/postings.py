"""Postings: articles' blocks become the sorted posting arrays of one index segment.

Take « Les cheminots investissent la gare. » as block 12 of a segment. Its five
raw tokens are looked up in the segment's :class:`Vocabulary`; a token met for
the first time (``investissent``) gets the next id, and is analysed once by the
chain when the segment is built (:meth:`~archive.analysis.Chain.word_once`):
exact term ``investissent``, search term ``invest``, accent term
``invest|investissent``. Every later occurrence of it costs one dictionary
lookup, and the block is kept as five integers. A build worker keeps the
vocabulary for its next segment (:meth:`Vocabulary.kept`): words met again are
not analysed again.

When the segment is written (:meth:`SegmentBuilder.build`), each field's postings
come out of numpy at once: the tokens' term ids are gathered from the
vocabulary's tables, sorted by term (in the byte order of the term's text, the
order of Whoosh's term index) and by block, and counted; ``exact`` and
``title_exact`` keep each occurrence's position (``invest…`` at position 2 of
block 12). Python runs once per distinct token, not once per token or posting.

The documents are those :func:`archive.indexing.article_documents` describes;
``tests/test_whoosh_internals.py`` checks that Whoosh's own writer, fed those
documents, indexes exactly the same postings.
"""

from __future__ import annotations

import itertools
from array import array
from dataclasses import InitVar, dataclass, field

import numpy as np

from ..analysis import Chain, accent_term, tokens
from ..model import Article, derive_title

__all__ = ["FieldPostings", "SegmentData", "SegmentBuilder", "Vocabulary"]

_EMPTY = np.zeros(0, dtype=np.int64)


@dataclass
class FieldPostings:
    """One field's postings, in term order: what a segment writer writes."""

    #: Each term's UTF-8 bytes, ascending.
    terms: list[bytes]
    #: Each term's first posting (``len(terms) + 1`` offsets into the arrays below).
    starts: np.ndarray
    #: Each posting's document number, ascending within a term.
    docs: np.ndarray
    #: How many times the term occurs in the document (the posting's weight).
    freqs: np.ndarray
    #: Every posting's positions, back to back, ``freqs`` of them each (positioned fields only).
    positions: np.ndarray | None = None
    #: Each document's length in this field (scored fields only).
    lengths: np.ndarray | None = None


@dataclass
class SegmentData:
    """Everything a segment holds: its fields' postings, numeric columns and stored fields."""

    doccount: int
    fields: dict[str, FieldPostings]
    #: Numeric columns, one value per document.
    columns: dict[str, np.ndarray]
    #: Each document's stored fields as sorted ``(name, value)`` pairs; equal pairs are one object.
    stored: list[tuple[tuple[str, str], ...]]


class _Kind:
    """One way of reading a token (exact, search or accent): its terms, and each raw token's."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.flat = array("i")  # term ids of every raw token, in raw-token order
        self.count = array("i")  # how many each raw token has
        self._encoded: list[bytes] = []  # each term's UTF-8, by id
        self._order: list[int] = []  # the ids of _encoded in byte order

    def sorted_terms(self) -> tuple[list[bytes], np.ndarray]:
        """Return the terms in byte order, and each term id's rank in that order."""
        encoded, known = self._encoded, len(self._encoded)
        if len(self.ids) > known:  # new terms (a vocabulary kept from earlier segments sorted the others)
            encoded += [t.encode("utf-8") for t in itertools.islice(self.ids, known, None)]
            # The earlier order is one sorted run: sorting runs on from it (timsort merges runs).
            self._order = sorted(self._order + list(range(known, len(encoded))), key=encoded.__getitem__)
        rank = np.empty(len(encoded), dtype=np.int32)
        rank[self._order] = np.arange(len(encoded), dtype=np.int32)
        return [encoded[i] for i in self._order], rank

    def expand(self, raw: np.ndarray, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return the term ids of raw tokens and the document of each (a token may have 0-2)."""
        flat = np.frombuffer(self.flat, dtype=np.int32)
        if len(flat) == len(self.count):  # one term per raw token (exact terms)
            return flat[raw], docs
        counts = np.frombuffer(self.count, dtype=np.int32).astype(np.int64)
        count = counts[raw]
        # Token k's terms are flat[start : start + count] of its raw token: each term's index is
        # its raw token's start, less the terms of the tokens before it, plus its rank overall.
        shift = (np.cumsum(counts) - counts)[raw] - (np.cumsum(count) - count)
        return flat[np.repeat(shift, count) + np.arange(int(count.sum()))], np.repeat(docs, count)


#: Raw tokens a worker's vocabulary may hold and still be kept for its next segment
#: (about 550 bytes each with their terms, 80 MB; the corpus has 126,000): past it, the
#: next segment starts a fresh one.
KEEP_VOCABULARY = 150_000


class Vocabulary(dict[str, int]):
    """Raw tokens → ids; each new raw token is analysed once into its exact, search and accent terms.

    A worker keeps its vocabulary from one segment to the next (:meth:`kept`): a
    segment's terms are those its postings name, so the words of earlier segments
    cost nothing but memory, and words met again are not analysed again.
    """

    def __init__(self, chain: Chain) -> None:
        super().__init__()
        self.chain = chain
        self.exact, self.search, self.accent = _Kind(), _Kind(), _Kind()
        self._new: list[str] = []

    def __missing__(self, raw: str) -> int:
        self._new.append(raw)
        i = self[raw] = len(self)
        return i

    def analyse(self) -> None:
        """Analyse the raw tokens met since the last call into their terms (once per raw token)."""
        new, self._new = self._new, []
        word = self.chain.word_once  # each raw token once: the vocabulary is the cache
        exact_ids, search_ids, accent_ids = self.exact.ids, self.search.ids, self.accent.ids
        exact: list[int] = []
        search: list[int] = []
        accent: list[int] = []
        counts: list[int] = []
        for raw in new:
            _, term, keys, form = word(raw)
            exact.append(exact_ids.setdefault(term, len(exact_ids)))
            counts.append(len(keys))
            for key in keys:
                search.append(search_ids.setdefault(key, len(search_ids)))
                term = accent_term(key, form)
                accent.append(accent_ids.setdefault(term, len(accent_ids)))
        self.exact.flat.extend(exact)
        self.exact.count.extend([1] * len(new))
        self.search.flat.extend(search)
        self.search.count.extend(counts)
        self.accent.flat.extend(accent)
        self.accent.count.extend(counts)

    def kept(self) -> Vocabulary | None:
        """Return this vocabulary for a worker's next segment, or None when it grew too large to keep."""
        return self if len(self) <= KEEP_VOCABULARY else None


class _Stream:
    """The raw token ids of one kind of text (bodies, titles…) and the document of each run."""

    def __init__(self) -> None:
        self.ids = array("i")
        self.docs = array("i")
        self.counts = array("i")

    def add(self, vocabulary: Vocabulary, doc: int, text: str) -> None:
        """Tokenize ``text`` as document ``doc``'s."""
        found = tokens(text)
        if found:
            self.ids.extend(map(vocabulary.__getitem__, found))
            self.docs.append(doc)
            self.counts.append(len(found))

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return each token's raw id, document and position within its document (int32: half the memory)."""
        raw = np.frombuffer(self.ids, dtype=np.int32)
        counts = np.frombuffer(self.counts, dtype=np.int32)
        docs = np.repeat(np.frombuffer(self.docs, dtype=np.int32), counts)
        positions = np.arange(len(raw), dtype=np.int32) - np.repeat((np.cumsum(counts) - counts).astype(np.int32),
                                                                     counts)
        return raw, docs, positions


@dataclass
class SegmentBuilder:
    """Accumulates articles' documents, then builds a segment's postings in bulk."""

    chain: Chain
    #: A vocabulary kept from the worker's previous segment (:meth:`Vocabulary.kept`); else a new one.
    kept: InitVar[Vocabulary | None] = None
    doccount: int = 0
    vocabulary: Vocabulary = field(init=False)
    streams: dict[str, _Stream] = field(init=False)
    #: Identifier fields: each value's first document and how many documents (from it) hold it.
    ids: dict[str, tuple[array, array, list[str]]] = field(init=False)
    columns: dict[str, array] = field(init=False)
    stored: list[tuple[tuple[str, str], ...]] = field(init=False, default_factory=list)

    def __post_init__(self, kept: Vocabulary | None) -> None:
        self.vocabulary = Vocabulary(self.chain) if kept is None else kept
        self.streams = {name: _Stream() for name in ("body", "title", "source", "author", "tag")}
        self.ids = {name: (array("q"), array("q"), []) for name in ("article", "hash")}
        self.columns = {"aid": array("q"), "n": array("q")}

    def add_article(self, aid: int, article: Article) -> int:
        """Add an article's documents, one per block (see ``article_documents``); return how many."""
        vocabulary, streams, doc = self.vocabulary, self.streams, self.doccount
        # A title derived from the first sentence is not indexed again as a title.
        title = "" if article.title == derive_title(article.blocks) else article.title
        digest = article.content_hash()
        streams["title"].add(vocabulary, doc, title)
        streams["source"].add(vocabulary, doc, article.source or "")
        streams["author"].add(vocabulary, doc, " ; ".join(article.authors))
        streams["tag"].add(vocabulary, doc, " ; ".join(article.tags))
        first = (("article", article.id), ("hash", digest))
        rest = (("article", article.id),)
        body = streams["body"]
        for name, value, count in (("article", article.id, len(article.blocks)), ("hash", digest, 1)):
            firsts, counts, values = self.ids[name]
            firsts.append(doc)
            counts.append(count)
            values.append(value)
        for n, block in enumerate(article.blocks):
            body.add(vocabulary, doc + n, block.text)
            self.columns["aid"].append(aid)
            self.columns["n"].append(n)
            self.stored.append(first if n == 0 else rest)
        self.doccount += len(article.blocks)
        return len(article.blocks)

    def tokens(self) -> int:
        """Return how many tokens were added (what building the postings costs memory for)."""
        return sum(len(stream.ids) for stream in self.streams.values())

    def build(self) -> SegmentData:
        """Return the segment's postings, columns and stored fields."""
        v, ndocs = self.vocabulary, self.doccount
        v.analyse()
        exact_terms, exact_rank = v.exact.sorted_terms()
        search_terms, search_rank = v.search.sorted_terms()
        accent_terms, accent_rank = v.accent.sorted_terms()
        fields: dict[str, FieldPostings] = {}
        raw, docs, positions = self.streams["body"].arrays()
        traw, tdocs, tpositions = self.streams["title"].arrays()
        for name, (r, d, p) in (("exact", (raw, docs, positions)), ("title_exact", (traw, tdocs, tpositions))):
            terms, tdoc = v.exact.expand(r, d)
            fields[name] = _positioned(exact_rank[terms], tdoc, p, exact_terms, ndocs)
        for name, (r, d) in (("text", (raw, docs)), ("title", (traw, tdocs))):
            terms, tdoc = v.search.expand(r, d)
            fields[name] = _counted(search_rank[terms], tdoc, search_terms, ndocs)
        body_accent, body_docs = v.accent.expand(raw, docs)
        title_accent, title_docs = v.accent.expand(traw, tdocs)
        fields["accent"] = _counted(accent_rank[np.concatenate([body_accent, title_accent])],
                                    np.concatenate([body_docs, title_docs]), accent_terms, ndocs)
        for name in ("source", "author", "tag"):
            r, d, _ = self.streams[name].arrays()
            terms, tdoc = v.exact.expand(r, d)
            fields[name] = _counted(exact_rank[terms], tdoc, exact_terms, ndocs)
        for name, (firsts, counts, values) in self.ids.items():
            fields[name] = _identifiers(firsts, counts, values)
        columns = {name: np.frombuffer(values, dtype=np.int64) for name, values in self.columns.items()}
        return SegmentData(ndocs, {k: f for k, f in fields.items() if f.terms}, columns, self.stored)


def _group(keys: np.ndarray, minor: np.ndarray | None = None) -> np.ndarray:
    """Return where each run of equal keys (pairs with ``minor``) starts in a sorted array, and its end."""
    if not len(keys):
        return np.zeros(1, dtype=np.int64)
    change = keys[1:] != keys[:-1]
    if minor is not None:
        change |= minor[1:] != minor[:-1]
    return np.concatenate([[0], np.flatnonzero(change) + 1, [len(keys)]]).astype(np.int64)


def _postings(ranks: np.ndarray, docs: np.ndarray, freqs: np.ndarray, sorted_terms: list[bytes],
              positions: np.ndarray | None, lengths: np.ndarray) -> FieldPostings:
    """Assemble a field's postings from each posting's term rank (ascending), document and frequency."""
    starts = _group(ranks)
    terms = [sorted_terms[r] for r in ranks[starts[:-1]].tolist()] if len(ranks) else []
    return FieldPostings(terms, starts, docs, freqs, positions, lengths)


def _counted(ranks: np.ndarray, docs: np.ndarray, sorted_terms: list[bytes], ndocs: int) -> FieldPostings:
    """Count a field's (term, document) pairs into postings; lengths count every term occurrence."""
    if len(docs) > 1 and not bool((docs[1:] >= docs[:-1]).all()):  # (a field of two texts: accents)
        keys, freqs = np.unique(ranks.astype(np.int64) * max(ndocs, 1) + docs, return_counts=True)
        return _postings(keys // max(ndocs, 1), keys % max(ndocs, 1), freqs.astype(np.int64), sorted_terms,
                         None, np.bincount(docs, minlength=ndocs).astype(np.int64))
    # Pairs in document order, sorted stably by term (by radix), are in (term, document) order
    # without np.unique's comparison sort of them all: 0.27 s → 0.15 for 4 million.
    return _positioned(ranks, docs, None, sorted_terms, ndocs)


def _positioned(ranks: np.ndarray, docs: np.ndarray, positions: np.ndarray | None, sorted_terms: list[bytes],
                ndocs: int) -> FieldPostings:
    """Group a field's occurrences, in document order, into postings that keep their positions (if given)."""
    # Occurrences arrive in (document, position) order: a stable sort by term keeps it.
    order = _stable_order(ranks)
    ranks, docs = ranks[order], docs[order]
    bounds = _group(ranks, docs)
    first = bounds[:-1]
    return _postings(ranks[first], docs[first], np.diff(bounds), sorted_terms,
                     None if positions is None else positions[order],
                     np.bincount(docs, minlength=ndocs).astype(np.int64))


def _stable_order(keys: np.ndarray) -> np.ndarray:
    """Return ``np.argsort(keys, kind="stable")`` of keys in [0, 2^32), by 16-bit digits.

    numpy sorts 16-bit integers stably by radix, in linear time: two passes (low
    digits, then high) beat one comparison sort of the whole keys by half.
    """
    order = np.argsort((keys & 0xFFFF).astype(np.uint16), kind="stable")
    if len(keys) and int(keys.max()) > 0xFFFF:
        order = order[np.argsort((keys >> 16).astype(np.uint16)[order], kind="stable")]
    return order


def _identifiers(firsts: array, counts: array, values: list[str]) -> FieldPostings:
    """Postings of an identifier field: each value is one term, in every document that holds it.

    Value ``values[i]`` is held by ``counts[i]`` documents from ``firsts[i]`` (an article's blocks).
    """
    rows = sorted(row for row in zip([v.encode("utf-8") for v in values], firsts, counts) if row[2])
    if not rows:
        return FieldPostings([], np.zeros(1, dtype=np.int64), _EMPTY, _EMPTY)
    keys = [key for key, _, _ in rows]
    start = np.fromiter((f for _, f, _ in rows), dtype=np.int64, count=len(rows))
    count = np.fromiter((c for _, _, c in rows), dtype=np.int64, count=len(rows))
    ends = np.cumsum(count)
    docs = np.repeat(start - (ends - count), count) + np.arange(int(ends[-1]), dtype=np.int64)
    new = [i for i in range(len(keys)) if i == 0 or keys[i] != keys[i - 1]]  # a value held by several
    return FieldPostings([keys[i] for i in new], np.concatenate([[0], ends[new[1:]] - count[new[1:]], ends[-1:]]),
                         docs, np.ones(len(docs), dtype=np.int64))
