"""Date bounds as the French type them: one parser for the web boxes, the API, the command line and trends."""

from __future__ import annotations

import datetime as dt

import pytest

from archive.dates import BadDate, read_bound
from archive.model import Article
from archive.search import SearchRequest, engine_for
from tests.support import RECORDS

D = dt.date


@pytest.mark.parametrize("typed, first, last", [
    ("2019", D(2019, 1, 1), D(2019, 12, 31)),
    ("2019-12", D(2019, 12, 1), D(2019, 12, 31)),
    ("2019-12-05", D(2019, 12, 5), D(2019, 12, 5)),
    ("05/12/2019", D(2019, 12, 5), D(2019, 12, 5)),  # day first: 5 December, never 12 May
    ("5/2/2020", D(2020, 2, 5), D(2020, 2, 5)),
    ("05-12-2019", D(2019, 12, 5), D(2019, 12, 5)),
    ("12/2019", D(2019, 12, 1), D(2019, 12, 31)),
    ("5 décembre 2019", D(2019, 12, 5), D(2019, 12, 5)),
    ("1er Décembre 2019", D(2019, 12, 1), D(2019, 12, 1)),
    ("déc. 2019", D(2019, 12, 1), D(2019, 12, 31)),
    ("decembre 2019", D(2019, 12, 1), D(2019, 12, 31)),
    ("février\u00a02020", D(2020, 2, 1), D(2020, 2, 29)),
    ("5 December 2019", D(2019, 12, 5), D(2019, 12, 5)),
])
def test_a_bound_is_read_as_french_readers_type_it(typed, first, last):
    bound = read_bound(typed)
    assert (bound.first(), bound.last()) == (first, last)


@pytest.mark.parametrize("typed, what", [
    ("31/02/2020", "day"), ("05/13/2019", "month"), ("5 brumaire 2019", "form"), ("décembre", "form"),
    ("2019-13", "month"), ("0000", "year"), ("12/05/19", "form"),
])
def test_a_bound_that_is_no_date_says_what_is_wrong(typed, what):
    with pytest.raises(BadDate) as info:
        read_bound(typed)
    assert info.value.what == what


def test_every_entry_reads_french_dates_the_same(research_home):
    req = SearchRequest.build("", date_from="01/05/2011", date_to="mai 2011")
    assert (req.low, req.high) == (D(2011, 5, 1), D(2011, 5, 31))
    assert [h.id for h in engine_for(research_home).search(req).hits] == ["g1"]
    query = SearchRequest.build("date:05/2011")  # the query's date: reads them too
    assert (query.low, query.high) == (D(2011, 5, 1), D(2011, 5, 31))


def test_the_command_line_and_the_api_take_a_french_day(runner, seeded, client):
    from archive.cli import cli

    r = runner.invoke(cli, ["--home", str(seeded.home), "search", "--from", "05/03/2025", "--to",
                            "5 mars 2025", "--json"])
    assert r.exit_code == 0, r.output
    assert r.output.count('"total_articles": 1') == 1
    body = client.get("/api/search?from=05/03/2025&to=5%20mars%202025").get_json()
    assert body["total_articles"] == 1
    bad = client.get("/api/search?from=05/13/2025").get_json()
    assert bad["code"] == "bad_date" and "impossible month" in bad["error"]


def test_trends_take_a_french_month(research_home):
    from archive.research import trend

    result = trend(engine_for(research_home), [SearchRequest.build("grève", date_from="janvier 2014",
                                                                    date_to="31/12/2015")], "year")
    assert [p.period for p in result.series[0].points] == ["2014", "2015"]


@pytest.fixture
def research_home(archive):
    archive.add_articles([Article.from_record(r) for r in RECORDS])
    return archive
