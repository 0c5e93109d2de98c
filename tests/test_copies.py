import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from werkzeug.datastructures import MultiDict

from archive import copies
from archive.home import Archive
from archive.model import Article


def add(archive: Archive, *records: dict) -> None:
    archive.add_articles([Article.from_record(r) for r in records])


def test_a_dispatch_and_its_edited_copy_form_one_cluster(archive, wire_records):
    add(archive, *wire_records)
    (cluster,) = archive.store.duplicates()
    assert cluster.ids == ("afp-traore", "copie-traore")
    assert cluster.similarity == 0.84375  # 108 of 128 MinHash values agree
    assert archive.store.clusters() == {"afp-traore": "afp-traore", "copie-traore": "afp-traore"}
    assert archive.store.copies_of(["copie-traore", "marche-traore"]) == {"copie-traore": ["afp-traore"]}


def test_signatures_are_the_stored_ones_datasketch_2_0_0_gave(wire_records):
    # Stored signatures depend on the permutations: without datasketch they are drawn as it drew
    # them (seed 1, affine32). This digest was computed with datasketch 2.0.0's permutations.
    sig = copies.signature(Article.from_record(wire_records[0]))
    assert sig is not None and sig.dtype == np.uint32
    assert sig[:4].tolist() == [9575325, 53979842, 49188802, 27587503]
    digest = hashlib.sha256(sig.tobytes()).hexdigest()
    assert digest == "a3557c55edf8d204765fe0e7eff6d28597f3673c57c0d55d1c0dc5930b4467f6"


def test_an_article_on_the_same_subject_is_not_a_copy(archive, wire_records):
    dispatch, _, same_subject = wire_records
    add(archive, dispatch, same_subject)
    assert archive.store.duplicates() == []
    a, b = (copies.signature(Article.from_record(r)) for r in (dispatch, same_subject))
    assert copies.similarity(a, b) == 0.0


def test_clusters_follow_updates_and_removals(archive, wire_records):
    dispatch, copy, same_subject = wire_records
    add(archive, dispatch, copy)
    add(archive, dict(copy, paragraphs=same_subject["paragraphs"]))  # rewritten: no longer a copy
    assert archive.store.duplicates() == []
    add(archive, copy)
    assert [c.ids for c in archive.store.duplicates()] == [("afp-traore", "copie-traore")]
    archive.remove(["afp-traore"])
    assert archive.store.duplicates() == [] and archive.store.clusters() == {}


def test_three_copies_merge_and_rebuild_gives_the_same_clusters(archive, wire_records):
    dispatch, copy, _ = wire_records
    third = dict(copy, id="troisieme", source="20 Minutes")
    add(archive, dispatch, copy, third)
    before = archive.store.duplicates()
    assert [c.ids for c in before] == [("afp-traore", "copie-traore", "troisieme")]
    archive.store.db.execute("DELETE FROM copies")
    assert archive.store.recluster() == 1
    assert archive.store.duplicates() == before


def test_short_texts_get_no_signature():
    brief = Article.from_record({"id": "b", "title": "Brève", "paragraphs": ["Il pleut à Brest."]})
    assert copies.signature(brief) is None


def test_a_chunk_signed_at_once_gets_each_article_s_own_signature_and_bands(wire_records):
    brief = Article.from_record({"id": "b", "title": "Brève", "paragraphs": ["Il pleut à Brest."]})
    articles = [Article.from_record(wire_records[0]), brief, *(Article.from_record(r) for r in wire_records[1:])]
    chunk = copies.prepare_many(articles)
    assert [s is None for s, _ in chunk] == [False, True, False, False]
    for article, (sig, keys) in zip(articles, chunk):
        one_sig, one_keys = copies.prepare(article)
        assert (sig is None and one_sig is None) or (sig is not None and sig.tolist() == one_sig.tolist())
        assert keys == one_keys and len(keys) == (0 if sig is None else copies.BANDS)
    assert hashlib.sha256(chunk[0][0].tobytes()).hexdigest() == (
        "a3557c55edf8d204765fe0e7eff6d28597f3673c57c0d55d1c0dc5930b4467f6")
    assert copies.prepare_many([brief]) == [(None, [])]


def test_detection_can_be_switched_off(home, wire_records):
    archive = Archive(home, detect_copies=False)
    add(archive, *wire_records)
    assert archive.store.duplicates() == []
    assert archive.store.recluster() == 1


def test_signature_is_stable_across_processes(wire_records):
    # Signatures are stored: they must not depend on Python's per-process hash seed.
    sig = copies.signature(Article.from_record(wire_records[0]))
    assert sig.dtype == np.uint32 and sig.shape == (copies.NUM_PERM,)
    code = ("import json, sys; from archive import copies; from archive.model import Article; "
            "print(copies.signature(Article.from_record(json.load(sys.stdin))).tobytes().hex())")
    other = subprocess.run([sys.executable, "-c", code], input=json.dumps(wire_records[0]), text=True,
                           capture_output=True, check=True, env={**os.environ, "PYTHONHASHSEED": "7"})
    assert other.stdout.strip() == sig.tobytes().hex()


# -- search: copies collapsed into their cluster's best hit ---------------------------------


def test_search_collapses_a_copy_under_its_best_member(archive, wire_records):
    from archive.search import SearchRequest, engine_for

    add(archive, *wire_records)
    results = engine_for(archive).search(SearchRequest.build("témoin audition Traoré"))
    assert results.total_articles == 1  # what is listed: one hit for the cluster
    (hit,) = results.hits
    assert hit.id in ("afp-traore", "copie-traore")
    other = ({"afp-traore", "copie-traore"} - {hit.id}).pop()
    assert [c.id for c in hit.copies] == [other]
    assert {v.value: v.count for v in results.facets["source"]} == {"Orange Actu": 1, "Le Parisien": 1}
    assert sum(v.count for v in results.facets["year"]) == 2  # every article still counted
    (copy,) = hit.to_dict()["copies"]
    record = next(r for r in wire_records if r["id"] == other)
    assert copy == {"id": other, "source": record["source"], "date": record["date"], "title": record["title"]}


def test_a_copy_is_listed_only_while_its_row_holds_the_id_the_ranking_knew(archive, wire_records):
    from archive.search.article_view import load_copies

    add(archive, *wire_records)
    aid = archive.store.db.execute("SELECT aid FROM articles WHERE id = 'copie-traore'").fetchone()[0]
    listed = load_copies(archive.store, {aid: "copie-traore"})
    assert [(c.id, c.source, c.title) for c in listed.values()] == [
        ("copie-traore", "Le Parisien", "Adama Traoré : les avocats s'opposent sur un témoin")]
    assert load_copies(archive.store, {aid: "afp-traore"}) == {}  # the aid now holds another article


def test_show_copies_lists_every_member(archive, wire_records):
    from archive.search import SearchRequest, engine_for, search

    add(archive, *wire_records)
    shown = search(archive, "témoin audition Traoré", show_copies=True)
    assert shown.total_articles == 2 and sorted(h.id for h in shown.hits) == ["afp-traore", "copie-traore"]
    # The cluster is ranked (and shown) by its best member.
    assert shown.hits[0].id == search(archive, "témoin audition Traoré").hits[0].id
    assert all(h.copies == () for h in shown.hits)
    request = SearchRequest.from_args(MultiDict({"q": "Traoré", "copies": "show"}))
    assert request.show_copies and ("copies", "show") in request.to_args()
    assert engine_for(archive).search(request).total_articles == 3


def test_an_unrelated_article_on_the_subject_stays_its_own_hit(archive, wire_records):
    add(archive, *wire_records)
    results = search_home(archive, "Traoré Beaumont")
    assert sorted(h.id for h in results.hits) in (["afp-traore", "marche-traore"], ["copie-traore", "marche-traore"])
    assert results.total_articles == 2
    assert [h.copies for h in results.hits if h.id == "marche-traore"] == [()]


def test_a_copy_that_does_not_match_is_not_listed(archive, wire_records):
    add(archive, *wire_records)
    # Only the copy says "L'enquête se poursuit": the dispatch does not match, so no copies.
    (hit,) = search_home(archive, '"enquête se poursuit"').hits
    assert hit.id == "copie-traore" and hit.copies == ()


def test_clusters_formed_after_the_engine_opened_collapse_at_once(archive, wire_records):
    dispatch, copy, _ = wire_records
    add(archive, dispatch)
    assert search_home(archive, "Traoré").total_articles == 1
    add(archive, copy)
    assert search_home(archive, "Traoré").total_articles == 1
    assert search_home(archive, "Traoré", show_copies=True).total_articles == 2
    archive.remove(["afp-traore"])
    (hit,) = search_home(archive, "Traoré").hits
    assert hit.id == "copie-traore" and hit.copies == ()


@pytest.mark.parametrize("value", ["yes", "SHOW", "1"])
def test_copies_parameter_is_validated(value):
    from archive.errors import BadParameter
    from archive.search import SearchRequest

    with pytest.raises(BadParameter, match="copies must be show or collapse"):
        SearchRequest.from_args(MultiDict({"q": "x", "copies": value}))


def search_home(archive: Archive, query: str, **kwargs):
    from archive.search import search

    return search(archive, query, **kwargs)


def test_counts_say_when_wire_copies_are_grouped(archive, wire_records, runner):
    from archive.cli import cli
    from webui import create_app

    add(archive, *wire_records)
    app = create_app({"ARCHIVE_HOME": str(archive.home), "TESTING": True})
    try:
        client = app.test_client()
        body = client.get("/?q=Traoré").get_data(as_text=True)
        assert "2 articles <span class=\"publications\">(3 publications, reprises regroupées)</span>" in body
        home = client.get("/?lang=en").get_data(as_text=True)  # the home page matches `archive stats`
        assert "2 articles <span class=\"publications\">(3 publications, wire copies grouped)</span>" in home
        assert "publications" not in client.get("/?q=Traoré&copies=show").get_data(as_text=True).split("</p>")[0]
        api = client.get("/api/search?q=Traoré").get_json()
        assert (api["total_articles"], api["total_publications"]) == (2, 3)
    finally:
        app.extensions["archive"].close()
    stats = runner.invoke(cli, ["--home", str(archive.home), "stats"]).output
    assert stats.startswith("articles:   3\n")
    out = runner.invoke(cli, ["--home", str(archive.home), "search", "Traoré"]).output
    assert out.startswith("2 articles (3 publications, wire copies grouped) · ")


@pytest.mark.parametrize("first", [False, True])  # into an empty copy index (filtered lookups), or not
def test_copies_are_found_across_the_placers_flushes(archive, wire_records, monkeypatch, first):
    dispatch, copy, same_subject = wire_records
    if not first:
        add(archive, same_subject)
    monkeypatch.setattr(copies, "HELD", 1)  # every article's band rows go into the table at once
    add(archive, dispatch, dict(copy, id="copie-1"), dict(copy, id="copie-2"))
    assert [c.ids for c in archive.store.duplicates()] == [("afp-traore", "copie-1", "copie-2")]
