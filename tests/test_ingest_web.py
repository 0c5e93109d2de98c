"""Articles as people have them: saved pages, WARC web archives, Europresse exports, and bad input in each."""

from __future__ import annotations

import io
import json
import weakref
import zlib
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archive import Archive, search
from archive.budget import collector_paused
from archive.ingest import recognise
from archive.ingest.html import fragment_blocks
from archive.ingest.warc import BOMB_FLOOR
from tests.support import corpus_file

DATA = Path(__file__).parent / "data" / "pages"

#: What each saved page of tests/data/pages must become.
PAGES = {
    "blog.html": {
        "title": "Le marché couvert de Roubaix rouvre ses portes", "date": "2024-10-12",
        "source": "Gazette du Nord", "author": "Claire Vandamme",
        "url": "https://gazette-du-nord.example/2024/10/12/marche-couvert-roubaix",
        "paragraphs": [
            "Après dix-huit mois de travaux, le marché couvert de la place de la Liberté a rouvert samedi matin "
            "sous une verrière entièrement restaurée, au grand soulagement des commerçants du quartier.",
            "Les quarante-deux étals ont été redistribués par tirage au sort, une méthode contestée par plusieurs "
            "maraîchers installés là depuis plus de vingt ans, qui réclamaient de garder leur emplacement historique.",
            "Une charpente de 1893 sauvée",
            "Les charpentiers ont démonté puis remonté pièce par pièce les fermes métalliques d'origine, dont "
            "certaines étaient rongées par la rouille, pour un chantier estimé à 4,7 millions d'euros.",
            "La mairie promet une ouverture le dimanche dès le printemps prochain, si la fréquentation des premiers "
            "mois se confirme et si les commerçants acceptent de nouveaux horaires."],
        "headings": [2]},
    "news.html": {
        "title": "Sécheresse : les agriculteurs de la Beauce limitent l'irrigation", "date": "2023-08-03",
        "source": "Le Courrier du Centre", "author": "Karim Benali",
        "url": "https://courrier-centre.example/regions/secheresse-beauce-irrigation",
        "paragraphs": [
            "La préfecture d'Eure-et-Loir a placé jeudi quarante communes en alerte renforcée : les prélèvements "
            "agricoles dans la nappe sont réduits de moitié jusqu'à la fin du mois.",
            "Dans les exploitations de la plaine, les enrouleurs sont restés à l'arrêt dès vendredi. « On arrose la "
            "nuit, quand on a le droit, et on regarde le maïs souffrir le jour », résume un céréalier de Voves.",
            "La chambre d'agriculture estime que les rendements du maïs pourraient baisser d'un quart par rapport à "
            "l'an dernier, même si les blés, récoltés en juillet, ont échappé au plus fort de la chaleur.",
            "Les syndicats demandent des aides d'urgence et une révision du calendrier des retenues d'eau, un dossier "
            "qui divise depuis des années agriculteurs et associations de défense de l'environnement."],
        "headings": []},
    "legacy.html": {
        "title": "Le dernier sabotier de Lanslebourg prend sa retraite", "date": "2009-02-17",
        "source": "L'Echo des Vallees", "author": "Jean-Pierre Favre", "url": None,
        "paragraphs": [
            "Pendant quarante-trois ans, Marcel Girard a taillé dans le bouleau et le noyer des sabots que les "
            "touristes emportaient comme souvenirs et que les anciens portaient encore pour aller à l'étable.",
            "Son atelier de la Grand-Rue, où les copeaux couvraient le sol jusqu'aux chevilles, fermera ses volets à "
            "la fin du mois, faute de repreneur malgré deux annonces passées dans la presse spécialisée.",
            "« Le métier ne nourrit plus son homme, mais il m'a fait rencontrer la moitié de la vallée », confie "
            "l'artisan, qui compte offrir ses outils au musée des traditions de Bessans."],
        "headings": []},
}
#: Words found only in the pages' navigation, comments, sidebars, banners and footers.
BOILERPLATE = ["infolettre", "réservés", "commentaire", "nostalgie", "sanglier", "cookies", "publicité",
               "partager", "abonner", "webmestre", "compteur", "rubriques", "piscines", "1946"]
FIELDS = ("title", "date", "source", "author", "url", "paragraphs", "headings")


def stored(archive: Archive) -> dict[str, dict]:
    """Return every stored article's record, by title."""
    return {a.title: a.to_record() for a in archive.store.iter_articles()}


def expected(record: dict) -> dict:
    return {k: record[k] for k in FIELDS}


def test_saved_pages_of_three_layouts_keep_their_text_and_metadata_without_boilerplate(archive):
    report = archive.add([str(DATA)])
    assert report.counts() == {"added": 3, "updated": 0, "unchanged": 0, "failed": 0}
    records = stored(archive)
    assert {title: expected(r) for title, r in records.items()} == {p["title"]: p for p in PAGES.values()}
    assert {r["lang"] for r in records.values()} == {"fr"}
    for word in BOILERPLATE:
        assert search(archive, word).total_articles == 0, word
    assert search(archive, "sabotier").total_articles == 1
    assert archive.add([str(DATA)]).counts()["unchanged"] == 3  # remembered by path: nothing twice


def html_page(title: str, paragraphs: list[str], *, site: str = "Le Quotidien Test", date: str = "2021-05-04",
              author: str = "Léa Martin", lang: str = "fr") -> bytes:
    """Return a small news page with a menu and a footer around its article."""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>'
            f'<meta property="og:site_name" content="{site}"><meta name="author" content="{author}">'
            f'<meta property="article:published_time" content="{date}T10:00:00Z"></head><body>'
            '<nav><a href="/">Accueil</a> <a href="/monde">Monde</a> <a href="/club">Espace abonnés</a></nav>'
            f"<article><h1>{title}</h1>{body}</article>"
            "<footer><p>Toute reproduction strictement interdite sans accord écrit de la rédaction.</p></footer>"
            "</body></html>").encode()


LOREM = ["Le conseil municipal a voté mardi soir la rénovation complète de la piscine olympique, fermée depuis "
         "trois ans pour des raisons de sécurité, après un débat de plus de quatre heures.",
         "Les travaux débuteront au printemps et devraient durer dix-huit mois, pour un coût total estimé à "
         "douze millions d'euros, dont la moitié financée par la région et l'État."]


def write_warc(path: Path, records: list[tuple[str, str, bytes, str]], *, bomb: int = 0) -> None:
    """Write a gzipped WARC of (uri, status, payload, content type) responses, then a bomb of ``bomb`` bytes."""
    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=True)

        def write(record) -> None:
            writer.write_record(record)
            record.raw_stream.close()  # warcio spools each payload to a temporary file

        for uri, status, payload, content_type in records:
            headers = [("Content-Type", content_type)] + ([("Location", "/ailleurs")] if status.startswith("3") else [])
            write(writer.create_warc_record(uri, "request", payload=io.BytesIO(b"GET / HTTP/1.1\r\n\r\n")))
            write(writer.create_warc_record(uri, "response", payload=io.BytesIO(payload),
                                            http_headers=StatusAndHeaders(status, headers, protocol="HTTP/1.1")))
        if bomb:  # one gzip member: a response whose zeros inflate a thousand times
            head = (f"WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:bomb>\r\n"
                    f"WARC-Target-URI: https://bomb.example/\r\nContent-Type: application/http\r\n"
                    f"Content-Length: {bomb}\r\n\r\n").encode()
            deflate = zlib.compressobj(9, zlib.DEFLATED, 31)
            out.write(deflate.compress(head))
            zeros = bytes(1 << 20)
            for _ in range(bomb >> 20):
                out.write(deflate.compress(zeros))
            out.write(deflate.flush())
        for uri, status, payload, content_type in records[:1] if bomb else []:  # after the bomb, never reached
            write(writer.create_warc_record(
                uri + "?after", "response", payload=io.BytesIO(payload + b"<!-- after -->"),
                http_headers=StatusAndHeaders(status, [("Content-Type", content_type)], protocol="HTTP/1.1")))


def test_a_warc_gives_its_html_pages_once_with_their_address_and_date(archive, tmp_path):
    english = ["The city council voted on Tuesday evening for the complete renovation of the Olympic pool, which "
               "has been closed for three years for safety reasons, after a debate of more than four hours.",
               "Work will begin in the spring and should last eighteen months, for a total cost estimated at "
               "twelve million euros, half of which is financed by the region and the state."]
    warc = tmp_path / "crawl.warc.gz"
    write_warc(warc, [
        ("https://quotidien.example/piscine", "200 OK", html_page("La piscine olympique sera rénovée", LOREM),
         "text/html; charset=utf-8"),
        ("https://quotidien.example/ancien", "301 Moved Permanently", b"", "text/html"),
        ("https://quotidien.example/logo.png", "200 OK", b"\x89PNG\r\n\x1a\n" + bytes(64), "image/png"),
        ("https://quotidien.example/piscine?utm=x", "200 OK", html_page("La piscine olympique sera rénovée", LOREM),
         "text/html"),
        ("https://quotidien.example/en/pool", "200 OK",
         html_page("The Olympic pool will be renovated", english, lang="en"), "text/html"),
    ])
    assert recognise(warc.read_bytes()[:65536], ".bin") == "warc"
    report = archive.add([str(warc)])
    assert report.counts() == {"added": 2, "updated": 0, "unchanged": 0, "failed": 0}
    records = stored(archive)
    pool = records["La piscine olympique sera rénovée"]
    assert (pool["date"], pool["source"], pool["author"], pool["paragraphs"], pool["lang"]) == (
        "2021-05-04", "Le Quotidien Test", "Léa Martin", LOREM, "fr")
    assert pool["url"] == "https://quotidien.example/piscine"
    assert records["The Olympic pool will be renovated"]["lang"] == "en"
    assert any("not French" in note and "lang=en" in note for note in report.notes)
    assert search(archive, "reproduction").total_articles == 0
    assert archive.add([str(warc)]).counts()["unchanged"] == 2  # the record ids are remembered


def test_pages_not_in_utf8_read_in_the_charset_their_server_declares_else_cp1252(archive, tmp_path):
    latin = ["Un été très chaud à Sète, où l'on a vu des températures proches de quarante degrés après des "
             "semaines de sécheresse.", "Les pêcheurs du port ont dû rentrer à quai plus tôt que prévu."]
    # No <meta charset>: only the HTTP header of the record says Latin-1, as old French sites do.
    undeclared = html_page("Été caniculaire à Sète", latin).replace(b'<meta charset="utf-8">', b"")
    warc = tmp_path / "latin.warc.gz"
    write_warc(warc, [("https://quotidien.example/ete", "200 OK", undeclared.decode().encode("latin-1"),
                       "text/html; charset=ISO-8859-1")])
    saved = tmp_path / "saved.html"  # saved without any declaration: cp1252, not a Central European guess
    saved.write_bytes(html_page("Pêcheurs à quai", latin[::-1]).replace(b'<meta charset="utf-8">', b"")
                      .decode().encode("cp1252"))
    report = archive.add([str(warc), str(saved)])
    assert report.counts() == {"added": 2, "updated": 0, "unchanged": 0, "failed": 0}
    records = stored(archive)
    assert records["Été caniculaire à Sète"]["paragraphs"] == latin
    assert records["Pêcheurs à quai"]["paragraphs"] == latin[::-1]


def test_a_gzip_bomb_in_a_warc_stops_the_file_in_one_line_and_keeps_the_pages_before(archive, tmp_path):
    warc = tmp_path / "bomb.warc.gz"
    write_warc(warc, [("https://quotidien.example/piscine", "200 OK",
                       html_page("La piscine olympique sera rénovée", LOREM), "text/html")], bomb=BOMB_FLOOR * 8)
    assert warc.stat().st_size < BOMB_FLOOR  # a few hundred kilobytes on disk
    report = archive.add([str(warc)])
    assert report.counts() == {"added": 1, "updated": 0, "unchanged": 0, "failed": 1}
    (failure,) = report.failures
    assert failure.source == f"{warc}: after record 2" and "gzip bomb" in failure.reason
    assert "\n" not in str(failure)
    assert list(stored(archive)) == ["La piscine olympique sera rénovée"]


def test_the_europresse_sample_gives_each_document_with_its_metadata(archive):
    sample = corpus_file("europresse-sample.html")
    lines = corpus_file("europresse-sample-expected.jsonl").read_text("utf-8").splitlines()
    wanted = [json.loads(line) for line in lines]
    report = archive.add([str(sample)])
    assert report.counts() == {"added": 3, "updated": 0, "unchanged": 0, "failed": 0}
    records = stored(archive)
    for want in wanted:
        got = records[want["title"]]
        assert {k: got[k] for k in ("title", "date", "source", "author", "url", "paragraphs")} == {
            k: want[k] for k in ("title", "date", "source", "author", "url", "paragraphs")}
    for phrase in ("droits réservés", "conventions internationales", "Cet article est paru", "Europresse"):
        assert search(archive, f'"{phrase}"').total_articles == 0, phrase
    assert archive.add([str(sample)]).counts()["unchanged"] == 3


EXPORT = """<html><head><meta charset="utf-8"></head><body><div class="headerEuropresse">Europresse.com</div>
<article><header><span class="DocPublicationName">La Dépêche du Test</span>
<span class="DocHeader">vendredi 14 mars 2025 312 mots, p. 12</span>
<div class="titreArticle"><p class="titreArticleVisu">Le pont de la Garonne rouvre</p></div>
<p class="sm-margin-bottomNews">Paul Roux</p></header>
<section><div class="docOcurrContainer"><p>Après six mois de travaux, le pont a rouvert jeudi à la circulation.</p>
<p>Cet article est paru dans <a href="https://depeche.example/pont">La Dépêche du Test</a></p></div></section>
<footer>© 2025 La Dépêche du Test. Tous droits réservés.</footer></article>
<article><header><span class="DocPublicationName">Le Broken</span><span class="DocHeader">lundi 3 mars 2025</span>
</header><section><div class="docOcurrContainer"><p>Un texte sans titre, ni rien d'autre.</p></div></section>
</article>
<article><header><span class="DocPublicationName">Nord Test</span>
<span class="DocHeader">samedi 1er mars 2025 100 mots</span>
<div class="titreArticle"><p class="titreArticleVisu">Une titre sans texte</p></div></header></article>
<article><header><span class="DocPublicationName">Sud Test (site web)</span>
<span class="DocHeader">dimanche 2 mars 2025 200 mots</span>
<div class="titreArticle"><p class="titreArticleVisu">La fête du citron</p></div></header>
<div class="DocText clearfix"><p>Menton a ouvert samedi sa fête du citron, sous un soleil printanier.</p>
</div></article>
</body></html>"""


def test_a_broken_article_of_an_export_fails_alone_named_by_its_number(archive, tmp_path):
    export = tmp_path / "export"  # no suffix: recognised by its content
    export.write_text(EXPORT, encoding="utf-8")
    report = archive.add([str(export)])
    assert report.counts() == {"added": 2, "updated": 0, "unchanged": 0, "failed": 2}
    assert [(f.source, f.reason) for f in report.failures] == [
        (f"{export}: article 2", "no title (.titreArticle)"),
        (f"{export}: article 3", "no text (div.docOcurrContainer or div.DocText)")]
    records = stored(archive)
    assert expected(records["Le pont de la Garonne rouvre"]) == {
        "title": "Le pont de la Garonne rouvre", "date": "2025-03-14", "source": "La Dépêche du Test",
        "author": "Paul Roux", "url": "https://depeche.example/pont", "headings": [],
        "paragraphs": ["Après six mois de travaux, le pont a rouvert jeudi à la circulation."]}
    assert (records["La fête du citron"]["date"], records["La fête du citron"]["author"]) == ("2025-03-02", None)


def test_bad_pages_fail_alone_and_the_rest_of_the_batch_is_stored(archive, tmp_path):
    batch = tmp_path / "batch"
    batch.mkdir()
    (batch / "a-good.html").write_bytes(html_page("La piscine olympique sera rénovée", LOREM))
    (batch / "b-links.html").write_text("<html><body><nav><ul>" + "".join(
        f'<li><a href="/{i}">Rubrique {i}</a></li>' for i in range(30)) + "</ul></nav></body></html>")
    with (batch / "c-huge.html").open("wb") as f:
        f.write(b"<html><body><p>")
        f.truncate(50 * 1024 * 1024)  # sparse: no disk used
    (batch / "d-feed.xml").write_text("<?xml version='1.0'?><rss version='2.0'><channel><title>T</title>"
                                      "<item><title>Oups</title><description>Un <b>texte</description></item>")
    (batch / "e-notes.txt").write_text("Un texte valable pour finir.", encoding="utf-8")
    report = archive.add([str(batch)])
    reasons = {Path(f.source).name: f.reason for f in report.failures}
    assert set(reasons) == {"b-links.html", "c-huge.html"}
    assert reasons["b-links.html"].startswith("no article body found")
    assert reasons["c-huge.html"].startswith("file too large")
    assert report.counts() == {"added": 3, "updated": 0, "unchanged": 0, "failed": 2}
    assert any("malformed feed XML" in note for note in report.notes)  # read all the same, with a note
    assert sorted(stored(archive)) == ["La piscine olympique sera rénovée", "Oups", "Un texte valable pour finir."]


@pytest.mark.parametrize("head, suffix, kind", [
    (b"<?xml version='1.0'?>\n<!-- x --><rss version='2.0'>", ".bin", "feed"),
    (b"<feed xmlns='http://www.w3.org/2005/Atom'>", "", "feed"),
    (b"<!DOCTYPE html><html><body><p>x</p>", ".xml", "page"),
    (b'<html><span class="DocPublicationName">X</span>', ".HTML".lower(), "europresse"),
    (b"WARC/1.1\r\n", ".bin", "warc"),
    (b'{"title": "t"}\n{"title": "u"}\n', "", "jsonl"),
    (b"Un texte.", ".txt", "txt"),
    (b"Un texte.", ".pdf", None),
    (b"\x1f\x8b\x08\x00" + bytes(20), ".gz", None),
])
def test_sources_are_recognised_by_their_content(head, suffix, kind):
    assert recognise(head, suffix) == kind


def test_reading_a_feed_items_html_leaves_no_reference_cycle():
    """A write pauses the cyclic collector: each item's text must be freed as soon as it is read."""
    html = "<div><h2>Grève</h2>Les trains<br><br>restent à quai.<section><p>À Lille aussi.</p></section></div>"
    with collector_paused():
        blocks = fragment_blocks(html)
        assert [(b.text, b.heading) for b in blocks] == [("Grève", True), ("Les trains", False),
                                                         ("restent à quai.", False), ("À Lille aussi.", False)]
        first = weakref.ref(blocks[0])
        del blocks
        assert first() is None  # freed by its reference count: no cycle held the item's blocks
