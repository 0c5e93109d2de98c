"""The seam and the cluster engine: choosing by config, answering through a node's death, 503 when all are down."""

from __future__ import annotations

import io
import json

import pytest

from archive import Archive, Article, SearchRequest
from archive.engines import SearchEngine, engine_for, engine_name, open_engine
from archive.engines.config import EngineConfig, save_config
from archive.research import concordance, export, trend
from tests.engines import ENGINES, engine_home

ARTICLES = [
    Article.from_record({"id": f"a{i}", "title": title, "date": date, "source": source, "tags": tags,
                         "paragraphs": paragraphs})
    for i, (title, date, source, tags, paragraphs) in enumerate([
        ("La grève continue", "2019-12-05", "Le Monde", ["Social"],
         ["Les cheminots poursuivent la grève.", "La SNCF annonce un trafic perturbé."]),
        ("Réforme des retraites", "2019-12-11", "Libération", ["Politique", "social"],
         ["Le gouvernement présente la réforme.", "Les syndicats appellent à la grève."]),
        ("Télétravail", "2020-03-17", "Le Monde", ["Économie"],
         ["Le télétravail devient la règle.", "Les entreprises s’organisent."]),
        ("Élections municipales", "2020-03-15", "Ouest-France", ["politique"],
         ["Le premier tour des élections a eu lieu.", "La grève des transports est finie."]),
        ("Sans date", None, None, [], ["Un texte sans date ni source sur la grève."]),
    ])]


@pytest.fixture(scope="module", params=ENGINES)
def home(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """Five articles on each engine."""
    yield from engine_home(request, tmp_path_factory.mktemp("engines"), ARTICLES)


def test_the_configured_engine_answers_through_the_seam(home):
    engine = engine_for(home)
    assert isinstance(engine, SearchEngine)
    assert engine.name == engine_name(home)
    assert engine.health().ok
    assert engine.stats()["articles"] == 5


def test_counts_facets_and_histogram_are_exact_article_counts(home):
    results = engine_for(home).search(SearchRequest.build("grève"))
    assert results.total_articles == 4
    assert results.total_paragraphs == 4
    tags = {v.value: (v.count, v.variants) for v in results.facets["tags"]}
    # Spellings differing by case or accents are one value, counted once per article.
    assert tags == {"Social": (2, ("social",)), "Politique": (2, ("politique",))}
    assert results.histogram == [(2019, 2), (2020, 1)]
    assert sorted(results.days.tolist()) == [737398, 737404, 737499]
    picked = engine_for(home).search(SearchRequest.build("grève", tag="SOCIAL"))
    assert sorted(h.id for h in picked.hits) == ["a0", "a1"]
    assert {v.value: v.count for v in picked.facets["source"]} == {"Le Monde": 1, "Libération": 1}


def test_marks_reading_view_and_article_are_the_embedded_engines(home):
    results = engine_for(home).search(SearchRequest.build('"trafic perturbé" cheminots'))
    assert [h.id for h in results.hits] == ["a0"]
    assert [(p.n, str(p.html)) for p in results.hits[0].paragraphs] == [
        (0, "Les <mark>cheminots</mark> poursuivent la grève."),
        (1, "La SNCF annonce un <mark>trafic perturbé</mark>.")]
    view = engine_for(home).read("a1", "grève")
    assert view.matching == (1,) and view.total == 2
    assert [spans for _, spans in view.blocks] == [(), ((29, 34),)]
    assert engine_for(home).article("a3").to_record() == ARTICLES[3].to_record()


def test_research_tools_run_on_the_engine(home):
    engine = engine_for(home)
    series = trend(engine, [SearchRequest.build("grève")], "year").series[0]
    assert [(p.period, p.count, p.total) for p in series.points] == [("2019", 2, 2), ("2020", 1, 2)]
    assert series.undated == 1
    kwic = concordance(engine, SearchRequest.build("grève"), width=20)
    assert [(line.id, line.n, line.match) for line in kwic.lines] == [
        ("a0", 0, "grève"), ("a1", 1, "grève"), ("a3", 1, "grève"), ("a4", 0, "grève")]
    out = io.StringIO()
    assert export(engine, SearchRequest.build("grève", sort="date"), "jsonl", out) == 4
    assert [json.loads(line)["id"] for line in out.getvalue().splitlines()] == ["a0", "a1", "a3", "a4"]


def test_without_config_the_embedded_engine_is_opened(tmp_path):
    Archive(tmp_path).add_articles(ARTICLES[:1])
    engine = open_engine(tmp_path)
    assert engine.name == "whoosh" and engine_name(tmp_path) == "whoosh"
    engine.close()


@pytest.fixture
def unreachable(tmp_path):
    """A home whose cluster cannot be reached (nothing listens on its host)."""
    save_config(EngineConfig(home=tmp_path, engine="opensearch", hosts=("http://127.0.0.1:9",), index="gone"))
    return tmp_path


@pytest.mark.parametrize(("lang", "message"), [
    ("fr", "La recherche est indisponible pour le moment : le cluster de recherche ne répond pas."),
    ("en", "Search is unavailable right now: the search cluster cannot be reached.")])
def test_a_cluster_down_answers_503_in_the_readers_language(unreachable, lang, message):
    from webui import create_app

    app = create_app({"ARCHIVE_HOME": str(unreachable), "TESTING": True, "ARCHIVE_ADMIN_TOKEN": None})
    client = app.test_client()
    page = client.get(f"/?q=grève&lang={lang}")
    assert page.status_code == 503 and message in page.get_data(as_text=True)
    api = client.get(f"/api/search?q=grève&lang={lang}")  # (the API keeps the core's English, and a code)
    assert api.status_code == 503 and api.get_json()["code"] == "engine_unavailable"
    assert "the search cluster (http://127.0.0.1:9) cannot be reached" in api.get_json()["error"]
    assert not open_engine(unreachable).health().ok


@pytest.mark.cluster
def test_searches_answer_while_a_node_is_killed(cluster, tmp_path):
    cluster.start()  # every node up, their pids current (another test may have restarted one)
    save_config(EngineConfig(home=tmp_path, engine="opensearch", hosts=tuple(cluster.hosts), index="killed"))
    Archive(tmp_path).add_articles(ARTICLES)
    from webui import create_app

    app = create_app({"ARCHIVE_HOME": str(tmp_path), "TESTING": True, "ARCHIVE_ADMIN_TOKEN": None})
    client = app.test_client()
    answers = []
    try:
        for i in range(40):
            if i == 10:
                cluster.kill(0)  # the first host: the client must go to another
            response = client.get("/api/search?q=grève")
            answers.append((response.status_code, (response.get_json() or {}).get("total_articles")))
            if i % 5 == 0:
                assert client.get("/?q=grève").status_code == 200
    finally:
        cluster.start()  # the same folder: the dead node comes back
        from archive.engines.opensearch.client import connect

        connect(cluster.hosts).indices.delete(index="killed-*", ignore_unavailable=True)
    assert answers == [(200, 4)] * 40


FORMS = ["côte", "côtes", "COTE", "Côte", "côté", "cote", "grève", "grèves", "GREVE", "greve", "événement",
         "évènement", "evenement", "mère", "mer", "mères", "État", "ETAT", "état", "etat", "Etats", "hôpital",
         "hôpitaux", "hopital", "élections", "Élection", "ELECTIONS", "election", "présidence", "presidence"]


@pytest.mark.parametrize("typed", ["côte", "grève", "événement", "mère", "État", "hôpitaux", "élection", "président"])
def test_the_clusters_accent_expression_keeps_the_forms_the_embedded_engine_keeps(typed):
    import re

    from archive.analysis import FRENCH, accents_agree
    from archive.engines.opensearch.querying import TEXT_FORMS, accent_form, stem_letters
    from archive.query import parse_query

    word = parse_query(typed).root
    expression = accent_form(TEXT_FORMS, typed, stem_letters(word))["regexp"][TEXT_FORMS]["value"]
    # (Lucene's regular expressions read these classes, groups, ? and .* as Python's do.)
    kept = [f for f in FORMS if set(FRENCH.search_terms(f)) & set(word.terms) and re.fullmatch(expression, f)]
    assert kept == [f for f in FORMS if set(FRENCH.search_terms(f)) & set(word.terms) and accents_agree(typed, f)]
