"""archive.lru: the one LRU cache, bounded in entries or bytes, and the caches emptied with their owners."""

from __future__ import annotations

import pytest

from archive.lru import LRU
from archive.research import concordance
from archive.search import Engine, SearchRequest, close_engines, engine_for


def test_the_least_recently_used_entry_goes_first():
    kept: LRU[str, int] = LRU(2)
    assert kept.get("a", lambda: 1) == 1
    assert kept.get("b", lambda: 2) == 2
    assert kept.get("a", lambda: pytest.fail("computed again")) == 1  # a is now the most recent
    kept.get("c", lambda: 3)
    assert kept.items() == [("a", 1), ("c", 3)] and kept.size == len(kept) == 2
    assert kept.peek("a") == 1 and kept.items()[0] == ("a", 1)  # peeking leaves the order
    kept.discard("a")
    kept.discard("missing")
    assert kept.items() == [("c", 3)]
    kept.clear()
    assert kept.items() == [] and kept.size == 0


def test_many_keys_are_read_at_once_the_missing_computed_together_the_found_made_recent():
    kept: LRU[int, str] = LRU(3)
    kept.put(1, "un")
    kept.put(2, "deux")
    asked: list[list[int]] = []
    assert kept.get_many([2, 3, 3, 4], lambda missing: asked.append(missing) or [f"n{k}" for k in missing]) == [
        "deux", "n3", "n3", "n4"]
    assert asked == [[3, 4]]
    assert [k for k, _ in kept.items()] == [2, 3, 4]  # 1, not asked for, was the least recent


def test_a_budget_of_bytes_keeps_what_fits_and_never_a_value_over_the_largest():
    kept: LRU[str, bytes] = LRU(10, sizeof=len, largest=6)
    kept.put("a", b"1234")
    kept.put("b", b"12345")
    assert kept.size == 9
    kept.put("c", b"12")  # 11 bytes: a goes
    assert [k for k, _ in kept.items()] == ["b", "c"] and kept.size == 7
    assert kept.get("d", lambda: b"1234567") == b"1234567"  # returned, not kept
    assert [k for k, _ in kept.items()] == ["b", "c"]
    kept.put("b", b"1")  # replaced: its weight too
    assert kept.items() == [("c", b"12"), ("b", b"1")] and kept.size == 3


def test_concordance_counts_are_kept_by_their_engine_until_it_closes(research_home, monkeypatch):
    request = SearchRequest.build("grève")
    engine = engine_for(research_home)
    first = concordance(engine, request)
    monkeypatch.setattr(engine, "select", lambda *a, **k: pytest.fail("counted again"))
    assert concordance(engine, request, sort="left").total == first.total == 6
    assert len(engine.derived) == 1
    # Another engine on the same home keeps its own.
    other = Engine(research_home)
    assert concordance(other, request).total == 6
    assert len(other.derived) == 1
    close_engines()
    assert len(engine.derived) == len(other.derived) == 0
