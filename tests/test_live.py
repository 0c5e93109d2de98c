"""Searches in parallel threads: no lock spans a search, refreshes and vocabularies never block one."""

from __future__ import annotations

import gc
import importlib
import os
import threading
import time
import warnings
from pathlib import Path

import pytest

from archive.errors import IndexDamaged
from archive.failpoints import held
from archive.home import Archive
from archive.model import Article
from archive.search import Engine, SearchRequest
from archive.search.results import SearchResults
from archive.search.snapshot import Snapshot

LIVE = importlib.import_module("archive.search.live")

#: Seconds a test waits for a thread that should finish at once (only a failure waits that long).
PATIENCE = 60


def _article(i: int, words: str) -> Article:
    return Article.from_record({"id": f"a{i}", "title": f"Article {i}", "date": f"2020-01-{i + 1:02d}",
                                "paragraphs": [f"Le gouvernement {words}.", "La réforme avance."]})


@pytest.fixture
def small(archive: Archive) -> Archive:
    archive.add_articles([_article(i, w) for i, w in enumerate(
        ["annonce un plan", "présente la réforme", "recule sur la retraite", "consulte les syndicats"])])
    return archive


def _published(engine: Engine) -> Snapshot:
    """Return the snapshot the engine's searches read now (lent and given back through ``Live.reading``)."""
    with engine.live.pinned() as (snap, _):
        return snap


class _Search(threading.Thread):
    """A search in a thread of its own, its results (or error) kept."""

    def __init__(self, engine: Engine, query: str) -> None:
        super().__init__(daemon=True)
        self.engine, self.query = engine, query
        self.results: SearchResults | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.results = self.engine.search(SearchRequest.build(self.query))
        except BaseException as exc:
            self.error = exc

    def done(self) -> SearchResults:
        self.join(PATIENCE)
        assert not self.is_alive() and self.error is None, self.error
        assert self.results is not None
        return self.results


def test_a_search_completes_while_another_is_held_inside_matching(small):
    engine = Engine(small)
    with held("matching") as hold:
        slow = _Search(engine, "réforme")
        slow.start()
        assert hold.reached.wait(PATIENCE)
        # With a lock spanning searches, this one would wait for the held one forever.
        quick = _Search(engine, "syndicats")
        quick.start()
        assert [h.id for h in quick.done().hits] == ["a3"]
        assert slow.is_alive()
        hold.release()
        assert slow.done().total_articles == 4
    engine.close()


def test_a_refresh_during_a_search_keeps_its_snapshot_open_until_it_ends(small):
    engine = Engine(small)
    engine.search(SearchRequest())
    first = _published(engine)
    with held("matching") as hold:
        slow = _Search(engine, "gouvernement")
        slow.start()
        assert hold.reached.wait(PATIENCE)
        small.add_articles([_article(9, "gèle les prix")])
        # The next search refreshes: it sees the new article, on a new snapshot.
        assert engine.search(SearchRequest.build("gouvernement")).total_articles == 5
        assert _published(engine) is not first
        assert not first.closed  # the held search still reads it
        hold.release()
        assert slow.done().total_articles == 4  # what its snapshot held
    assert first.closed
    engine.close()


def test_a_rebuild_during_a_search_leaves_it_reading_the_old_generation(small):
    engine = Engine(small)
    engine.search(SearchRequest())
    first = _published(engine)
    with held("matching") as hold:
        slow = _Search(engine, "retraite")
        slow.start()
        assert hold.reached.wait(PATIENCE)
        small.rebuild()  # a new generation; the old one's folder is deleted
        assert engine.search(SearchRequest.build("retraite")).total_articles == 1
        assert _published(engine).name != first.name
        hold.release()
        assert [h.id for h in slow.done().hits] == ["a2"]  # read from the deleted files, still open
    assert first.closed
    engine.close()


def test_a_low_hit_query_does_not_wait_for_a_vocabulary_being_built(small):
    engine = Engine(small)
    with held("vocabulary-build") as hold:
        warming = threading.Thread(target=engine.warm, daemon=True)
        warming.start()
        assert hold.reached.wait(PATIENCE)
        # The build is held: the query answers (after SUGGESTION_WAIT at most), without a suggestion.
        results = engine.search(SearchRequest.build("gouvernemant"))
        assert results.total_articles == 0 and results.suggestion is None
        hold.release()
        warming.join(PATIENCE)
        assert not warming.is_alive()
    assert engine.search(SearchRequest.build("gouvernemant")).suggestion == "gouvernement"
    engine.close()


def test_after_a_rebuild_the_old_vocabulary_serves_until_the_new_one_is_built(small):
    engine = Engine(small)
    engine.warm()
    small.rebuild()
    with held("vocabulary-build") as hold:
        # This search publishes the new generation and starts its vocabulary, held; the
        # previous generation's answers meanwhile, for suggestions and fuzzy words alike.
        assert engine.search(SearchRequest.build("gouvernemant")).suggestion == "gouvernement"
        assert hold.reached.wait(PATIENCE)
        assert engine.search(SearchRequest.build("gouvernemant~")).total_articles == 4
        hold.release()
    engine.close()


def test_a_large_archive_builds_its_vocabulary_in_a_child_process(small, monkeypatch):
    vocabulary = importlib.import_module("archive.search.vocabulary")

    monkeypatch.setattr(vocabulary, "IN_PROCESS_BLOCKS", 0)
    built = []
    real = vocabulary.build_in_child
    monkeypatch.setattr(vocabulary, "build_in_child", lambda folder: built.append(folder) or real(folder))
    engine = Engine(small)
    engine.warm()
    assert len(built) == 1
    assert engine.search(SearchRequest.build("gouvernemant")).suggestion == "gouvernement"
    engine.close()


def test_a_failed_child_build_is_redone_here(small, monkeypatch):
    vocabulary = importlib.import_module("archive.search.vocabulary")

    monkeypatch.setattr(vocabulary, "IN_PROCESS_BLOCKS", 0)
    monkeypatch.setattr(vocabulary.sys, "executable", "/nonexistent/python")
    engine = Engine(small)
    engine.warm()
    assert engine.search(SearchRequest.build("gouvernemant")).suggestion == "gouvernement"
    engine.close()


def test_closing_the_engine_during_a_search_closes_the_files_after_it(small):
    engine = Engine(small)
    engine.search(SearchRequest())
    snap = _published(engine)
    with held("matching") as hold:
        slow = _Search(engine, "réforme")
        slow.start()
        assert hold.reached.wait(PATIENCE)
        engine.close()
        assert not snap.closed
        hold.release()
        assert slow.done().total_articles == 4
    assert snap.closed


def test_an_engine_dropped_without_closing_closes_its_files(small):
    engine = Engine(small)
    engine.search(SearchRequest.build("réforme"))
    snap = _published(engine)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del engine
        assert snap.closed  # (at once: not left to the garbage collector)
        gc.collect()
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []


def test_searches_in_many_threads_find_what_one_at_a_time_finds(small):
    queries = ["gouvernement", '"la réforme"', "réfor*", "gouvernemant~", "retraite OR syndicats",
               "gouvernement -plan", "titre:article"]
    engine = Engine(small)
    engine.warm()
    alone = {q: engine.search(SearchRequest.build(q)).to_dict() for q in queries}
    searches = [_Search(engine, q) for _ in range(6) for q in queries]
    for s in searches:
        s.start()
    for s in searches:
        assert s.done().to_dict() == alone[s.query]
    engine.close()


def _age(archive: Archive, seconds: float, *, current: bool = True) -> None:
    """Set the modification time of the live generation's folder (and CURRENT's) ``seconds`` ago."""
    index = archive.index_dir
    then = time.time_ns() - int(seconds * 1e9)
    folder = index.path / str(index.current_name())
    for path in (index.current_file, folder) if current else (folder,):
        os.utime(path, ns=(then, then))


def test_a_commit_to_an_index_unchanged_for_a_while_is_seen_by_the_next_search(small):
    engine = Engine(small)
    _age(small, 60)  # found fresh from the two files' times alone from now on (after opening)
    assert engine.search(SearchRequest.build("budget")).total_articles == 0
    assert engine.search(SearchRequest.build("budget")).total_articles == 0
    small.add_articles([_article(9, "vote le budget")])
    _age(small, 30, current=False)  # the next search comes long after the commit
    assert [h.id for h in engine.search(SearchRequest.build("budget")).hits] == ["a9"]
    engine.close()


def test_a_commit_within_the_same_clock_tick_as_the_last_change_is_seen(small):
    engine = Engine(small)
    index = small.index_dir
    folder = index.path / str(index.current_name())
    _age(small, LIVE.SETTLED_NS / 1e9 / 4)  # a change a moment ago: the times prove nothing yet
    before = os.stat(folder).st_mtime_ns
    assert engine.search(SearchRequest.build("budget")).total_articles == 0
    assert engine.search(SearchRequest.build("budget")).total_articles == 0
    small.add_articles([_article(9, "vote le budget")])
    # A file system whose clock had not ticked since would leave the folder's time as it was.
    os.utime(folder, ns=(before, before))
    assert [h.id for h in engine.search(SearchRequest.build("budget")).hits] == ["a9"]
    engine.close()


def test_a_failed_opening_returns_only_once_the_catalog_beside_it_is_read(small):
    index = small.index_dir
    postings = next((index.path / str(index.current_name())).glob("*.pst"))
    data = bytearray(postings.read_bytes())
    data[len(data) // 2] ^= 0xFF
    postings.write_bytes(bytes(data))  # opened, then found damaged by its digest
    engine = Engine(small)
    with held("catalog-load") as hold:
        search = _Search(engine, "réforme")
        search.start()
        assert hold.reached.wait(PATIENCE)
        # The opening fails meanwhile; the search must not return while the catalog is read
        # (the failing one returned at once: a thread of it ran on beside the caller).
        search.join(1.0)
        assert search.is_alive()
    search.join(PATIENCE)
    assert not search.is_alive() and isinstance(search.error, IndexDamaged), search.error
    assert not [t.name for t in threading.enumerate() if t.name.startswith("catalog")]
    engine.close()


def _store_files(archive: Archive) -> list[Path]:
    return [archive.store.path, archive.store.path.with_name(archive.store.path.name + "-wal")]


def _age_store(archive: Archive, seconds: float, *, log_only: bool = False) -> None:
    """Set the modification time of the store's files (or of its write-ahead log) ``seconds`` ago."""
    then = time.time_ns() - int(seconds * 1e9)
    for path in _store_files(archive)[1:] if log_only else _store_files(archive):
        os.utime(path, ns=(then, then))


def test_a_store_write_by_another_process_after_a_while_is_seen_by_the_next_search(small):
    engine = Engine(small)
    _age_store(small, 60)  # the catalog found caught up from the two files' times alone (after opening)
    assert engine.search(SearchRequest()).total_articles == 4
    assert engine.search(SearchRequest()).total_articles == 4
    Archive(small.home).store.put([_article(9, "vote le budget")])  # stored, not indexed yet
    _age_store(small, 30, log_only=True)  # long after the commit, which wrote the log only
    assert engine.search(SearchRequest()).total_articles == 5
    engine.close()
