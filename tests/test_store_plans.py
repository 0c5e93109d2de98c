"""Reads that grow with the archive: which of them scan the articles' records (issue 25's 32x)."""

from __future__ import annotations

from archive.home import Archive
from archive.model import Article


def scans(archive: Archive, read: str) -> list[str]:
    """Return the table scans (not covering an index) of the statements a store read runs."""
    store = archive.store
    statements: list[str] = []
    store.db.set_trace_callback(statements.append)
    try:
        getattr(store, read)()
    finally:
        store.db.set_trace_callback(None)
    assert statements
    plans = [row[3] for s in statements for row in store.db.execute("EXPLAIN QUERY PLAN " + s)]
    return [p for p in plans if p.startswith("SCAN") and "COVERING INDEX" not in p and "VIRTUAL TABLE" not in p]


def test_the_catalog_read_of_every_article_never_reads_the_records(archive):
    # The first search after opening reads every article's id, date and day added: at 32
    # copies of the corpus, a scan of the records read 3 GB for it.
    archive.add_articles([Article.from_record({"id": f"a{i}", "title": "Grève", "paragraphs": ["La grève."]})
                          for i in range(3)])
    assert scans(archive, "facet_values") == []
