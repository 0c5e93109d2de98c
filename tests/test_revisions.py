import pytest

from archive.errors import ArticleNotFound
from archive.home import Archive
from archive.model import Article


def art(text: str, article_id: str = "a1") -> Article:
    return Article.from_record({"id": article_id, "title": "Grève à Lille", "paragraphs": [text]})


def test_every_update_keeps_the_version_it_replaces(archive):
    for text in ("La grève continue.", "La grève est levée.", "Les trains repartent."):
        archive.add_articles([art(text)])
    store = archive.store
    assert [(e.revision, e.title, e.source) for e in store.history("a1")] == [
        (1, "Grève à Lille", None), (2, "Grève à Lille", None), (3, "Grève à Lille", None)]
    assert [store.revision("a1", n).paragraphs for n in (1, 2, 3)] == [
        ["La grève continue."], ["La grève est levée."], ["Les trains repartent."]]
    # The live version's text is not stored twice.
    assert store.db.execute("SELECT count(*) FROM revisions WHERE record IS NULL").fetchone()[0] == 1


def test_unchanged_adds_no_revision(archive):
    archive.add_articles([art("Un.")])
    assert archive.add_articles([art("Un.")]) == [("a1", "unchanged")]
    assert len(archive.store.history("a1")) == 1


def test_remove_keeps_history_and_purge_deletes_it(archive):
    archive.add_articles([art("Un."), art("Deux.")])
    archive.add_articles([art("Trois.")])
    archive.remove(["a1"])
    assert "a1" not in archive.store
    assert [archive.store.revision("a1", n).paragraphs for n in (1, 2, 3)] == [["Un."], ["Deux."], ["Trois."]]
    archive.add_articles([art("Quatre.")])  # the id comes back as the next version
    assert [e.revision for e in archive.store.history("a1")] == [1, 2, 3, 4]
    archive.remove(["a1"], purge=True)
    with pytest.raises(ArticleNotFound):
        archive.store.history("a1")
    with pytest.raises(ArticleNotFound):
        archive.remove(["a1"], purge=True)


def test_purge_of_a_removed_article_deletes_its_history(archive):
    archive.add_articles([art("Un.")])
    archive.remove(["a1"])
    assert archive.remove(["a1"], purge=True) == ["a1"]
    assert archive.store.db.execute("SELECT count(*) FROM revisions").fetchone()[0] == 0


def test_unknown_revision_is_not_found(archive):
    archive.add_articles([art("Un.")])
    with pytest.raises(ArticleNotFound, match="a1 revision 2"):
        archive.store.revision("a1", 2)


def test_crash_between_storing_a_revision_and_indexing_loses_neither_version(archive, monkeypatch):
    import archive.home as home_module

    archive.add_articles([art("La grève continue.")])

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("failpoint: killed before the index was written")

    monkeypatch.setattr(home_module, "write_articles", crash)
    with pytest.raises(KeyboardInterrupt):
        archive.add_articles([art("La grève est levée.")])
    monkeypatch.undo()
    reopened = Archive(archive.home)
    assert reopened.store.revision("a1", 1).paragraphs == ["La grève continue."]
    assert reopened.store.get("a1").paragraphs == ["La grève est levée."]
    assert reopened.store.pending() == ["a1"]
    assert reopened.check(repair=True).stale == ["a1"]
    assert reopened.check().ok


def test_a_store_from_before_revisions_gets_revision_one(home):
    arch = Archive(home)
    arch.add_articles([art("Un.")])
    db = arch.store.db
    db.execute("DELETE FROM revisions")
    db.execute("DELETE FROM meta WHERE key = 'revisions'")
    arch.store.close()
    entries = Archive(home).store.history("a1")
    assert [(e.revision, e.title) for e in entries] == [(1, "Grève à Lille")]


def test_processes_opening_a_new_store_at_once_migrate_it_once(tmp_path):
    import multiprocessing

    path = tmp_path / "s.sqlite3"
    procs = [multiprocessing.get_context("spawn").Process(target=_open_store, args=(str(path),))
             for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0, 0]


def _open_store(path: str) -> None:
    from archive.store import Store

    Store(path)
