"""archive.search.marking: every surface marks the same spans of the same paragraph text.

Queries are drawn, deterministically, from the sample corpus's own words (as printed,
folded, quoted, as phrases, prefixes, fuzzy words, alternatives, exclusions, titles);
for each, the result page (the engine's hits), the command line (``archive search
--json``), the reading view (``Engine.read``) and the concordance
(``archive.research.concordance``) must mark the same spans of each paragraph.
"""

from __future__ import annotations

import html
import itertools
import json
import random
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from archive.analysis import FRENCH, STOP_WORDS, WORD_RE, fold
from archive.cli import cli
from archive.research import concordance
from archive.research.kwic import MAX_LINES_PER_PAGE
from archive.search import Engine, MarkPlan, SearchRequest, Spans
from tests.support import corpus_file

_LETTERS = re.compile(r"[^\W\d_]{3,}")
_MARK = re.compile(r"(<mark>|</mark>)")
_QUERIES = 40


def _queries() -> list[str]:
    """Return queries built from the sample's words, the same on every run."""
    rng = random.Random(21)
    records = [json.loads(line) for line in corpus_file("news-fr-sample.jsonl").read_text("utf-8").splitlines()]
    paragraphs = [p for r in records for p in r["paragraphs"]]
    titles = [r["title"] for r in records]

    def words(text: str) -> list[str]:
        return [w for w in WORD_RE.findall(text) if _LETTERS.fullmatch(w) and w.lower() not in STOP_WORDS]

    out: list[str] = []
    while len(out) < _QUERIES:
        paragraph = rng.choice(paragraphs)
        found = words(paragraph)
        tokens = WORD_RE.findall(paragraph)
        # Neighbours in the text (stop words included), for phrases.
        pair = [(a, b) for a, b in itertools.pairwise(tokens) if _LETTERS.fullmatch(a) and _LETTERS.fullmatch(b)]
        if len(found) < 2 or not pair:
            continue
        one, two = rng.sample(found, 2)
        kind = len(out) % 10
        if kind == 0:
            out.append(one)                                  # as printed (accents, capitals)
        elif kind == 1:
            out.append(fold(one.lower()))                    # folded: every spelling
        elif kind == 2:
            out.append(f'"{one}"')                           # a quoted term: no other forms
        elif kind == 3:
            a, b = rng.choice(pair)
            out.append(f'"{a} {b}"')                         # a phrase
        elif kind == 4:
            out.append(f"{one[:4].lower()}*")                # a prefix
        elif kind == 5:
            out.append(f"{one}~" if len(one) > 4 else one)   # a fuzzy word
        elif kind == 6:
            out.append(f"{one} OR {two}")
        elif kind == 7:
            out.append(f"{one} {two}")
        elif kind == 8:
            title = words(rng.choice(titles))
            out.append(f"titre:{title[0]} {one}" if title else one)
        else:
            a, b = rng.choice(pair)
            out.append(f'"{a} {b}"~3 {one}')                 # proximity beside a word
    return out


def _window(spans: Spans, start: int, end: int) -> Spans:
    """Return the spans inside a window of a paragraph, as a result page cuts them."""
    return tuple((max(s, start) - start, min(e, end) - start) for s, e in spans if e > start and s < end)


def _unmarked(fragment: str) -> tuple[str, Spans]:
    """Return the text of an HTML fragment and the spans its ``<mark>`` elements held."""
    text, spans, opened = "", [], 0
    for piece in _MARK.split(fragment):
        if piece == "<mark>":
            opened = len(text)
        elif piece == "</mark>":
            spans.append((opened, len(text)))
        else:
            text += html.unescape(piece)
    return text, tuple(spans)


@pytest.fixture(scope="module")
def queries() -> list[str]:
    return _queries()


def test_queries_are_drawn_from_the_sample(queries):
    assert len(queries) == _QUERIES and len(set(queries)) >= _QUERIES - 2
    assert any(q.endswith("*") for q in queries) and any(q.startswith('"') for q in queries)


@pytest.fixture
def sample_engine(sample_home: Path) -> Iterator[Engine]:
    """An engine on the sample home, closed after the test (never left to the garbage collector's timing)."""
    engine = Engine(sample_home)
    yield engine
    engine.close()


@pytest.mark.parametrize("k", range(_QUERIES))
def test_every_surface_marks_the_same_spans(sample_home: Path, sample_engine: Engine, runner, queries, k):
    query = queries[k]
    engine = sample_engine
    request = SearchRequest.build(query, per_page=100)
    results = engine.search(request, suggestion=False)
    # The command line prints the same page (its JSON contract: each paragraph's window in HTML).
    printed = runner.invoke(cli, ["--home", str(sample_home), "search", "--json", "--per-page", "100", query])
    assert printed.exit_code == 0, printed.output
    cli_hits = json.loads(printed.output)["hits"]
    assert [h["id"] for h in cli_hits] == [h.id for h in results.hits]
    views: dict[tuple[str, int], tuple[str, Spans]] = {}
    titles: dict[str, Spans] = {}

    def marked(article_id: str, n: int) -> tuple[str, Spans]:
        """Return a paragraph's text and spans as the reading view marks them."""
        if (article_id, n) not in views:
            view = engine.read(article_id, query, at=n)
            views.update({(article_id, view.first + i): (b.text, s) for i, (b, s) in enumerate(view.blocks)})
            titles[article_id] = view.title_spans
        return views[(article_id, n)]

    checked = 0
    for hit, printed_hit in zip(results.hits, cli_hits):
        assert _unmarked(printed_hit["title_html"]) == (hit.title, hit.title_spans)
        for p, shown in zip(hit.paragraphs, printed_hit["paragraphs"], strict=True):
            text, spans = marked(hit.id, p.n)
            assert titles[hit.id] == hit.title_spans, (query, hit.id)
            start = text.find(p.text) if p.clipped_start else 0
            assert text[start:start + len(p.text)] == p.text
            assert p.spans == _window(spans, start, start + len(p.text)), (query, hit.id, p.n)
            before, after = "…" if p.clipped_start else "", "…" if p.clipped_end else ""
            assert _unmarked(shown["html"]) == (before + p.text + after,
                                                tuple((s + len(before), e + len(before)) for s, e in p.spans))
            checked += len(spans)
    # The concordance: one line per span, each the reading view's span of the same paragraph.
    page, lines = 1, []
    while True:
        found = concordance(engine, request, width=80, page=page, per_page=MAX_LINES_PER_PAGE)
        lines += found.lines
        if page >= found.pages or page == 5:
            break
        page += 1
    complete = len(lines) == found.total
    by_paragraph: dict[tuple[str, int], list[tuple[str, str, str]]] = {}
    for line in lines:
        by_paragraph.setdefault((line.id, line.n), []).append((line.left, line.match, line.right))
    if not complete:  # (the last paragraph read may go on past the pages read)
        by_paragraph.pop((lines[-1].id, lines[-1].n))
    for (article_id, n), got in by_paragraph.items():
        text, spans = marked(article_id, n)
        assert len(got) == len(spans), (query, article_id, n)
        for (left, match, right), (s, e) in zip(got, spans):
            assert match == text[s:e] and text[:s].endswith(left) and text[e:].startswith(right), (query, s, e)
    assert checked or not results.hits or not any(p.spans for h in results.hits for p in h.paragraphs)


def test_a_plan_marks_paragraphs_and_titles():
    from archive.query import parse_query

    plan = MarkPlan.of(parse_query('investir "état d\'urgence"').root, FRENCH)
    text = "L’État d’urgence freine les investissements."
    assert plan.spans(text) == ((2, 16), (28, 43))
    assert plan.title_spans(text) == ((2, 16), (28, 43))
    assert plan.spans("rien ici") == () and bool(plan)
    title_only = MarkPlan.of(parse_query('titre:"état d\'urgence"').root, FRENCH)
    assert title_only.spans(text) == () and title_only.title_spans(text) == ((2, 16),)
    assert not MarkPlan.of(None)


def test_the_same_query_reuses_its_plan_and_other_expansions_get_their_own():
    from archive.query import parse_query

    # Paging or filtering a result list asks for the plan of the same query again.
    first = MarkPlan.of(parse_query("reforme~").root, FRENCH, {"reforme~": ["reforme"]})
    assert MarkPlan.of(parse_query("reforme~").root, FRENCH, {"reforme~": ["reforme"]}) is first
    other = MarkPlan.of(parse_query("reforme~").root, FRENCH, {"reforme~": ["reformes"]})
    assert other is not first
    text = "Une réforme, deux réformes."
    assert first.spans(text) == ((4, 11),) and other.spans(text) == ((18, 26),)
