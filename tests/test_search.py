import datetime as dt
import re
from collections import Counter

import pytest

from archive.errors import BadParameter
from archive.home import Archive
from archive.model import Article
from archive.query import parse_query
from archive.search import engine_for, search
from archive.search.facets import facet_key
from tests.support import SEED_ID


def marked(results):
    return [m for h in results.hits for p in h.paragraphs for m in re.findall(r"<mark>(.*?)</mark>", p.html)]


@pytest.mark.parametrize("query, printed", [
    ("investir", "investissements"),
    ("developpement", "développement"),
    ("assemblee", "Assemblée"),
    ("oeuvre", "œuvre"),
    ("accroitre", "accroître"),
    ("R&D", "R&amp;D"),
    ("14e", "14e"),
    ("l'Assemblée", "Assemblée"),
    ('"Assemblée populaire nationale"', "Assemblée populaire nationale"),
    ("invest*", "investissements"),
])
def test_seed_queries_find_and_mark_the_printed_word(seeded, query, printed):
    results = search(seeded.home, query)
    assert results.total_articles == 1
    assert results.hits[0].id == SEED_ID
    assert printed in marked(results)


def test_investir_finds_the_rd_paragraph(seeded):
    hit = search(seeded.home, "investir").hits[0]
    assert [p.n for p in hit.paragraphs] == [3]
    assert hit.paragraphs[0].html.count("<mark>") == 3


def test_quoted_word_uses_the_exact_chain(seeded):
    results = search(seeded.home, '"investir"')
    assert marked(results) == ["investir"]
    assert "investissements" not in marked(results)
    assert search(seeded.home, '"investissements en R&D"').total_articles == 1
    assert search(seeded.home, '"investir en R&D"').total_articles == 0
    # An elided article typed without its apostrophe still makes the phrase.
    assert search(seeded.home, '"orientation en matière d innovation"').total_articles == 1
    assert search(seeded.home, '"orientation en matière d\'innovation"').total_articles == 1


def test_title_word_matches(seeded):
    results = search(seeded.home, "titre:milliards")
    assert results.total_articles == 1
    assert search(seeded.home, "titre:Kingsoft").total_articles == 0


def test_operators_and_dates(seeded):
    assert search(seeded.home, "Xiaomi OR introuvable").total_articles == 1
    assert search(seeded.home, "Xiaomi -Kingsoft").total_articles == 0
    assert search(seeded.home, "Xiaomi SAUF introuvable").total_articles == 1
    assert search(seeded.home, "Xiaomi date:2025").total_articles == 1
    assert search(seeded.home, "Xiaomi date:2019..2024").total_articles == 0
    assert search(seeded.home, "Xiaomi date:[2025-03 TO 2025-04]").total_articles == 1
    assert search(seeded.home, "", date_from="2025-03-06").total_articles == 0
    assert search(seeded.home, "", date_to=dt.date(2025, 3, 5)).total_articles == 1


@pytest.mark.parametrize("noise", ['"unbalanced', "((Xiaomi", "OR", "NOT", "-", ")(", "title:",
                                   "date:notadate", "Xiaomi " + "(&|!\"' " * 800])
def test_malformed_queries_degrade_instead_of_raising(seeded, noise):
    results = search(seeded.home, noise)
    assert results.total_articles in (0, 1)


def test_highlight_escapes_html(archive):
    archive.add_articles([Article.from_record({
        "id": "xss", "title": "Titre", "paragraphs": ["Le <script>alert(1)</script> investir ici."]})])
    html = search(archive.home, "investir").hits[0].paragraphs[0].html
    assert html == "Le &lt;script&gt;alert(1)&lt;/script&gt; <mark>investir</mark> ici."


def test_long_paragraphs_are_cut_around_the_match(archive):
    text = "Début. " + "mot " * 200 + "Lyon " + "autre " * 200
    archive.add_articles([Article.from_record({"id": "long", "title": "T", "paragraphs": [text]})])
    html = search(archive.home, "Lyon").hits[0].paragraphs[0].html
    assert html.startswith("…") and html.endswith("…")
    assert "<mark>Lyon</mark>" in html
    assert len(html) < 420


def test_parameters_are_validated(seeded):
    with pytest.raises(BadParameter):
        search(seeded.home, "x", per_page=0)
    with pytest.raises(BadParameter):
        search(seeded.home, "x", sort="random")
    with pytest.raises(BadParameter):
        search(seeded.home, "x", date_from="mars")


def test_json_contract_shape(seeded):
    d = search(seeded.home, "investir").to_dict()
    assert list(d) == ["query", "page", "per_page", "total_articles", "total_publications", "total_paragraphs", "hits",
                       "facets", "histogram", "suggestion", "explain", "truncated"]
    hit = d["hits"][0]
    assert list(hit) == ["id", "title", "title_html", "date", "source", "author", "tags", "url", "score",
                         "paragraphs", "more_paragraphs", "copies"]
    assert hit["copies"] == []
    assert hit["title_html"] == ("Lei Jun : Xiaomi <mark>investira</mark> 105 milliards de yuans en R&amp;D "
                                 "sur cinq ans")
    assert d["explain"] == [{"text": "investir", "role": "word", "terms": ["invest"]}]
    assert hit["date"] == "2025-03-05" and hit["paragraphs"][0]["n"] == 3
    assert d["facets"]["tags"] == [{"value": "chine", "count": 1, "selected": False, "variants": []},
                                   {"value": "économie", "count": 1, "selected": False, "variants": []},
                                   {"value": "technologie", "count": 1, "selected": False, "variants": []}]
    assert d["histogram"] == [{"year": 2025, "count": 1}]


def test_new_article_is_searchable_without_restart(seeded):
    assert search(seeded.home, "Grenoble").total_articles == 0
    seeded.add_articles([Article.from_record({"id": "g", "title": "Grenoble", "paragraphs": ["À Grenoble."]})])
    assert search(seeded.home, "Grenoble").total_articles == 1
    seeded.remove(["g"])
    assert search(seeded.home, "Grenoble").total_articles == 0


def test_query_parser_reads_fields_and_dates():
    q = parse_query('auteur:Dupont "état d’urgence" date:2019..2020 invest*')
    assert (q.date_from, q.date_to) == (dt.date(2019, 1, 1), dt.date(2020, 12, 31))
    kinds = [type(n).__name__ for n in q.root.children]
    assert kinds == ["Word", "Phrase", "Prefix"]


# ----------------------------------------------------------------- the 200-article sample

def _independent(home, predicate, tags=(), authors=()):
    """Count facet values among matching articles straight from the store."""
    arch = Archive(home)
    hits = [a for a in arch.store.iter_articles() if predicate(a)]
    hits = [a for a in hits if (not tags or set(tags) & set(a.tags))
            and (not authors or set(authors) & set(a.authors))]
    return hits


def test_empty_query_facets_equal_store_counts(sample_home):
    results = search(sample_home, "", per_page=5)
    arts = list(Archive(sample_home).store.iter_articles())
    assert results.total_articles == 200
    # Spellings that differ only by case or accents count as one value, each article once.
    assert {facet_key(v.value): v.count for v in results.facets["tags"]} == \
        dict(Counter(k for a in arts for k in {facet_key(t) for t in a.tags}))
    assert {facet_key(v.value): v.count for v in results.facets["author"]} == \
        dict(Counter(k for a in arts for k in {facet_key(x) for x in a.authors}))
    assert {v.value: v.count for v in results.facets["year"]} == dict(Counter(str(a.date.year) for a in arts if a.date))


@pytest.mark.parametrize("tags", [["politique"], ["societe", "monde"]])
def test_tag_selection_counts_and_other_values_stay(sample_home, tags):
    selected = search(sample_home, "", tag=tags)
    arts = list(Archive(sample_home).store.iter_articles())
    expected = [a for a in arts if set(tags) & set(a.tags)]
    assert selected.total_articles == len(expected)
    unselected = search(sample_home, "")
    # Each facet ignores its own selection: tag counts are those of the unselected search.
    assert [(v.value, v.count) for v in selected.facets["tags"]] == \
        [(v.value, v.count) for v in unselected.facets["tags"]]
    assert {v.value for v in selected.facets["tags"] if v.selected} == set(tags)
    assert {facet_key(v.value): v.count for v in selected.facets["author"]} == \
        dict(Counter(k for a in expected for k in {facet_key(x) for x in a.authors}))


def test_text_query_facets_equal_independent_counts(sample_home):
    results = search(sample_home, "France", tag="politique")
    engine_hits = search(sample_home, "France", tag="politique", per_page=100)
    ids = {h.id for h in engine_hits.hits}
    arts = Archive(sample_home).store.get_many(ids)
    assert results.total_articles == len(ids)
    assert {v.value: v.count for v in results.facets["author"]} == \
        dict(Counter(x for a in arts.values() for x in a.authors))
    for a in arts.values():
        assert "politique" in a.tags


def test_paging_covers_every_article_once(sample_home):
    total = search(sample_home, "gouvernement").total_articles
    assert total > 20
    seen = []
    for page in range(1, total // 7 + 2):
        seen += [h.id for h in search(sample_home, "gouvernement", per_page=7, page=page).hits]
    assert len(seen) == total == len(set(seen))


@pytest.mark.parametrize("sort", ["date", "-date"])
def test_sort_by_date_is_ordered(sample_home, sort):
    dates = [h.date for h in search(sample_home, "France", sort=sort, per_page=100).hits]
    assert dates == sorted(dates, reverse=(sort == "-date"))


def test_suggestion_uses_real_words_and_has_results(sample_home):
    engine_for(sample_home).warm()  # the vocabulary is built in the background
    results = search(sample_home, "gouvernemant")
    assert results.total_articles == 0
    assert results.suggestion == "gouvernement"
    assert search(sample_home, results.suggestion).total_articles > 0


def test_incremental_catalog_equals_a_fresh_one(sample_copy):
    from archive.search import Engine, SearchRequest

    arch = Archive(sample_copy)
    live = Engine(arch)
    live.search(SearchRequest())  # loads the catalog once
    first = next(arch.store.iter_articles())
    arch.add_articles([
        Article.from_record({"id": "new1", "title": "Neuf", "date": "2031-01-02", "author": "Zoé",
                             "tags": ["nouveau"], "paragraphs": ["Un texte neuf sur la France."]}),
        Article.from_record({**first.to_record(), "tags": ["changé"]}),
    ])
    arch.remove([sorted(r.id for r in arch.store.rows())[-1]])
    fresh = Engine(Archive(sample_copy))
    for query in ("", "France"):
        request = SearchRequest(query)
        assert live.search(request).to_dict() == fresh.search(request).to_dict()
    live.close()
    fresh.close()


def test_engine_for_follows_a_home_link_that_moves(tmp_path, monkeypatch):
    first, second = Archive(tmp_path / "a"), Archive(tmp_path / "b")
    link = tmp_path / "home"
    link.symlink_to(first.home)
    assert engine_for(link) is engine_for(first.home)
    assert engine_for(str(link)) is engine_for(first.home)
    link.unlink()
    link.symlink_to(second.home)
    assert engine_for(link) is engine_for(second.home)
    monkeypatch.chdir(tmp_path / "a")
    assert engine_for(".") is engine_for(first.home)
    monkeypatch.chdir(tmp_path / "b")
    assert engine_for(".") is engine_for(second.home)
    monkeypatch.setenv("ARCHIVE_HOME", str(first.home))
    assert engine_for(None) is engine_for(first.home)
