"""Indexing: the Whoosh index derived from the store, one document per block.

Each paragraph or heading of an article becomes one Whoosh document:

==========  ==================================================================
field       content
==========  ==================================================================
article     the article's id (stored; deleting an article deletes by this term)
aid         the store's integer key of the article (a column only, read
            whole into numpy by the search stage)
n           the block number (a column only)
text        the block's search terms (no positions)
exact       the block's exact terms, with positions (phrases, proximity)
accent      the block's printed forms, keyed by stem (``cot|Côtes``): typed
            accents are checked against them, proximity reads a stem's forms
title       the article's title, search terms (its own BM25 at query time)
title_exact the title's exact terms, with positions (phrases in titles)
source,     metadata, exact terms, for ``source:``, ``author:``
author, tag and ``tag:`` queries
hash        the article's content hash (``check``)
==========  ==================================================================

The article-level fields (title, source, author, tag, hash) are indexed on
block 0 only; the search stage lifts a match on them to every block of the
article through the ``aid`` column. Indexing them on every block made
indexing several times slower for no gain.

Every field goes through the one chain of :mod:`archive.analysis`. Small
updates go through Whoosh's own writer; batches and rebuilds through
:class:`~archive.whoosh_internals.FastWriter`, which turns the same documents into
sorted posting arrays (:mod:`archive.whoosh_internals.postings`, each distinct word
analysed once) and writes the segment in bulk. The schema and everything else that
knows Whoosh's private format live in :mod:`archive.whoosh_internals`.

Segments are written as separate files, not Whoosh's compound ``.seg`` files:
Whoosh opens each part of a compound segment through ``BytesIO(memoryview)``,
which copies the whole part into memory for every searcher opened (hundreds of
MB on the corpus); separate files are read through the page cache instead.

The index lives in ``HOME/index/``: each full build goes into a new folder
``g<time>`` beside the live one, and the file ``CURRENT`` names the live one.
A rebuild swaps ``CURRENT`` (an atomic rename) only once its folder is
complete, so readers keep the old index until then and an interrupted rebuild
leaves it untouched. Incremental updates (``add``/``remove``) replace an
article's documents in one Whoosh commit.
"""

from __future__ import annotations

import itertools
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from whoosh import index as whoosh_index
from whoosh.writing import IndexWriter

from .analysis import FRENCH, Chain
from .budget import BYTES_PER_TOKEN, Budget, release, rss
from .errors import IndexMissing
from .failpoints import failpoint
from .model import Article, derive_title
from .whoosh_internals import (
    FastWriter,
    commit_segments,
    create_index,
    finish_segment,
    make_schema,
    open_index,
    schema_chain,
)
from .workers import Bars, Phases, Progress, Tally, run_jobs
from .workers import report as report_progress

__all__ = ["FORMAT", "make_schema", "schema_chain", "IndexDir", "article_documents", "write_articles",
           "FastWriter", "build_segments", "until_full"]

#: Bumped whenever the schema or an analyzer changes meaning; an older index is rebuilt.
FORMAT = "fr-11"


def article_documents(aid: int, article: Article) -> Iterable[dict[str, object]]:
    """Yield the Whoosh documents of one article: one per block."""
    for n, block in enumerate(article.blocks):
        doc: dict[str, object] = {"article": article.id, "aid": aid, "n": n,
                                  "text": block.text, "exact": block.text, "accent": block.text}
        if n == 0:
            # Article-level fields go on block 0 only; search lifts them to the whole
            # article through the aid column (indexing them on every block cost 8x).
            # A title derived from the first sentence repeats the text: indexing it
            # again as a boosted title would count the same words twice.
            title = "" if article.title == derive_title(article.blocks) else article.title
            # The title's printed forms join block 0's, for typed accents in titles.
            doc.update(title=title, title_exact=title, accent=block.text + "\n" + title,
                       source=article.source or "",
                       author=" ; ".join(article.authors), tag=" ; ".join(article.tags),
                       hash=article.content_hash())
        yield doc


def write_articles(writer: IndexWriter, items: Iterable[tuple[int, Article]],
                   report: Tally = report_progress) -> int:
    """Add articles' documents to an open writer (Whoosh's or the fast one); return blocks written.

    Each article is reported as ``analysing`` (the fast writer, which writes later) or ``indexing``.
    """
    blocks = 0
    for count, (aid, article) in enumerate(items, 1):
        if isinstance(writer, FastWriter):
            blocks += writer.add_article(aid, article)
            report("analysing", 1)
        else:
            for doc in article_documents(aid, article):
                writer.add_document(**doc)
                blocks += 1
            report("indexing", 1)
        if count == 2:
            failpoint("mid-index-write")
    return blocks


class IndexDir:
    """The folder ``HOME/index`` and the live index generation named by its ``CURRENT`` file."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @property
    def current_file(self) -> Path:
        return self.path / "CURRENT"

    def current_name(self) -> str | None:
        """Return the live generation's folder name, or None when there is no index."""
        try:
            name = self.current_file.read_text(encoding="utf-8").strip()
        except (OSError, ValueError):
            # Missing, unreadable, or bytes that are not UTF-8: no live index (a repair rebuilds one).
            return None
        if not name.startswith("g") or "/" in name or not (self.path / name).is_dir():
            return None
        return name

    def exists(self) -> bool:
        """Tell whether a live index exists and is of the current format."""
        name = self.current_name()
        if name is None:
            return False
        try:
            marker = (self.path / name / "FORMAT").read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return False
        return marker == FORMAT and whoosh_index.exists_in(str(self.path / name))

    def open(self) -> whoosh_index.Index:
        """Open the live index; raise :class:`IndexMissing` when there is none."""
        if not self.exists():
            raise IndexMissing("the search index is missing or out of date; run `archive rebuild`")
        return open_index(self.path / str(self.current_name()))

    def create(self, chain: Chain = FRENCH) -> tuple[str, whoosh_index.Index]:
        """Create a new, empty, not yet live generation; return its name and index."""
        self.path.mkdir(parents=True, exist_ok=True)
        name = self.fresh_name()
        folder = self.path / name
        folder.mkdir()
        ix = create_index(folder, make_schema(chain))
        (folder / "FORMAT").write_text(FORMAT + "\n", encoding="utf-8")
        return name, ix

    @staticmethod
    def fresh_name() -> str:
        """Return a name for a new generation folder: ``g<microseconds>-<pid>``."""
        return "g%d-%d" % (time.time_ns() // 1000, os.getpid())

    def publish(self, name: str) -> None:
        """Make generation ``name`` live (atomic rename) and remove the others."""
        tmp = self.path / f"CURRENT.{os.getpid()}.tmp"
        tmp.write_text(name + "\n", encoding="utf-8")
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, self.current_file)
        self.clean(keep=name)

    def clean(self, keep: str | None = None) -> None:
        """Delete generations other than ``keep`` (readers holding them open keep their files)."""
        keep = keep or self.current_name()
        if not self.path.is_dir():
            return
        for child in self.path.iterdir():
            if child.is_dir() and child.name.startswith("g") and child.name != keep:
                shutil.rmtree(child, ignore_errors=True)
            elif child.name.startswith("CURRENT.") and child.name.endswith(".tmp"):
                child.unlink(missing_ok=True)


def _index_part(index_path: str, store_path: str, ids: list[str], share: int,
                report: Tally = report_progress) -> list[Any]:
    """Index some of the store's articles into new segments of an index (a worker process).

    A segment is flushed whenever the postings it would build reach ``share``
    bytes (:mod:`archive.budget`); the segments are returned in the articles' order.
    """
    from .store import Store

    ix = open_index(index_path)
    segments: list[Any] = []
    articles = iter(Store(Path(store_path)).iter_keyed(ids))
    base = rss()
    vocabulary = None  # kept from segment to segment: a word met again is not analysed again
    while True:
        writer = FastWriter.in_worker(ix, report, vocabulary)
        write_articles(writer, until_full(articles, writer, share, base, lambda: report("flushing", 1)), report)
        if not writer.docnum:
            writer.discard()
            return segments
        segments.append(finish_segment(writer))
        vocabulary = writer.kept()
        del writer
        release()  # the next segment's measure starts from what is held


def until_full(articles: Iterator[tuple[int, Article]], writer: FastWriter, share: int, base: int,
               full: Callable[[], None] = lambda: None) -> Iterator[tuple[int, Article]]:
    """Yield articles until the writer's segment would take ``share`` bytes at its peak (then call ``full``).

    The estimate (tokens added × :data:`~archive.budget.BYTES_PER_TOKEN`) is checked
    against what the process measurably holds beyond its start, now and then.
    """
    for count, item in enumerate(articles, 1):
        yield item
        estimate = writer.builder.tokens() * BYTES_PER_TOKEN
        if estimate >= share or (count % 32 == 0 and estimate >= share // 4
                                 and rss() - base + estimate >= share):
            full()
            return


def build_segments(ix: whoosh_index.Index, index_path: Path, store_path: Path, ids: list[str], procs: int,
                   progress: Progress, phases: Phases,
                   beside: Sequence[tuple[Callable[..., Any], tuple[Any, ...]]] = (),
                   budget: Budget | None = None, start: str | None = None, *,
                   sizes: Sequence[int], meanwhile: Callable[[], object] | None = None) -> list[Any]:
    """Index ``ids`` into new segments of a fresh index, in ``procs`` processes, and commit them.

    ``ids`` are cut into one run per process, of about the same total ``sizes`` (each
    article's record bytes, as :meth:`~archive.store.Store.sizes` gives): cut by count,
    one process of two worked on alone for a second at the end.
    Each process flushes a segment whenever its share of ``budget`` is reached
    (``flushing`` counts them); merging them is the caller's. ``beside`` are other
    jobs run in the same pool meanwhile (the copy clusters of a rebuild); their
    results are returned. Progress shows as one bar per phase of ``phases``.
    The workers are forked or spawned (``start``) as the budget finds best
    (:meth:`~archive.budget.Budget.start_method`); ``meanwhile`` runs in this process
    while they work (:func:`~archive.workers.run_jobs`).
    """
    parts = max(1, min(procs, len(ids) // 200 or 1))
    budget, held = budget or Budget.from_env(), rss()
    start = start or budget.start_method(parts + len(beside), held)
    share = budget.segment_bytes(parts, held, start)
    jobs = [(_index_part, (str(index_path), str(store_path), part, share)) for part in _split(ids, parts, sizes)]
    if parts == 1:
        if meanwhile is not None:
            meanwhile()
        with Bars(progress, phases) as bars:
            others = [job(*args, bars) for job, args in beside]
            parts_segments = [job(*args, bars) for job, args in jobs]
    else:
        results = run_jobs([*beside, *jobs], parts + len(beside), phases, progress, start, meanwhile)
        others, parts_segments = results[:len(beside)], results[len(beside):]
    # The new generation's folder is private to this rebuild (the caller holds the
    # archive's write lock), so the segments are committed by writing the TOC directly.
    commit_segments(ix, index_path, [segment for part in parts_segments for segment in part])
    return others


def _split(ids: list[str], parts: int, sizes: Sequence[int]) -> list[list[str]]:
    """Cut ``ids`` into ``parts`` runs in order, of about equal total ``sizes``."""
    if not ids:
        return []
    ends = np.cumsum(np.asarray(sizes, dtype=np.float64))
    targets = ends[-1] * np.arange(1, parts) / parts
    # Each cut goes before or after the article that crosses its target, whichever lands nearer.
    after = np.minimum(np.searchsorted(ends, targets), len(ids) - 1)
    before = np.where(after > 0, ends[np.maximum(after - 1, 0)], 0.0)
    cuts = np.where(ends[after] - targets < targets - before, after + 1, after).tolist()
    bounds = sorted({0, *cuts, len(ids)})
    return [ids[a:b] for a, b in itertools.pairwise(bounds)]
