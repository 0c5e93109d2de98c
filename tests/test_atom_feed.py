"""The Atom feed parses whatever control characters titles, paragraphs and queries hold."""

from __future__ import annotations

from urllib.parse import quote
from xml.etree import ElementTree as ET

import pytest

from archive.home import Archive
from archive.model import Article
from archive.research.feed import xml_text
from webui import create_app

#: Every character XML 1.0 forbids below U+0020, and the two non-characters at the end of the BMP.
FORBIDDEN = [chr(c) for c in range(0x20) if chr(c) not in "\t\n\r"] + ["\ufffe", "\uffff"]
ATOM = "{http://www.w3.org/2005/Atom}"


def test_xml_text_drops_exactly_the_forbidden_characters():
    assert xml_text("".join(FORBIDDEN)) == ""
    kept = "a\tb\nc\rd é \u2028 \ud7ff \ue000 \U0001f600"
    assert xml_text(kept) == kept


@pytest.fixture
def feed_client(archive: Archive):
    archive.add_articles([Article.from_record({
        "id": f"c{i}", "title": f"Grève{ch}titre {i}", "date": f"2020-01-{i % 28 + 1:02d}",
        "authors": [f"Au{ch}teur"], "tags": [f"t{ch}ag"],
        "paragraphs": [f"La grève{ch} continue."]}) for i, ch in enumerate(FORBIDDEN)])
    app = create_app({"ARCHIVE_HOME": str(archive.home), "TESTING": True})
    yield app.test_client()
    app.extensions["archive"].close()


def test_feed_parses_with_every_control_character_in_titles(feed_client):
    r = feed_client.get("/feed.atom?q=gr%C3%A8ve")
    assert r.status_code == 200
    feed = ET.fromstring(r.data)
    titles = sorted(e.findtext(f"{ATOM}title") or "" for e in feed.iter(f"{ATOM}entry"))
    # (ingest itself turns a vertical tab or a form feed into a space)
    assert len(titles) == 20 and all(t.replace(" ", "").startswith("Grèvetitre") for t in titles)


@pytest.mark.parametrize("ch", FORBIDDEN)
def test_feed_parses_with_a_control_character_in_the_query(feed_client, ch):
    r = feed_client.get("/feed.atom?q=" + quote("grève" + ch))
    assert r.status_code == 200
    feed = ET.fromstring(r.data)
    assert (feed.findtext(f"{ATOM}title") or "").endswith("grève")
    assert feed.find(f"{ATOM}link[@rel='self']") is not None
