"""What a query matches, on short French articles written for each rule."""

from __future__ import annotations

import importlib
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive import Archive, Article, search
from archive.engines import engine_for
from archive.query import parse_query
from archive.search.matching import max_by_group
from archive.search.scoring import Match, contains, grouped, intersect
from tests.engines import ENGINES, engine_home

ARTICLES = {
    "split": ("Une journée de mobilisation", ["La police a encerclé la place.",
                                             "Les manifestants sont restés calmes."]),
    "together": ("Face à face", ["La police et les manifestants se sont fait face."]),
    "cote": ("La côte bretonne", ["Les côtes de Bretagne attirent les touristes."]),
    "cote-caps": ("ALERTE SUR LA COTE", ["Tempête annoncée sur le littoral."]),
    "cote-plain": ("Classement", ["Sa cote de popularité baisse."]),
    "cote-accent": ("À deux pas", ["Le marché est à côté de la gare."]),
    "mais": ("Le maïs", ["Les champs de maïs souffrent de la sécheresse."]),
    "mai": ("Printemps", ["Mais la réunion a eu lieu en mai."]),
    "assemblee": ("Vote", ["L’Assemblée nationale a voté la loi.",
                           "Un rapport de l’O.N.U. sur le climat est attendu."]),
    "notre-dame": ("Notre-Dame de Paris rouvre", ["La cathédrale accueille à nouveau les fidèles."]),
    "notre": ("Rencontre", ["Notre équipe a croisé une dame au marché."]),
    "near": ("Transports", ["La grève des cheminots a paralysé le pays."]),
    "far": ("Mouvement social", ["La grève a commencé lundi matin dans plusieurs villes du pays entier, "
                                 "puis les cheminots ont suivi."]),
    "gouv": ("Annonce", ["Le gouvernement a annoncé un plan.", "Le gouvernement consulte.",
                         "Le gouvernement tranche."]),
}


def _articles() -> list[Article]:
    return [Article.from_record({"id": i, "title": t, "paragraphs": p}) for i, (t, p) in ARTICLES.items()]


@pytest.fixture(scope="module", params=ENGINES)
def home(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """The rule articles on each engine: every semantics test runs on both."""
    yield from engine_home(request, tmp_path_factory.mktemp("matching"), _articles())


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory):
    """The rule articles on the embedded engine, for the tests of its own workings."""
    path = tmp_path_factory.mktemp("matching-embedded")
    Archive(path).add_articles(_articles())
    return path


def ids(home, query, **kw) -> set[str]:
    return {h.id for h in search(home, query, per_page=100, **kw).hits}


def marks(home, query) -> list[str]:
    results = search(home, query, per_page=100)
    return [m for h in results.hits for p in h.paragraphs for m in re.findall(r"<mark>(.*?)</mark>", p.html)]


def test_words_split_across_paragraphs_are_found_and_together_rank_first(home):
    results = search(home, "police manifestants")
    assert [h.id for h in results.hits] == ["together", "split"]
    assert results.total_paragraphs == 3  # every paragraph holding a query word
    split = results.hits[1]
    assert [p.n for p in split.paragraphs] == [0, 1]


def test_exclusion_stays_per_article(home):
    assert ids(home, "police -manifestants") == set()


def test_typed_accents_are_kept_missing_accents_match_every_spelling(home):
    assert ids(home, "côte") == {"cote", "cote-caps"}  # COTE: capitals lose accents in print
    assert ids(home, "côtes") == {"cote", "cote-caps"}
    assert ids(home, "côté") == {"cote-accent", "cote-caps"}
    assert ids(home, "cote") == {"cote", "cote-caps", "cote-plain", "cote-accent"}
    assert ids(home, "maïs") == {"mais"}
    assert ids(home, '"maïs"') == {"mais"}
    assert ids(home, "mais") == {"mais", "mai"}
    assert marks(home, "côte") == ["côtes"]


def test_decomposed_accents_read_as_composed(home):
    assert ids(home, "co\u0302te") == ids(home, "côte")
    assert ids(home, "mai\u0308s") == {"mais"}


@pytest.mark.parametrize("apostrophe", ["'", "’", "ʼ", "‘", "`", "´"])
def test_every_apostrophe_form_elides(home, apostrophe):
    assert ids(home, f"l{apostrophe}Assemblée") == {"assemblee"}
    assert marks(home, f"l{apostrophe}Assemblée") == ["Assemblée"]


def test_invisible_characters_and_compatibility_forms_are_ignored(home):
    assert ids(home, "Assem\u200bblée") == {"assemblee"}
    assert ids(home, "Assem\u00adblée") == {"assemblee"}
    assert ids(home, "ＡＳＳＥＭＢＬÉＥ") == {"assemblee"}


def test_dotted_acronyms_read_as_the_word(home):
    assert ids(home, "O.N.U.") == ids(home, "ONU") == {"assemblee"}
    assert marks(home, "ONU") == ["O.N.U."]


def test_hyphenated_names_are_phrases(home):
    assert ids(home, "Notre-Dame") == {"notre-dame"}
    assert ids(home, "notre dame") == {"notre-dame", "notre"}


def test_stop_words_alone_are_searched_and_marked(home):
    results = search(home, "de la")
    # Article-level: both words anywhere, titles included.
    assert {h.id for h in results.hits} == {"split", "cote", "cote-accent", "mais", "assemblee", "notre-dame"}
    assert [e["role"] for e in results.to_dict()["explain"]] == ["stopword", "stopword"]
    assert sorted(marks(home, "sur la")) == ["la", "sur", "sur"]


def test_quoted_titles_and_title_phrases_match_and_are_marked(home):
    results = search(home, '"Paris rouvre"')
    assert [h.id for h in results.hits] == ["notre-dame"]
    assert str(results.hits[0].title_html) == "Notre-Dame de <mark>Paris rouvre</mark>"
    assert ids(home, 'titre:"de Paris"') == {"notre-dame"}
    assert ids(home, "rouvr*") == {"notre-dame"}


def test_proximity_inside_and_outside_the_window(home):
    for query in ('"grève cheminots"~5', "grève NEAR/5 cheminots", "grève PRES/5 cheminots",
                  '"cheminots grève"~5'):
        assert ids(home, query) == {"near"}, query
    assert ids(home, '"grève cheminots"~20') == {"near", "far"}


def test_fuzzy_words_expand_against_the_archive(home):
    results = search(home, "gouvernemnt~")
    assert [h.id for h in results.hits] == ["gouv"]
    assert results.to_dict()["explain"] == [{"text": "gouvernemnt~", "role": "fuzzy", "terms": ["gouvernement"]}]
    assert ids(home, "gouvernemnt") == set()
    assert ids(home, "gouverenment~2") == {"gouv"}


def test_explain_reads_each_piece_of_a_mixed_query(embedded):
    # (Embedded only: the cluster engine lists the forms found on the page, not the archive's.)
    explain = search(embedded, 'l’Assemblée "la loi" -Sénat côte rouvr* date:2020 le').to_dict()["explain"]
    assert explain == [
        {"text": "l’Assemblée", "role": "word", "terms": ["assembl", "assemble", "Assemblée"]},
        {"text": '"la loi"', "role": "phrase", "terms": ["la", "loi"]},
        {"text": "Sénat", "role": "excluded", "terms": ["senat"]},
        {"text": "côte", "role": "word", "terms": ["cot", "COTE", "côte", "côtes"]},
        {"text": "rouvr*", "role": "prefix", "terms": ["rouvre"]},
        {"text": "date:2020", "role": "date", "terms": ["2020-01-01", "2020-12-31"]},
        {"text": "le", "role": "stopword", "terms": []},
    ]


def test_suggestions_keep_the_readers_capitals(home):
    engine_for(home).warm()  # the vocabulary is built in the background
    assert search(home, "Gouvernemant").suggestion == "Gouvernement"
    assert search(home, "GOUVERNEMANT").suggestion == "GOUVERNEMENT"


def test_a_query_past_its_budget_is_cut_short_and_says_so(embedded, monkeypatch):
    import importlib

    scoring = importlib.import_module("archive.search.scoring")
    assert not search(embedded, '"la police" OR "la cote" OR "la grève"').truncated
    monkeypatch.setattr(scoring, "MAX_POSTINGS", 3)
    results = search(embedded, '"la police" OR "la cote" OR "la grève"')
    assert results.truncated and results.to_dict()["truncated"] is True
    assert results.total_articles < 3


def test_repeated_clauses_read_each_term_once(embedded):
    import importlib

    matching = importlib.import_module("archive.search.matching")
    with importlib.import_module("archive.search.engine").engine_for(embedded).live.pinned() as (snap, _):
        evaluator = matching.Evaluator(snap)
        matching.match(evaluator, search(embedded, " OR ".join(['"de la"'] * 32)).request.parsed.root)
        once = matching.Evaluator(snap)
        matching.match(once, search(embedded, '"de la"').request.parsed.root)
    assert evaluator.spent == once.spent > 0


def test_a_repeated_clause_is_evaluated_once_and_finds_the_same_articles(embedded, monkeypatch):
    import importlib

    matching = importlib.import_module("archive.search.matching")
    single = search(embedded, '"de la" OR police')
    calls: list[object] = []
    original = matching.Evaluator.phrase
    monkeypatch.setattr(matching.Evaluator, "phrase", lambda self, node: calls.append(node) or original(self, node))
    repeated = search(embedded, " OR ".join(['"de la"'] * 32) + " OR police")
    assert len(calls) == 1
    assert {h.id for h in repeated.hits} == {h.id for h in single.hits}
    assert repeated.total_articles == single.total_articles > 0


@pytest.fixture(scope="module", params=ENGINES)
def ranked(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    filler = "Le conseil municipal a voté le budget de la ville pour l’année prochaine sans débat."
    yield from engine_home(request, tmp_path_factory.mktemp("ranking"), [Article.from_record(r) for r in [
        {"id": "review", "title": "L’année en revue",
         "paragraphs": ["GILETS JAUNES", filler, filler.replace("budget", "plan")]},
        {"id": "about", "title": "Un samedi de mobilisation",
         "paragraphs": ["Les gilets jaunes ont de nouveau manifesté samedi dans plusieurs villes.",
                        "Des gilets jaunes ont bloqué des ronds-points toute la journée."]},
        {"id": "both", "title": "Un rassemblement",
         "paragraphs": ["La police a encadré le cortège.", "Les syndicats sont restés calmes."]},
        {"id": "one", "title": "Une patrouille",
         "paragraphs": ["La police a patrouillé puis la police a contrôlé les passants."]},
    ]])


def test_a_short_heading_does_not_outrank_an_article_about_the_words(ranked):
    assert [h.id for h in search(ranked, "gilets jaunes").hits] == ["about", "review"]


def test_an_article_covering_every_word_outranks_one_repeating_one(ranked):
    assert [h.id for h in search(ranked, "police OR syndicats").hits] == ["both", "one"]


FORMS = [
        # Same stem, same length: only the form differs (élection / élections, one stem).
        {"id": "singular", "title": "Scrutin", "paragraphs": ["Le maire prépare une élection difficile cette année."]},
        {"id": "plural", "title": "Scrutin", "paragraphs": ["Le maire prépare des élections difficiles cette année."]},
        {"id": "far", "title": "Réseau", "paragraphs": ["La grève touche le réseau ferré depuis lundi dans tout "
                                                       "le pays, puis les cheminots ont rejoint le mouvement."]},
        {"id": "near", "title": "Réseau", "paragraphs": ["Depuis lundi dans tout le pays, la grève des cheminots "
                                                        "touche le réseau ferré et le mouvement grandit."]},
]


@pytest.fixture(scope="module", params=ENGINES)
def forms(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    yield from engine_home(request, tmp_path_factory.mktemp("forms"), [Article.from_record(r) for r in FORMS])


@pytest.fixture(scope="module")
def embedded_forms(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("forms-embedded")
    Archive(path).add_articles([Article.from_record(r) for r in FORMS])
    return path


@pytest.mark.parametrize(("query", "first"), [("élections", "plural"), ("élection", "singular"),
                                              ("elections", "plural"), ("ELECTION", "singular")])
def test_the_form_typed_ranks_first_and_its_stem_still_matches(forms, query, first):
    ids = [h.id for h in search(forms, query).hits]
    assert ids[0] == first
    assert sorted(ids) == ["plural", "singular"]


def test_the_form_bonus_is_a_share_of_the_stem_score(embedded_forms, monkeypatch):
    import importlib

    matching = importlib.import_module("archive.search.matching")
    with_bonus = search(embedded_forms, "élections").hits
    monkeypatch.setattr(matching, "EXACT_FORM_WEIGHT", 0.0)
    without = search(embedded_forms, "élections").hits
    assert without[0].score == pytest.approx(without[1].score)
    assert with_bonus[0].score > with_bonus[1].score


def test_proximity_when_switched_on_ranks_neighbouring_words_first(embedded_forms, monkeypatch):
    positions = importlib.import_module("archive.search.positions")

    def scores() -> dict[str, float]:
        return {h.id: h.score for h in search(embedded_forms, "grève cheminots").hits}

    off = scores()
    monkeypatch.setattr(positions, "PROXIMITY_WEIGHT", 1.0)
    on = scores()
    assert on["near"] > off["near"]  # grève des cheminots: two positions apart
    assert on["far"] == pytest.approx(off["far"])  # 13 positions apart, beyond the window of 8


@pytest.mark.parametrize("groups", [[1, 1, 3, 3, 3, 0], [3, 3, 1, 3, 0, 1]])  # side by side, or not
# Scores are compared as integer bits unless one is negative (whose bits order the other way).
@pytest.mark.parametrize("values", [[0.5, 2.0, 1.0, 4.0, 3.0, 0.25], [-0.5, -2.0, 1.0, -4.0, -3.0, 0.25]])
def test_max_by_group_takes_each_groups_largest_value(groups, values):
    values = np.array(values, dtype=np.float32)
    out = np.full(5, -1.0, dtype=np.float32)
    max_by_group(out, np.array(groups), values)
    expected = np.full(5, -1.0, dtype=np.float32)
    for g in set(groups):
        expected[g] = max(v for h, v in zip(groups, values) if h == g)
    assert out.tolist() == expected.tolist()


def test_a_query_cut_short_scores_only_what_each_word_matched(tmp_path, monkeypatch):
    matching = importlib.import_module("archive.search.matching")
    archive = Archive(tmp_path / "cut")
    archive.add_articles([Article.from_record({"id": i, "title": t, "paragraphs": [p]}) for i, t, p in [
        ("m1", "Un", "Il marche marche vite dans la rue du centre ville ce matin."),
        ("p1", "Deux", "Le prix du pain du lait de tout monte encore ce matin."),
        ("x1", "Trois", "Rien à voir ici avec le sujet du jour.")]])
    engine = engine_for(archive)
    with engine.live.pinned() as (snap, _):
        evaluator = matching.Evaluator(snap)
        matching.match(evaluator, parse_query('"marche" OR prix').root)
    # The last word's stem is past the budget; its exact form, read for the phrase, is not:
    # it must not score blocks the word no longer matches.
    monkeypatch.setattr(importlib.import_module("archive.search.scoring"), "MAX_POSTINGS", evaluator.spent - 1)
    results = search(archive, '"marche" OR prix OR marche')
    assert results.truncated
    assert [h.id for h in results.hits] == ["p1", "m1"]


@pytest.mark.parametrize("seed", range(20))
def test_intersecting_sorted_lists_finds_what_numpy_finds(seed):
    rng = np.random.default_rng(seed)
    # Block numbers (dense) and docnum << 32 | position (sparse), of unequal lengths.
    top = 1 << (40 if seed % 2 else 12)
    a = np.unique(rng.integers(0, top, int(rng.integers(0, 3000))))
    b = np.unique(np.concatenate([a[::int(rng.integers(1, 5))], rng.integers(0, top, int(rng.integers(0, 3000)))]))
    expected = np.intersect1d(a, b, assume_unique=True)
    assert intersect(a, b).tolist() == expected.tolist() == intersect(b, a).tolist()


@pytest.mark.parametrize(("sorted_count", "ids_count"), [(50, 5), (50, 5000), (5000, 50), (3000, 30000)])
def test_looking_ids_up_by_bitmap_or_bisection_finds_what_numpy_finds(sorted_count, ids_count):
    rng = np.random.default_rng(sorted_count + ids_count)
    held = np.unique(rng.integers(0, 100_000, sorted_count))
    # Some looked up below, inside and past the range (a phrase's second word, one place back, is -1).
    ids = np.concatenate([rng.integers(-5, 110_000, ids_count), [-1, 0, int(held[-1]), int(held[-1]) + 1]])
    assert contains(held, ids).tolist() == np.isin(ids, held).tolist()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.floats(0, 10, width=32)), max_size=40), st.booleans())
def test_blocks_group_into_articles_as_np_unique_says_in_order_or_not(pairs, in_order):
    # Blocks of an index built in aid order come with their aids in order (one pass); others do not.
    pairs = sorted(pairs, key=lambda p: p[0]) if in_order else pairs
    aid = np.array([a for a, _ in pairs], dtype=np.int32)
    scores = np.array([s for _, s in pairs], dtype=np.float32)
    found, inverse = grouped(aid)
    expected, expected_inverse = np.unique(aid, return_inverse=True)
    assert found.tolist() == expected.tolist() and inverse.tolist() == expected_inverse.tolist()
    match = Match(np.arange(len(aid)), scores, np.ones(len(aid), bool))
    articles, _, best = match.best(aid)
    assert articles.tolist() == expected.tolist()
    assert best.tolist() == [max(scores[aid == a]) for a in expected]


def test_a_query_cut_short_leaves_the_accents_of_later_searches_whole(tmp_path, monkeypatch):
    archive = Archive(tmp_path / "accents")
    archive.add_articles([Article.from_record({"id": i, "title": t, "paragraphs": [p]}) for i, t, p in [
        ("e1", "Un", "Le président parle aux élus du département ce matin."),
        ("e2", "Deux", "Le PRESIDENT du club et les élus de la ville.")]])
    assert [h.id for h in search(archive, "président").hits] == ["e1", "e2"]  # (capitals: no evidence against)
    archive.add_articles([Article.from_record({"id": "e3", "title": "Trois", "paragraphs": ["Le president."]})])
    # A new snapshot whose first search of the accented word runs out of budget on its way.
    monkeypatch.setattr(importlib.import_module("archive.search.scoring"), "MAX_POSTINGS", 0)
    search(archive, "élus OR président")
    monkeypatch.undo()
    assert [h.id for h in search(archive, "président").hits] == ["e1", "e2"]
