"""Research tools stop at a bounded amount of work per request, and read a long article once."""

from __future__ import annotations

import pytest

from archive.home import Archive
from archive.model import Article
from archive.research import concordance, kwic
from archive.search import SearchRequest, engine_for
from webui import create_app
from webui.extension import Slot


@pytest.fixture
def many(archive: Archive) -> Archive:
    archive.add_articles([Article.from_record({
        "id": f"a{i:02d}", "title": f"Article {i}", "date": f"2020-01-{i % 28 + 1:02d}",
        "paragraphs": [f"Une grève numéro {i} et une autre grève.", f"Les grévistes {i} défilent."]})
        for i in range(40)])
    return archive


def test_a_concordance_sort_stops_at_its_budget_and_says_so(many, monkeypatch):
    whole = concordance(engine_for(many.home), SearchRequest.build("grève"), sort="left")
    assert (whole.total, whole.truncated) == (80, False)
    engine_for(many.home).derived.clear()  # the counts kept by the engine: counted again, under the budget
    monkeypatch.setattr(kwic, "MAX_COST", 30)
    cut = concordance(engine_for(many.home), SearchRequest.build("grève"), sort="left")
    assert cut.truncated and 0 < cut.total < 80 and cut.to_dict()["truncated"] is True


def test_the_concordance_page_says_it_was_cut_short(many, monkeypatch):
    monkeypatch.setattr(kwic, "MAX_COST", 30)
    app = create_app({"ARCHIVE_HOME": str(many.home), "TESTING": True})
    try:
        client = app.test_client()
        assert client.get("/api/kwic?q=gr%C3%A8ve&order=left").get_json()["truncated"] is True
        assert "elle a été écourtée" in client.get("/concordance?q=gr%C3%A8ve&order=left").get_data(as_text=True)
    finally:
        app.extensions["archive"].close()


def test_a_long_article_is_decoded_once_per_request(archive):
    archive.add_articles([Article.from_record({
        "id": "long", "title": "Long", "paragraphs": [f"La grève {i} continue." for i in range(1200)]})])
    engine = engine_for(archive.home)
    statements: list[str] = []
    engine.archive.store.db.set_trace_callback(statements.append)
    try:
        page = concordance(engine, SearchRequest.build("grève"), sort="right", per_page=200)
    finally:
        engine.archive.store.db.set_trace_callback(None)
    assert page.total == 1200 and page.lines[0].id == "long"
    # Three batches of paragraphs, one decoding of the record; none extracts one paragraph at a time.
    assert sum("json_extract(record, '$.paragraphs')" in s for s in statements) == 1
    assert not any("'$.paragraphs[' ||" in s and '"long"' in s for s in statements)


def test_costly_requests_run_one_at_a_time_one_waits_the_others_are_refused():
    from archive import Overloaded

    slot = Slot(waiting=1)
    slot.acquire()
    import threading

    waiter = threading.Thread(target=lambda: (slot.acquire(), slot.release()))
    waiter.start()
    import time as _t

    for _ in range(1000):  # the waiter registers itself, then blocks on the running one
        if slot.inside == 2:
            break
        _t.sleep(0.001)
    with pytest.raises(Overloaded):
        slot.acquire()
    slot.release()
    waiter.join(10)
    slot.acquire()
    slot.release()
