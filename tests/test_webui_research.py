"""webui.research: trends, concordance, exports, feed and citing over HTTP."""

from __future__ import annotations

import csv
import io
import json
import re
from xml.etree import ElementTree as ET

import pytest

from archive import Article
from archive.home import Archive
from tests.support import RECORDS
from webui import create_app


@pytest.fixture
def rclient(research_home: Archive):
    app = create_app({"ARCHIVE_HOME": str(research_home.home), "TESTING": True})
    yield app.test_client()
    app.extensions["archive"].close()


def text(r):
    return r.get_data(as_text=True)


def test_api_trend_contract(rclient):
    body = rclient.get("/api/trend?q=grève&q=télétravail&by=year&source=Le Monde").get_json()
    assert body["by"] == "year"
    assert [s["query"] for s in body["series"]] == ["grève", "télétravail"]
    assert body["series"][0]["total_articles"] == 2
    assert body["series"][0]["points"] == [
        {"period": "2011", "count": 1, "share": 1.0}, {"period": "2012", "count": 0, "share": 0.0},
        {"period": "2013", "count": 0, "share": 0.0}, {"period": "2014", "count": 0, "share": 0.0},
        {"period": "2015", "count": 1, "share": 0.5}]
    search = rclient.get("/api/search?q=grève&source=Le Monde").get_json()
    assert search["total_articles"] == body["series"][0]["total_articles"]
    too_many = rclient.get("/api/trend?" + "&".join(f"q=w{i}" for i in range(5)))
    assert too_many.status_code == 400 and too_many.get_json()["ok"] is False
    assert rclient.get("/api/trend?q=grève&by=week").status_code == 400


def test_trends_page_in_both_languages_and_csv(rclient):
    fr = text(rclient.get("/tendances?q=grève&q=télétravail&by=year"))
    assert "<h1>Tendances</h1>" in fr and "Part des articles de la période qui correspondent, par année" in fr
    wide = fr.split('class="trend-chart phone"')[0]  # the phone's drawing repeats the points
    assert wide.count('class="marker"') == 2 * 1  # shares over the largest period (2 articles) only: 2015
    counts = text(rclient.get("/tendances?q=grève&q=télétravail&by=year&measure=count"))
    # Each point links to the search of its query and period; lines differ by dashes, not only colour.
    assert 'href="/?q=gr%C3%A8ve&amp;from=2011-01-01&amp;to=2011-12-31"' in counts
    assert counts.count('class="marker"') == 2 * 10 and 'stroke-dasharray="8 4"' in counts
    en = text(rclient.get("/trends?q=grève&by=year&measure=count&lang=en"))
    assert "<h1>Trends</h1>" in en and "Matching articles, by year" in en
    r = rclient.get("/trend.csv?q=grève&q=télétravail&by=year")
    assert r.headers["Content-Disposition"].startswith('attachment; filename="archive-trend-greve-')
    rows = list(csv.reader(io.StringIO(text(r))))
    assert rows[0] == ["period", "grève (count)", "grève (share)", "télétravail (count)", "télétravail (share)"]
    assert rows[-1] == ["2015", "1", "0.500000", "1", "0.500000"]
    assert "Tendances" in text(rclient.get("/tendances?lang=fr"))


def test_search_page_links_research_tools_and_feed(rclient):
    body = text(rclient.get("/?q=grève"))
    assert '<link rel="alternate" type="application/atom+xml"' in body
    assert 'href="/feed.atom?q=gr%C3%A8ve"' in body
    assert 'href="/tendances?q=gr%C3%A8ve"' in body and 'href="/concordance?q=gr%C3%A8ve"' in body
    for fmt in ("csv", "csv-excel", "jsonl", "iramuteq"):
        assert f'href="/export?q=gr%C3%A8ve&amp;format={fmt}"' in body
    # The timeline: every year from 2011 to 2015, 2012 and 2013 at zero.
    assert re.findall(r'data-from="(\d{4})-01-01"', body) == ["2011", "2012", "2013", "2014", "2015"]


def test_timeline_drills_into_months_and_days(rclient):
    months = text(rclient.get("/?q=grève&from=2015&to=2015"))
    assert len(re.findall(r'data-from="2015-\d\d-01"', months)) == 12
    assert 'class="selected"' in months and 'href="/?q=gr%C3%A8ve&amp;from=2015-02&amp;to=2015-02"' in months
    days = text(rclient.get("/?q=grève&from=2015-02&to=2015-02"))
    assert len(re.findall(r'data-from="2015-02-\d\d"', days)) == 28
    assert 'href="/?q=gr%C3%A8ve&amp;from=2015&amp;to=2015"' in days  # one level up


def test_concordance_page_api_and_csv(rclient):
    body = text(rclient.get("/concordance?q=grève&per_page=2"))
    assert "6 occurrences" in body
    assert 'href="/article/g1?q=gr%C3%A8ve&amp;per_page=2#p1"' in body and "<mark>grèves</mark>" in body
    assert 'rel="next" href="/concordance?q=gr%C3%A8ve&amp;per_page=2&amp;page=2"' in body
    api = rclient.get("/api/kwic?q=grève&width=22&page=1").get_json()
    assert (api["query"], api["total"], api["page"]) == ("grève", 6, 1)
    assert api["lines"][0] == {"id": "g1", "n": 0, "date": "2011-05-03", "title": "La grève des cheminots",
                               "left": "Les cheminots sont en ", "match": "grève", "right": " depuis lundi."}
    ordered = rclient.get("/api/kwic?q=grève&order=left&per_page=1").get_json()
    assert ordered["lines"][0]["id"] == "g3"
    rows = list(csv.reader(io.StringIO(text(rclient.get("/kwic.csv?q=grève")))))
    assert rows[0] == ["id", "n", "date", "title", "left", "match", "right"] and len(rows) == 7
    assert rclient.get("/api/kwic?q=grève&page=9").status_code == 400
    assert "Every occurrence" in text(rclient.get("/concordance?lang=en"))


def test_exports_by_format_and_old_csv(rclient, tmp_path):
    r = rclient.get("/export?q=grève&format=iramuteq")
    assert r.headers["Content-Disposition"].endswith('-iramuteq.txt"')
    assert text(r).count("****") == 4
    jsonl = rclient.get("/export?q=grève&format=jsonl")
    records = [json.loads(line) for line in text(jsonl).splitlines()]
    assert sorted(r["id"] for r in records) == ["g1", "g2", "g3", "g5"]
    assert text(rclient.get("/export?q=grève&format=csv-excel")).startswith("\ufeffidentifiant;date;titre;")
    assert text(rclient.get("/export.csv?q=grève")).startswith("id,date,title")  # plain csv: no BOM
    assert rclient.get("/export?format=xls").status_code == 400


def test_feed_is_atom_newest_first(rclient):
    r = rclient.get("/feed.atom?q=grève")
    assert r.mimetype == "application/atom+xml"
    root = ET.fromstring(r.data)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    ids = [e.findtext("a:id", namespaces=ns) for e in root.findall("a:entry", ns)]
    assert ids == ["http://localhost/article/g5", "http://localhost/article/g3", "http://localhost/article/g2",
                   "http://localhost/article/g1"]  # (g5, undated, at the day it was added)


def test_article_meta_tags_cite_block_and_ris(rclient):
    body = text(rclient.get("/article/g1"))
    for name, content in (("citation_title", "La grève des cheminots"), ("citation_date", "2011/05/03"),
                          ("citation_publisher", "Le Monde"), ("citation_journal_title", "Le Monde"),
                          ("citation_author", "Anne Dupont")):
        assert f'<meta name="{name}" content="{content}">' in body
    assert 'id="cite"' in body and "<h2 id=\"cite-title\">Citer</h2>" in body
    # No public address configured and no original URL: the reference names no address.
    assert "Anne Dupont, «\u00a0La grève des cheminots\u00a0», Le Monde, 3 mai 2011.</p>" in body
    assert "citation_public_url" not in body and '<link rel="canonical" href="/article/g1">' in body
    r = rclient.get("/article/g1.ris")
    assert r.mimetype == "application/x-research-info-systems"
    assert "TI  - La grève des cheminots\r\n" in text(r) and "DA  - 2011/05/03\r\n" in text(r)
    assert "localhost" not in text(r)
    assert rclient.get("/article/nope.ris").status_code == 404
    assert "<h2 id=\"cite-title\">Cite</h2>" in text(rclient.get("/article/g1?lang=en"))


def test_citations_name_the_original_url_or_the_public_permalink(archive: Archive):
    archive.add_articles([Article.from_record(r) for r in RECORDS]
                         + [Article.from_record({**RECORDS[0], "id": "orig", "url": "https://www.lemonde.fr/a.html"})])
    app = create_app({"ARCHIVE_HOME": str(archive.home), "TESTING": True,
                      "ARCHIVE_PUBLIC_URL": "https://archive.example"})
    try:
        client = app.test_client()
        body = text(client.get("/article/orig"))
        assert "En ligne : https://www.lemonde.fr/a.html (consulté le" in body
        assert '<meta name="citation_public_url" content="https://www.lemonde.fr/a.html">' in body
        ris = text(client.get("/article/orig.ris"))
        assert "UR  - https://www.lemonde.fr/a.html\r\n" in ris
        assert "L2  - https://archive.example/article/orig\r\n" in ris
        body = text(client.get("/article/g1"))
        assert "En ligne : https://archive.example/article/g1 (consulté le" in body
        assert '<link rel="canonical" href="https://archive.example/article/g1">' in body
        assert "UR  - https://archive.example/article/g1\r\n" in text(client.get("/article/g1.ris"))
        assert "localhost" not in body
    finally:
        app.extensions["archive"].close()


def test_the_reading_view_says_a_title_only_match_and_english_has_no_space_before_its_colon(rclient):
    body = text(rclient.get("/article/g2?q=journée"))
    assert "<mark>journée</mark>" in body.split("<h1>")[1].split("</h1>")[0]
    assert "0 occurrence" not in body and "journée ne figure que dans le titre" in body
    english = re.sub(r"\s+", " ", text(rclient.get("/article/g1?q=grève&lang=en")))
    assert '2 matches for grève: <a href="#m1">1</a> <a href="#m2">2</a>' in english
    french = re.sub(r"\s+", " ", text(rclient.get("/article/g1?q=grève&lang=fr")))
    assert '2 correspondances pour grève : <a href="#m1">1</a>' in french
