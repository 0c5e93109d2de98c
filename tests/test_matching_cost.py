"""What matching costs: a query touches the blocks its words' postings hold, not the archive."""

from __future__ import annotations

import importlib

import pytest

from archive import Archive, Article, search
from archive.query import parse_query
from archive.search.engine import engine_for
from archive.search.matching import Evaluator, match

FILLER = 200  # articles of three paragraphs each that the rare word is not in


def _articles() -> list[Article]:
    out = [Article.from_record({"id": f"f{i}", "title": f"Chronique {i}", "date": f"2019-01-{1 + i % 28:02d}",
                                "tags": ["police"] if i % 2 else ["social"],
                                "paragraphs": ["La police a encerclé la place.", f"Le conseil numéro {i} siège.",
                                               "Les manifestants sont restés calmes."]})
           for i in range(FILLER)]
    out.append(Article.from_record({"id": "rare", "title": "Le zorglub", "date": "2020-03-04", "tags": ["social"],
                                    "paragraphs": ["Un zorglub est apparu.", "La police enquête.",
                                                   "Rien d'autre."]}))
    return out


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("cost")
    Archive(path).add_articles(_articles())
    return path


def _touched(home, query: str) -> tuple[int, int, int]:
    """Return the blocks a query's evaluation touched, the blocks it matched, and the archive's blocks."""
    with engine_for(home).live.pinned() as (snap, _):
        evaluator = Evaluator(snap)
        found = match(evaluator, parse_query(query).root)
        assert found is not None
        return evaluator.touched, len(found), snap.size


def test_a_rare_word_touches_only_its_blocks(home):
    touched, matched, size = _touched(home, "zorglub")
    # Its title lifts to the article's 3 blocks; its paragraph is one of them.
    assert (touched, matched, size) == (3, 3, 3 * (FILLER + 1))


def test_a_frequent_word_beside_a_rare_one_is_read_within_the_rare_ones_articles(home):
    for query in ("zorglub police", "police zorglub"):
        touched, matched, _ = _touched(home, query)
        # zorglub: 3 blocks (its title lifted); police: its one paragraph in that article, not its
        # 201 (one per article); their AND: the rare article's 3 blocks.
        assert (touched, matched) == (3 + 1 + 3, 3)


def test_a_word_read_within_other_words_articles_ranks_as_read_whole(home):
    # Under an OR (here with a word found nowhere), the AND's words are read whole.
    for query in ("police zorglub", "police apparu zorglub", "calmes zorglub police"):
        within = search(home, query, per_page=50)
        whole = search(home, f"({query}) OR qwxyzz", per_page=50)
        assert [(h.id, h.score) for h in within.hits] == [(h.id, h.score) for h in whole.hits]
        assert (within.total_articles, within.total_paragraphs) == (whole.total_articles, whole.total_paragraphs)


def test_sparse_matching_keeps_counts_facets_and_exclusions(home):
    results = search(home, "zorglub", per_page=5)
    assert [h.id for h in results.hits] == ["rare"]
    assert (results.total_articles, results.total_paragraphs) == (1, 1)
    assert [(v.value, v.count) for v in results.facets["tags"]] == [("social", 1)]
    assert [(v.value, v.count) for v in results.facets["year"]] == [("2020", 1)]
    assert search(home, "police -zorglub", per_page=1).total_articles == FILLER
    assert search(home, "police", tag="police", per_page=1).total_articles == FILLER // 2
    assert search(home, "police", date_from="2020-01-01", per_page=1).total_articles == 1
    everything = search(home, "-zorglub", per_page=1)
    assert (everything.total_articles, len(everything.days), everything.histogram) == (FILLER, FILLER, [(2019, FILLER)])


def test_a_title_word_spends_its_title_postings_only(tmp_path, monkeypatch):
    # Ordering an AND's words reads their postings: a title: word's text lists are not its own.
    archive = Archive(tmp_path / "titles")
    archive.add_articles([Article.from_record({"id": f"a{i}", "title": f"Police et ministre {i}", "date": "2020-01-01",
                                               "paragraphs": ["La police et le ministre."] * 5}) for i in range(40)])
    monkeypatch.setattr(importlib.import_module("archive.search.scoring"), "MAX_POSTINGS", 130)
    results = search(archive.home, "title:police title:ministre", per_page=5)
    assert (results.total_articles, results.truncated) == (40, False)
