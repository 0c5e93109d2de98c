"""Every CSV the archive writes, on the web and on the command line, keeps formula cells as text."""

from __future__ import annotations

import csv
import io
from urllib.parse import quote

import pytest

from archive.csvfile import FORMULA_SIGNS, neutral
from archive.home import Archive
from archive.model import Article
from webui import create_app

HOSTILE = {"id": "h1", "title": '=HYPERLINK("http://evil.example","x")', "source": "+Source",
           "authors": ["-Auteur"], "tags": ["@tag", "\uff1dplein"], "date": "2020-02-03",
           "paragraphs": ["=SUM(A1) grève des cheminots.", "\uff0bgrève totale.", "@grève -grève"]}
QUERY = '=HYPERLINK("x") OR grève'
#: Every route writing CSV, with how to read it back (separator).
ROUTES = [("/export?format=csv&q=", ","), ("/export?format=csv-excel&q=", ";"), ("/export.csv?q=", ","),
          ("/kwic.csv?q=", ","), ("/kwic.csv?format=csv-excel&q=", ";"), ("/trend.csv?q=", ","),
          ("/trend.csv?format=csv-excel&q=", ";")]


def _cells(body: str, separator: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.lstrip("\ufeff")), delimiter=separator))


def _safe(rows: list[list[str]]) -> None:
    assert len(rows) >= 2
    for row in rows:
        for cell in row:
            assert not cell or cell[0] not in FORMULA_SIGNS, (cell, row)


@pytest.fixture
def hostile(archive: Archive) -> Archive:
    archive.add_articles([Article.from_record(HOSTILE)])
    return archive


@pytest.mark.parametrize("value", ["=1", "+1", "-1", "@x", "\t=1", "\r=1", "\uff1d1", "\uff0b1", "\uff0d1",
                                   "\uff20x"])
def test_every_formula_sign_is_neutralised(value):
    assert neutral(value) == "'" + value
    assert neutral("a" + value) == "a" + value


@pytest.mark.parametrize("route, separator", ROUTES)
def test_every_csv_route_neutralises_cells_and_headers(hostile, route, separator):
    app = create_app({"ARCHIVE_HOME": str(hostile.home), "TESTING": True})
    try:
        r = app.test_client().get(route + quote(QUERY))
        assert r.status_code == 200, r.get_data(as_text=True)
        rows = _cells(r.get_data(as_text=True), separator)
        _safe(rows)
        flat = [c for row in rows for c in row]
        if route.startswith("/trend"):
            assert flat[1].startswith("'=HYPERLINK")  # the header named after the query
        else:
            assert any(c.startswith("'=SUM(A1)") or c.startswith("'=HYPERLINK") for c in flat)
    finally:
        app.extensions["archive"].close()


def test_trend_csv_header_from_a_formula_query(hostile):
    app = create_app({"ARCHIVE_HOME": str(hostile.home), "TESTING": True})
    try:
        body = app.test_client().get("/trend.csv?q==HYPERLINK(%22http://x%22)&q=gr%C3%A8ve").get_data(as_text=True)
        assert _cells(body, ",")[0] == ["period", "'=HYPERLINK(\"http://x\") (count)",
                                        "'=HYPERLINK(\"http://x\") (share)", "grève (count)", "grève (share)"]
    finally:
        app.extensions["archive"].close()


def test_csv_excel_speaks_french_with_a_decimal_comma(hostile):
    app = create_app({"ARCHIVE_HOME": str(hostile.home), "TESTING": True})
    try:
        client = app.test_client()
        body = client.get("/trend.csv?format=csv-excel&q=gr%C3%A8ve").get_data(as_text=True)
        assert body.startswith("\ufeffpériode;grève (nombre);grève (part)\r\n2020-02-03;1;1,000000\r\n")
        english = client.get("/export?format=csv-excel&q=gr%C3%A8ve&lang=en").get_data(as_text=True)
        assert english.startswith("\ufeffid;date;title;")
        french = _cells(client.get("/export?format=csv-excel&q=gr%C3%A8ve&lang=fr").get_data(as_text=True), ";")
        assert french[0][:3] == ["identifiant", "date", "titre"] and "," in french[1][7]
        assert client.get("/kwic.csv?format=xls&q=gr%C3%A8ve").status_code == 400
    finally:
        app.extensions["archive"].close()


@pytest.mark.parametrize("args, separator", [
    (["export", "-q", QUERY, "--format", "csv"], ","), (["export", "-q", QUERY, "--format", "csv-excel"], ";"),
    (["kwic", QUERY, "--csv"], ",")])
def test_every_csv_command_neutralises_cells(runner, hostile, args, separator):
    r = runner.invoke(__import__("archive.cli", fromlist=["cli"]).cli, ["--home", str(hostile.home), *args])
    assert r.exit_code == 0, r.output
    rows = _cells(r.stdout, separator)
    _safe(rows)
    assert any(c.startswith("'=") for row in rows for c in row)
