"""Engine: one archive home's search, from a request to a page of results.

``Engine(home).search(SearchRequest.build("investir", tag="économie"))`` runs
the stages in order:

1. **Refresh** (:mod:`.live`): reopen the :class:`Snapshot` if the index
   changed, catch the :class:`Catalog` up with the store; no lock spans a
   search, so searches in several threads run at once.
2. **Match** (:mod:`.matching`): the request's parsed tree over the blocks
   its words' postings hold (sparse: a rare word costs the same in any
   archive), then those blocks grouped into article scores.
3. **Filter and count** (:mod:`.facets`): the request's dates and facet
   selections over the matching articles only, facet counts and the histogram.
4. **Rank, collapse and page**: by score (ties: newest first), or by date;
   then each wire-copy cluster keeps its best-ranked member, the others listed
   under it as ``copies`` (unless ``show_copies``).
5. **Highlight** (:mod:`.highlight`): the best three blocks of each article on
   the page, as text windows and spans.
6. **Suggest** (:mod:`.suggest`) when fewer than three articles match.

:func:`search` is the Python API: it keeps one engine per home
(:func:`engine_for`), so a long-running process reuses the open index.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import weakref
from collections.abc import Callable, Hashable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..analysis import FRENCH
from ..failpoints import failpoint
from ..home import Archive, resolve_home
from ..lru import LRU
from ..model import Article
from ..query import Interpretation, Or, Query, Word, parse_query
from ..revisions import HistoryEntry
from ..whoosh_internals import EMPTY_IDS
from .article_view import (
    ArticleView,
    as_indexed,
    load_copies,
    load_excerpts,
    load_paragraphs,
    load_window,
    window_start,
)
from .facets import Catalog
from .filtering import Filters, count_facets
from .highlight import Spans
from .live import Live
from .marking import MarkPlan
from .matching import Evaluator, Match, match
from .occurrences import count_marks
from .ranking import article_scores, rank
from .request import SearchRequest
from .results import Copy, Health, Hit, Paragraph, ParagraphText, SearchResults, Selection
from .scoring import contains
from .snapshot import Snapshot
from .suggest import suggest
from .vocabulary import Vocabulary

__all__ = ["Engine", "Selection", "engine_for", "close_engines", "search", "SHOWN_PARAGRAPHS"]

#: Highlighted blocks shown per article; fuzzy expansions per word; seconds a
#: suggestion waits for a vocabulary being built; characters of an article that
#: related articles are looked for from; hits read from the store at once by an export.
SHOWN_PARAGRAPHS, MAX_FUZZY_TERMS, SUGGESTION_WAIT = 3, 32, 0.25
RELATED_CHARS, EXPORT_BATCH = 10_000, 200
#: Results the research tools derive from an engine's archive and keep (see :attr:`Engine.derived`).
DERIVED_SIZE = 8


_LIVE: weakref.WeakSet[Engine] = weakref.WeakSet()
#: A computation over selected blocks, given the evaluator that matched them (its snapshot,
#: expansions and posting reads), the query's plan of marks and the blocks' docnums: one value each.
PerBlock = Callable[[Evaluator, MarkPlan, np.ndarray], np.ndarray]


class Engine:
    """Search one archive home, reusing the open index and arrays between calls (a :class:`SearchEngine`)."""

    name = "whoosh"

    def __init__(self, home: str | os.PathLike[str] | Archive) -> None:
        self.archive = home if isinstance(home, Archive) else Archive(home)
        self.live = Live(self.archive)
        self._pinned = self.live.pinned
        #: What research tools derive from this archive (the concordance's counts and scans),
        #: keyed by the index and store generations they were read from; emptied by close().
        self.derived: LRU[Hashable, Any] = LRU(DERIVED_SIZE)
        # Dropped without close(), it closes its files then: Whoosh's readers sit in reference
        # cycles, left to a later collection (which warns). Not at exit: the files close with it.
        weakref.finalize(self, self.live.close).atexit = False
        _LIVE.add(self)

    def close(self) -> None:
        """Close the open index (once the searches running on it end) and forget what was derived."""
        self.derived.clear()
        self.live.close()

    def search(self, request: SearchRequest, *, suggestion: bool = True) -> SearchResults:
        """Return a page of articles matching a request, with facets and a suggestion."""
        with self._pinned() as (snap, catalog):
            parsed = _parsed(request, snap)
            results = self._run(snap, catalog, request, parsed)
            if suggestion and parsed.root is not None and results.total_articles < 3:
                results.suggestion = self._suggest(snap, catalog, request, parsed)
        return results

    def export(self, request: SearchRequest) -> SearchResults:
        """Return every matching article, ranked, with all matching block numbers and no text."""
        with self._pinned() as (snap, catalog):
            return self._run(snap, catalog, request, _parsed(request, snap), every=True)

    def export_articles(self, request: SearchRequest) -> Iterator[tuple[Hit, Article]]:
        """Rank every match now (errors raised here), then yield each hit with its stored article, in batches."""
        return self._stored(self.export(request).hits)

    def _stored(self, hits: Sequence[Hit]) -> Iterator[tuple[Hit, Article]]:
        for start in range(0, len(hits), EXPORT_BATCH):
            batch = hits[start:start + EXPORT_BATCH]
            articles = self.archive.store.get_many([h.id for h in batch])
            yield from ((hit, articles[hit.id]) for hit in batch if hit.id in articles)

    def select(self, request: SearchRequest, *, blocks: bool = False, counts: bool = False,
               per_block: PerBlock | None = None) -> Selection:
        """Return every article matching a request (filters applied), oldest first, without ranking.

        ``per_block(evaluator, marks, docs)`` is called on the selected blocks' docnums
        while the snapshot is held; ``counts`` is ``per_block=count_marks`` (each
        block's marked occurrences, counted from the index).
        """
        if counts:
            blocks, per_block = True, count_marks
        with self._pinned() as (snap, catalog):
            parsed = _parsed(request, snap)
            evaluator = self._evaluator(snap)
            found = match(evaluator, parsed.root)
            matching = _articles(snap, catalog, found)
            cand = matching[Filters.of(catalog, request).keep(matching)]
            days = catalog.days[cand]
            order = np.lexsort((cand, np.where(days < 0, np.iinfo(np.int64).max, days)))
            cand, days = cand[order], days[order]
            block_article = block_n = docs = EMPTY_IDS
            if blocks and found is not None and len(cand):
                by_aid = np.argsort(cand)  # each article's rank, found by its aid
                docs = found.ids[found.para]
                docs = docs[contains(cand[by_aid], snap.aid[docs])]
                block_article = by_aid[np.searchsorted(cand[by_aid], snap.aid[docs])]
                block_n = snap.n[docs].astype(np.int64)
                order = np.lexsort((block_n, block_article))
                block_article, block_n, docs = block_article[order], block_n[order], docs[order]
            marks = MarkPlan.of(parsed.root, snap.chain, evaluator.expanded)
            values = per_block(evaluator, marks, docs) if blocks and per_block else None
            ids = [catalog.ids[a] or "" for a in cand.tolist()]
            return Selection(ids, days, block_article, block_n, dict(evaluator.expanded), values, marks)

    def paragraphs(self, wanted: Sequence[tuple[str, int]],
                   records: dict[str, list[str]] | None = None) -> list[ParagraphText | None]:
        """Return paragraph ``n`` of article ``id`` for each ``(id, n)``, with title and date (None if gone)."""
        return load_paragraphs(self.archive.store, wanted, records)

    def article(self, article_id: str) -> Article:
        """Return an article as stored; raise :class:`ArticleNotFound` if there is none."""
        return self.archive.store.get(article_id)

    def history(self, article_id: str, *, removed: bool = False) -> list[HistoryEntry]:
        """Return every stored version of an article, oldest first (empty when it has none, or is removed).

        With ``removed``, a removed article's versions too; raise :class:`ArticleNotFound` when none.
        """
        store = self.archive.store
        return store.history(article_id) if removed or article_id in store else []

    def revision(self, article_id: str, number: int) -> Article:
        """Return version ``number`` of an article from the store's revisions."""
        return self.archive.store.revision(article_id, number)

    def generation(self) -> Hashable:
        """Return the index's current name and the store's generation: a new pair when answers may change."""
        return self.archive.index_dir.current_name(), self.archive.store.generation()

    def stats(self) -> dict[str, Any]:
        """Return the engine's name and the number of articles its index serves."""
        with self._pinned() as (_, catalog):
            return {"engine": self.name, "articles": int(catalog.valid.sum()),
                    "index": self.archive.index_dir.current_name()}

    def health(self) -> Health:
        """Tell whether the home has an index to search."""
        if self.archive.index_dir.exists():
            return Health(self.name, True)
        return Health(self.name, False, f"no index in {self.archive.home}")

    def read(self, article_id: str, query: str = "", at: int | None = None) -> ArticleView:
        """Return a window of an article (a short one whole) and the spans the query matches in it.

        ``at`` (a 0-based block) chooses the window; without it, the window of the first
        block the query matches. Costs the same whatever the article's length.
        """
        if not query:
            article, total, first = load_window(self.archive.store, article_id, window_start(at or 0))
            return ArticleView(article, (), [(block, ()) for block in article.blocks], first, total)
        parsed = parse_query(query)
        matching: tuple[int, ...] = ()
        with self._pinned() as (snap, catalog):
            evaluator = self._evaluator(snap)
            found = match(evaluator, parsed.root)  # also the forms fuzzy words and accents expand to
            aid = catalog.aid_of(article_id)
            if found is not None and aid is not None and aid < len(snap.aid_count):
                docs, _ = snap.blocks_of(np.array([aid]))
                docs = docs[found.own_text(docs)]
                matching = tuple(np.unique(snap.n[docs]).tolist())
        start = at if at is not None else (matching[0] if matching else 0)
        article, total, first = load_window(self.archive.store, article_id, window_start(start))
        marks = MarkPlan.of(parsed.root, snap.chain, evaluator.expanded)
        return ArticleView(article, marks.title_spans(article.title),
                           [(block, marks.spans(block.text)) for block in article.blocks],
                           first, total, matching)

    def related(self, article_id: str, limit: int = 5) -> list[Hit]:
        """Return articles close to one, from Whoosh's more-like-this key terms of its beginning."""
        with self._pinned() as (snap, catalog):
            # Kept per snapshot: a reading view asked again (or by many readers) costs nothing.
            return snap.memo(("related", article_id, limit),
                             lambda: self._related(snap, catalog, article_id, limit))

    def _related(self, snap: Snapshot, catalog: Catalog, article_id: str, limit: int) -> list[Hit]:
        article, _, _ = load_window(self.archive.store, article_id, 0)
        # A bounded text: a 30,000-paragraph article costs what a long one does.
        text = " ".join([article.title] + [b.text for b in article.blocks])[:RELATED_CHARS]
        terms = [t for t, _ in snap.searcher.key_terms_from_text("text", text, numterms=12)]
        if not terms:
            return []
        parsed = Query(" OR ".join(terms), Or(tuple(Word(t, (t,), None) for t in terms)))
        results = self._run(snap, catalog, SearchRequest(per_page=limit + 1), parsed)
        return [h for h in results.hits if h.id != article_id][:limit]

    def _run(self, snap: Snapshot, catalog: Catalog, request: SearchRequest, parsed: Query,
             every: bool = False) -> SearchResults:
        size = catalog.size
        evaluator = self._evaluator(snap)
        failpoint("matching")
        found = match(evaluator, parsed.root)
        # Matching articles as sorted aids: only they are filtered, counted and ranked.
        # Whether every matching block's article is a matching article (none past the catalog, none invalid).
        whole = True
        if found is None:
            matching = catalog.valid_aids
            best = np.zeros(len(matching), dtype=np.float32)
        else:
            matching, best, whole = article_scores(snap, found, size, evaluator.coverage)
            valid = catalog.valid[matching]
            if not valid.all():
                matching, best, whole = matching[valid], best[valid], False
        filters = Filters.of(catalog, request)
        facets, histogram = count_facets(catalog, matching, filters, request)
        cand, cand_best = matching, best
        if filters.applies():
            passed = filters.keep(matching)
            cand, cand_best = matching[passed], best[passed]
        keys: tuple[np.ndarray, ...]
        if request.sort == "relevance" and found is not None:
            keys = (cand, -catalog.days[cand], -cand_best)
        elif request.sort != "date":  # newest first; also relevance without words to rank by
            keys = (cand, -catalog.listed[cand])  # (undated: by the day added)
        else:
            keys = (cand, catalog.listed[cand])
        start = (request.page - 1) * request.per_page
        # An export lists every article: each copy is a real publication in its source.
        ranking = rank(cand, keys, catalog.cluster, 0 if every else start,
                       len(cand) if every else start + request.per_page,
                       collapse=not request.show_copies and not every)
        page_aids, copy_aids = ranking.page, ranking.copies

        total_paragraphs = 0
        per_article: dict[int, list[tuple[float, int]]] = {int(a): [] for a in page_aids}
        if found is not None:
            if whole and len(cand) == len(matching):
                total_paragraphs = int(np.count_nonzero(found.para))
            else:
                para_aids = snap.aid[found.ids[found.para]]
                total_paragraphs = int(contains(cand, para_aids[para_aids < size]).sum())
            docs, counts = snap.blocks_of(page_aids)
            hit, scores = found.own_scores(docs)
            owners = np.repeat(page_aids, counts)[hit]
            for a, score, n in zip(owners.tolist(), scores.tolist(), snap.n[docs[hit]].tolist()):
                per_article[a].append((score, n))
        # Only the words that may be marked are analysed (see .locate): a paragraph costs its few marks.
        marks = MarkPlan.of(parsed.root, snap.chain, evaluator.expanded)
        ranked_blocks = {a: sorted(per_article[a], key=lambda p: (-p[0], p[1])) for a in page_aids.tolist()}
        # Only the blocks shown are read: a 30,000-paragraph article costs what a short one does.
        wanted = {catalog.ids[a] or "": [] if every else [n for _, n in b[:SHOWN_PARAGRAPHS]]
                  for a, b in ranked_blocks.items()}
        excerpts = load_excerpts(self.archive.store, wanted)
        listed: dict[str, Copy] = {}
        if not every:  # (an export reads the store's current text again anyway)
            on_page = page_aids.tolist()
            indexed = {catalog.ids[a] or "": h for a, h in zip(on_page, snap.article_hashes(on_page))}
            excerpts = as_indexed(self.archive.store, excerpts, indexed, wanted)
            listed = load_copies(self.archive.store, {c: catalog.ids[c] or "" for cs in copy_aids.values() for c in cs})
        hits = []
        page_scores = dict(zip(page_aids.tolist(), best[np.searchsorted(matching, page_aids)].tolist())
                           if found is not None else ())  # (each hit's, found for the page at once)
        for a, blocks in ranked_blocks.items():
            excerpt = excerpts.get(catalog.ids[a] or "")
            if excerpt is None:
                continue
            article = excerpt.article
            score = page_scores.get(a, 0.0)
            if every:
                numbers = tuple(Paragraph(n, "") for n in sorted(n for _, n in blocks))
                hits.append(_hit(article, score, numbers, 0, ()))
                continue
            shown = sorted(n for _, n in blocks[:SHOWN_PARAGRAPHS] if n in excerpt.blocks) or [0]
            paragraphs = tuple(Paragraph.shown(n, excerpt.blocks[n].text, marks.spans) for n in shown)
            copies = tuple(c for c in (listed.get(catalog.ids[b] or "") for b in copy_aids.get(a, [])) if c)
            hits.append(_hit(article, score, paragraphs, max(0, len(blocks) - len(shown)),
                             marks.title_spans(article.title), copies))
        explain = [Interpretation(r.text, r.role, _union(r.terms, evaluator.expanded.get(r.text.strip('"'), [])))
                   for r in parsed.interpretations]
        days = catalog.days[filters.select(matching, dates=False)]
        days = days[days >= 0]
        return SearchResults(request, ranking.total, total_paragraphs, hits, facets, histogram,
                             explain=explain, truncated=evaluator.truncated, days=days, total_publications=len(cand))

    def _evaluator(self, snap: Snapshot) -> Evaluator:
        return Evaluator(snap, lambda term, d: self._words(snap).within(term, d, MAX_FUZZY_TERMS))

    def _words(self, snap: Snapshot) -> Vocabulary:
        vocabulary = self.live.vocabulary(snap)
        assert vocabulary is not None  # (waited for)
        return vocabulary

    def warm(self, *, postings: bool = True) -> None:
        """Open the index and build what the first searches would otherwise wait for.

        That is the spelling vocabulary and (``postings``, for a server) the decoded
        positions of the stop words that phrases read. (Not again for a rebuilt index:
        decoding them in the background took the GIL from the first searches on it,
        which then ran twice as slow.)
        """
        with self._pinned() as (snap, _):
            self.live.vocabulary(snap, wait=0)  # started: a large archive's builds in a child process
            if postings:
                snap.preload()  # meanwhile, here
            self.live.vocabulary(snap)

    def _suggest(self, snap: Snapshot, catalog: Catalog, request: SearchRequest,
                 parsed: Query) -> str | None:
        # Suggestions come once a vocabulary exists (warm(): `archive serve`, the CLI on a
        # query finding little; or a fuzzy word). A low-hit query does not start a build,
        # and waits a moment at most for one under way (a small archive's is ready by then).
        vocabulary = self.live.vocabulary(snap, wait=SUGGESTION_WAIT, start=False)
        if vocabulary is None:
            return None
        text = suggest(snap, vocabulary, parsed,
                       lambda term: self._printed_form(snap, catalog, term))
        if text is None:
            return None
        # Only whether the suggestion finds anything counts: no ranking, facets or marks.
        again = match(self._evaluator(snap), parse_query(text).root)
        matching = _articles(snap, catalog, again)
        return text if Filters.of(catalog, request).keep(matching).any() else None

    def _printed_form(self, snap: Snapshot, catalog: Catalog, term: str) -> str:
        """Return ``term`` as the archive prints it (with its accents), from one block that has it."""
        ids, _ = snap.postings("exact", term)
        for d in ids[:3].tolist():
            aid = int(snap.aid[d])
            article_id = catalog.ids[aid] if aid < catalog.size else None
            if not article_id:
                continue
            n = int(snap.n[d])
            excerpt = load_excerpts(self.archive.store, {article_id: [n]}).get(article_id)
            if excerpt is None or n not in excerpt.blocks:
                continue
            text = excerpt.blocks[n].text
            for span in snap.chain.spans(text):
                if span.exact == term:
                    return text[span.start:span.end].lower()
        return term


def _articles(snap: Snapshot, catalog: Catalog, found: Match | None) -> np.ndarray:
    """Return the articles a match touches, as sorted aids (every live article for a query without words)."""
    if found is None:
        return catalog.valid_aids
    aids = found.articles(snap.aid)[0]  # (kept on the match: ranking reads the same grouping)
    aids = aids[aids < catalog.size]
    return aids[catalog.valid[aids]]


def _union(first: list[str], then: list[str]) -> list[str]:
    return list(dict.fromkeys(first + then))


def _parsed(request: SearchRequest, snap: Snapshot) -> Query:
    # An index built with another chain (the relevance benchmark's ablations) is
    # queried through its own chain; every other request was parsed once, when built.
    return request.parsed if snap.chain == FRENCH else parse_query(request.query, snap.chain)


def _hit(article: Article, score: float, paragraphs: tuple[Paragraph, ...], more: int,
         title_spans: Spans, copies: tuple[Copy, ...] = ()) -> Hit:
    return Hit(article.id, article.title, article.date, article.source, article.authors,
               article.tags, article.url, score, paragraphs, more, title_spans, copies)


@functools.cache
def _engine(home: Path) -> Engine:
    return Engine(home)


def engine_for(home: str | os.PathLike[str] | Archive | None) -> Engine:
    """Return the process's engine for a home (one per home, reused across calls)."""
    return _engine(home.home if isinstance(home, Archive) else resolve_home(home))


def close_engines() -> None:
    """Close every engine of this process, and forget those :func:`engine_for` kept (tests, forks)."""
    for engine in list(_LIVE):
        engine.close()
    _engine.cache_clear()


def search(home: str | os.PathLike[str] | Archive | None, query: str = "", *,
           source: str | Sequence[str] = (), author: str | Sequence[str] = (),
           tag: str | Sequence[str] = (), date_from: str | dt.date | None = None,
           date_to: str | dt.date | None = None, sort: str = "relevance", page: int = 1,
           per_page: int = 20, show_copies: bool = False) -> SearchResults:
    """Search an archive home: ``search(home, "réforme", tag="politique", date_from="2019")``.

    Values of one filter are ORed, filters ANDed; ``sort`` is ``relevance``,
    ``-date`` (newest first) or ``date``; wire copies are listed under their
    cluster's best hit unless ``show_copies``. Raises :class:`BadParameter` beyond the limits.
    A spelling suggestion needs the vocabulary :meth:`Engine.warm` builds
    (``engine_for(home).warm()``; ``archive serve`` does it before serving).
    """
    request = SearchRequest.build(query, source=source, author=author, tag=tag,
                                  date_from=date_from, date_to=date_to, sort=sort, page=page,
                                  per_page=per_page, show_copies=show_copies)
    return engine_for(home).search(request)
