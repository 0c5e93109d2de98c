"""The bulk writer against Whoosh's own writer, and the version fence."""

from pathlib import Path

import pytest
from whoosh import index as whoosh_index

import archive.whoosh_internals as wf
from archive.home import Archive
from archive.indexing import FastWriter, IndexDir, write_articles
from archive.ingest import Source, read_articles
from archive.model import Article, Block
from archive.whoosh_internals import WHOOSH_VERSION, IncompatibleWhoosh, check_version
from tests.support import corpus_file

#: Articles that take every path of the bulk writer: no title of its own (derived from
#: the first sentence), several authors and tags, no source, an acronym (the tokenizer's
#: slow path), accents and capitals in the title only, a block without any word, a
#: word repeated past one posting block (128), an apostrophe of every kind.
EDGE_ARTICLES = [
    Article(id="edge-derived", title="La grève continue",
            blocks=(Block("La grève continue. Les cheminots votent."), Block("Deuxième bloc, l’O.N.U. parle."))),
    Article(id="edge-meta", title="Côte d’Ivoire : ÉLECTIONS", source=None,
            authors=("Marie Dupont", "AFP"), tags=("Afrique", "élections", "Côte d'Ivoire"),
            blocks=(Block("Intertitre", heading=True), Block("— … —"), Block("tralala " * 300),
                    Block("aujourd'hui aujourd’hui aujourdʼhui R&D n° 3"))),
    Article(id="edge-one", title="Un", source="Le Monde", blocks=(Block("le la les"),)),
]


def _postings(ix):
    """Return every term's statistics and postings as (docnum, weight, value) lists."""
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


def _documents(ix):
    """Return every document's stored fields, columns and field lengths."""
    with ix.searcher() as s:
        r = s.reader()
        fields = [f for f in ix.schema.names() if ix.schema[f].scorable]
        aid, n = r.column_reader("aid"), r.column_reader("n")
        docs = [(r.stored_fields(d), aid[d], n[d], [r.doc_field_length(d, f) for f in fields])
                for d in range(r.doc_count_all())]
        return docs, [r.field_length(f) for f in fields]


def _files(ix, last: bool = False) -> dict[str, bytes]:
    """Return the segment's (or the last segment's) files by extension (the segment id left out)."""
    segments = wf.index_segments(ix)
    segment = segments[-1] if last else segments[0]
    assert last or len(segments) == 1
    folder = Path(ix.storage.folder)
    return {p.name.split(".", 1)[1]: p.read_bytes() for p in folder.iterdir()
            if p.name.startswith(segment.segment_id() + ".")}


def _both(tmp_path, items):
    """Index ``items`` with Whoosh's own writer and with the fast writer; return both indexes."""
    dirs = IndexDir(tmp_path / "idx")
    _, slow = dirs.create()
    w = slow.writer(compound=False)
    write_articles(w, items)
    w.commit()
    _, fast = dirs.create()
    fw = FastWriter(fast, compound=False)
    write_articles(fw, items)
    fw.commit()
    return whoosh_index.open_dir(slow.storage.folder), whoosh_index.open_dir(fast.storage.folder)


@pytest.fixture
def items(tmp_path):
    """The sample's 200 articles and the edge cases, stored, as (aid, article) pairs."""
    arch = Archive(tmp_path / "h")
    arch.store.put(list(read_articles(Source(str(corpus_file("news-fr-sample.jsonl"))))) + EDGE_ARTICLES)
    return list(arch.store.iter_keyed())


@pytest.mark.corpus
def test_fast_writer_and_whoosh_writer_index_the_same_postings_lengths_and_columns(tmp_path, items):
    slow, fast = _both(tmp_path, items)
    assert _postings(slow) == _postings(fast)
    assert _documents(slow) == _documents(fast)
    assert len(_documents(fast)[0]) == sum(len(x.blocks) for _, x in items)
    postings = _postings(fast)
    # A posting list longer than one block (128), one posting of 300 positions, and the
    # acronym only the tokenizer's slow path reads.
    assert postings[("exact", b"de")][0][0] > 128
    assert [len(v) // 4 for _, _, v in postings[("exact", b"tralala")][1:]] == [300]
    assert (postings[("article", b"edge-derived")][2][0], 1.0, b"\0\0\0\1") in postings[("text", b"onu")]
    files, whoosh_files = _files(fast), _files(slow)
    assert sorted(files) == sorted(whoosh_files) == [
        "_accent_len.col", "_author_len.col", "_exact_len.col", "_source_len.col", "_stored.col", "_tag_len.col",
        "_text_len.col", "_title_exact_len.col", "_title_len.col", "aid.col", "n.col", "pst", "trm"]
    assert {k: v for k, v in files.items() if k.endswith(".col")} == {
        k: v for k, v in whoosh_files.items() if k.endswith(".col")}
    # Small blocks are left uncompressed, the others compressed by ISA-L (the next
    # test compresses them all with zlib, as Whoosh does).
    assert files["pst"] != whoosh_files["pst"]


@pytest.mark.corpus
def test_fast_writer_writes_whoosh_files_byte_for_byte_when_every_block_is_compressed_by_zlib(
        tmp_path, items):
    with wf.compressed_like_whoosh():
        slow, fast = _both(tmp_path, items)
    assert _files(slow) == _files(fast)


@pytest.mark.corpus
def test_a_segment_written_with_a_kept_vocabulary_is_the_segment_written_afresh(tmp_path, items):
    # A build worker keeps its vocabulary from one segment to the next: it holds the
    # words of earlier segments, but a segment's terms are only those of its own postings.
    dirs = IndexDir(tmp_path / "idx")
    _, kept = dirs.create()
    writer = FastWriter(kept, compound=False)
    write_articles(writer, items[:120])
    writer.commit(merge=False)
    vocabulary = writer.kept()
    assert vocabulary is not None and len(vocabulary) > 5000
    writer = FastWriter(kept, vocabulary=vocabulary, compound=False)
    write_articles(writer, items[120:])
    writer.commit(merge=False)
    assert writer.kept() is vocabulary
    _, fresh = dirs.create()
    writer = FastWriter(fresh, compound=False)
    write_articles(writer, items[120:])
    writer.commit(merge=False)
    kept, fresh = whoosh_index.open_dir(kept.storage.folder), whoosh_index.open_dir(fresh.storage.folder)
    assert len(wf.index_segments(kept)) == 2
    assert _files(kept, last=True) == _files(fresh)


def test_a_vocabulary_grown_past_its_bound_is_not_kept(monkeypatch):
    from archive.analysis import FRENCH
    from archive.whoosh_internals import postings

    vocabulary = postings.Vocabulary(FRENCH)
    for word in ("un", "deux", "trois", "deux"):
        vocabulary[word]
    monkeypatch.setattr(postings, "KEEP_VOCABULARY", 2)
    assert vocabulary.kept() is None
    monkeypatch.setattr(postings, "KEEP_VOCABULARY", 3)
    assert vocabulary.kept() is vocabulary


def test_another_whoosh_release_is_refused_with_a_clear_message(monkeypatch):
    monkeypatch.setattr(wf, "version", lambda name: "2.7.4")
    with pytest.raises(IncompatibleWhoosh, match=f"whoosh-reloaded {WHOOSH_VERSION} is required.*2.7.4"):
        check_version()


def test_an_index_opened_for_reading_keeps_one_file_position_per_thread(seeded):
    import threading

    from archive.whoosh_internals import open_for_reading

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


def test_columns_are_read_in_one_piece_with_whoosh_values(archive: Archive, monkeypatch):
    archive.add_articles(EDGE_ARTICLES)
    ix = wf.open_for_reading(archive.index_dir.path / str(archive.index_dir.current_name()))
    with ix.searcher() as s:
        (segreader, _), = s.reader().leaf_readers()
        count = segreader.doc_count_all()
        expected = {name: [int(v) for v in segreader.column_reader(name)] for name in ("aid", "n")}
        reads: list[int] = []
        real = wf.PositionalFile.get
        monkeypatch.setattr(wf.PositionalFile, "get",
                            lambda self, pos, length: reads.append(length) or real(self, pos, length))
        for name in ("aid", "n"):
            assert wf.column(segreader, name, count).tolist() == expected[name]
        assert count > 2 and len(reads) == 2  # one read a column, not one a document
    ix.close()
