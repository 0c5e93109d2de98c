"""The reading view's windows: a 30,000-paragraph article is read, marked and related a window at a time."""

from __future__ import annotations

import importlib

import pytest

from archive.home import Archive
from archive.model import Article
from archive.search import READING_WINDOW, ArticleView, Engine
from tests.support import HUGE_EVERY, HUGE_ID, HUGE_PARAGRAPHS, SEED_ID

PLATYPUS = tuple(range(HUGE_EVERY - 1, HUGE_PARAGRAPHS, HUGE_EVERY))  # 0-based blocks


@pytest.fixture(scope="module")
def engine(huge_home):
    engine = Engine(huge_home)
    yield engine
    engine.close()


def test_a_huge_article_is_read_one_window_at_a_time(engine):
    view = engine.read(HUGE_ID)
    assert (view.first, view.total, len(view.blocks), view.windowed) == (0, HUGE_PARAGRAPHS, READING_WINDOW, True)
    assert [b.text for b, _ in view.blocks[:1]] == ["La séance continue."]
    assert view.article.title == "Compte rendu intégral de la séance"


def test_a_query_opens_the_window_of_its_first_match(engine):
    view = engine.read(HUGE_ID, "ornithorynque")
    assert view.matching == PLATYPUS
    assert view.first == 800
    marked = [n + view.first for n, (_, spans) in enumerate(view.blocks) if spans]
    assert marked == [999]
    assert view.windows() == [(n // READING_WINDOW * READING_WINDOW, 1) for n in PLATYPUS]


@pytest.mark.parametrize("at, first", [(24_999, 24_800), (200, 200), (0, 0), (HUGE_PARAGRAPHS - 1, 29_800),
                                       (10 ** 9, 29_800)])
def test_a_paragraph_asked_for_opens_its_window(engine, at, first):
    view = engine.read(HUGE_ID, "ornithorynque", at)
    assert view.first == first
    assert len(view.blocks) == READING_WINDOW
    assert view.matching == PLATYPUS  # the whole article's matches, whatever the window


def test_a_short_article_is_shown_whole(huge_home):
    engine = Engine(huge_home)
    view = engine.read(SEED_ID, "investir")
    assert not view.windowed and view.first == 0 and len(view.blocks) == view.total
    assert view.matching == (3,)
    engine.close()


def test_headings_keep_their_place_in_a_window(archive):
    paragraphs = [f"Alinéa {n}." for n in range(450)]
    archive.add_articles([Article.from_record({"id": "long", "title": "Un long texte", "paragraphs": paragraphs,
                                               "headings": [0, 250, 449]})])
    view = Engine(archive).read("long", at=250)
    assert view.first == 200
    assert [n + view.first for n, (b, _) in enumerate(view.blocks) if b.heading] == [250]
    last = Engine(archive).read("long", at=449)
    assert (last.first, len(last.blocks), last.blocks[-1][0].heading) == (400, 50, True)


def test_an_earlier_version_is_cut_to_a_window_too():
    article = Article.from_record({"id": "v1", "title": "Version", "paragraphs": [f"P{n}." for n in range(500)]})
    view = ArticleView.unmarked(article, 450)
    assert (view.first, view.total, [b.text for b, _ in view.blocks[:1]]) == (400, 500, ["P400."])


def test_related_articles_look_at_a_bounded_text(huge_home, monkeypatch):
    engine_module = importlib.import_module("archive.search.engine")
    from whoosh.searching import Searcher

    seen: list[int] = []
    original = Searcher.key_terms_from_text
    monkeypatch.setattr(Searcher, "key_terms_from_text",
                        lambda self, field, text, **kw: seen.append(len(text)) or original(self, field, text, **kw))
    engine = Engine(Archive(huge_home))
    engine.related(HUGE_ID)
    assert seen and max(seen) <= engine_module.RELATED_CHARS
    engine.close()
