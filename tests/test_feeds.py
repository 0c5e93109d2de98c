"""Feeds: an RSS 2.0 and an Atom feed served on 127.0.0.1, followed and fetched through the command line."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

import pytest

from archive import Archive, search
from archive.cli import cli

#: An agency dispatch that both feeds print (the RSS one in full, the Atom one on its page).
DISPATCH = [
    "Le Conseil constitutionnel a validé jeudi l'essentiel de la loi sur l'eau, rejetant les recours déposés par "
    "plus de soixante députés qui contestaient le partage des prélèvements entre agriculteurs et communes.",
    "Les sages ont toutefois censuré deux articles jugés sans lien avec le texte initial, dont celui qui "
    "autorisait les préfets à suspendre les arrosages privés sans consultation préalable des maires concernés.",
    "Le gouvernement a salué une décision qui permet une entrée en vigueur rapide, dès le premier septembre, "
    "tandis que les associations d'élus ruraux annoncent déjà une nouvelle saisine sur les décrets d'application.",
]
OTHER = [
    "La saison des vendanges a commencé lundi dans le Beaujolais avec une semaine d'avance sur le calendrier "
    "habituel, conséquence d'un été chaud et sec qui a concentré les sucres dans les grappes.",
    "Les vignerons attendent une récolte modeste en volume mais prometteuse en qualité, malgré la grêle qui a "
    "touché plusieurs parcelles de Fleurie et de Chiroubles à la fin du mois de juillet dernier.",
]
NEW = [
    "Un incendie s'est déclaré dans la nuit de mardi à mercredi dans un entrepôt de la zone portuaire de "
    "Gennevilliers, mobilisant plus de cent pompiers pendant six heures sans faire de blessé.",
    "Les causes du sinistre restent inconnues et une enquête a été ouverte par le parquet de Nanterre, qui "
    "a demandé une expertise des installations électriques du bâtiment construit dans les années 1970.",
]


def html_of(paragraphs: list[str]) -> str:
    return "".join(f"<p>{escape(p)}</p>" for p in paragraphs)


def rss(items: list[tuple[str, str, list[str]]]) -> bytes:
    """Return an RSS 2.0 feed whose items carry their full text (content:encoded)."""
    body = "".join(
        f"<item><title>{escape(title)}</title><link>https://fil.example/{guid}</link><guid>{guid}</guid>"
        f"<pubDate>Thu, 04 Jul 2024 08:00:00 +0000</pubDate><dc:creator>AFP</dc:creator>"
        f"<description>{escape(paras[0][:80])}</description>"
        f"<content:encoded><![CDATA[{html_of(paras)}]]></content:encoded></item>"
        for guid, title, paras in items)
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
            f'xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f"<channel><title>Le Fil</title><link>https://fil.example/</link><language>fr</language>"
            f"{body}</channel></rss>").encode()


def atom(base: str) -> bytes:
    """Return an Atom feed of summaries whose text is on each entry's page."""
    entries = "".join(
        f"<entry><id>urn:courrier:{n}</id><title>{escape(title)}</title><link href='{base}/pages/{n}.html'/>"
        f"<updated>2024-07-05T09:00:00Z</updated><summary>{escape(paras[0][:60])}…</summary></entry>"
        for n, title, paras in (("eau", "Loi sur l'eau : les sages valident l'essentiel", DISPATCH),
                                ("vendanges", "Vendanges précoces dans le Beaujolais", OTHER)))
    return (f"<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom'>"
            f"<title>Le Courrier</title><id>urn:courrier</id><updated>2024-07-05T09:00:00Z</updated>"
            f"{entries}</feed>").encode()


def page(title: str, paragraphs: list[str]) -> bytes:
    return (f'<html lang="fr"><head><meta charset="utf-8"><title>{escape(title)} - Le Courrier</title>'
            f'<meta property="og:site_name" content="Le Courrier"><meta name="author" content="Anne Morel">'
            f'<meta property="article:published_time" content="2024-07-05"></head><body>'
            f"<nav><a href='/'>Accueil</a> <a href='/abo'>Offre d'essai gratuite</a></nav>"
            f"<article><h1>{escape(title)}</h1>{html_of(paragraphs)}</article>"
            f"<footer>Le Courrier, quotidien régional. Reproduction interdite.</footer></body></html>").encode()


@dataclass
class Site:
    """What the test server serves, and the requests it saw."""

    routes: dict[str, tuple[bytes, str, dict[str, str]]] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    base: str = ""

    def hits(self, path: str) -> list[dict[str, str]]:
        return [headers for p, headers in self.requests if p == path]


@pytest.fixture
def site() -> Iterator[Site]:
    """Serve a Site on 127.0.0.1 from a thread, answering conditional requests with 304."""
    served = Site()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served.requests.append((self.path, dict(self.headers.items())))
            if self.path not in served.routes:
                self.send_error(404)
                return
            body, content_type, validators = served.routes[self.path]
            etag, modified = validators.get("ETag"), validators.get("Last-Modified")
            if (etag and self.headers.get("If-None-Match") == etag) or (
                    modified and self.headers.get("If-Modified-Since") == modified):
                self.send_response(304)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in validators.items():
                self.send_header(name, value)
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client refused a body too large, as it should

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    served.base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def serve_feeds(site: Site, rss_items: list[tuple[str, str, list[str]]], etag: str) -> None:
    site.routes["/rss.xml"] = (rss(rss_items), "application/rss+xml", {"ETag": etag})
    site.routes["/atom.xml"] = (atom(site.base), "application/atom+xml",
                                {"Last-Modified": "Fri, 05 Jul 2024 09:00:00 GMT"})
    site.routes["/pages/eau.html"] = (page("Loi sur l'eau : les sages valident l'essentiel", DISPATCH),
                                      "text/html; charset=utf-8", {})
    site.routes["/pages/vendanges.html"] = (page("Vendanges précoces dans le Beaujolais", OTHER),
                                            "text/html; charset=utf-8", {})


RSS_ITEMS = [("eau-1", "Eau : la loi validée par le Conseil constitutionnel", DISPATCH),
             ("vignes-2", "Le Beaujolais vendange tôt", OTHER)]


def run(runner, home, *args: str):
    return runner.invoke(cli, ["--home", str(home), *args])


def test_feeds_are_fetched_once_then_conditionally_and_new_items_appear(runner, home, site):
    serve_feeds(site, RSS_ITEMS, etag='"v1"')
    followed = run(runner, home, "feeds", "add", f"{site.base}/rss.xml", "--source", "Le Fil", "--tag", "fil")
    assert followed.output == f"following {site.base}/rss.xml\n"
    assert run(runner, home, "feeds", "add", f"{site.base}/atom.xml").exit_code == 0
    listed = json.loads(run(runner, home, "feeds", "list", "--json").output)
    assert [(f["url"], f["source"], f["tags"], f["checked"]) for f in listed] == [
        (f"{site.base}/rss.xml", "Le Fil", ["fil"], None), (f"{site.base}/atom.xml", None, [], None)]

    first = run(runner, home, "feeds", "fetch")
    assert first.exit_code == 0, first.output
    assert first.output.splitlines() == [
        f"{site.base}/rss.xml: 2 new, 0 updated, 0 already stored, 0 failed",
        f"{site.base}/atom.xml: 2 new, 0 updated, 0 already stored, 0 failed"]
    archive = Archive(home)
    records = {a.title: a.to_record() for a in archive.store.iter_articles()}
    wire = records["Eau : la loi validée par le Conseil constitutionnel"]
    assert (wire["source"], wire["tags"], wire["author"], wire["date"], wire["paragraphs"], wire["url"]) == (
        "Le Fil", ["fil"], "AFP", "2024-07-04", DISPATCH, "https://fil.example/eau-1")
    from_page = records["Loi sur l'eau : les sages valident l'essentiel"]
    assert (from_page["source"], from_page["author"], from_page["date"], from_page["paragraphs"]) == (
        "Le Courrier", "Anne Morel", "2024-07-05", DISPATCH)
    assert len(site.hits("/pages/eau.html")) == 1  # the RSS items carry their text: no page fetched for them
    # The same dispatch from two feeds: one group of copies.
    ids = {a.title: a.id for a in archive.store.iter_articles()}
    assert archive.store.copies_of([ids[wire["title"]]]) == {ids[wire["title"]]: [ids[from_page["title"]]]}
    assert search(archive, "reproduction").total_articles == 0  # the page's footer was left out

    second = run(runner, home, "feeds", "fetch", "--json")
    assert second.exit_code == 0
    assert [(r["url"], r["status"], r["added"]) for r in json.loads(second.output)] == [
        (f"{site.base}/rss.xml", "not modified", 0), (f"{site.base}/atom.xml", "not modified", 0)]
    assert site.hits("/rss.xml")[-1].get("If-None-Match") == '"v1"'
    assert site.hits("/atom.xml")[-1].get("If-Modified-Since") == "Fri, 05 Jul 2024 09:00:00 GMT"
    assert len(archive.store) == 4 and len(site.hits("/pages/eau.html")) == 1

    serve_feeds(site, [*RSS_ITEMS, ("feu-3", "Incendie à Gennevilliers", NEW)], etag='"v2"')
    third = run(runner, home, "feeds", "fetch")
    assert third.output.splitlines() == [
        f"{site.base}/rss.xml: 1 new, 0 updated, 2 already stored, 0 failed", f"{site.base}/atom.xml: not modified"]
    assert len(archive.store) == 5 and search(archive, "Gennevilliers").total_articles == 1

    assert run(runner, home, "feeds", "remove", f"{site.base}/atom.xml").exit_code == 0
    assert [f["url"] for f in json.loads(run(runner, home, "feeds", "list", "--json").output)] == [
        f"{site.base}/rss.xml"]
    gone = run(runner, home, "feeds", "remove", f"{site.base}/atom.xml")
    assert gone.exit_code == 2 and "no such feed" in gone.output


def test_a_failing_feed_does_not_stop_the_others(runner, home, site):
    serve_feeds(site, RSS_ITEMS, etag='"v1"')
    site.routes["/broken.xml"] = (b"<html><body>Erreur 500: <b>base indisponible", "text/xml", {})
    site.routes["/half.xml"] = (rss([("feu-3", "Incendie", NEW)])[:-len("</channel></rss>")], "application/rss+xml", {})
    for path in ("/broken.xml", "/rss.xml", "/gone.xml", "/half.xml"):
        run(runner, home, "feeds", "add", site.base + path)
    run(runner, home, "feeds", "add", "http://127.0.0.1:1/offline.xml")
    result = run(runner, home, "feeds", "fetch")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[1:3] == [f"{site.base}/rss.xml: 2 new, 0 updated, 0 already stored, 0 failed",
                          f"{site.base}/gone.xml: failed: the server answered HTTP 404 (Not Found)"]
    assert lines[0].startswith(f"{site.base}/broken.xml: failed: ")
    assert lines[3] == f"{site.base}/half.xml: 1 new, 0 updated, 0 already stored, 0 failed"
    assert lines[4].startswith("http://127.0.0.1:1/offline.xml: failed: could not reach 127.0.0.1 (")
    assert lines[4].endswith("offline?") and len(lines) == 5
    assert "malformed feed XML" in result.stderr
    assert len(Archive(home).store) == 3


def test_a_page_is_added_by_its_address_and_offline_is_one_line(runner, home, site):
    serve_feeds(site, RSS_ITEMS, etag='"v1"')
    url = f"{site.base}/pages/vendanges.html"
    added = run(runner, home, "add", url)
    assert added.exit_code == 0, added.output
    (article,) = Archive(home).store.iter_articles()
    assert (article.title, article.source, article.url, article.paragraphs) == (
        "Vendanges précoces dans le Beaujolais", "Le Courrier", url, OTHER)
    assert run(runner, home, "add", url).output.startswith("0 added, 0 updated, 1 unchanged")
    hot = ["Un été très chaud à Sète, où l'on a vu des températures proches de quarante degrés après des "
           "semaines de sécheresse.", "Les pêcheurs du port ont dû rentrer à quai plus tôt que prévu."]
    latin = page("La fête du port", hot).replace(b'<meta charset="utf-8">', b"")
    site.routes["/pages/sete.html"] = (latin.decode().encode("latin-1"), "text/html; charset=iso-8859-1", {})
    assert run(runner, home, "add", f"{site.base}/pages/sete.html").exit_code == 0
    titles = {a.title: a for a in Archive(home).store.iter_articles()}
    assert titles["La fête du port"].paragraphs == hot  # the server's charset, not a guess (« trčs », « ŕ »)
    offline = run(runner, home, "add", "http://127.0.0.1:1/article.html")
    assert offline.exit_code == 1
    assert offline.stderr.splitlines()[0].startswith("failed: http://127.0.0.1:1/article.html: could not reach")
    missing = run(runner, home, "add", f"{site.base}/nope.html")
    assert "failed: " + f"{site.base}/nope.html: the server answered HTTP 404 (Not Found)" in missing.stderr
    site.routes["/huge.html"] = (b"<html><body><p>" + b"x" * (9 << 20), "text/html", {})
    huge = run(runner, home, "add", f"{site.base}/huge.html", url)
    assert huge.stderr.splitlines() == [f"failed: {site.base}/huge.html: larger than 8 MiB: not read"]
    assert huge.stdout.startswith("0 added, 0 updated, 1 unchanged, 1 failed")


def test_the_add_form_takes_a_saved_page_a_warc_by_content_and_an_address(home, site, tmp_path):
    import io
    import re

    from webui import create_app

    serve_feeds(site, RSS_ITEMS, etag='"v1"')
    client = create_app({"ARCHIVE_HOME": str(home), "ARCHIVE_ADMIN_TOKEN": "s3cret"}).test_client()
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/add").get_data(as_text=True)).group(1)
    saved = page("Incendie à Gennevilliers", NEW)
    form = {"csrf": csrf, "token": "s3cret", "url": f"{site.base}/pages/eau.html",
            "file": (io.BytesIO(saved), "incendie.htm")}
    answer = client.post("/add", data=form, content_type="multipart/form-data")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert "2 articles ajoutés, 0 mis à jour, 0 inchangé" in answer.get_data(as_text=True)
    records = {a.title: a for a in Archive(home).store.iter_articles()}
    assert records["Incendie à Gennevilliers"].paragraphs == NEW
    assert records["Loi sur l'eau : les sages valident l'essentiel"].url == f"{site.base}/pages/eau.html"
    refused = client.post("/add", data={"csrf": csrf, "token": "s3cret", "url": "file:///etc/passwd"})
    assert refused.status_code == 400 and "file:///etc/passwd" in refused.get_data(as_text=True)


@pytest.mark.parametrize("text, seconds", [("15m", 900.0), ("1h", 3600.0), ("90s", 90.0), ("45", 45.0)])
def test_fetch_every_reads_durations(text, seconds):
    from archive.cli_serve import duration

    assert duration(text) == seconds


@pytest.mark.parametrize("text", ["0", "15 min", "-5m", "quinze"])
def test_fetch_every_refuses_what_is_not_a_duration(text):
    import click

    from archive.cli_serve import duration

    with pytest.raises(click.BadParameter):
        duration(text)


def test_serve_fetches_the_feeds_on_its_schedule(runner, home, site):
    from archive.cli_serve import fetching
    from tests.support import wait_until

    serve_feeds(site, RSS_ITEMS, etag='"v1"')
    run(runner, home, "feeds", "add", f"{site.base}/rss.xml")
    stop, thread = fetching(home, 0.2)
    try:
        wait_until(lambda: len(site.hits("/rss.xml")) >= 2, "two scheduled fetches")
    finally:
        stop.set()
        thread.join(timeout=60)  # the fetch under way finishes; no other starts
    assert not thread.is_alive()
    assert len(Archive(home).store) == 2
    assert site.hits("/rss.xml")[1].get("If-None-Match") == '"v1"'


def test_an_item_whose_page_failed_is_tried_again_at_the_next_fetch(runner, home, site):
    serve_feeds(site, RSS_ITEMS, etag='"v1"')
    del site.routes["/pages/vendanges.html"]
    run(runner, home, "feeds", "add", f"{site.base}/atom.xml")
    first = run(runner, home, "feeds", "fetch")
    assert first.exit_code == 1
    assert first.stdout == f"{site.base}/atom.xml: 1 new, 0 updated, 0 already stored, 1 failed\n"
    assert f"failed: {site.base}/atom.xml: item {site.base}/pages/vendanges.html: the server answered HTTP 404" \
        in first.stderr
    serve_feeds(site, RSS_ITEMS, etag='"v1"')  # the page is back; the feed did not change
    second = run(runner, home, "feeds", "fetch")
    assert "If-Modified-Since" not in site.hits("/atom.xml")[-1]  # fetched whole, not 304
    assert second.stdout == f"{site.base}/atom.xml: 1 new, 0 updated, 1 already stored, 0 failed\n"
    assert run(runner, home, "feeds", "fetch").stdout == f"{site.base}/atom.xml: not modified\n"


RSS_1 = """<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
 xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="https://fil.example/"><title>Le Fil</title><link>https://fil.example/</link>
<description>d</description></channel>
<item rdf:about="https://fil.example/eau"><title>La loi sur l'eau validée</title><link>https://fil.example/eau</link>
<dc:date>2024-07-04T08:00:00Z</dc:date><dc:creator>AFP</dc:creator><description>{text}</description></item>
</rdf:RDF>"""
RSS_091 = """<?xml version="1.0"?><rss version="0.91"><channel><title>Le Fil</title><link>https://fil.example/</link>
<description>d</description><language>fr</language><item><title>La loi sur l'eau validée</title>
<link>https://fil.example/eau</link><description>{text}</description></item></channel></rss>"""


@pytest.mark.parametrize("template, date, author", [(RSS_1, "2024-07-04", "AFP"), (RSS_091, None, None)])
def test_rss_1_0_and_0_91_feed_files_are_read(archive, tmp_path, template, date, author):
    feed = tmp_path / "fil"  # no suffix: recognised by its root element
    feed.write_text(template.format(text=escape(DISPATCH[0])), encoding="utf-8")
    report = archive.add([str(feed)])
    assert report.counts() == {"added": 1, "updated": 0, "unchanged": 0, "failed": 0}
    (article,) = archive.store.iter_articles()
    assert (article.title, article.paragraphs, article.url, article.source) == (
        "La loi sur l'eau validée", [DISPATCH[0]], "https://fil.example/eau", "Le Fil")
    assert (article.date.isoformat() if article.date else None, article.authors[0] if article.authors else None) == (
        date, author)
