"""The pages a journalist uses every day: messages in their language, paging, dates, reading, export."""

import datetime as dt
import html
import io
import re

import pytest

from archive.model import Article
from tests.support import HUGE_ID, SEED_ID
from webui import create_app


def text(response):
    return response.get_data(as_text=True)


def test_placeholder_keeps_its_quotes(client):
    fr = re.search(r'id="q" [^>]*placeholder="([^"]*)"', text(client.get("/"))).group(1)
    assert html.unescape(fr) == "investir, «\u00a0état d’urgence\u00a0», titre:Macron…"
    en = re.search(r'id="q" [^>]*placeholder="([^"]*)"', text(client.get("/?lang=en"))).group(1)
    assert html.unescape(en) == 'investir, "état d’urgence", titre:Macron…'


@pytest.mark.parametrize("url, status, french, english", [
    ("/article/nope", 404, "Aucun article n’a l’identifiant «\u00a0nope\u00a0».",
     "There is no article with the id “nope”."),
    ("/?page=x", 400, "«\u00a0page\u00a0» doit être un nombre entier.", "“page” must be a whole number."),
    ("/?page=0", 400, "La page doit être un nombre de 1 à 10\u202f000.", "The page must be a number from 1 to 10,000."),
    ("/?per_page=500", 400, "Le nombre d’articles par page doit aller de 1 à 100.",
     "The number of articles per page must be from 1 to 100."),
    ("/?sort=nope", 400, "Ordre de tri inconnu : «\u00a0nope\u00a0».", "Unknown sort order “nope”."),
    ("/?q=" + "x" * 1001, 400, "La recherche dépasse 1\u202f000 caractères.",
     "The search is longer than 1,000 characters."),
    ("/nowhere", 404, "Cette page n’existe pas.", "This page does not exist."),
])
def test_errors_are_said_in_the_readers_language(client, url, status, french, english):
    r = client.get(url)
    assert r.status_code == status and html.escape(french, quote=False) in text(r)
    sep = "&" if "?" in url else "?"
    r = client.get(url + sep + "lang=en")
    assert r.status_code == status and html.escape(english, quote=False) in text(r)


def test_api_errors_keep_english_and_give_the_code(client):
    r = client.get("/api/search?sort=nope&lang=fr")
    assert r.get_json() == {"ok": False, "status": 400, "code": "bad_sort",
                            "error": "sort must be relevance, date or -date, not 'nope'"}


def test_a_bad_date_is_shown_beside_its_box_and_the_page_still_renders(client):
    r = client.get("/?q=investir&from=abc")
    body = text(r)
    assert r.status_code == 400
    assert "<mark>investissements</mark>" in body  # the search ran without the bad date
    assert re.search(r'<input id="date-from" name="from" value="abc"[^>]*\s+aria-invalid="true" '
                     r'aria-describedby="date-from-error dates-hint">', body)
    assert ('<p class="field-error" id="date-from-error">«\u00a0abc\u00a0» n’est pas une date. Année, mois ou '
            'jour : 2019, 2019-12, 05/12/2019 (le jour d’abord) ou 5 décembre 2019.</p>') in body
    assert 'id="date-to-error"' not in body
    r = client.get("/?from=2019-13&to=zz&lang=en")
    both = text(r)
    assert r.status_code == 400
    assert client.get("/?q=investir&to=0001-00").status_code == 400
    assert "“2019-13” is not a date" in both and "“zz” is not a date" in both
    assert both.count('aria-invalid="true"') == 2


HINT_FR = ('Année, mois ou jour : <span class="nowrap">2019</span>, <span class="nowrap">2019-12</span>, '
           '<span class="nowrap">05/12/2019</span> (le jour d’abord) ou <span class="nowrap">5 décembre 2019</span>.')


def test_one_date_hint_everywhere_each_example_kept_whole_and_the_chip_in_a_form_the_boxes_read(client):
    search, trends = text(client.get("/")), text(client.get("/tendances?q=investir"))
    assert f'<p class="hint" id="dates-hint">{HINT_FR}</p>' in search
    assert f'<p class="hint" id="dates-hint">{HINT_FR}</p>' in trends
    assert "placeholder=\"AAAA-MM\"" not in search and 'placeholder="2019-03"' not in trends
    body = text(client.get("/?from=05/03/2025&to=mars%202025"))
    assert "Dates : 05/03/2025 – 31/03/2025" in body and body.count('class="hit"') == 1
    english = text(client.get("/?from=05/03/2025&to=mars%202025&lang=en"))
    assert "Dates: 2025-03-05 – 2025-03-31" in english
    assert '(day first) or <span class="nowrap">5 December 2019</span>.' in english


def test_a_page_past_the_end_shows_the_last_page(client):
    r = client.get("/?q=investir&page=7")
    assert r.status_code == 302 and r.headers["Location"] == "/?q=investir"
    assert client.get("/api/search?q=investir&page=7").get_json()["code"] == "page_beyond"


def _many(archive, n=45):
    archive.add_articles([Article.from_record({
        "id": f"a{i:02}", "title": f"Lyon {i}", "date": f"2020-01-{i % 28 + 1:02}", "source": "Le Progrès",
        "tags": ["Économie" if i % 2 else "economie"],
        "paragraphs": [f"Lyon vote {i}.", "Lyon encore.", "Lyon toujours.", "Lyon enfin.", "Lyon."]})
        for i in range(n)])
    return create_app({"ARCHIVE_HOME": str(archive.home)}).test_client()


def test_deep_pages_and_go_to_page(archive):
    client = _many(archive)
    body = text(client.get("/?q=Lyon&page=3"))
    assert "Page 3 sur 3" in body and 'rel="next"' not in body
    assert re.search(r'<form class="goto" action="/" method="get">\s*<input type="hidden" name="q" value="Lyon">',
                     body)
    assert 'name="page" type="number" min="1" max="3" value="3"' in body
    assert client.get("/?q=Lyon&page=501").status_code == 302  # past the end: the last page, not a 400


def test_without_a_query_results_are_by_date_and_say_so(archive):
    client = _many(archive)
    body = text(client.get("/?tag=economie"))
    assert '<span aria-current="true">plus récents</span>' in body
    assert "pertinence" not in body
    first = re.findall(r'<h3><a href="/article/(a\d\d)', body)
    assert first[0] in ("a27", "a55")  # 2020-01-28, the newest day
    assert '<span aria-current="true">pertinence</span>' in text(client.get("/?q=Lyon"))


def test_zero_results_offer_no_sort_and_no_export(client):
    body = text(client.get("/?q=introuvablezzz"))
    assert "Exporter en CSV" not in body and 'class="sort"' not in body


def test_more_paragraphs_is_a_link_and_paragraphs_are_numbered(archive):
    client = _many(archive, 1)
    body = text(client.get("/?q=Lyon"))
    assert re.search(r'<p class="more"><a href="/article/a00\?q=Lyon">\+ 2 autres paragraphes</a></p>', body)
    assert len(re.findall(r'<span class="pn">§ [1-5]</span>', body)) == 3
    assert "<span>Le Progrès</span>" not in body
    assert '<span class="label">Source :</span> Le Progrès' in body


def test_facet_spellings_are_one_value_with_the_others_in_its_title(archive):
    client = _many(archive, 5)
    body = text(client.get("/?q=Lyon"))
    assert re.search(r'<a href="/\?q=Lyon&amp;tag=economie" title="Aussi écrit : Économie">.*?'
                     r'<span class="value">economie</span> <span class="count">5</span>', body)
    selected = text(client.get("/?q=Lyon&tag=%C3%89conomie"))
    assert re.search(r'<a href="/\?q=Lyon" aria-current="true" class="selected"', selected)


def test_reading_view_numbers_paragraphs_from_one(client):
    body = text(client.get(f"/article/{SEED_ID}?q=investir"))
    assert '<p id="p4" class="block" data-first-mark="1"><a class="pn" href="#p4">§ 4</a>' in body
    assert '<h2 id="p3" class="block"' in body and 'id="p0"' not in body
    assert '<div class="reading-bar">' in body and '<span class="bar-source">Seed article</span>' in body
    assert '<span class="label">Source :</span> Seed article' in body


@pytest.fixture(scope="module")
def huge_client(huge_home):
    app = create_app({"ARCHIVE_HOME": str(huge_home)})
    yield app.test_client()
    app.extensions["archive"].close()


def _blocks(body: str) -> list[int]:
    return [int(n) for n in re.findall(r'<p id="p(\d+)" class="block"', body)]


def _href(body: str, rel: str) -> str:
    return html.unescape(re.search(rf'<a href="([^"]+)" rel="{rel}"', body).group(1))


def test_a_huge_article_is_shown_a_window_at_a_time_and_its_links_walk_it(huge_client):
    r = huge_client.get(f"/article/{HUGE_ID}")
    body = text(r)
    assert r.status_code == 200 and len(r.data) < 120_000  # 30,000 paragraphs would be ~2 MB
    assert _blocks(body) == list(range(1, 201))
    assert "Paragraphes 1 à 200 sur 30\u202f000" in body and 'rel="prev"' not in body
    following = text(huge_client.get(_href(body, "next")))
    assert _blocks(following) == list(range(201, 401))
    assert _blocks(text(huge_client.get(_href(following, "prev")))) == list(range(1, 201))
    last = text(huge_client.get(f"/article/{HUGE_ID}?at=30000"))
    assert _blocks(last) == list(range(29_801, 30_001)) and 'rel="next"' not in last


def test_a_huge_articles_matches_open_their_window_and_list_the_others(huge_client):
    r = huge_client.get(f"/article/{HUGE_ID}?q=ornithorynque")
    body = text(r)
    assert r.status_code == 200 and len(r.data) < 120_000
    assert _blocks(body) == list(range(801, 1001))
    assert body.count("<mark") == 1 and '<p id="p1000" class="block" data-first-mark="1">' in body
    assert "1 correspondance pour ornithorynque dans ces paragraphes" in body
    assert "30 paragraphes correspondent, dans :" in body
    windows = [html.unescape(u) for u in re.findall(r'<a href="([^"]+)"(?: aria-current="page")?>§ [^<]*</a>', body)]
    assert len(windows) == 12 and "</a> (1) …</p>" in body
    assert 'aria-current="page">§ 801 à 1\u202f000</a>' in body
    # Each listed window opens on its match.
    fifth = text(huge_client.get(windows[4]))
    assert _blocks(fifth)[0] == 4_801 and '<p id="p5000" class="block" data-first-mark="1">' in fifth


def test_a_search_hit_deep_in_a_huge_article_links_to_its_window(huge_client):
    body = text(huge_client.get("/?q=ornithorynque"))
    links = {html.unescape(u) for u in re.findall(rf'href="(/article/{HUGE_ID}[^"]*#p\d+)"', body)}
    assert links and all("at=" in u for u in links)  # every match is past the first window
    for url in links:
        n = int(url.rsplit("#p", 1)[1])
        assert n in _blocks(text(huge_client.get(url.split("#")[0])))


def test_favicon(client):
    r = client.get("/favicon.ico")
    assert r.status_code == 200 and r.mimetype == "image/svg+xml" and b"<svg" in r.data
    assert 'rel="icon"' in text(client.get("/"))


def test_csv_has_tags_snippet_one_based_paragraphs_and_a_telling_name(client):
    r = client.get("/export.csv?q=investir+R%26D")
    lines = text(r).lstrip("\ufeff").splitlines()
    assert lines[0] == "id,date,title,source,author,tags,url,score,paragraphs,snippet"
    row = lines[1].split(",")
    assert row[5] == "économie; chine; technologie" and row[8] == "4"
    snippet = lines[1].split(",", 9)[9]
    assert snippet.startswith('"En ce qui concerne les investissements en R&D, Lei Jun a révélé')
    assert snippet.endswith(' devrait…"') and len(snippet) < 245
    today = dt.date.today().isoformat()
    assert r.headers["Content-Disposition"] == (
        f"attachment; filename=\"archive-investir-r-d-{today}.csv\"; "
        f"filename*=UTF-8''archive-investir-r-d-{today}.csv")
    name = client.get("/export.csv?q=%C3%A9tat").headers["Content-Disposition"]
    assert f'filename="archive-etat-{today}.csv"' in name and f"UTF-8''archive-%C3%A9tat-{today}.csv" in name
    assert f"archive-all-{today}.csv" in client.get("/export.csv").headers["Content-Disposition"]


def test_add_link_only_when_enabled(client, admin):
    assert 'href="/add"' not in text(client.get("/"))
    assert 'href="/add"' in text(admin.get("/"))


def test_a_wrong_token_keeps_what_was_typed(admin):
    csrf = re.search(r'name="csrf" value="([^"]+)"', text(admin.get("/add"))).group(1)
    form = {"csrf": csrf, "token": "bad", "title": "Collé <b>", "date": "2025-01-02", "source": "Ouest",
            "author": "A, B", "tags": "a, b", "text": "Un texte collé\n\nsur Rennes."}
    r = admin.post("/add", data=form)
    body = text(r)
    assert r.status_code == 403 and "Jeton d’administration incorrect" in body
    assert '<textarea name="text" rows="12">Un texte collé\n\nsur Rennes.</textarea>' in body
    assert 'value="Collé &lt;b&gt;"' in body and 'value="Ouest"' in body and 'value="a, b"' in body
    assert 'value="bad"' not in body  # never the token


def test_a_stored_text_clears_the_form_and_the_report_names_a_missing_date(admin):
    csrf = re.search(r'name="csrf" value="([^"]+)"', text(admin.get("/add"))).group(1)
    r = admin.post("/add?lang=fr", data={"csrf": csrf, "token": "s3cret", "title": "Brest gagne",
                                         "text": "Brest gagne encore.\n\nSecond paragraphe."})
    body = text(r)
    assert r.status_code == 200 and "1 article ajouté" in body
    assert '<textarea name="text" rows="12"></textarea>' in body and 'value="Brest gagne"' not in body
    assert ("1 article n’a pas de date : il est classé au jour de son ajout, et aucun filtre de dates ne le trouve."
            in body)
    r = admin.post("/add?lang=en", data={"csrf": csrf, "token": "s3cret", "title": "Daté", "date": "2025-01-02",
                                         "text": "Brest encore."})
    assert "no date" not in text(r)


def test_the_add_report_is_translated_with_plurals(admin, tmp_path):
    csrf = re.search(r'name="csrf" value="([^"]+)"', text(admin.get("/add?lang=en"))).group(1)
    lines = (b'{"id": "j1", "title": "T", "paragraphs": ["Brest."]}\n'
             b'{"id": "j2", "title": "T", "paragraphs": ["Brest."]}\n{"id": "j3"}\n')
    r = admin.post("/add?lang=en", data={"csrf": csrf, "token": "s3cret", "file": (io.BytesIO(lines), "lot.jsonl")},
                   content_type="multipart/form-data")
    body = text(r)
    # The bad line fails alone: the two good ones are stored.
    assert "2 articles added, 0 updated, 0 unchanged, 1 source failed" in body
    assert "lot.jsonl:3: &#39;paragraphs&#39; must be a list of strings" in body
    assert "not stored either" not in body
    r = admin.post("/add?lang=fr", data={"csrf": csrf, "token": "s3cret", "text": "Brest gagne.", "title": "B"})
    assert "1 article ajouté, 0 mis à jour, 0 inchangé" in text(r)
    bad = b'{"id": "j4", "title": "T", "date": "2025-02-30", "paragraphs": ["Brest."]}\n'
    r = admin.post("/add", data={"csrf": csrf, "token": "s3cret", "file": (io.BytesIO(bad), "lot.jsonl")},
                   content_type="multipart/form-data")
    assert '<li class="error">lot.jsonl:1 : date impossible «\u00a02025-02-30\u00a0»</li>' in text(r)


def test_the_pager_never_offers_a_page_the_request_refuses(archive, monkeypatch):
    from archive import SearchRequest

    client = _many(archive)
    monkeypatch.setattr(SearchRequest, "max_page", 2)
    body = text(client.get("/?q=Lyon&page=2"))
    assert "Page 2 sur 2 (les premières pages seulement" in body and 'rel="next"' not in body
    assert 'max="2" value="2"' in body


def test_whole_result_exports_run_one_at_a_time_while_searches_go_on(app):
    import threading

    from archive.failpoints import held

    done: dict[str, int] = {}

    def get(name: str, url: str) -> None:
        done[name] = app.test_client().get(url).status_code

    first = threading.Thread(target=get, args=("first", "/export.csv?q=investir"), daemon=True)
    second = threading.Thread(target=get, args=("second", "/export?q=investir&format=jsonl"), daemon=True)
    with held("matching") as hold:
        first.start()
        assert hold.reached.wait(60)  # the first export is inside its search
        second.start()
        search = threading.Thread(target=get, args=("search", "/?q=investir"), daemon=True)
        search.start()
        search.join(60)
        assert done == {"search": 200}  # a search goes through; the second export waits its turn
        assert second.is_alive()
        hold.release()
        first.join(60)
        second.join(60)
    assert done == {"search": 200, "first": 200, "second": 200}


def test_a_page_without_results_offers_no_export(client):
    empty = text(client.get("/?q=introuvablezzz"))
    assert 'class="empty"' in empty
    assert "/export?" not in empty and "/tendances?" not in empty and "/concordance?" not in empty
    assert "/feed.atom?q=introuvablezzz" in empty  # a feed waits for the next article
    found = text(client.get("/?q=investir"))
    assert "/export?q=investir&amp;format=csv" in found and "/tendances?" in found


def test_try_examples_come_from_the_archives_frequent_headline_words(archive):
    from webui.examples import headline_terms

    titles = ["VIDÉO. Les gilets jaunes manifestent à Paris", "Retraites : les gilets jaunes rejoignent la grève",
              "Retraites : la grève continue après Noël", "L'Assemblée vote la réforme des retraites",
              "Clermont-Ferrand : un festival de courts métrages"]
    top, phrases = headline_terms(titles)
    assert top[:3] == ["Retraites", "gilets", "jaunes"] and phrases[0] == "gilets jaunes"
    assert "Assemblée" in top and "après" not in top and "Clermont" not in top[:3] and "VIDÉO" not in top
    archive.add_articles([Article.from_record({"id": f"t{i}", "title": t, "date": f"2019-12-0{i + 1}",
                                               "paragraphs": [t + "."]}) for i, t in enumerate(titles)])
    client = create_app({"ARCHIVE_HOME": str(archive.home), "TESTING": True}).test_client()
    body = text(client.get("/"))
    shown = re.findall(r'<a class="example" href="[^"]*">([^<]*)</a>', body)
    assert shown == ["&#34;gilets jaunes&#34;", "Retraites OR gilets", "Retraites -jaunes", "titre:Retraites",
                     "date:2019"]
