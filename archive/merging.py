"""Segment merging: a few index segments, however many bulk adds came before.

Importing the 2019 dispatches month by month (``archive add 2019-01.jsonl``,
then ``2019-02.jsonl``…) writes one new index segment per month: the bulk
writer builds each batch as a segment of its own and never merges it into the
others. Every search reads each segment's postings for each of its words, so
twenty months in twenty segments cost a search twenty lookups per word.

After each index commit, :func:`merge_segments` applies a size-tiered
policy: whenever four segments have similar sizes (the largest under twice the
smallest, in live blocks), they are merged into one, together with every
smaller segment; the result may be similar to three larger ones, which then
merge too, in the same pass. Months of ~7,000 blocks each therefore count like
a base-4 counter: after four months one segment of 28,000 blocks, after
sixteen one of 112,000, after twenty (20 = 110 in base 4) two. Merging at
least doubles the segment a block is in, so each block is re-indexed at most
log₂(archive / add) times in all, never once per add; and since no four
segments are within a factor 2, sorted sizes double at least every three
segments: at most three segments per doubling between the smallest add and the
whole archive. Segments whose blocks were all deleted (every article updated
or removed) are dropped at the same time, at no cost.

A merge re-indexes the merged segments' live articles *from the store* (the
source of truth) through the same bulk writer, into one new segment, and
commits a table of contents without the merged ones, through Whoosh's own
``commit(mergetype=…)``: the index stays what stock Whoosh reads, the
generation folder and ``CURRENT`` do not change, readers opened on the
previous commit keep their open files, and the manifest that ``archive
check`` verifies is rewritten after the commit like after any other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from .failpoints import failpoint
from .indexing import FastWriter, IndexDir, write_articles
from .integrity import write_manifest
from .store import Store
from .whoosh_internals import column, deleted, index_segments, segments
from .workers import Bars, Progress, no_progress

__all__ = ["WIDTH", "SPREAD", "plan", "live_sizes", "merge_segments"]

#: Segments of similar size merged at once.
WIDTH = 4
#: Sizes are similar when the largest is less than SPREAD times the smallest.
SPREAD = 2


def plan(sizes: Mapping[str, int]) -> set[str]:
    """Return the segments to merge into one (by id) so that no WIDTH of them have similar sizes."""
    chosen = {s for s, n in sizes.items() if n == 0}  # nothing to re-index: dropped for free
    merged = 0  # live blocks of the segment the chosen ones become
    while True:
        # The segments as they would be after merging the chosen ones ("" is the merged one).
        pool = sorted([(n, s) for s, n in sizes.items() if s not in chosen] + ([(merged, "")] if merged else []))
        first = next((i for i in range(len(pool) - WIDTH + 1)
                      if pool[i + WIDTH - 1][0] < SPREAD * pool[i][0]), None)
        if first is None:
            return chosen
        # Smaller segments ride along: each would otherwise wait to be merged on its own.
        chosen |= {s for _, s in pool[:first + WIDTH] if s}
        merged = sum(sizes[s] for s in chosen)


def live_sizes(ix: Any) -> dict[str, int]:
    """Return the live (not deleted) blocks of each segment of an index's latest commit, by id."""
    return {seg.segment_id(): int(seg.doc_count()) for seg in index_segments(ix)}


def _live_articles(ix: Any, ids: set[str]) -> list[str]:
    """Return the ids of the articles whose live blocks are in the given segments."""
    found: set[str] = set()
    with ix.searcher() as searcher:
        for seg in segments(searcher.reader()):
            if seg.id not in ids:
                continue
            alive = [True] * seg.count
            for docnum in deleted(seg.reader, seg.count).tolist():
                alive[docnum] = False
            # Block 0 of each article: one stored-field read per article, not per block.
            for docnum, n in enumerate(column(seg.reader, "n", seg.count).tolist()):
                if n == 0 and alive[docnum]:
                    found.add(seg.reader.stored_fields(docnum)["article"])
    return sorted(found)


def merge_segments(index_dir: IndexDir, store: Store, *, progress: Progress | None = None,
                   timeout: float = 60.0) -> int:
    """Merge the live index's segments as :func:`plan` says (call with the write lock held); return how many remain."""
    folder = Path(index_dir.path) / str(index_dir.current_name())
    ix = index_dir.open()
    try:
        sizes = live_sizes(ix)
        chosen = plan(sizes)
        if not chosen:
            return len(sizes)
        articles = _live_articles(ix, chosen)
        writer = FastWriter(ix, timeout=timeout, compound=False)
        try:
            with Bars(progress or no_progress, {"merging": (len(articles), " articles")}) as bars:
                write_articles(writer, store.iter_keyed(articles), lambda _phase, n: bars("merging", n))
            failpoint("mid-merge")
        except BaseException:
            writer.cancel()
            raise
        writer.commit(mergetype=_without(chosen))
    finally:
        ix.close()
    write_manifest(folder)
    # The merged segment, unless only empty segments were dropped.
    return len(sizes) - len(chosen) + (1 if any(sizes[s] for s in chosen) else 0)


def _without(chosen: Iterable[str]) -> Callable[[Any, list[Any]], list[Any]]:
    """Return a Whoosh merge policy that keeps every segment but the chosen ones."""
    drop = set(chosen)

    def policy(writer: Any, segs: list[Any]) -> list[Any]:
        return [s for s in segs if s.segment_id() not in drop]

    return policy
