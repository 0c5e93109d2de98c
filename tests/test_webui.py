import io
import re

import pytest

from archive.home import Archive
from tests.support import SEED_ID, SEEDS
from webui import create_app


def text(response):
    return response.get_data(as_text=True)


def test_search_page_marks_and_counts_in_french(client):
    r = client.get("/?q=investir")
    assert r.status_code == 200
    body = text(r)
    assert '<html lang="fr">' in body
    assert "<mark>investissements</mark>" in body
    assert re.search(r"1 article\s+· 1 paragraphe", body)
    assert "5 mars 2025" in body
    assert f'href="/article/{SEED_ID}?q=investir#p4"' in body  # block 3, the reader's 4th paragraph


def test_english_by_parameter_cookie_and_header(client, app):
    body = text(client.get("/?q=developpement&lang=en"))
    assert '<html lang="en">' in body and "March 5, 2025" in body
    assert re.search(r"1 article\s+· 2 paragraphs", body)
    assert "March 5, 2025" in text(client.get("/?q=investir"))  # the cookie remembers
    fresh = app.test_client()
    assert "March 5, 2025" in text(fresh.get("/?q=investir", headers={"Accept-Language": "en-GB"}))
    assert "5 mars 2025" in text(fresh.get("/?q=investir", headers={"Accept-Language": "fr"}))


def test_numbers_are_formatted_by_locale(seeded):
    from flask import render_template_string
    app = create_app({"ARCHIVE_HOME": str(seeded.home)})
    with app.test_request_context("/?lang=fr"):
        assert render_template_string("{{ 12345|number }}") == "12\u202f345"
    with app.test_request_context("/?lang=en"):
        assert render_template_string("{{ 12345|number }}") == "12,345"


def test_empty_state_explains_syntax_with_examples(client):
    body = text(client.get("/"))
    assert "Comment chercher" in body
    assert 'class="example"' in body


def test_no_match_message_and_suggestion(client):
    body = text(client.get("/?q=introuvable"))
    assert "Aucun article ne correspond" in body


def test_facet_links_toggle_and_mark_selection(client):
    body = text(client.get("/?q=Xiaomi&tag=chine"))
    assert 'aria-current="true" class="selected"' in body
    assert 'href="/?q=Xiaomi"' in body  # the toggle of the selected value removes it
    assert "/?q=Xiaomi&amp;tag=chine&amp;tag=technologie" in body


def test_reading_view_anchors_and_marks(client):
    body = text(client.get(f"/article/{SEED_ID}?q=investir"))
    assert 'id="p4"' in body and '<h2 id="p3"' in body
    assert '<mark id="m1">investissements</mark>' in body
    assert 'href="#m3"' in body
    assert "Retour aux résultats" in body


def test_api_search_is_the_json_contract(client, seeded):
    from archive.search import search
    api = client.get("/api/search?q=investir&per_page=5").get_json()
    assert api == search(seeded.home, "investir", per_page=5).to_dict()


def test_api_article_and_error_envelope(client):
    assert client.get(f"/api/articles/{SEED_ID}").get_json()["id"] == SEED_ID
    r = client.get("/api/articles/nope")
    assert (r.status_code, r.get_json()) == (404, {"ok": False, "error": "no article with id 'nope'", "status": 404,
                                                   "code": "article_not_found"})
    r = client.get("/api/search?page=x")
    assert r.status_code == 400 and r.get_json()["error"] == "page must be a whole number"
    assert client.get("/api/search?per_page=1000").status_code == 400
    assert client.get("/api/search?q=" + "x" * 1001).status_code == 400
    assert client.get("/api/search?sort=nope").status_code == 400
    assert client.get("/api/search?q=Xiaomi&page=400").status_code == 400
    assert client.get("/api/search?" + "&".join(f"tag=t{i}" for i in range(21))).status_code == 400


@pytest.mark.parametrize("path", ["/article/..%2F..%2Fetc%2Fpasswd", "/article/%2e%2e", "/api/articles/..%2Fx"])
def test_path_like_ids_are_404(client, path):
    assert client.get(path).status_code == 404


def test_csv_export_neutralises_formulas(archive):
    from archive.model import Article
    archive.add_articles([Article.from_record({"id": "f", "title": "=HYPERLINK(\"x\")",
                                               "author": "@moi", "paragraphs": ["Lyon vote."]})])
    app = create_app({"ARCHIVE_HOME": str(archive.home)})
    body = text(app.test_client().get("/export.csv?q=Lyon"))
    lines = body.lstrip("\ufeff").splitlines()
    assert lines[0] == "id,date,title,source,author,tags,url,score,paragraphs,snippet"
    assert lines[1].startswith("f,,\"'=HYPERLINK(\"\"x\"\")\",,'@moi,,,")
    assert lines[1].endswith(",1,Lyon vote.")


def test_security_headers(client):
    r = client.get("/")
    assert "unsafe-inline" not in r.headers["Content-Security-Policy"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "same-origin"
    assert "<script>" not in text(r)  # no inline scripts


def test_hostile_query_is_text(client):
    body = text(client.get("/?q=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E"))
    assert "<img src=x" not in body
    assert "&lt;img src=x onerror=alert(1)&gt;" in body


def test_add_is_disabled_without_token(client):
    assert client.get("/add").status_code == 404
    r = client.post("/api/articles", json={"title": "t", "paragraphs": ["p"]})
    assert r.status_code == 403 and r.get_json()["ok"] is False


def test_api_add_needs_the_bearer_token(admin, seeded):
    article = {"id": "web1", "title": "Depuis le web", "paragraphs": ["Grenoble accueille."]}
    assert admin.post("/api/articles", json=article).status_code == 403
    assert admin.post("/api/articles", json=article, headers={"Authorization": "Bearer nope"}).status_code == 403
    assert len(Archive(seeded.home).store) == 1
    r = admin.post("/api/articles", json=article, headers={"Authorization": "Bearer s3cret"})
    assert r.status_code == 201 and r.get_json()["added"] == 1
    # Searchable at once, through the same running app.
    assert admin.get("/api/search?q=Grenoble").get_json()["total_articles"] == 1


def test_api_upload_and_size_limit(admin):
    auth = {"Authorization": "Bearer s3cret"}
    data = {"file": (io.BytesIO(b"Un texte de Nantes.\n"), "../../nantes.txt")}
    r = admin.post("/api/articles", data=data, headers=auth, content_type="multipart/form-data")
    assert r.status_code == 201 and r.get_json()["articles"] == [{"id": "un-texte-de-nantes-5ae36d9601",
                                                                   "outcome": "added"}]
    big = {"file": (io.BytesIO(b"x" * 100_000), "big.txt")}
    r = admin.post("/api/articles", data=big, headers=auth, content_type="multipart/form-data")
    assert r.status_code == 413 and r.get_json()["error"] == "the upload is too large"


def test_add_form_checks_csrf_and_token(admin, seeded):
    page = text(admin.get("/add"))
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    form = {"title": "Collé", "text": "Un texte collé sur Rennes.", "tags": "a, b"}
    assert admin.post("/add", data={**form, "token": "s3cret"}).status_code == 400
    assert admin.post("/add", data={**form, "csrf": csrf, "token": "bad"}).status_code == 403
    r = admin.post("/add", data={**form, "csrf": csrf, "token": "s3cret"})
    assert r.status_code == 200 and "1 article ajouté, 0 mis à jour, 0 inchangé" in text(r)
    assert "— ajouté" in text(r)
    hits = admin.get("/api/search?q=Rennes").get_json()["hits"]
    assert hits[0]["title"] == "Collé" and hits[0]["tags"] == ["a", "b"]


def test_result_links_carry_the_search_state_back(client):
    body = text(client.get("/?q=investir&tag=chine&sort=-date"))
    assert f'href="/article/{SEED_ID}?q=investir&amp;tag=chine&amp;sort=-date#p4"' in body
    assert f'id="r-{SEED_ID}"' in body
    article = text(client.get(f"/article/{SEED_ID}?q=investir&tag=chine&sort=-date"))
    # Back to the same results, scrolled to the hit the article was opened from.
    assert f'href="/?q=investir&amp;tag=chine&amp;sort=-date#r-{SEED_ID}"' in article


def test_error_pages_are_translated(client):
    assert "Introuvable" in text(client.get("/article/nope"))
    assert "Not found" in text(client.get("/article/nope?lang=en"))


def test_an_empty_archive_shows_the_empty_state(runner, home):
    from archive.cli import cli

    assert runner.invoke(cli, ["--home", str(home), "rebuild"]).output == \
        "index rebuilt: 0 articles, 0 paragraphs in 1.5 s\n"
    client = create_app({"ARCHIVE_HOME": str(home)}).test_client()
    assert client.get("/").status_code == 200
    assert client.get("/api/search?q=x").get_json()["total_articles"] == 0
    assert client.get("/export.csv").status_code == 200
    Archive(home).add([str(SEEDS)])
    assert client.get("/api/search?q=investir").get_json()["total_articles"] == 1


def test_two_pastes_are_two_articles(admin, seeded):
    csrf = re.search(r'name="csrf" value="([^"]+)"', text(admin.get("/add"))).group(1)
    for paste in ("Un texte collé sur Rennes.", "Un autre texte collé sur Brest."):
        r = admin.post("/add", data={"text": paste, "csrf": csrf, "token": "s3cret"})
        assert r.status_code == 200 and "1 article ajouté," in text(r)
    again = admin.post("/add", data={"text": "Un texte collé sur Rennes.", "csrf": csrf, "token": "s3cret"})
    assert "0 mis à jour, 1 inchangé" in text(again)
    assert sorted(Archive(seeded.home).store.ids()) == [
        SEED_ID, "un-autre-texte-colle-sur-brest-d800db2601", "un-texte-colle-sur-rennes-8e5a71166a"]


def test_reading_view_shows_versions_and_earlier_ones(seeded):
    from archive.model import Article

    record = {"id": "v1", "title": "Grève à Lille", "paragraphs": ["La grève continue."]}
    seeded.add_articles([Article.from_record(record)])
    seeded.add_articles([Article.from_record(dict(record, paragraphs=["La grève est levée."]))])
    client = create_app({"ARCHIVE_HOME": str(seeded.home), "TESTING": True}).test_client()
    day = Archive(seeded.home).store.history("v1")[-1].stored_at[:10]
    import datetime as dt

    from babel.dates import format_date

    fr = text(client.get("/article/v1"))
    assert f"modifié le {format_date(dt.date.fromisoformat(day), 'long', locale='fr')} (2 versions)" in fr
    assert 'href="/article/v1?revision=1">1</a>' in fr and "La grève est levée." in fr
    old = text(client.get("/article/v1?revision=1"))
    assert "La grève continue." in old and "Version antérieure 1 sur 2." in old
    en = text(client.get("/article/v1?revision=1&lang=en"))
    assert f"modified on {format_date(dt.date.fromisoformat(day), 'long', locale='en')} (2 versions)" in en
    assert "Earlier version 1 of 2." in en and 'href="/article/v1">Read the current version</a>' in en
    assert "versions)" not in text(client.get(f"/article/{SEED_ID}"))  # one version: nothing to say
    assert client.get("/article/v1?revision=3").status_code == 404


def test_api_articles_without_id_get_content_ids(admin, seeded):
    auth = {"Authorization": "Bearer s3cret"}
    ids = []
    for text_ in ("Grenoble accueille le congrès.", "Grenoble accueille le salon."):
        body = admin.post("/api/articles", json={"title": "Grenoble", "paragraphs": [text_]}, headers=auth).get_json()
        assert (body["added"], body["notes"]) == (1, [])
        ids.append(body["articles"][0]["id"])
    assert ids[0] != ids[1] and all(i.startswith("grenoble-") and len(i) == len("grenoble-") + 10 for i in ids)
    again = admin.post("/api/articles", json={"title": "Grenoble", "paragraphs": ["Grenoble accueille le salon."]},
                       headers=auth).get_json()
    assert again["articles"] == [{"id": ids[1], "outcome": "unchanged"}]


def test_search_page_says_how_the_query_was_read(client):
    body = client.get("/?q=l’investissement+le+-Apple").get_data(as_text=True)
    assert ('<details class="explain"><summary>Comment la requête a été lue</summary>\n'
            "  <p><em>l’investissement</em> et ses formes (invest) ; <em>le</em> ignoré (mot courant) ; "
            "<em>Apple</em> exclu</p>") in body
def test_api_add_refuses_undecodable_text_with_the_upload_name(admin, seeded):
    auth = {"Authorization": "Bearer s3cret"}
    r = admin.post("/api/articles", data=b'{"id": "s", "title": "\\ud800", "paragraphs": ["p"]}',
                   headers=auth, content_type="application/json")
    assert r.status_code == 400
    body = r.get_json()
    assert body["failures"] == [{"source": "request body",
                                 "reason": "'title' holds a lone surrogate \\ud800 (an invalid \\u escape),"
                                           " which is not text"}]
    assert body["error"] == "request body: " + body["failures"][0]["reason"]
    files = {"file": [(io.BytesIO(b'{"id": "g1", "title": "G", "paragraphs": ["Brest."]}'), "dir/good.json"),
                      (io.BytesIO(b'{"id": "b1", "title": "\\udfff", "paragraphs": ["p"]}'), "../../etc/bad.json"),
                      (io.BytesIO(b"{broken"), "broken.json")]}
    r = admin.post("/api/articles", data=files, headers=auth, content_type="multipart/form-data")
    assert r.status_code == 207
    body = r.get_json()
    assert [f["source"] for f in body["failures"]] == ["bad.json", "broken.json"]
    assert "/tmp" not in r.get_data(as_text=True) and "archive-upload" not in r.get_data(as_text=True)
    assert admin.get("/api/search?q=Brest").get_json()["total_articles"] == 1


@pytest.mark.parametrize("path", ["/api/search?to=2020-13", "/export.csv?from=2020-02-30"])
def test_impossible_dates_are_400(client, path):
    r = client.get(path)
    assert r.status_code == 400
    if path.startswith("/api/"):
        assert r.get_json() == {"ok": False, "error": "to: impossible month in '2020-13' (months are 01 to 12)",
                                "status": 400, "code": "bad_date"}


def test_an_impossible_date_on_the_search_page_is_shown_beside_its_box(client):
    r = client.get("/?q=x&to=0001-00")
    assert r.status_code == 400 and 'id="date-to" name="to" value="0001-00"' in r.get_data(as_text=True)
    assert "«\u00a00001-00\u00a0» n’est pas une date" in r.get_data(as_text=True)


def test_search_on_a_damaged_index_answers_503_with_a_clear_message(seeded):
    folder = seeded.index_dir.path / str(seeded.index_dir.current_name())
    victim = max((p for p in folder.iterdir() if p.is_file() and p.suffix != ".json"), key=lambda p: p.stat().st_size)
    with victim.open("r+b") as f:
        f.truncate(victim.stat().st_size // 2)
    app = create_app({"ARCHIVE_HOME": str(seeded.home)})
    r = app.test_client().get("/api/search?q=Xiaomi")
    app.extensions["archive"].close()
    assert r.status_code == 503
    assert r.get_json()["error"].startswith("the search index is damaged: ")
    assert r.get_json()["error"].endswith("; run `archive check --repair`")


def test_repeated_parameters_are_linked_once_and_bounded(client):
    body = client.get("/?q=Xiaomi&to=&to=&to=&tag=chine&tag=chine&sort=-date&sort=-date").get_data(as_text=True)
    links = re.findall(r'href="(/\?[^"]*)"', body)
    assert links and all(link.count("sort=") <= 1 and link.count("to=") <= 1 and link.count("tag=chine") <= 1
                         for link in links)
    assert client.get("/?q=covid" + "&to=" * 70).status_code == 400
    assert client.get("/?q=" + "a" * 9000).status_code == 414
    assert client.get("/api/search?q=a&q=b").status_code == 400


def test_search_page_lists_wire_copies_under_the_hit(seeded, wire_records):
    from archive.model import Article

    dispatch, copy, _ = wire_records
    seeded.add_articles([Article.from_record(r) for r in (dispatch, copy)])
    client = create_app({"ARCHIVE_HOME": str(seeded.home), "TESTING": True}).test_client()
    one = text(client.get("/?q=témoin+Traoré&sort=date"))
    assert re.search(r'\+ 1 reprise : <a href="/article/copie-traore\?[^"]*"[^>]*>Le Parisien</a></p>', one)
    english = create_app({"ARCHIVE_HOME": str(seeded.home), "TESTING": True}).test_client()
    assert "+ 1 copy: " in text(english.get("/?q=témoin+Traoré&sort=date&lang=en"))
    third = dict(copy, id="troisieme-traore", source="Ouest-France", date="2020-07-04")
    seeded.add_articles([Article.from_record(third)])
    fr = text(client.get("/?q=témoin+Traoré&sort=date"))
    assert re.search(r'\+ 2 reprises : <a href="/article/copie-traore\?[^"]*"[^>]*>Le Parisien</a>, '
                     r'<a href="/article/troisieme-traore\?[^"]*"[^>]*>Ouest-France</a>', fr)
    assert "1 article" in fr and "copies=show" in fr  # the toggle to list them
    assert "+ 2 copies: " in text(english.get("/?q=témoin+Traoré&sort=date&lang=en"))
    shown = text(client.get("/?q=témoin+Traoré&sort=date&copies=show"))
    assert "3 articles" in shown and "reprise" not in shown.split('class="hits"')[1].split("</ol>")[0]
    assert re.search(r'href="/article/afp-traore\?[^"]*copies=show', shown)  # links carry the state
    assert client.get("/?q=Traoré&copies=maybe").status_code == 400
    api = client.get("/api/search?q=témoin+Traoré&sort=date").get_json()
    assert api["total_articles"] == 1
    assert [c["id"] for c in api["hits"][0]["copies"]] == ["copie-traore", "troisieme-traore"]
    assert {f["value"]: f["count"] for f in api["facets"]["source"]} == {
        "Orange Actu": 1, "Le Parisien": 1, "Ouest-France": 1}


def test_a_warmed_app_has_compiled_its_pages_before_any_request(seeded):
    from webui import create_app

    cold = create_app({"ARCHIVE_HOME": str(seeded.home), "ARCHIVE_ADMIN_TOKEN": None})
    warm = create_app({"ARCHIVE_HOME": str(seeded.home), "ARCHIVE_ADMIN_TOKEN": None, "ARCHIVE_WARM": True})
    try:
        assert [name for _, name in cold.jinja_env.cache.keys()] == []
        assert sorted(name for _, name in warm.jinja_env.cache.keys()) == sorted(warm.jinja_env.list_templates())
    finally:
        cold.extensions["archive"].close()
        warm.extensions["archive"].close()
