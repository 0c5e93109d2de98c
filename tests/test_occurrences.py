"""archive.search.occurrences: the highlighter's marks per paragraph, counted in the index."""

from __future__ import annotations

import pytest

from archive import Archive, Article
from archive.analysis import FRENCH
from archive.search import SearchRequest, engine_for
from archive.search.highlight import Marks
from archive.search.occurrences import UNKNOWN, count_marks

ARTICLES = {
    # Its title holds the word: block 0's accent terms hold the title's forms too.
    "vote": ("Élection présidentielle", ["L'élection est fixée. Les ÉLECTIONS et les Élections.",
                                         "Une election sans accent, puis une élection.",
                                         "Le gouvernement et les gouvernements gouvernent."]),
    "table": ("Sûr de rien", ["Il est sûr que SUR la table, sur le mur.",
                              "L’état d’urgence, l’urgence et l’État d’urgence sanitaire.",
                              "la la la la"]),
    "coeur": ("Au cœur", ["Le cœur et le COEUR, la Straße.",
                          "Les investisseurs investissent ; un investissement."]),
    "gouv": ("Annonce", ["Le Gouvernement a annoncé un plan.", "GOUVERNEMENT : le gouvernement consulte."]),
}

QUERIES = ["gouvernement", "élection", "election", "sûr", "urgence", '"état d\'urgence" urgence',
           '"la la"', "cœur", "invest*", "gouvernemnt~", "élection OR gouvernement", "Straße",
           "cœur -gouvernement", '"le gouvernement"']


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("occurrences")
    Archive(path).add_articles([Article.from_record({"id": i, "title": t, "paragraphs": p})
                                for i, (t, p) in ARTICLES.items()])
    return path


def _counts(home, query: str) -> tuple[list[tuple[str, int]], list[int], list[int]]:
    """Return the selected blocks, the index's counts and the highlighter's."""
    engine = engine_for(home)
    request = SearchRequest.build(query)
    selection = engine.select(request, blocks=True, per_block=count_marks)
    marks = Marks.of(request.parsed.root, FRENCH, selection.expanded)
    blocks = [(selection.ids[a], n) for a, n in zip(selection.block_article.tolist(), selection.block_n.tolist())]
    texts = [engine.archive.store.get(i).blocks[n].text for i, n in blocks]
    assert selection.block_values is not None
    return blocks, selection.block_values.tolist(), [len(marks.spans(t)) for t in texts]


@pytest.mark.parametrize("query", QUERIES)
def test_index_counts_are_the_highlighters_where_known(home, query):
    blocks, counts, truth = _counts(home, query)
    assert blocks
    assert [c for c, t in zip(counts, truth) if c != UNKNOWN and c != t] == []


def test_counts_of_words_phrases_and_typed_accents(home):
    # vote/2: gouvernement, gouvernements (Snowball leaves "gouvernent" a stem of its own);
    # gouv/0: Gouvernement; gouv/1: GOUVERNEMENT and gouvernement.
    assert _counts(home, "gouvernement")[1:] == ([2, 1, 2], [2, 1, 2])
    assert _counts(home, "gouvernement")[0] == [("vote", 2), ("gouv", 0), ("gouv", 1)]
    # Typed with its accent: not "election"; block 0 shares its accent terms with the title.
    assert _counts(home, "élection")[1:] == ([UNKNOWN, 1], [3, 1])
    assert _counts(home, "election")[1:] == ([3, 2], [3, 2])
    # The phrase's span swallows the word "urgence" inside it; the other one stands alone.
    assert _counts(home, '"état d\'urgence" urgence')[1:] == ([3], [3])
    # "la la la la": the overlapping occurrences make one span.
    assert _counts(home, '"la la"')[1:] == ([1], [1])
    assert _counts(home, "invest*")[1:] == ([3], [3])
    assert _counts(home, "cœur")[1:] == ([2], [2])


def test_stop_word_forms_typed_with_accents_are_left_to_the_text(home):
    # "SUR" agrees with a typed "sûr" (a capital drops accents), "sur" does not: the
    # index has no form for stop words, so those blocks are read.
    assert _counts(home, "sûr")[1:] == ([UNKNOWN], [2])


@pytest.mark.parametrize("query", ["gouvernement", "France", "santé", '"premier ministre"', "État",
                                   "président OR ministre", "grève SNCF", "être", "a"])
def test_sample_index_counts_are_the_highlighters(sample_home, query):
    blocks, counts, truth = _counts(sample_home, query)
    known = [(c, t) for c, t in zip(counts, truth) if c != UNKNOWN]
    assert [c for c, t in known] == [t for c, t in known]
    # The index leaves open only block 0s, whose accent terms include the title's words.
    assert [n for (_, n), c in zip(blocks, counts) if c == UNKNOWN and n != 0] == []


@pytest.mark.parametrize("limit", [1, 2])
def test_counts_hold_when_expansions_are_cut_short(home, monkeypatch, limit):
    # Past MAX_TERMS forms or terms, what the index cannot account for is left to the text.
    from archive.search import occurrences

    monkeypatch.setattr(occurrences, "MAX_TERMS", limit)
    unknown = 0
    for query in QUERIES:
        _, counts, truth = _counts(home, query)
        assert [c for c, t in zip(counts, truth) if c != UNKNOWN and c != t] == [], query
        unknown += counts.count(UNKNOWN)
    assert unknown >= 5
