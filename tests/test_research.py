"""archive.research: trends, timeline periods, concordance, exports, feed, citing."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from xml.etree import ElementTree as ET

import pytest

from archive.analysis import FRENCH, WORD_RE, fold
from archive.home import Archive
from archive.model import Article
from archive.research import (
    atom,
    concordance,
    export,
    export_filename,
    highwire,
    reference,
    ris,
    trend,
)
from archive.research.exports import iramuteq_header, iramuteq_value
from archive.research.kwic import left_context, right_context
from archive.research.periods import choose_by, count_periods, key_of, period_bounds, period_label
from archive.search import SearchRequest, close_engines, engine_for
from archive.search.highlight import Marks
from tests.support import RECORDS


# Years 2011, 2014 and 2015 with nothing between: the histogram must show 2012 and 2013.
def _req(q: str = "", **kw) -> SearchRequest:
    return SearchRequest.build(q, **kw)


# -- periods and timeline -------------------------------------------------------------

def test_period_keys_labels_and_bounds_follow_on():
    import numpy as np

    days = np.array([dt.date(2019, 12, 31).toordinal(), dt.date(2020, 1, 1).toordinal()])
    first, last = key_of(dt.date(2019, 12, 1), "month"), key_of(dt.date(2020, 1, 1), "month")
    assert last == first + 1
    assert count_periods(days, "month", first, last).tolist() == [1, 1]
    assert [period_label(k, "month") for k in (first, last)] == ["2019-12", "2020-01"]
    assert period_bounds(key_of(dt.date(2020, 2, 5), "month"), "month") == (dt.date(2020, 2, 1),
                                                                            dt.date(2020, 2, 29))
    assert period_label(dt.date(2020, 3, 17).toordinal(), "day") == "2020-03-17"
    assert choose_by(dt.date(2020, 1, 1), dt.date(2020, 2, 1)) == "day"
    assert choose_by(dt.date(2011, 1, 1), dt.date(2020, 2, 1)) == "month"
    assert choose_by(dt.date(1950, 1, 1), dt.date(2020, 2, 1)) == "year"


def test_histogram_has_no_holes(research_home):
    results = engine_for(research_home).search(_req("grève"))
    assert results.histogram == [(2011, 1), (2012, 0), (2013, 0), (2014, 1), (2015, 1)]
    assert results.to_dict()["histogram"][1] == {"year": 2012, "count": 0}
    # The selected range stays inside the span, and days feed the months and days levels.
    picked = engine_for(research_home).search(_req("grève", date_from="2015", date_to="2015"))
    assert picked.total_articles == 1 and [y for y, _ in picked.histogram] == [2011, 2012, 2013, 2014, 2015]
    assert sorted(picked.days.tolist()) == sorted(dt.date.fromisoformat(d).toordinal()
                                                  for d in ("2011-05-03", "2014-02-10", "2015-02-11"))


def test_sample_histogram_is_contiguous(sample_home):
    years = [y for y, _ in engine_for(sample_home).search(_req("France")).histogram]
    assert years == list(range(years[0], years[-1] + 1))


# -- trends ---------------------------------------------------------------------------

def test_trend_counts_shares_and_totals(research_home):
    engine = engine_for(research_home)
    result = trend(engine, [_req("grève"), _req("télétravail")], "year")
    assert result.by == "year"
    grève, télé = result.series
    assert [p.period for p in grève.points] == ["2011", "2012", "2013", "2014", "2015"]
    assert [p.count for p in grève.points] == [1, 0, 0, 1, 1]
    assert [p.total for p in grève.points] == [1, 0, 0, 1, 2]
    assert [p.share for p in grève.points] == [1.0, 0.0, 0.0, 1.0, 0.5]
    assert (grève.total_articles, grève.undated) == (4, 1)  # the undated article counts, in no period
    assert [p.count for p in télé.points] == [0, 0, 0, 0, 1]
    assert result.to_dict()["series"][1]["points"][-1] == {"period": "2015", "count": 1, "share": 0.5}
    assert result.rows()[0] == ["period", "grève (count)", "grève (share)", "télétravail (count)",
                                "télétravail (share)"]


@pytest.mark.parametrize("by", ["year", "month", "day"])
def test_sample_trend_adds_up_to_search_totals_and_is_contiguous(sample_home, by):
    engine = engine_for(sample_home)
    filters = {"tag": "france"}
    requests = [_req(q, **filters) for q in ("France", "gouvernement", '"premier ministre"', "santé OR virus")]
    result = trend(engine, requests, by)
    for r, series in zip(requests, result.series):
        total = engine.search(r).total_articles
        assert series.total_articles == total
        assert sum(p.count for p in series.points) + series.undated == total
    starts = [p.start for p in result.series[0].points]
    for before, after in zip(result.series[0].points, result.series[0].points[1:]):
        assert after.start == before.end + dt.timedelta(days=1)
    assert [p.period for p in result.series[0].points] == [period_label(key_of(s, by), by) for s in starts]


def test_sample_trend_shares_are_counts_over_period_totals(sample_home):
    engine = engine_for(sample_home)
    result = trend(engine, [_req("gouvernement")], "month")
    checked = 0
    for p in result.series[0].points:
        if not p.count:
            continue
        whole = engine.search(_req(date_from=p.start, date_to=p.end, per_page=1)).total_articles
        assert p.total == whole and p.share == p.count / whole
        checked += 1
    assert checked >= 3


def test_trend_validates(research_home):
    from archive import BadParameter

    with pytest.raises(BadParameter):
        trend(engine_for(research_home), [_req(str(i)) for i in range(5)])
    with pytest.raises(BadParameter):
        trend(engine_for(research_home), [])


# -- concordance ----------------------------------------------------------------------

def test_concordance_lines_are_the_query_forms_in_context(research_home):
    kwic = concordance(engine_for(research_home), _req("grève"), width=22)
    assert kwic.total == 6
    assert [(line.id, line.n, line.match) for line in kwic.lines] == [
        ("g1", 0, "grève"), ("g1", 1, "grèves"), ("g2", 0, "grève"), ("g3", 0, "grève"), ("g3", 1, "Grève"),
        ("g5", 0, "grève")]
    first = kwic.lines[0]
    assert (first.left, first.right) == ("Les cheminots sont en ", " depuis lundi.")
    assert kwic.to_dict()["lines"][0]["date"] == "2011-05-03"
    # Sorted by the folded word after (depuis, etoile, non…) or before ("" at a paragraph's start, des, en…).
    right = concordance(engine_for(research_home), _req("grève"), sort="right", per_page=3)
    assert [(line.id, line.n) for line in right.lines] == [("g1", 0), ("g1", 1), ("g3", 1)]
    left = concordance(engine_for(research_home), _req("grève"), sort="left", per_page=3)
    assert [(line.id, line.n) for line in left.lines] == [("g3", 1), ("g1", 1), ("g1", 0)]


def test_concordance_pages_cover_every_line_once(research_home):
    engine = engine_for(research_home)
    seen = []
    for page in (1, 2, 3):
        seen += [(line.id, line.n, line.match) for line in
                 concordance(engine, _req("grève"), per_page=2, page=page).lines]
    assert len(seen) == len(set(seen)) == 6


def test_concordance_of_phrases_and_several_words(research_home):
    def lines(query: str) -> tuple[int, list[tuple[str, int, str, str]]]:
        kwic = concordance(engine_for(research_home), _req(query), width=20)
        return kwic.total, [(x.id, x.n, x.left, x.match) for x in kwic.lines]

    # Both parts in the article (its title says grève): a line for each, the phrase whole.
    assert lines('"la SNCF" grève') == (3, [("g1", 0, "cheminots sont en ", "grève"), ("g1", 1, "", "La SNCF"),
                                           ("g1", 1, "La SNCF prévoit des ", "grèves")])
    assert lines("cheminots grève")[0] == 3
    assert lines("grève OR cheminots") == (7, [
        ("g1", 0, "Les ", "cheminots"), ("g1", 0, "cheminots sont en ", "grève"),
        ("g1", 1, "La SNCF prévoit des ", "grèves"), ("g2", 0, "Une ", "grève"), ("g3", 0, "progresse, la ", "grève"),
        ("g3", 1, "", "Grève"), ("g5", 0, "Une ", "grève")])
    assert lines('"grève reconductible"') == (1, [("g2", 0, "Une ", "grève reconductible")])
    assert lines("grève -SNCF")[0] == 4  # g1 and its SNCF left out


def test_sample_concordance_matches_are_forms_of_the_query(sample_home):
    engine = engine_for(sample_home)
    request = _req("gouvernement")
    terms = set(request.parsed.root.terms)
    kwic = concordance(engine, request, per_page=200)
    assert kwic.total >= 50
    for line in kwic.lines:
        assert set(FRENCH.word(line.match).search) & terms, line
    phrase = concordance(engine, _req('"premier ministre"'), per_page=200)
    assert phrase.total and all(FRENCH.exact_terms(line.match) == ["premier", "ministre"]
                                for line in phrase.lines)


def _every_occurrence(engine, request) -> list[tuple[str, int, int, int, str]]:
    """Return every occurrence in date order as the full scan finds it: the highlighter on every paragraph."""
    selection = engine.select(request, blocks=True)
    marks = Marks.of(request.parsed.root, FRENCH, selection.expanded)
    out = []
    for a, n in zip(selection.block_article.tolist(), selection.block_n.tolist()):
        text = engine.archive.store.get(selection.ids[a]).blocks[n].text
        out += [(selection.ids[a], n, s, e, text) for s, e in marks.spans(text)]
    return out


def _line(occurrence: tuple[str, int, int, int, str], width: int = 60) -> tuple[str, int, str, str, str]:
    article_id, n, s, e, text = occurrence
    return article_id, n, left_context(text, s, width), text[s:e], right_context(text, e, width)


SAMPLE_QUERIES = ["gouvernement", "France", "santé", "État", "grève SNCF", '"premier ministre"',
                  '"premier ministre" gouvernement', "président OR ministre", "invest*", "Macron -retraites"]


@pytest.mark.parametrize("query", SAMPLE_QUERIES)
def test_sample_concordance_counted_in_the_index_is_the_full_scan(sample_home, query):
    request = _req(query)
    every = [_line(o) for o in _every_occurrence(engine_for(sample_home), request)]
    assert len(every) >= 10
    per_page = 7
    pages = -(-len(every) // per_page)
    for page in sorted({1, 2, pages // 2, pages} & set(range(1, pages + 1))):
        close_engines()  # a fresh engine: nothing counted or scanned before
        kwic = concordance(engine_for(sample_home), request, page=page, per_page=per_page)
        assert kwic.total == len(every)
        lines = [(x.id, x.n, x.left, x.match, x.right) for x in kwic.lines]
        assert lines == every[(page - 1) * per_page:page * per_page]
    # Reading every page in turn gives every occurrence once, in date order.
    engine = engine_for(sample_home)
    seen = [(x.id, x.n, x.left, x.match, x.right) for page in range(1, pages + 1)
            for x in concordance(engine, request, page=page, per_page=per_page).lines]
    assert seen == every


@pytest.mark.parametrize("query", ["gouvernement", "État", '"premier ministre"'])
def test_sample_concordance_sorted_by_a_neighbouring_word(sample_home, query):
    request = _req(query)
    every = _every_occurrence(engine_for(sample_home), request)
    words = [(fold(WORD_RE.findall(text[:s])[-1].lower()) if WORD_RE.findall(text[:s]) else "",
              fold(WORD_RE.findall(text[e:])[0].lower()) if WORD_RE.findall(text[e:]) else "")
             for _, _, s, e, text in every]
    for sort, side in (("left", 0), ("right", 1)):
        expected = [_line(every[i]) for i in sorted(range(len(every)), key=lambda i: words[i][side])]
        for page in (1, 3):
            kwic = concordance(engine_for(sample_home), request, page=page, per_page=10, sort=sort)
            assert kwic.total == len(every)
            assert [(x.id, x.n, x.left, x.match, x.right) for x in kwic.lines] == expected[(page - 1) * 10:page * 10]


def test_sample_concordance_page_reads_only_its_paragraphs(sample_home, monkeypatch):
    engine = engine_for(sample_home)
    read: list[tuple[str, int]] = []
    original = engine.paragraphs

    def paragraphs(wanted, *rest):
        read.extend(wanted)
        return original(wanted, *rest)

    monkeypatch.setattr(engine, "paragraphs", paragraphs)
    kwic = concordance(engine, _req("gouvernement"), page=3, per_page=5)
    assert kwic.total >= 50
    assert read == list(dict.fromkeys((x.id, x.n) for x in kwic.lines))
    read.clear()
    concordance(engine, _req("gouvernement"), page=4, per_page=5)  # counted already: reads its page
    assert len(read) <= 5


def test_concordance_reads_the_store_when_the_index_lags(research_home):
    # The store says more than the index (an update not yet indexed): the page's paragraph
    # has two occurrences where the index counted one, and the concordance scans the text.
    research_home.store.db.execute(
        "UPDATE articles SET record = json_set(record, '$.paragraphs[0]', 'Plus de grève, jamais de grève.')"
        " WHERE id = 'g1'")
    kwic = concordance(engine_for(research_home), _req("grève"), per_page=3)
    assert kwic.total == 7
    assert [(x.id, x.n, x.left, x.match) for x in kwic.lines] == [
        ("g1", 0, "Plus de ", "grève"), ("g1", 0, "Plus de grève, jamais de ", "grève"),
        ("g1", 1, "La SNCF prévoit des ", "grèves")]


# -- exports --------------------------------------------------------------------------

def test_iramuteq_export_has_one_header_per_article_with_accepted_values(research_home):
    out = io.StringIO()
    count = export(engine_for(research_home), _req("grève"), "iramuteq", out)
    text = out.getvalue()
    headers = [line for line in text.splitlines() if line.startswith("****")]
    assert count == len(headers) == 4
    accepted = re.compile(r"^\*{4}( \*[a-z]+_[A-Za-z0-9_-]+)+$")
    assert all(accepted.match(h) for h in headers), headers
    assert "**** *source_Le_Monde *date_2011-05-03 *annee_2011 *mois_2011-05 *tag_social *tag_transports" in headers
    assert "*tag_economie" in text and "*source_Ouest-France" in text and "*date_NA" in text
    body = [line for line in text.splitlines() if line and not line.startswith("****")]
    assert not any("*" in line for line in body)
    assert iramuteq_value("Orange Actu (actu.orange.fr)") == "Orange_Actu_actu_orange_fr"
    assert iramuteq_value("   ") == "NA"
    assert iramuteq_header(Article.from_record(RECORDS[1])) == \
        "**** *source_Liberation *date_2014-02-10 *annee_2014 *mois_2014-02 *tag_social"


def test_jsonl_export_reimports_unchanged(research_home, tmp_path):
    out = io.StringIO()
    assert export(engine_for(research_home), _req("grève"), "jsonl", out) == 4
    path = tmp_path / "export.jsonl"
    path.write_text(out.getvalue(), encoding="utf-8")
    other = Archive(tmp_path / "other")
    assert other.add([str(path)]).counts()["added"] == 4
    for line in out.getvalue().splitlines():
        record = json.loads(line)
        assert other.store.get(record["id"]).to_record() == record == research_home.store.get(record["id"]).to_record()


def test_csv_exports_plain_and_for_french_spreadsheets(research_home):
    import csv

    plain = io.StringIO()
    export(engine_for(research_home), _req("grève", sort="date"), "csv", plain)
    rows = list(csv.reader(io.StringIO(plain.getvalue())))
    assert rows[0][-1] == "first_paragraph" and rows[1][0] == "g1"
    assert rows[1][5] == "social; transports" and rows[1][-1] == "Les cheminots sont en grève depuis lundi."
    excel = io.StringIO()
    export(engine_for(research_home), _req("grève", sort="date"), "csv-excel", excel)
    assert excel.getvalue().startswith("\ufeffid;date;title;")
    assert "\r\n" in excel.getvalue()
    assert export_filename(_req("Grève SNCF !"), "csv", dt.date(2026, 11, 29)) == "archive-greve-sncf-2026-11-29.csv"
    assert export_filename(_req(), "iramuteq", dt.date(2026, 11, 29)) == "archive-2026-11-29-iramuteq.txt"


# -- feed and citing ------------------------------------------------------------------

def test_atom_feed_parses_and_is_newest_first(research_home):
    results = engine_for(research_home).search(_req("grève", sort="-date"))
    body = atom(results, title="Archive · grève", self_url="http://x/feed.atom?q=gr%C3%A8ve",
                page_url="http://x/?q=gr%C3%A8ve", article_url=lambda i: f"http://x/article/{i}",
                now=dt.datetime(2026, 11, 29, 12, tzinfo=dt.UTC))
    ns = {"a": "http://www.w3.org/2005/Atom"}
    root = ET.fromstring(body)
    assert root.tag == "{http://www.w3.org/2005/Atom}feed"
    entries = root.findall("a:entry", ns)
    # The undated g5 is listed at the day it was added (today): newest in the archive.
    assert [e.findtext("a:id", namespaces=ns) for e in entries][:4] == [
        "http://x/article/g5", "http://x/article/g3", "http://x/article/g2", "http://x/article/g1"]
    updated = [e.findtext("a:updated", namespaces=ns) for e in entries if e.findtext("a:id", namespaces=ns) != "http://x/article/g5"]
    assert updated == sorted(updated, reverse=True)
    assert root.findtext("a:updated", namespaces=ns) == "2015-02-11T00:00:00Z"
    assert "grève recule" in entries[1].findtext("a:summary", namespaces=ns)


def test_reference_ris_and_highwire_carry_the_fields(research_home):
    article = research_home.store.get("g1")
    link = "http://x/article/g1"
    assert reference(article, link, dt.date(2026, 11, 1)) == (
        "Anne Dupont, «\u00a0La grève des cheminots\u00a0», Le Monde, 3 mai 2011. En ligne : http://x/article/g1"
        " (consulté le 1er novembre 2026).")
    record = ris(article, link)
    assert record.startswith("TY  - NEWS\r\nTI  - La grève des cheminots\r\nAU  - Anne Dupont\r\n")
    for line in ("PY  - 2011", "DA  - 2011/05/03", "T2  - Le Monde", "KW  - social", "UR  - http://x/article/g1",
                 "ID  - g1"):
        assert line + "\r\n" in record
    assert record.endswith("ER  -\r\n")
    tags = highwire(article, link)
    assert ("citation_title", "La grève des cheminots") in tags
    assert ("citation_date", "2011/05/03") in tags and ("citation_author", "Anne Dupont") in tags
    assert ("citation_publisher", "Le Monde") in tags and ("citation_journal_title", "Le Monde") in tags
    assert ("citation_public_url", link) in tags


def test_a_citation_cites_the_newspaper_then_the_public_permalink_never_a_local_host(research_home):
    from archive.research import cited_url, permalink

    article = research_home.store.get("g1")
    original = Article.from_record({**RECORDS[0], "url": "https://www.lemonde.fr/social/greve.html"})
    public = permalink("g1", "https://archive.example/")
    assert public == "https://archive.example/article/g1"
    assert permalink("g1", None) is None and permalink("g1", " ") is None
    assert cited_url(original, public) == "https://www.lemonde.fr/social/greve.html"
    assert cited_url(article, public) == public and cited_url(article, None) is None
    assert reference(original, public, dt.date(2026, 11, 1)) == (
        "Anne Dupont, «\u00a0La grève des cheminots\u00a0», Le Monde, 3 mai 2011. En ligne :"
        " https://www.lemonde.fr/social/greve.html (consulté le 1er novembre 2026).")
    assert reference(article, None, dt.date(2026, 11, 1)) == (
        "Anne Dupont, «\u00a0La grève des cheminots\u00a0», Le Monde, 3 mai 2011.")
    record = ris(original, public)
    assert "UR  - https://www.lemonde.fr/social/greve.html\r\n" in record
    assert "L2  - https://archive.example/article/g1\r\n" in record
    assert "UR  -" not in ris(article, None) and "L2  -" not in ris(article, None)
    assert ("citation_public_url", "https://www.lemonde.fr/social/greve.html") in highwire(original, public)
    assert not [t for t in highwire(article, None) if t[0] == "citation_public_url"]
    hostile = Article.from_record({**RECORDS[0], "url": "javascript:alert(1)"})
    assert cited_url(hostile, None) is None and "javascript" not in ris(hostile, None)


def test_an_undated_article_is_listed_by_the_day_it_was_added(research_home):
    engine = engine_for(research_home)
    assert [h.id for h in engine.search(_req()).hits] == ["g5", "g4", "g3", "g2", "g1"]  # « Derniers articles »
    assert [h.id for h in engine.search(_req(sort="date")).hits] == ["g1", "g2", "g3", "g4", "g5"]
    assert "g5" not in [h.id for h in engine.search(_req(date_from="2000")).hits]  # dates never find it
    research_home.add_articles([Article.from_record({"id": "g6", "title": "Daté de demain", "date": "2099-01-01",
                                                     "paragraphs": ["Futur."]})])
    assert [h.id for h in engine_for(research_home).search(_req()).hits][:2] == ["g6", "g5"]
