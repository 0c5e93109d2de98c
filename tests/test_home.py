"""The home: adds that fail file by file, and what the next writer cleans."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from archive.home import Archive
from archive.model import Article
from archive.search import search
from archive.store import PAGE_BYTES


def write(folder: Path, name: str, data: bytes) -> str:
    path = folder / name
    path.write_bytes(data)
    return str(path)


def test_a_surrogate_file_between_two_good_ones_leaves_both_searchable(archive, tmp_path):
    paths = [write(tmp_path, "a.json", b'{"id": "a", "title": "A", "paragraphs": ["Lyon gagne."]}'),
             write(tmp_path, "b.json", b'{"id": "b", "title": "B \\ud800", "paragraphs": ["Paris."]}'),
             write(tmp_path, "c.json", b'{"id": "c", "title": "C", "paragraphs": ["Nice gagne."]}')]
    report = archive.add(paths)
    assert report.counts() == {"added": 2, "updated": 0, "unchanged": 0, "failed": 1}
    assert [f.source for f in report.failures] == [paths[1]]
    assert archive.store.pending() == []
    assert [h.id for h in search(archive, "gagne", sort="date").hits] == ["a", "c"]
    assert archive.check().ok


def test_an_unexpected_error_in_one_file_does_not_abandon_the_others(archive, tmp_path, monkeypatch):
    import archive.home as home_module

    real = home_module.read_incoming

    def flaky(source, *args, **kwargs):
        if source.path.endswith("b.json"):
            raise ValueError("boom")
        return real(source, *args, **kwargs)

    monkeypatch.setattr(home_module, "read_incoming", flaky)
    paths = [write(tmp_path, f"{n}.json", b'{"id": "%s", "title": "T", "paragraphs": ["Lyon."]}' % n.encode())
             for n in "abc"]
    report = archive.add(paths)
    assert [(f.source, f.reason) for f in report.failures] == [(paths[1], "could not be read (ValueError: boom)")]
    assert search(archive, "Lyon").total_articles == 2


def test_the_next_writer_removes_abandoned_build_folders(seeded):
    index = seeded.index_dir.path
    live = seeded.index_dir.current_name()
    abandoned = index / "g1-999999"  # as a rebuild killed before publishing leaves it
    abandoned.mkdir()
    (abandoned / "MAIN_x.pst").write_bytes(b"\0" * 1024)
    with seeded.writing():
        pass
    assert sorted(p.name for p in index.iterdir()) == ["CURRENT", live]


def test_commits_inside_checkpoint_later_leave_their_log_to_the_checkpoint(archive):
    store = archive.store
    store.db.execute("PRAGMA wal_autocheckpoint = 1")  # outside, each commit copies its log at once

    def size() -> int:
        return store.path.stat().st_size

    def grève(i: int) -> Article:
        return Article.from_record({"id": f"a{i}", "title": "Grève", "paragraphs": [f"La grève {i} dure."]})

    store.put([grève(0)])
    before = size()
    with store.checkpoint_later():
        store.put([grève(i) for i in range(1, 200)])
        assert size() == before  # committed, in the log only
        store.checkpoint()
        assert size() > before
        after = size()
        with store.checkpoint_later():  # another inside: leaving it, the outer one still defers
            pass
        store.put([grève(i) for i in range(200, 400)])
        assert size() == after
    assert size() > after  # leaving copies the rest
    assert store.db.execute("PRAGMA wal_autocheckpoint").fetchone() == (1,)
    assert len(store) == 400


def test_a_new_store_has_large_pages_and_an_older_one_keeps_its_own(tmp_path):
    older = tmp_path / "older"
    older.mkdir()
    db = sqlite3.connect(older / "archive.sqlite3")
    db.execute("PRAGMA page_size = 4096")
    db.execute("CREATE TABLE t (x)")  # the first table fixes the page size
    db.close()
    article = Article.from_record({"id": "a", "title": "Grève", "paragraphs": ["La grève dure."]})
    for home, pages in ((tmp_path / "new", PAGE_BYTES), (older, 4096)):
        store = Archive(home).store
        store.put([article])
        assert store.db.execute("PRAGMA page_size").fetchone() == (pages,)
        assert store.get("a") == article
