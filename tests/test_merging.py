"""Segment merging: bulk adds leave few segments, the same results as a rebuild, and a sound index."""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import archive.home
from archive.home import Archive
from archive.merging import GROUP, SPREAD, WIDE, WIDTH, live_sizes, pass_width, plan, settled
from archive.search import Engine, SearchRequest, search

WORDS = ("grève cheminots gouvernement réforme retraites manifestation syndicats ministre Lyon Marseille "
         "Paris hôpital vaccin élection maire budget école climat tempête récolte").split()
QUERIES = ["grève", "réforme retraites", '"grève cheminots"', "hôpital OR vaccin", "maire -budget", "climat"]


def simulate(adds: list[int]) -> list[int]:
    """Return the segment sizes after each add of ``adds`` blocks, merged as :func:`plan` says."""
    sizes: dict[str, int] = {}
    for n, blocks in enumerate(adds):
        sizes[f"s{n}"] = blocks
        chosen = plan(sizes)
        merged = sum(sizes.pop(s) for s in chosen)
        if merged:
            sizes[f"m{n}"] = merged
    return sorted(sizes.values())


def base4_digit_sum(n: int) -> int:
    total = 0
    while n:
        n, digit = divmod(n, WIDTH)
        total += digit
    return total


@pytest.mark.parametrize("adds", [1, 3, 4, 5, 15, 16, 20, 21, 63, 64, 100])
def test_equal_adds_count_in_base_four(adds):
    # Four similar segments merge into one four times larger: a base-4 counter.
    assert len(simulate([1000] * adds)) == base4_digit_sum(adds)


def test_similar_but_unequal_adds_still_merge():
    # 54 and 84 blocks sit on either side of a power of 4; similar sizes merge anyway.
    assert simulate([54, 71, 64, 84]) == [273]
    assert simulate([100, 100, 100, 199]) == [499]
    assert simulate([100, 100, 100, 200]) == [100, 100, 100, 200]  # 200 is not under twice 100


def test_smaller_segments_ride_along_and_empty_ones_are_dropped():
    assert plan({"big": 9000, "a": 1000, "b": 1100, "c": 1200, "d": 1300, "tiny": 5, "gone": 0}) == {
        "a", "b", "c", "d", "tiny", "gone"}
    assert plan({"big": 9000, "gone": 0}) == {"gone"}
    assert plan({"big": 9000, "a": 10}) == set()


def test_large_segments_are_settled_until_the_archive_outgrows_them():
    # A build under the memory budget flushes a few large segments: left as they are.
    sizes = {"a": 24_000, "b": 24_000, "c": 23_000, "d": 24_000, "e": 24_000, "f": 5_000}
    assert settled(sizes) == {"a", "b", "c", "d", "e"}
    assert plan(sizes, settled(sizes)) == set()
    # Small segments beside them still merge as the tiered policy says.
    sizes |= {"s1": 100, "s2": 110, "s3": 120, "s4": 130}
    assert plan(sizes, settled(sizes)) == {"s1", "s2", "s3", "s4"}
    # Once each holds less than an eighth of the archive, they merge again (the smaller ones along).
    grown = {**sizes, "big": 1_000_000}
    assert settled(grown) == {"big"}
    assert plan(grown, settled(grown)) == set(sizes) - {"e"}
    # Small segments are never settled, however few.
    assert settled({"x": 16_383, "y": 10}) == set()


def test_a_large_build_is_merged_in_one_pass_into_settled_segments():
    # 32 copies of the corpus flush ~185 similar segments: in groups of GROUP, two passes
    # (each reading every posting); in groups of 31, one pass leaves six, each settled.
    assert pass_width(185) == 31
    assert pass_width(23) == GROUP
    assert pass_width(1_000) == WIDE
    sizes = [24_000 + (i * 37) % 4_000 for i in range(185)]
    merged = {str(i): sum(sizes[i:i + 31]) for i in range(0, 185, 31)}
    assert len(merged) == 6
    assert settled(merged) == set(merged)
    assert plan(merged, settled(merged)) == set()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=50_000), min_size=1, max_size=60))
def test_no_four_similar_segments_remain_and_the_count_is_bounded(adds):
    sizes = simulate(adds)
    assert sum(sizes) == sum(adds)
    for i in range(len(sizes) - WIDTH + 1):
        assert sizes[i + WIDTH - 1] >= SPREAD * sizes[i]
    # Sorted sizes double at least every WIDTH - 1 segments.
    assert len(sizes) <= (WIDTH - 1) * (math.floor(math.log2(sizes[-1] / sizes[0])) + 1)


def article(batch: int, i: int, version: str = "") -> dict[str, object]:
    """Return an article of exactly four paragraphs (four blocks), its words varying with its number."""
    k = batch * 31 + i
    paragraphs = [" ".join(WORDS[(k * (p + 3) + j * (p + 1)) % len(WORDS)] for j in range(6 + p)) + "."
                  for p in range(4)]
    if version:
        paragraphs[0] = f"{version} {paragraphs[0]}"
    return {"id": f"m{batch}-{i}", "title": f"{WORDS[k % len(WORDS)]} {batch} {i}",
            "date": f"20{10 + k % 10}-0{1 + k % 9}-1{k % 10}", "paragraphs": paragraphs}


def bulk_adds(home: Path, folder: Path, batches: int, per_batch: int = 16, start: int = 0) -> list[int]:
    """Add ``batches`` files of ``per_batch`` articles (batches numbered from ``start``); return segment counts."""
    counts = []
    for b in range(start, start + batches):
        path = folder / f"batch{b}.jsonl"
        path.write_text("".join(json.dumps(article(b, i)) + "\n" for i in range(per_batch)), encoding="utf-8")
        arch = Archive(home)
        assert arch.add([str(path)], procs=1).counts()["added"] == per_batch
        ix = arch.index_dir.open()
        counts.append(len(live_sizes(ix)))
        ix.close()
    return counts


def results(home: Path) -> list[tuple[int, list[tuple[str, float]]]]:
    out = []
    for query in QUERIES:
        found = search(home, query, per_page=100, show_copies=True)
        out.append((found.total_articles, [(h.id, round(h.score, 5)) for h in found.hits]))
    return out


@pytest.fixture
def bulk(monkeypatch):
    """Send every add through the bulk writer, as large adds go."""
    monkeypatch.setattr(archive.home, "FAST_BATCH", 1)


def test_twenty_bulk_adds_leave_two_segments_that_search_as_a_rebuild(bulk, tmp_path):
    home = tmp_path / "home"
    counts = bulk_adds(home, tmp_path, 20)
    # 64 blocks per add (16 articles of 4 blocks): the segment count is the base-4 digit sum.
    assert counts == [base4_digit_sum(n) for n in range(1, 21)]
    assert counts[-1] == 2
    assert Archive(home).check().ok
    merged = results(home)
    rebuilt = tmp_path / "rebuilt"
    shutil.copytree(home, rebuilt)
    Archive(rebuilt).rebuild(procs=1)
    ix = Archive(rebuilt).index_dir.open()
    assert len(live_sizes(ix)) == 1
    ix.close()
    assert results(rebuilt) == merged
    assert all(total > 0 for total, _ in merged)


def test_merges_drop_updated_articles_old_blocks_and_keep_the_new(bulk, tmp_path):
    home = tmp_path / "home"
    bulk_adds(home, tmp_path, 3)
    update = tmp_path / "update.jsonl"
    update.write_text("".join(json.dumps(article(0, i, "ornithorynque")) + "\n" for i in range(16)), encoding="utf-8")
    Archive(home).add([str(update)], procs=1)
    # The first segment lost all its live blocks to the update: it is dropped, not kept empty.
    ix = Archive(home).index_dir.open()
    assert sorted(live_sizes(ix).values()) == [64, 64, 64]
    ix.close()
    assert search(home, "ornithorynque").total_articles == 16
    assert Archive(home).check().ok


def test_an_engine_open_across_a_merge_answers_like_a_fresh_one(bulk, tmp_path):
    home = tmp_path / "home"
    assert bulk_adds(home, tmp_path, 3) == [1, 2, 3]
    engine = Engine(home)
    request = SearchRequest.build("grève OR climat", per_page=100, show_copies=True)
    before = engine.search(request)
    assert bulk_adds(home, tmp_path, 1, start=3) == [1]  # the fourth add merges all four
    other = Engine(home)
    after, fresh = engine.search(request), other.search(request)
    assert after.total_articles == fresh.total_articles > before.total_articles
    assert [(h.id, h.score) for h in after.hits] == [(h.id, h.score) for h in fresh.hits]
    engine.close()
    other.close()


def test_stock_whoosh_reads_the_merged_index(bulk, tmp_path):
    from whoosh import index as whoosh_index
    from whoosh.qparser import QueryParser

    home = tmp_path / "home"
    bulk_adds(home, tmp_path, 4)
    arch = Archive(home)
    ix = whoosh_index.open_dir(str(arch.index_dir.path / str(arch.index_dir.current_name())))
    with ix.searcher() as searcher:
        assert searcher.doc_count() == 4 * 64
        query = QueryParser("article", ix.schema).parse("m3-5")
        assert [hit["article"] for hit in searcher.search(query, limit=None)] == ["m3-5"] * 4
    ix.close()


def test_killed_while_merging_keeps_the_committed_add(bulk, tmp_path):
    home = tmp_path / "home"
    folder = tmp_path / "files"
    folder.mkdir()
    env = dict(os.environ, ARCHIVE_FAILPOINT="mid-merge")
    code = ("import sys, archive.home as h; h.FAST_BATCH = 1; from archive.cli import main; "
            "sys.argv = ['archive', *sys.argv[1:]]; main()")
    for b in range(4):
        path = folder / f"batch{b}.jsonl"
        path.write_text("".join(json.dumps(article(b, i)) + "\n" for i in range(16)), encoding="utf-8")
        proc = subprocess.run([sys.executable, "-c", code, "--home", str(home), "add", "--procs", "1", str(path)],
                              env=env, capture_output=True, text=True, timeout=120)
        # The fourth add fills a tier: its merge is where the process dies.
        assert proc.returncode == (-signal.SIGKILL if b == 3 else 0), proc.stderr
    arch = Archive(home)
    assert arch.store.pending() == []
    assert search(home, "", per_page=100).total_articles == 64
    # The index agrees with the store; the dead merge left files no commit names: leftovers
    # (as after any killed writer) that the next commit removes, not damage.
    report = arch.check()
    assert (report.missing, report.extra, report.stale, report.damage) == ([], [], [], [])
    assert report.ok
    # The next write merges what the killed one could not.
    assert bulk_adds(home, tmp_path, 1, start=4) == [2]
    assert Archive(home).check().ok


def test_a_searcher_refreshed_from_a_table_of_contents_a_merge_replaced_reads_the_newer_one(bulk, tmp_path):
    from archive import whoosh_internals as wf

    home = tmp_path / "home"
    bulk_adds(home, tmp_path, 2)
    arch = Archive(home)
    ix = arch.index_dir.open()
    old = ix.searcher()
    bulk_adds(home, tmp_path, 1, start=2)
    stale = wf.read_toc(ix)  # the third add's commit, read just before the fourth add merges it away
    bulk_adds(home, tmp_path, 1, start=3)
    reads = [stale]
    fresh = wf.fresh_searcher(ix, old, lambda ix: reads.pop() if reads else wf.read_toc(ix))
    assert fresh.doc_count() == 4 * 64
    assert [s.id for s in wf.segments(fresh.reader())] == list(live_sizes(ix))
    # The old searcher's readers stay open for its searches: the caller closes those left over.
    kept = {id(r) for r in wf.segment_readers(fresh)}
    for reader in wf.segment_readers(old):
        if id(reader) not in kept:
            reader.close()
    fresh.close()
    ix.close()


def test_files_a_merge_deletes_during_verification_are_not_damage(bulk, tmp_path, monkeypatch):
    from archive import integrity

    home = tmp_path / "home"
    bulk_adds(home, tmp_path, 3)
    folder = Archive(home).index_dir.path / str(Archive(home).index_dir.current_name())
    # What a verification that started before the fourth add's merge had read: the
    # manifest and the newest table of contents of the third add.
    manifest, toc = integrity.read_manifest(folder), integrity.newest_toc(folder)
    bulk_adds(home, tmp_path, 1, start=3)
    real_load, real_toc = integrity.read_manifest, integrity.newest_toc

    def stale_view(loads: int, tocs: int) -> None:
        loaded, listed = [manifest] * loads, [toc] * tocs
        monkeypatch.setattr(integrity, "read_manifest", lambda f: loaded.pop() if loaded else real_load(f))
        monkeypatch.setattr(integrity, "newest_toc", lambda f: listed.pop() if listed else real_toc(f))

    # Read in that stale view, the merged segments' files are missing...
    stale_view(1, 1)
    assert "missing" in {p.kind for p in integrity.verify_files_once(folder, True)}
    # ...but the table of contents moved on meanwhile: verified again, nothing is wrong.
    stale_view(1, 2)  # before the pass and within it
    assert integrity.verify_files(folder) == []
