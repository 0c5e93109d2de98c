"""archive.search.positions: phrases and near words, from packed ``docnum << 32 | position`` occurrences."""

from __future__ import annotations

import numpy as np

from archive import Archive, Article, search
from archive.search.positions import near


def _packed(*pairs: tuple[int, int]) -> np.ndarray:
    return np.array([(doc << 32) | pos for doc, pos in pairs], dtype=np.int64)


def test_near_looks_on_both_sides_and_never_across_blocks():
    at = _packed((1, 10), (1, 20), (2, 0), (3, 5))
    others = np.sort(_packed((1, 7), (1, 24), (3, 0)))
    assert near(at, others, 3).tolist() == [True, False, False, False]
    assert near(at, others, 4).tolist() == [True, True, False, False]
    assert near(at, others[:0], 4).tolist() == [False] * 4


def test_a_phrase_is_its_words_in_order_and_a_slop_lets_them_apart_in_any_order(tmp_path):
    archive = Archive(tmp_path / "h")
    archive.add_articles([Article.from_record({"id": i, "title": "T", "paragraphs": [p]}) for i, p in [
        ("order", "L’état d’urgence sanitaire est prolongé."),
        ("reverse", "L’urgence est de réformer l’état."),
        ("apart", "L’état de santé et l’urgence des soins.")]])
    assert [h.id for h in search(archive, '"état d\'urgence"').hits] == ["order"]
    # Positions count every word (stop words too), in any order: "état … urgence" four apart.
    assert [h.id for h in search(archive, '"état urgence"~3').hits] == ["order"]
    assert sorted(h.id for h in search(archive, '"état urgence"~4').hits) == ["apart", "order", "reverse"]
