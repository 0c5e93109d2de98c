"""Merges within the memory budget: as many segments at once, and as large a result, as the budget allows."""

from __future__ import annotations

import contextlib
import math
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import archive.home
from archive.budget import (
    BYTES_PER_POSTING,
    MERGE_PER_BLOCK,
    MERGE_PER_SEGMENT,
    MIN_BUDGET,
    MIN_CHUNK,
    MIN_MERGE_BLOCKS,
    Budget,
    MergeLimits,
    parse_memory,
)
from archive.home import Archive
from archive.integrity import write_manifest
from archive.merging import groups, live_sizes, merge_new, settled
from archive.whoosh_internals import index_segments
from tests.support import answers, corpus_file

QUERIES = ["grève", "réforme des retraites", '"le président"', "hôpital OR vaccin", "police -manifestation",
           "France", "title:coronavirus", "Macron", '"gilets jaunes"']


@pytest.fixture(scope="module")
def homes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The sample corpus imported whole, and under the smallest budget with its flushed segments left unmerged."""
    sample = corpus_file("news-fr-sample.jsonl")
    whole = tmp_path_factory.mktemp("whole")
    Archive(whole).add([str(sample)], procs=1)
    unmerged = tmp_path_factory.mktemp("unmerged") / "home"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(archive.home, "merge_new", lambda *args, **kwargs: 0)
        Archive(unmerged, memory=parse_memory("32M")).add([str(sample)], procs=1)
    return {"whole": whole, "unmerged": unmerged}


@pytest.fixture
def home(homes: dict[str, Path], tmp_path: Path) -> Path:
    """A copy of the unmerged home, to merge."""
    copy = tmp_path / "home"
    shutil.copytree(homes["unmerged"], copy)
    return copy


def sizes_of(home: Path) -> list[int]:
    """Return the live blocks of each segment of a home's index, in the index's order."""
    ix = Archive(home).index_dir.open()
    try:
        return [int(s.doc_count()) for s in index_segments(ix)]
    finally:
        ix.close()


def merge_all(home: Path, **kwargs: object) -> tuple[int, int]:
    """Merge all of a home's segments as a rebuild would; return the segments left and the commits made."""
    index_dir = Archive(home).index_dir
    ix = index_dir.open()
    folder = index_dir.path / str(index_dir.current_name())
    try:
        before = ix.latest_generation()
        left = merge_new(ix, folder, everything=True, **kwargs)  # type: ignore[arg-type]
        commits = ix.latest_generation() - before
    finally:
        ix.close()
    write_manifest(folder)
    return left, commits


def test_the_limits_of_a_merge_fit_in_what_the_budget_leaves_the_process():
    held = 150 << 20
    for total in (256 << 20, 512 << 20, 1 << 30, 4 << 30):
        limits = Budget(total).merge_limits(parent=held)
        cost = limits.segments * MERGE_PER_SEGMENT + limits.blocks * MERGE_PER_BLOCK + limits.chunk * BYTES_PER_POSTING
        assert cost <= total - held
        assert cost > (total - held) * 0.99
    # Twice the budget, twice the segment a merge may write (less what the process holds).
    assert Budget(1 << 30).merge_limits(parent=held).blocks * 2 < Budget(2 << 30).merge_limits(parent=held).blocks
    # A budget the process already fills still merges two segments at a time, into small ones.
    assert Budget(MIN_BUDGET).merge_limits(parent=held) == MergeLimits(segments=2, blocks=MIN_MERGE_BLOCKS,
                                                                       chunk=MIN_CHUNK)


def test_groups_are_consecutive_and_within_both_limits():
    assert groups([5, 5, 5, 5, 5], width=2, cap=100) == [[0, 1], [2, 3], [4]]
    assert groups([5, 5, 5, 5, 5], width=16, cap=12) == [[0, 1], [2, 3], [4]]
    assert groups([3, 9, 4, 4, 30, 1], width=16, cap=12) == [[0, 1], [2, 3], [4], [5]]
    assert groups([], width=2, cap=10) == []
    # Segments of half the cap or more are settled: none similar could join them.
    assert settled({"a": 600, "b": 500, "c": 499}, cap=1000) == {"a", "b"}
    assert settled({"a": 600, "b": 500, "c": 499}) == set()


def test_a_merge_under_the_smallest_budget_takes_pairs_pass_after_pass(homes, home):
    sizes = sizes_of(home)
    count = len(sizes)
    assert count >= 3  # flushed at the smallest budget's floor, again and again
    index_dir = Archive(home).index_dir
    postings_bytes = sum(f.stat().st_size for f in (index_dir.path / str(index_dir.current_name())).glob("*.pst"))
    totals: dict[str, int | None] = {}

    @contextlib.contextmanager
    def progress(phase: str, total: int | None, unit: str) -> Iterator[Callable[[int], None]]:
        totals[phase] = total
        yield lambda n: None

    # The test process holds more than 32 MiB: two segments at a time, every pass.
    left, commits = merge_all(home, budget=Budget(MIN_BUDGET), progress=progress)
    assert (left, commits) == (1, count - 1)
    # Pairs, pass after pass: each pass halves the segments (rounded up) and reads every posting.
    assert totals == {"merging": postings_bytes * math.ceil(math.log2(count))}
    assert sizes_of(home) == [sum(sizes)]
    assert answers(home, QUERIES) == answers(homes["whole"], QUERIES)
    assert Archive(home).check().ok


def test_a_merge_writes_no_segment_larger_than_its_limits_allow(homes, home):
    sizes = sizes_of(home)
    # One block fewer than the whole: the first segments merge into one, the last stays apart.
    left, commits = merge_all(home, limits=MergeLimits(segments=64, blocks=sum(sizes) - 1, chunk=MIN_CHUNK))
    assert (left, commits) == (2, 1)
    assert sizes_of(home) == [sum(sizes[:-1]), sizes[-1]]
    # At most three segments at once: ceil((count - 1) / 2) merges of up to three in the first pass, and so on.
    again = home.parent / "again"
    shutil.copytree(homes["unmerged"], again)
    left, commits = merge_all(again, limits=MergeLimits(segments=3, blocks=sum(sizes), chunk=MIN_CHUNK))
    expected, count = 0, len(sizes)
    while count > 1:
        expected, count = expected + count // 3 + (count % 3 == 2), math.ceil(count / 3)
    assert (left, commits) == (1, expected)
    for merged in (home, again):
        assert answers(merged, QUERIES) == answers(homes["whole"], QUERIES)
        assert Archive(merged).check().ok


def test_four_similar_adds_merge_two_at_a_time_under_the_smallest_budget(tmp_path, monkeypatch):
    # Batches of 15 articles go through the fast writer (one segment each, under any budget's floor).
    monkeypatch.setattr(archive.home, "FAST_BATCH", 10)
    lines = corpus_file("news-fr-sample.jsonl").read_text(encoding="utf-8").splitlines()
    home = tmp_path / "home"
    Archive(home).add([str(corpus_file("news-fr-sample.jsonl"))], procs=1)  # the 200 articles, one segment
    batches = []
    for k in range(4):
        batch = tmp_path / f"batch{k}.jsonl"
        batch.write_text("\n".join(line.replace('"id": "', '"id": "again-', 1) for line in lines[15 * k:15 * k + 15])
                         + "\n", encoding="utf-8")
        batches.append(batch)
    for batch in batches[:3]:
        Archive(home).add([str(batch)], procs=1)
    index_dir = Archive(home).index_dir
    ix = index_dir.open()
    sizes, before = sorted(live_sizes(ix).values()), ix.latest_generation()
    ix.close()
    assert len(sizes) == 4 and sizes[2] < 2 * sizes[0]  # three similar adds beside the first 200 articles
    Archive(home, memory=MIN_BUDGET).add([str(batches[3])], procs=1)
    ix = index_dir.open()
    after = sorted(live_sizes(ix).values())
    commits = ix.latest_generation() - before
    ix.close()
    # The fourth similar add merges with the three; under the smallest budget two at a time:
    # the add's commit, then three merges, each its own commit.
    assert len(after) == 2 and after[1] == sizes[-1]
    assert commits == 1 + 3
    assert Archive(home).check().ok
