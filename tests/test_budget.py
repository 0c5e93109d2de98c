"""The memory budget of writes: segments flushed at the budget, merged, and an index that answers as one built whole."""

from __future__ import annotations

import contextlib
import gc
import shutil
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import archive.home
import archive.indexing
from archive.budget import ESTIMATE_SHARE, FRESH_WORKER, MIN_SEGMENT, TRACKER, Budget, collector_paused, parse_memory
from archive.cli import cli
from archive.home import Archive
from archive.integrity import write_manifest
from archive.merging import merge_new
from archive.whoosh_internals import FastWriter, SegmentMerger, segment_count
from tests.support import answers, corpus_file

QUERIES = ["grève", "réforme des retraites", '"le président"', "hôpital OR vaccin", "police -manifestation",
           "climat", "France", "title:coronavirus", "tag:politique", "Macron", '"gilets jaunes"', "économie"]


def postings(home: Path) -> dict[str, object]:
    """Return every field's terms with their statistics, the field lengths and the stored fields, by document."""
    ix = Archive(home).index_dir.open()
    try:
        with ix.searcher() as searcher:
            reader = searcher.reader()
            terms = {(field, text): (reader.doc_frequency(field, text), reader.frequency(field, text))
                     for field, text in reader.all_terms()}
            lengths = {name: reader.field_length(name) for name in ix.schema.names()}
            stored = sorted(tuple(sorted(fields.items())) for fields in reader.all_stored_fields())
            return {"terms": terms, "lengths": lengths, "stored": stored, "docs": reader.doc_count()}
    finally:
        ix.close()


Progress = Callable[[str, "int | None", str], contextlib.AbstractContextManager[Callable[[int], None]]]


def counting() -> tuple[Counter[str], Progress]:
    """Return a counter of each phase's progress and the progress factory that fills it."""
    seen: Counter[str] = Counter()

    @contextlib.contextmanager
    def progress(phase: str, total: int | None, unit: str) -> Iterator[Callable[[int], None]]:
        seen[phase] += 0
        yield lambda n: seen.update({phase: n})

    return seen, progress


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path | Counter[str]]:
    """The sample corpus imported twice: under the default budget, and under the smallest one."""
    sample = corpus_file("news-fr-sample.jsonl")
    whole = tmp_path_factory.mktemp("whole")
    Archive(whole).add([str(sample)], procs=1)
    small = tmp_path_factory.mktemp("small")
    seen, progress = counting()
    # One process: its segments are flushed at equal estimates, so that they are similar and merge.
    Archive(small, memory=parse_memory("32M")).add([str(sample)], progress=progress, procs=1)
    return {"whole": whole, "small": small, "seen": seen}


def merged(home: Path) -> tuple[int, Counter[str]]:
    """Merge every segment of a home's index into one; return how many there were, and the progress seen."""
    seen, progress = counting()
    index_dir = Archive(home).index_dir
    ix = index_dir.open()
    try:
        before = segment_count(ix)
        folder = index_dir.path / str(index_dir.current_name())
        assert merge_new(ix, folder, progress=progress, everything=True) == 1
    finally:
        ix.close()
    write_manifest(folder)  # as a rebuild does once merged
    return before, seen


def test_a_small_budget_flushes_several_segments(built):
    assert built["seen"]["flushing"] >= 3  # flushed at the 4 MiB floor, again and again
    ix = Archive(built["whole"]).index_dir.open()
    assert segment_count(ix) == 1
    ix.close()


def test_the_index_under_a_small_budget_answers_as_one_segment_built_whole(built):
    assert postings(built["small"]) == postings(built["whole"])
    assert answers(built["small"], QUERIES) == answers(built["whole"], QUERIES)


def test_several_segments_score_as_one_and_merge_into_what_one_built_whole_holds(built, tmp_path, monkeypatch):
    # BM25's statistics (document frequencies, field lengths) are summed over segments.
    monkeypatch.setattr(archive.home, "merge_new", lambda *args, **kwargs: 1)
    home = tmp_path / "unmerged"
    Archive(home, memory=parse_memory("32M")).add([str(corpus_file("news-fr-sample.jsonl"))], procs=1)
    ix = Archive(home).index_dir.open()
    assert segment_count(ix) >= 3
    ix.close()
    assert answers(home, QUERIES) == answers(built["whole"], QUERIES)
    # Merged term by term into one, they hold what one segment built whole holds.
    before, seen = merged(home)
    assert before >= 3
    assert seen["merging"] > 0
    assert postings(home) == postings(built["whole"])
    assert answers(home, QUERIES) == answers(built["whole"], QUERIES)
    assert Archive(home).check().ok


def test_a_live_merge_under_a_small_budget_keeps_every_article(built, tmp_path):
    # A rebuild under the smallest budget, then the article updated: the index agrees with the store.
    home = tmp_path / "home"
    arch = Archive(home, memory=parse_memory("32M"))
    arch.add([str(corpus_file("news-fr-sample.jsonl"))], procs=2)
    arch.rebuild(procs=2)
    assert arch.check().ok
    assert answers(home, QUERIES) == answers(built["whole"], QUERIES)


def test_a_large_add_to_an_archive_flushes_segments_at_the_budget(built, tmp_path, monkeypatch):
    monkeypatch.setattr(archive.home, "FAST_BATCH", 50)
    sample = corpus_file("news-fr-sample.jsonl")
    first = tmp_path / "first.jsonl"
    first.write_text(sample.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    home = tmp_path / "home"
    Archive(home).add([str(first)], procs=1)  # an index exists: the next add goes into it
    seen, progress = counting()
    report = Archive(home, memory=parse_memory("32M")).add([str(sample)], progress=progress, procs=1)
    assert report.counts()["added"] == 199
    assert seen["flushing"] >= 2
    assert Archive(home).check().ok
    assert postings(home) == postings(built["whole"])


@pytest.mark.parametrize(("text", "size"), [("1GiB", 1 << 30), ("512M", 512 << 20), ("800MB", 800_000_000),
                                            ("1.5g", 3 << 29), ("64 MiB", 64 << 20), ("2147483648", 1 << 31)])
def test_memory_sizes_are_read_in_the_usual_units(text, size):
    assert parse_memory(text) == size


@pytest.mark.parametrize("text", ["", "lots", "1 GiB extra", "-1G", "12Q", "1M", "0"])
def test_a_bad_memory_size_is_refused(text):
    with pytest.raises(ValueError):
        parse_memory(text)


def test_the_shares_of_a_budget_leave_the_parent_what_it_holds():
    budget = Budget(1 << 30)
    # Two workers forked from a 100 MB parent: three processes of 100 MB, the rest split in two.
    assert budget.segment_bytes(2, parent=100 << 20) == int(((1 << 30) - 3 * (100 << 20)) * ESTIMATE_SHARE) // 2
    assert budget.segment_bytes(1, parent=100 << 20) == int(((1 << 30) - (100 << 20)) * ESTIMATE_SHARE)
    assert Budget(32 << 20).segment_bytes(2, parent=100 << 20) == MIN_SEGMENT


def test_workers_start_afresh_when_the_parent_outweighs_a_fresh_process():
    budget = Budget(1 << 30)
    assert Budget.start_method(2, parent=100 << 20) == "fork"
    assert Budget.start_method(1, parent=900 << 20) == "fork"  # one process: no worker at all
    # After storing half a million articles the parent held ~450 MB: three forked copies
    # would take more than the budget, two fresh workers take 2 × FRESH_WORKER.
    assert Budget.start_method(2, parent=450 << 20) == "spawn"
    # A spawned pool's resource tracker counts too.
    assert budget.segment_bytes(2, parent=450 << 20) == int(
        ((1 << 30) - (450 << 20) - 2 * FRESH_WORKER - TRACKER) * ESTIMATE_SHARE) // 2
    assert budget.segment_bytes(2, parent=450 << 20, start="fork") == MIN_SEGMENT


def test_workers_started_afresh_build_what_one_process_builds(tmp_path, monkeypatch):
    # 450 articles: enough for two workers (200 articles each at the least).
    lines = corpus_file("news-fr.jsonl").read_text(encoding="utf-8").splitlines()[:450]
    articles = tmp_path / "450.jsonl"
    articles.write_text("\n".join(lines) + "\n", encoding="utf-8")
    Archive(tmp_path / "one").add([str(articles)], procs=1)
    started: list[str] = []
    real_run_jobs = archive.indexing.run_jobs

    def run_jobs(*args: object, **kwargs: object) -> object:
        started.append(str(args[4]))
        return real_run_jobs(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(archive.indexing, "run_jobs", run_jobs)
    monkeypatch.setattr(Budget, "start_method", staticmethod(lambda procs, parent=None: "spawn"))
    Archive(tmp_path / "two").add([str(articles)], procs=2)
    assert started == ["spawn"]
    assert postings(tmp_path / "two") == postings(tmp_path / "one")
    assert answers(tmp_path / "two", QUERIES) == answers(tmp_path / "one", QUERIES)


@pytest.mark.parametrize("command", [["add", "--memory", "lots", "x.jsonl"], ["rebuild", "--memory", "1M"],
                                     ["check", "--repair", "--memory", "-5G"]])
def test_a_bad_memory_option_is_one_line_and_exit_2(runner, tmp_path, command):
    home = tmp_path / "home"
    result = runner.invoke(cli, ["--home", str(home), *command])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and result.output.startswith("error: --memory: ")
    assert not home.exists()


def test_a_bad_archive_memory_is_one_line_and_exit_2(runner, tmp_path, monkeypatch):
    monkeypatch.setenv("ARCHIVE_MEMORY", "much")
    result = runner.invoke(cli, ["--home", str(tmp_path / "home"), "rebuild"])
    assert result.exit_code == 2
    assert result.output == "error: ARCHIVE_MEMORY: 'much' is not a memory size (say 1GiB, 512M or 800MB)\n"


def test_collector_paused_resumes_when_the_last_pause_ends() -> None:
    """Nested pauses keep the collector paused until the outermost ends; a collector off before stays off."""
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_collector_paused_across_threads() -> None:
    """Two threads' overlapping writes: the first to end does not resume the collector under the second."""
    entered, leave = threading.Event(), threading.Event()
    seen: list[bool] = []

    def other() -> None:
        with collector_paused():
            entered.set()
            leave.wait()
            seen.append(gc.isenabled())

    thread = threading.Thread(target=other, daemon=True)
    try:
        with collector_paused():
            thread.start()
            assert entered.wait(10)
        assert not gc.isenabled()  # the other thread still writes
    finally:
        leave.set()
        thread.join(10)
    assert seen == [False]
    assert gc.isenabled()


def test_a_write_pauses_the_collector(archive: Archive) -> None:
    """The archive's writes (adds, rebuilds, merges) run with the collector paused, and resume it."""
    with archive.writing():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), archive.writing():
        raise RuntimeError("a failed write")
    assert gc.isenabled()


def test_a_write_in_many_segments_leaves_no_writer_in_a_reference_cycle(built, tmp_path):
    """The collector is paused during a write: a segment's writer must be freed by its reference count.

    (Whoosh's writers used to end in a reference cycle, each holding its segment's
    buffers until a collection the pause never ran: a build worker grew by 4 MB a segment.)
    """
    home = shutil.copytree(built["small"], tmp_path / "small")  # (the module's homes stay as built)
    with collector_paused():
        Archive(home, memory=parse_memory("32M")).rebuild(procs=1)  # several segments, then merges
        gc.set_debug(gc.DEBUG_SAVEALL)  # what is only in cycles goes to gc.garbage
        try:
            gc.collect()
            writers = [o for o in gc.garbage if issubclass(type(o), (FastWriter, SegmentMerger))]  # (type(): proxies)
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
    assert writers == []
