"""Ranking a page: only a prefix is sorted, and it must be the full ranking's."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.search.ranking import rank


def full_ranking(cand: np.ndarray, keys: tuple[np.ndarray, ...], cluster: np.ndarray,
                 start: int, stop: int, collapse: bool) -> tuple[list[int], int, dict[int, list[int]]]:
    """Rank by sorting everything, then collapse: what :func:`rank` must return."""
    ranked = cand[np.lexsort(keys)].tolist()
    if not collapse:
        return ranked[start:stop], len(ranked), {}
    heads: dict[int, int] = {}
    copies: dict[int, list[int]] = {}
    for aid in ranked:
        code = int(cluster[aid])
        if code in heads:
            copies.setdefault(heads[code], []).append(aid)
        else:
            heads[code] = aid
    page = list(heads.values())[start:stop]
    return page, len(heads), {a: copies[a] for a in page if a in copies}


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_rank_is_the_full_ranking(data: st.DataObject) -> None:
    size = data.draw(st.integers(1, 400))
    cand = np.array(sorted(data.draw(st.sets(st.integers(0, size - 1), max_size=size))), dtype=np.int64)
    # Few distinct scores and days: ties at the prefix's edge must be taken whole.
    scores = np.array(data.draw(st.lists(st.sampled_from([0.5, 1.0, 2.0, 3.25]), min_size=len(cand),
                                         max_size=len(cand))), dtype=np.float32)
    days = np.array(data.draw(st.lists(st.integers(-1, 3), min_size=size, max_size=size)), dtype=np.int64)
    groups = data.draw(st.lists(st.integers(0, 5), min_size=size, max_size=size))
    # A cluster's code is negative, an article without copies has its own aid.
    cluster = np.array([aid if g == 0 else -g for aid, g in enumerate(groups)], dtype=np.int64)
    keys = (cand, -days[cand], -scores)
    start = data.draw(st.integers(0, 30))
    stop = start + data.draw(st.integers(1, 300))
    collapse = data.draw(st.booleans())
    got = rank(cand, keys, cluster, start, stop, collapse)
    page, total, copies = full_ranking(cand, keys, cluster, start, stop, collapse)
    assert (got.page.tolist(), got.total, got.copies) == (page, total, copies)


def test_a_page_of_copies_widens_the_prefix() -> None:
    # The 300 best articles are copies of one dispatch: the first prefix (256) holds one hit of five.
    cand = np.arange(1000, dtype=np.int64)
    cluster = np.where(cand < 300, -1, -2 - (cand - 300) // 70)
    scores = np.where(cand < 300, 10 - cand / 1000, 1 - cand / 10000).astype(np.float32)
    keys = (cand, np.zeros(1000, np.int64), -scores)
    got = rank(cand, keys, cluster, 0, 5, collapse=True)
    assert got.page.tolist() == [0, 300, 370, 440, 510]
    assert got.total == 11
    assert got.copies[0] == list(range(1, 300))
    assert got.copies[370] == list(range(371, 440))
