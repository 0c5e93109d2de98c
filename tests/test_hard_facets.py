"""An article added then removed between two searches leaves every catalog and server answering."""

from archive.model import Article
from archive.search import Engine, SearchRequest
from archive.search.facets import Catalog


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
