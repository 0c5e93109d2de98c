"""Snapshots: decoded posting lists are kept per generation, within their byte budget, read-only."""

from __future__ import annotations

import dataclasses
import importlib

import numpy as np
import pytest

from archive.home import Archive
from archive.model import Article
from archive.search import Engine, SearchRequest

snapshot = importlib.import_module("archive.search.snapshot")


def _article(i: int, words: str) -> Article:
    return Article.from_record({"id": f"a{i}", "title": f"Article {i}", "date": f"2020-01-{i + 1:02d}",
                                "paragraphs": [f"Le gouvernement {words}.", "La réforme avance."]})


@pytest.fixture
def reads(monkeypatch) -> list[tuple[str, str]]:
    """Record every posting list decoded from the index files."""
    seen: list[tuple[str, str]] = []
    real = snapshot.wf.read_postings

    def counted(segreader, fieldname, text, with_values=False):
        seen.append((fieldname, text))
        return real(segreader, fieldname, text, with_values)

    monkeypatch.setattr(snapshot.wf, "read_postings", counted)
    return seen


def _ids(engine: Engine, query: str) -> list[str]:
    return [h.id for h in engine.search(SearchRequest.build(query)).hits]


def _scores(engine: Engine, query: str) -> dict[str, float]:
    return {h.id: h.score for h in engine.search(SearchRequest.build(query)).hits}


@pytest.fixture
def kept(monkeypatch) -> list[int]:
    """Record the blocks of every match a snapshot keeps (each computed, not found kept)."""
    scoring = importlib.import_module("archive.search.scoring")
    seen: list[int] = []
    real = scoring.Match.kept
    monkeypatch.setattr(scoring.Match, "kept", lambda self, aid: seen.append(len(self)) or real(self, aid))
    return seen


def test_a_posting_list_is_decoded_once_and_serves_later_snapshots(archive: Archive, reads):
    archive.add_articles([_article(0, "annonce un plan"), _article(1, "présente la réforme")])
    engine = Engine(archive)
    assert _ids(engine, '"la réforme" gouvernement') == ["a1", "a0"]
    first = len(reads)
    assert first > 0
    assert _ids(engine, '"la réforme" gouvernement') == ["a1", "a0"]
    assert len(reads) == first  # nothing decoded again
    # A new segment is read; the first one's lists are not.
    archive.add_articles([_article(2, "recule sur la réforme")])
    assert _ids(engine, '"la réforme" gouvernement') == ["a2", "a1", "a0"]
    # The same terms again, once each (in the new segment): the first segment's are kept.
    assert sorted(reads[first:]) == sorted(reads[:first])
    engine.close()


def test_deleted_blocks_are_dropped_after_the_lists_are_kept(archive: Archive):
    archive.add_articles([_article(0, "annonce un plan"), _article(1, "présente un plan")])
    engine = Engine(archive)
    assert _ids(engine, "plan") == ["a1", "a0"]
    archive.add_articles([Article.from_record({"id": "a0", "title": "Article 0", "date": "2020-01-01",
                                               "paragraphs": ["Le gouvernement renonce."]})])
    assert _ids(engine, "plan") == ["a1"]
    engine.close()


def test_kept_lists_stay_within_the_budget_and_cannot_be_changed(archive: Archive, monkeypatch):
    archive.add_articles([_article(i, w) for i, w in enumerate(
        ["annonce un plan", "présente la réforme", "recule sur la retraite", "consulte les syndicats"])])
    monkeypatch.setattr(snapshot, "POSTINGS_CACHE_BYTES", 1200)
    engine = Engine(archive)
    for query in ["plan", "réforme", "retraite", "syndicats", "gouvernement", '"la réforme"']:
        engine.search(SearchRequest.build(query))
    with engine.live.pinned() as (snap, _):
        kept = snap.decoded_lists
        assert 0 < kept.size <= 1200
        assert kept.size == sum(sum(a.nbytes for a in v) + 200 for _, v in kept.items())
        ids, _ = kept.get(kept.items()[0][0], lambda: pytest.fail("decoded again"))
        with pytest.raises(ValueError):
            ids[:1] = np.array([7])
    engine.close()


def test_a_terms_weights_are_computed_once_per_snapshot_and_dropped_with_it(archive: Archive, monkeypatch):
    archive.add_articles([_article(0, "annonce un plan"), _article(1, "présente la réforme")])
    matching = importlib.import_module("archive.search.matching")
    weighed: list[str] = []
    real = matching.Evaluator.weigh
    monkeypatch.setattr(matching.Evaluator, "weigh",
                        lambda self, fieldname, *a: weighed.append(fieldname) or real(self, fieldname, *a))
    engine = Engine(archive)
    assert _ids(engine, "gouvernement présente") == ["a1"]
    assert weighed  # text, title and their exact forms
    first = len(weighed)
    assert _ids(engine, "gouvernement présente") == ["a1"]
    assert len(weighed) == first
    with engine.live.pinned() as (snap, _):
        assert snap.term_weights.size > 0
    archive.add_articles([_article(2, "recule sur la réforme")])  # a new snapshot weighs anew
    assert _ids(engine, "gouvernement présente") == ["a1"]
    assert len(weighed) == 2 * first
    assert snap.closed and snap.term_weights.size == 0
    engine.close()


def test_a_words_match_is_united_once_per_snapshot_and_scores_as_a_fresh_one(archive: Archive, monkeypatch,
                                                                               kept: list[int]):
    archive.add_articles([_article(0, "annonce un plan pour la réforme"), _article(1, "présente la réforme")])
    united = kept
    engine = Engine(archive)

    def scores(query: str) -> dict[str, float]:
        return _scores(engine, query)

    alone = scores("réforme")
    assert len(united) == 1 and set(alone) == {"a0", "a1"}
    # Read again, alone and in an OR whose parent adds to its scores: kept, and left as it was.
    monkeypatch.setattr(importlib.import_module("archive.search.positions"), "PROXIMITY_WEIGHT", 1.0)
    assert scores("réforme OR plan")["a0"] > alone["a0"]
    assert scores("réforme") == alone
    assert len(united) == 2  # plan's, once
    # A new snapshot unites anew (its article, its weights).
    archive.add_articles([_article(2, "recule")])
    assert set(scores("réforme")) == {"a0", "a1", "a2"}
    assert len(united) == 3
    engine.close()


def test_a_frequent_word_read_within_a_rarer_ones_articles_is_kept_under_it(archive: Archive, kept: list[int]):
    archive.add_articles([_article(i, "annonce un plan" if i == 3 else "recule") for i in range(10)])
    united = kept
    engine = Engine(archive)

    def scores(query: str) -> dict[str, float]:
        return _scores(engine, query)

    # "réforme" is in all ten articles: read within the one that says "plan", and kept so.
    first = scores("plan réforme")
    assert set(first) == {"a3"} and united == [1, 1]
    assert scores("plan réforme") == first and united == [1, 1]
    assert set(scores("réforme")) == {f"a{i}" for i in range(10)} and united == [1, 1, 10]  # alone: whole
    fresh = Engine(archive)
    assert _scores(fresh, "plan réforme") == first
    fresh.close()
    engine.close()


def test_warming_decodes_the_stop_words_that_phrases_read(archive: Archive, reads):
    archive.add_articles([_article(0, "présente la réforme de la retraite"), _article(1, "annonce un plan")])
    engine = Engine(archive)
    engine.warm()
    assert {("exact", "de"), ("exact", "la"), ("exact", "un")} <= set(reads)
    warmed = len(reads)
    assert _ids(engine, '"réforme de la retraite"') == ["a0"]
    assert not {("exact", "de"), ("exact", "la")} & set(reads[warmed:])  # decoded by warm(), not again
    engine.close()


def test_threads_reading_hashes_at_once_read_them_right_and_leak_no_file(archive: Archive):
    # Whoosh reads stored fields by seek-then-read on one shared file: without the snapshot's
    # lock, threads reading a fresh reader's hashes at once read garbage and open the file twice.
    import gc
    import threading
    import warnings

    archive.add_articles([_article(i, f"annonce le plan {i}") for i in range(6)])
    expected = {}
    engine = Engine(archive)
    with engine.live.pinned() as (snap, catalog):
        aids = [a for a in range(len(catalog.ids)) if catalog.ids[a]]
        expected = dict(zip(aids, snap.article_hashes(aids)))
    engine.close()
    assert len(expected) == 6 and all(expected.values())
    for _ in range(40):
        engine = Engine(archive)
        seen: list[list[str | None]] = []
        errors: list[BaseException] = []
        with engine.live.pinned() as (snap, _):
            start = threading.Barrier(6)

            def read(snap=snap, start=start, seen=seen, errors=errors) -> None:
                start.wait()
                try:
                    seen.append(snap.article_hashes(list(expected)))
                except BaseException as exc:  # (the test reports what a thread met)
                    errors.append(exc)

            threads = [threading.Thread(target=read) for _ in range(6)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            engine.close()
            gc.collect()
        assert errors == []
        assert seen == [list(expected.values())] * 6
        assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []


def test_a_search_cache_is_a_quarter_of_its_index_within_bounds(tmp_path):
    from archive.search.caches import MIN_CACHE_BYTES, cache_budget

    (tmp_path / "a.seg").write_bytes(b"\0" * 1000)
    assert cache_budget(256 << 20, tmp_path) == MIN_CACHE_BYTES  # a small index: the floor
    assert cache_budget(1200, tmp_path) == 1200  # never past the most asked
    big = tmp_path / "b.seg"
    with big.open("wb") as f:
        f.truncate(600 << 20)  # (sparse: no disk used)
    assert cache_budget(256 << 20, tmp_path) == (1000 + (600 << 20)) // 4
    with big.open("wb") as f:
        f.truncate(2 << 30)
    assert cache_budget(256 << 20, tmp_path) == 256 << 20
    assert cache_budget(256 << 20, tmp_path / "gone") == MIN_CACHE_BYTES


def test_the_hashes_read_are_each_articles_live_version_in_whichever_segment_it_is(archive: Archive):
    archive.add_articles([_article(i, f"annonce le plan {i}") for i in range(3)])
    archive.add_articles([_article(3, "annonce le budget")])  # a second segment
    changed = _article(1, "retire le plan")
    archive.add_articles([changed])  # its first version's blocks are deleted, not removed
    engine = Engine(archive)
    with engine.live.pinned() as (snap, catalog):
        aids = [catalog.aid_of(f"a{i}") for i in range(4)]
        assert None not in aids and len(snap.segments) >= 2
        hashes = snap.article_hashes([*aids, len(catalog.ids) + 5])
    engine.close()
    stored = {article.id: article.content_hash() for article in archive.store.iter_articles()}
    assert hashes == [stored["a0"], stored["a1"], stored["a2"], stored["a3"], None]
    assert stored["a1"] == changed.content_hash()


def test_a_snapshot_reads_an_articles_indexed_hash_once(archive: Archive, monkeypatch):
    archive.add_articles([_article(i, f"annonce le plan {i}") for i in range(3)])
    reads: list[int] = []

    class Counted:
        """A segment's reader that counts the stored fields read."""

        def __init__(self, reader) -> None:  # type: ignore[no-untyped-def]
            self.reader = reader

        def stored_fields(self, docnum: int) -> dict:
            reads.append(docnum)
            return self.reader.stored_fields(docnum)

    engine = Engine(archive)
    with engine.live.pinned() as (snap, catalog):
        monkeypatch.setattr(snap, "segments", [dataclasses.replace(segment, reader=Counted(segment.reader))
                                               for segment in snap.segments])
        aids = [catalog.aid_of(f"a{i}") for i in range(3)] + [len(catalog.ids) + 5]
        first = snap.article_hashes(aids)
        assert len(reads) == 3
        assert snap.article_hashes(aids[::-1]) == first[::-1]
        assert len(reads) == 3  # kept: the same articles come back page after page
    engine.close()
    stored = {article.id: article.content_hash() for article in archive.store.iter_articles()}
    assert first == [stored["a0"], stored["a1"], stored["a2"], None]


def _named(article_id: str, words: str) -> Article:
    return Article.from_record({"id": article_id, "title": f"Dépêche {article_id}",
                                "paragraphs": [f"Le gouvernement {words}.", "La réforme avance.", "Fin."]})


@pytest.mark.parametrize("procs", [1, 2])
def test_an_index_lays_its_articles_out_in_the_order_they_were_stored(archive: Archive, procs: int):
    # Ids whose text order is not the order they came in ("n10" sorts before "n9").
    names = [f"n{i}" for i in range(12, 0, -1)] + [f"m{i}" for i in range(400)]
    archive.add_articles([_named(name, f"annonce {name}") for name in names])
    archive.rebuild(procs=procs)
    archive.add_articles([_named("a-later", "annonce la suite")])  # a write after: a segment of its own
    engine = Engine(archive)
    with engine.live.pinned() as (snap, catalog):
        aids = snap.aid[snap.alive]
        assert len(aids) == 3 * (len(names) + 1)
        # Blocks in aid order, each article's side by side: grouping them into articles needs no sort.
        assert bool((np.diff(aids) >= 0).all())
        assert [catalog.ids[a] for a in np.unique(aids)] == [*names, "a-later"]
    engine.close()
    assert [aid for aid, _ in archive.store.iter_keyed(["n1", "n12", "m0"])] == sorted(
        catalog.aid_of(name) for name in ("n1", "n12", "m0"))
    assert [a.id for a in archive.store.iter_articles(["n1", "n12", "m0"])] == ["m0", "n1", "n12"]
    assert [a.id for a in archive.store.iter_articles()] == sorted([*names, "a-later"])


def test_an_articles_blocks_are_found_whether_the_index_holds_them_in_order_or_not(archive: Archive):
    archive.add_articles([_article(i, "annonce un plan") for i in range(3)])
    engine = Engine(archive)

    def blocks(article_id: str) -> list[int]:
        with engine.live.pinned() as (snap, catalog):
            aid = catalog.aid_of(article_id)
            docs, counts = snap.blocks_of(np.array([aid]))
            assert int(counts[0]) == len(docs) and set(snap.aid[docs].tolist()) == {aid}
            return sorted(docs[snap.alive[docs]].tolist())

    assert blocks("a1") == [2, 3]  # in order: the second article's two paragraphs (its title on the first)
    # A new version of a0 lands in a later segment: the blocks no longer lie in aid order.
    archive.add_articles([_article(0, "retire le plan")])
    assert blocks("a0") == [6, 7]
    assert blocks("a1") == [2, 3]
    assert _ids(engine, "retire") == ["a0"]
    engine.close()


def test_a_phrase_is_matched_once_per_snapshot_and_cut_by_the_budget_as_before(archive: Archive, monkeypatch,
                                                                                kept: list[int]):
    archive.add_articles([_article(0, "présente la réforme"), _article(1, "annonce un plan")])
    scoring = importlib.import_module("archive.search.scoring")
    engine = Engine(archive)
    assert _ids(engine, '"la réforme"') == ["a0", "a1"]  # (a1: "La réforme avance.")
    assert _ids(engine, '"la réforme"') == ["a0", "a1"] and len(kept) == 1
    # Past the budget the phrase is read cut short, as it always was, not taken from what is kept.
    monkeypatch.setattr(scoring, "MAX_POSTINGS", 0)
    results = engine.search(SearchRequest.build('gouvernement "la réforme"'))
    assert results.truncated and len(kept) == 1
    engine.close()
