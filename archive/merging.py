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
whole archive. A segment holding an eighth of the archive or more (and at
least 16,384 blocks: :func:`settled`) is left out of the policy, so that the
few large segments a build flushes at its memory budget are not merged again
at once. Segments whose blocks were all deleted (every article updated
or removed) are dropped at the same time, at no cost.

A merge's memory is bounded by the write's budget (:class:`~archive.budget.Budget`),
not by a count: :meth:`~archive.budget.Budget.merge_limits` says how many segments
one pass reads at once and how many blocks the segment it writes may hold (a
merge holds about a KiB per block written, a frequent word's postings among it).
The segments the policy chooses are merged in consecutive groups within those
limits, pass after pass, so that a budget too small for one merge takes several
(:func:`groups`). A segment holding half the blocks a merge may write or more is
settled too (:func:`settled`), like Lucene's largest merged segment: within the
budget, the policy's bounds hold up to that size; beyond it, the archive is in
segments of at least that half, their count growing with the archive instead
of its memory.

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

from .budget import Budget, MergeLimits
from .indexing import IndexDir
from .integrity import write_manifest
from .store import Store
from .whoosh_internals import SegmentMerger, commit_segments, finish_segment, index_segments
from .workers import Bars, Progress, no_progress

__all__ = ["WIDTH", "SPREAD", "GROUP", "WIDE", "SETTLED", "SETTLED_BLOCKS", "plan", "settled", "pass_width",
           "groups", "live_sizes", "merge_segments", "merge_new"]

#: Segments of similar size merged at once.
WIDTH = 4
#: Sizes are similar when the largest is less than SPREAD times the smallest.
SPREAD = 2
#: Segments merged in one pass at most after an add (each is open and read term by term at once).
GROUP = 16
#: A build's merge may take up to this many at once, so that one pass leaves settled segments.
WIDE = 48
#: A segment holding at least 1/SETTLED of the archive's live blocks, and at least
#: SETTLED_BLOCKS of them, is left as it is (so at most SETTLED such segments exist).
SETTLED = 8
SETTLED_BLOCKS = 16_384


def plan(sizes: Mapping[str, int], keep: Iterable[str] = ()) -> set[str]:
    """Return the segments to merge into one (by id) so that no WIDTH of them have similar sizes, ``keep`` aside."""
    kept = set(keep)
    sizes = {s: n for s, n in sizes.items() if s not in kept}
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


def settled(sizes: Mapping[str, int], cap: int | None = None) -> set[str]:
    """Return the segments large enough to stay as they are: each a SETTLED-th of the archive at least.

    A build under the memory budget flushes a few large segments (six for the corpus
    at the default budget); merging them would cost as much CPU as the build itself
    for no gain in search speed, since statistics are summed across segments. They
    are merged once the archive has grown so that each holds less than 1/SETTLED of it.
    With ``cap``, the blocks a merge may write (:class:`~archive.budget.MergeLimits`),
    a segment of half of it or more is settled too: no similar one could join it.
    """
    total = sum(sizes.values())
    return {s for s, n in sizes.items()
            if (n >= SETTLED_BLOCKS and n * SETTLED >= total) or (cap is not None and 2 * n >= cap)}


def pass_width(count: int) -> int:
    """Return how many of ``count`` segments a pass of a build's merge takes at once.

    GROUP, or more (up to WIDE) so that the pass leaves at most SETTLED - 2 segments,
    each then settled with a margin: every pass reads every posting, and 185 segments
    (32 copies of the corpus) took two passes in groups of GROUP where one in groups of
    31 leaves six. The budget may allow fewer (:class:`~archive.budget.MergeLimits`).
    """
    return min(WIDE, max(GROUP, -(-count // (SETTLED - 2))))


def groups(sizes: list[int], width: int, cap: int) -> list[list[int]]:
    """Cut segments of these sizes (in order) into consecutive groups to merge, by their indexes.

    A group takes at most ``width`` segments and ``cap`` blocks (a segment larger than
    ``cap`` alone); a group of one is left as it is.
    """
    out: list[list[int]] = []
    for k, n in enumerate(sizes):
        if out and len(out[-1]) < width and sum(sizes[i] for i in out[-1]) + n <= cap:
            out[-1].append(k)
        else:
            out.append([k])
    return out


def live_sizes(ix: Any) -> dict[str, int]:
    """Return the live (not deleted) blocks of each segment of an index's latest commit, by id."""
    return {seg.segment_id(): int(seg.doc_count()) for seg in index_segments(ix)}


def merge_segments(index_dir: IndexDir, store: Store | None = None, *, progress: Progress | None = None,
                   timeout: float = 60.0, budget: Budget | None = None, limits: MergeLimits | None = None) -> int:
    """Merge the live index's segments as :func:`plan` says (call with the write lock held); return how many remain.

    The chosen segments are merged within ``limits`` (default: the budget's for this
    process now, :meth:`~archive.budget.Budget.merge_limits`), in as many passes as it
    takes, each merged group a commit.
    """
    folder = Path(index_dir.path) / str(index_dir.current_name())
    limits = limits or (budget or Budget.from_env()).merge_limits()
    ix = index_dir.open()
    try:
        sizes = live_sizes(ix)
        chosen = plan(sizes, settled(sizes, limits.blocks))
        if not chosen:
            return len(sizes)
        segs = [s for s in index_segments(ix) if s.segment_id() in chosen]
        drop = {s.segment_id() for s in segs if not s.doc_count()}  # nothing to read: dropped for free
        live = [s for s in segs if s.doc_count()]
        width = min(GROUP, limits.segments)
        total = _postings_bytes(ix, live) * _passes([int(s.doc_count()) for s in live], width, limits.blocks)
        with Bars(progress or no_progress, {"merging": (total, "B")}) as bars:
            while True:
                cut = [g for g in groups([int(s.doc_count()) for s in live], width, limits.blocks) if len(g) > 1]
                if not cut:
                    break
                for group in [[live[i] for i in g] for g in cut]:  # before live changes
                    merger = SegmentMerger(ix, group, chunk=limits.chunk, tick=lambda n: bars("merging", n),
                                           timeout=timeout, compound=False)
                    try:
                        merger.commit(mergetype=_without(drop | {s.segment_id() for s in group}))
                    except BaseException:
                        if not merger.is_closed:
                            merger.cancel()
                        raise
                    drop = set()
                    at = live.index(group[0])
                    live = [s for s in live[:at] if s not in group] + [merger.newsegment] + \
                        [s for s in live[at:] if s not in group]
        if drop:
            writer = ix.writer(timeout=timeout)
            writer.commit(mergetype=_without(drop))
    finally:
        ix.close()
    write_manifest(folder)
    return len(sizes) - len(chosen) + len(live)


def merge_new(ix: Any, folder: Path, *, progress: Progress | None = None, budget: Budget | None = None,
              everything: bool = False, limits: MergeLimits | None = None) -> int:
    """Merge the segments of a new, private index (a rebuild's) as :func:`plan` says, or all; return how many remain.

    As after any write, :func:`settled` segments are left as they are (unless ``everything``).

    Segments are merged in consecutive groups (:func:`pass_width` at most, and within the
    budget's :class:`~archive.budget.MergeLimits`: :func:`groups`), each one in place of
    its group, so that documents keep the order of a build in one piece; after each pass
    the policy is asked again (segments then settled are merged no further). ``everything``
    merges into as few segments as the budget allows (one unless the archive is larger).
    ``limits`` default to the budget's for this process now.
    """
    limits = limits or (budget or Budget.from_env()).merge_limits()
    segs = index_segments(ix)
    sizes = {s.segment_id(): int(s.doc_count()) for s in segs}
    chosen = set(sizes) if everything else plan(sizes, settled(sizes, limits.blocks))
    picked = [s for s in segs if s.segment_id() in chosen]
    passes = _build_passes(sizes, [s.segment_id() for s in segs], limits, everything)
    with Bars(progress or no_progress, {"merging": (_postings_bytes(ix, picked) * passes, "B")}) as bars:
        while len(picked) > 1:
            cut = groups([int(s.doc_count()) for s in picked], min(pass_width(len(picked)), limits.segments),
                         limits.blocks)
            if all(len(g) == 1 for g in cut):
                break
            merged = []
            for group in [[picked[i] for i in g] for g in cut]:
                if len(group) == 1:
                    merged.append(group[0])
                    continue
                merger = SegmentMerger.unlocked(ix, group, chunk=limits.chunk, tick=lambda n: bars("merging", n))
                new = finish_segment(merger)
                ids = {s.segment_id() for s in group}
                at = next(k for k, s in enumerate(segs) if s.segment_id() in ids)
                segs = [s for s in segs[:at] if s.segment_id() not in ids] + [new] + \
                    [s for s in segs[at:] if s.segment_id() not in ids]
                commit_segments(ix, folder, [], whole=segs)
                merged.append(new)
            if everything:
                picked = merged
            else:
                sizes = {s.segment_id(): int(s.doc_count()) for s in segs}
                chosen = plan(sizes, settled(sizes, limits.blocks))
                picked = [s for s in segs if s.segment_id() in chosen]
    return len(segs)


def _passes(sizes: list[int], width: int, cap: int) -> int:
    """Return how many times merging segments of these sizes into as few as :func:`groups` allows reads each posting."""
    passes = 0
    while True:
        cut = groups(sizes, width, cap)
        if all(len(g) == 1 for g in cut):
            return passes
        sizes, passes = [sum(sizes[i] for i in g) for g in cut], passes + 1


def _build_passes(sizes: Mapping[str, int], order: list[str], limits: MergeLimits, everything: bool = False) -> int:
    """Return how many passes :func:`merge_new` makes over segments of these sizes (in this order)."""
    sizes, passes = dict(sizes), 0

    def chosen() -> list[str]:
        if everything:
            return list(order)
        policy = plan(sizes, settled(sizes, limits.blocks))  # once: a policy's plan of 2,000 segments takes 0.5 s
        return [s for s in order if s in policy]

    picked = chosen()
    while len(picked) > 1:
        cut = groups([sizes[s] for s in picked], min(pass_width(len(picked)), limits.segments), limits.blocks)
        if all(len(g) == 1 for g in cut):
            break
        passes += 1
        for i, g in enumerate(cut):
            group = [picked[k] for k in g]
            if len(group) > 1:
                at = order.index(group[0])
                order = [s for s in order[:at] if s not in group] + [f"m{passes}.{i}"] + \
                    [s for s in order[at:] if s not in group]
                sizes[f"m{passes}.{i}"] = sum(sizes.pop(s) for s in group)
        picked = chosen()
    return passes


def _postings_bytes(ix: Any, segs: list[Any]) -> int:
    """Return the size of segments' postings files (what a merge reads)."""
    return sum(ix.storage.file_length(s.make_filename(".pst")) for s in segs)


def _without(chosen: Iterable[str]) -> Callable[[Any, list[Any]], list[Any]]:
    """Return a Whoosh merge policy that keeps every segment but the chosen ones."""
    drop = set(chosen)

    def policy(writer: Any, segs: list[Any]) -> list[Any]:
        return [s for s in segs if s.segment_id() not in drop]

    return policy
