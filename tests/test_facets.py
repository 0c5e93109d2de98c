"""Facet values that differ only by case or accents are one value, counted once per article."""

import importlib

from archive.model import Article
from archive.search import Engine, SearchRequest, search
from archive.search.facets import Catalog, facet_key


def _articles(archive):
    sources = ["6Médias", "6Médias", "6Medias", "6medias", "Le Monde"]
    archive.add_articles([Article.from_record({
        "id": f"a{i}", "title": f"Titre {i}", "source": source, "date": f"2020-01-0{i + 1}",
        "tags": ["Économie", "économie"] if i == 0 else ["economie"],
        "paragraphs": [f"Lyon vote {i}."]}) for i, source in enumerate(sources)])


def test_facet_key_ignores_case_and_accents():
    assert facet_key("6Médias") == facet_key("6medias") == facet_key("6MEDIAS") == "6medias"
    assert facet_key("Œuvre") == "oeuvre"


def test_spellings_are_grouped_under_the_most_frequent(archive):
    _articles(archive)
    facets = search(archive.home, "Lyon").facets
    assert [(v.value, v.count, v.variants) for v in facets["source"]] == [
        ("6Médias", 4, ("6Medias", "6medias")), ("Le Monde", 1, ())]
    # The first article has two spellings of one tag: it counts once.
    assert [(v.value, v.count) for v in facets["tags"]] == [("economie", 5)]
    assert set(facets["tags"][0].variants) == {"Économie", "économie"}


def test_selecting_one_spelling_selects_them_all(archive):
    _articles(archive)
    results = search(archive.home, "Lyon", source="6medias")
    assert results.total_articles == 4
    assert [(v.value, v.count, v.selected) for v in results.facets["source"]] == [
        ("6Médias", 4, True), ("Le Monde", 1, False)]
    assert search(archive.home, "", tag="ÉCONOMIE").total_articles == 5


def test_grouping_follows_new_articles(archive):
    _articles(archive)
    assert search(archive.home, "Lyon").facets["source"][0].count == 4
    archive.add_articles([Article.from_record({"id": "b", "title": "T", "source": "6MEDIAS",
                                               "paragraphs": ["Lyon encore."]})])
    values = search(archive.home, "Lyon").facets["source"]
    assert (values[0].value, values[0].count, "6MEDIAS" in values[0].variants) == ("6Médias", 5, True)
    assert SearchRequest.build("Lyon", source="6MEDIAS").source == ("6MEDIAS",)


def test_catching_up_with_the_store_leaves_the_published_catalog_unchanged(archive):
    from archive.search.facets import Catalog

    _articles(archive)
    old = Catalog(archive)
    before = (old.size, old.valid.tolist(), old.days.tolist(), list(old.ids), old.counts("source", old.valid))
    archive.add_articles([Article.from_record({"id": "b", "title": "T", "source": "6MEDIAS", "date": "2021-05-06",
                                               "paragraphs": ["Lyon encore."]})])
    archive.remove(["a4"])
    new = old.updated(archive)
    assert new is not old and new.aid_of("b") is not None and old.aid_of("b") is None
    # A search still running on the old catalog sees exactly what it saw.
    assert (old.size, old.valid.tolist(), old.days.tolist(), list(old.ids),
            old.counts("source", old.valid)) == before
    assert new.counts("source", new.valid) == [("6medias", "6Médias", 5, ("6MEDIAS", "6Medias", "6medias"))]
    assert new.updated(archive) is new


# An article added then removed between two searches leaves every catalog and server answering.
def test_add_then_remove_between_two_updates_catches_up(seeded):
    old = Catalog(seeded)
    seeded.add_articles([Article.from_record({"id": "tmp-1", "title": "T", "paragraphs": ["x"]})])
    seeded.remove(["tmp-1"])
    new = old.updated(seeded)
    assert new.aid_of("tmp-1") is None or not new.valid[new.aid_of("tmp-1")]
    assert int(new.valid.sum()) == int(old.valid.sum())
    assert new.counts("source", new.valid) == old.counts("source", old.valid)


def test_a_search_after_add_then_remove_answers(seeded):
    engine = Engine(seeded.home)
    try:
        before = engine.search(SearchRequest.build("grève")).total_articles
        seeded.add_articles([Article.from_record({"id": "tmp-1", "title": "T", "paragraphs": ["grève x"]})])
        seeded.remove(["tmp-1"])
        assert engine.search(SearchRequest.build("grève")).total_articles == before
    finally:
        engine.close()


def test_the_web_answers_after_add_then_remove(client, seeded):
    assert client.get("/?q=gr%C3%A8ve").status_code == 200
    seeded.add_articles([Article.from_record({"id": "tmp-1", "title": "T", "paragraphs": ["x"]})])
    seeded.remove(["tmp-1"])
    assert client.get("/?q=gr%C3%A8ve").status_code == 200
    assert client.get("/api/search?q=x").status_code == 200


def test_a_facet_lists_its_most_frequent_values_then_ties_by_name_then_the_selected(archive, monkeypatch):
    filtering = importlib.import_module("archive.search.filtering")
    bylines = {"Zoé": 3, "Yves": 2, "Anne": 2, "Marc": 1, "Lise": 1}
    archive.add_articles([Article.from_record({"id": f"{facet_key(name)}-{i}", "title": f"Lyon {i}", "authors": [name],
                                               "paragraphs": ["Lyon investit."]})
                          for name, n in bylines.items() for i in range(n)])
    everything = [(v.value, v.count) for v in search(archive.home, "Lyon").facets["author"]]
    assert everything == [("Zoé", 3), ("Anne", 2), ("Yves", 2), ("Lise", 1), ("Marc", 1)]
    monkeypatch.setattr(filtering, "MAX_FACET_VALUES", 2)
    shown = search(archive.home, "Lyon", author="marc").facets["author"]
    # Without its own selection: the two most frequent (a tie by name), then the one selected.
    assert [(v.value, v.count, v.selected) for v in shown] == [("Zoé", 3, False), ("Anne", 2, False),
                                                             ("Marc", 1, True)]
    # Only those are listed from the counts: 20,000 bylines would not each make an entry.
    catalog = Catalog(archive)
    assert sorted(catalog.counts("author", catalog.valid_aids, 2, ["marc"])) == [
        ("anne", "Anne", 2, ()), ("marc", "Marc", 1, ()), ("zoe", "Zoé", 3, ())]
    assert len(catalog.counts("author", catalog.valid_aids)) == 5
