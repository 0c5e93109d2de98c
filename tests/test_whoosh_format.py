"""The bulk writer against Whoosh's own writer, and the version fence."""

import pytest
from conftest import corpus_file
from whoosh import index as whoosh_index

from archive.home import Archive
from archive.indexing import FastWriter, IndexDir, write_articles
from archive.ingest import Source, read_articles
from archive.whoosh_format import WHOOSH_VERSION, IncompatibleWhoosh, _check_version


def _postings(ix):
    """Return every term's postings as (docnum, weight, value) lists."""
    out = {}
    with ix.searcher() as s:
        r = s.reader()
        for fieldname, term in r.all_terms():
            ti = r.term_info(fieldname, term)
            stats = (ti.doc_frequency(), round(ti.weight(), 3), ti.min_length(), ti.max_length(),
                     ti.max_weight(), ti.min_id(), ti.max_id())
            m = r.postings(fieldname, term)
            items = [stats]
            while m.is_active():
                items.append((m.id(), m.weight(), m.value()))
                m.next()
            out[(fieldname, term)] = items
    return out


@pytest.mark.corpus
def test_fast_writer_and_whoosh_writer_build_the_same_index(tmp_path):
    path = corpus_file("news-fr-sample.jsonl")
    arch = Archive(tmp_path / "h")
    arch.store.put(list(read_articles(Source(str(path))))[:30])
    items = list(arch.store.iter_keyed())
    dirs = IndexDir(tmp_path / "idx")
    _, slow = dirs.create()
    w = slow.writer()
    write_articles(w, items)
    w.commit()
    _, fast = dirs.create()
    fw = FastWriter(fast)
    for aid, article in items:
        fw.add_article(aid, article)
    fw.commit()
    slow, fast = whoosh_index.open_dir(slow.storage.folder), whoosh_index.open_dir(fast.storage.folder)
    assert _postings(slow) == _postings(fast)
    with slow.searcher() as a, fast.searcher() as b:
        for field in ("text", "exact", "title"):
            assert a.reader().field_length(field) == b.reader().field_length(field)
        assert a.doc_count() == b.doc_count() == sum(len(x.blocks) for _, x in items)


def test_another_whoosh_release_is_refused_with_a_clear_message(monkeypatch):
    import archive.whoosh_format as wf

    monkeypatch.setattr(wf, "version", lambda name: "2.7.4")
    with pytest.raises(IncompatibleWhoosh, match=f"whoosh-reloaded {WHOOSH_VERSION} is required.*2.7.4"):
        _check_version()


def test_an_index_opened_for_reading_keeps_one_file_position_per_thread(seeded):
    import threading

    from archive.whoosh_format import open_for_reading

    folder = seeded.index_dir.path / seeded.index_dir.current_name()
    ix = open_for_reading(folder)
    name = max(ix.storage.list(), key=lambda n: (folder / n).stat().st_size)
    data = (folder / name).read_bytes()
    f = ix.storage.open_file(name)
    f.seek(10)
    other: list[bytes] = []
    # Another thread seeks and reads in between: with one shared position it would move ours.
    thread = threading.Thread(target=lambda: (f.seek(3), other.append(f.read(4))))
    thread.start()
    thread.join()
    assert f.read(4) == data[10:14] and f.tell() == 14
    assert other == [data[3:7]]
    assert f.get(5, 3) == data[5:8] and f.tell() == 14  # get() moves no position
    f.seek(-2, 2)
    assert f.read() == data[-2:]
    f.close()
    ix.close()
