"""A reader never sees half an update: a hit's text is the version its index entry was made from."""

from __future__ import annotations

import json
import threading

from archive.failpoints import held
from archive.home import Archive
from archive.model import Article
from archive.search import Engine, SearchRequest

A = {"id": "art", "title": "Version A des cheminots", "paragraphs": ["Les cheminots votent la grève."]}
B = {"id": "art", "title": "Version B des pilotes", "paragraphs": ["Les pilotes votent la grève."]}


def test_between_store_commit_and_index_publish_hits_show_the_indexed_version(archive: Archive, tmp_path):
    archive.add_articles([Article.from_record(A)])
    engine = Engine(archive.home)
    try:
        assert [h.title for h in engine.search(SearchRequest.build("cheminots")).hits] == [A["title"]]
        source = tmp_path / "b.json"
        source.write_text(json.dumps(B), encoding="utf-8")
        with held("after-store-commit") as hold:
            writer = threading.Thread(target=archive.add, args=([str(source)],), daemon=True)
            writer.start()
            assert hold.reached.wait(60)  # the store has B, the index still A
            assert archive.store.get("art").title == B["title"]
            hits = engine.search(SearchRequest.build("cheminots")).hits
            assert [(h.title, h.paragraphs[0].text) for h in hits] == [(A["title"], A["paragraphs"][0])]
            assert engine.search(SearchRequest.build("pilotes")).hits == []
            hold.release()
            writer.join(60)
        hits = engine.search(SearchRequest.build("pilotes")).hits
        assert [(h.title, h.paragraphs[0].text) for h in hits] == [(B["title"], B["paragraphs"][0])]
        assert engine.search(SearchRequest.build("cheminots")).hits == []
    finally:
        engine.close()
