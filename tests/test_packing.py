"""Pickled positions written by numpy against pickle.dumps itself."""

import itertools
import pickle

import numpy as np
import pytest

from archive.whoosh_internals import packing
from archive.whoosh_internals.packing import pickled_values


def _expected(blocks):
    """Return what pickle writes after each block's weights: (deltas, weights, positions as bytes)."""
    out = []
    for weights, values in blocks:
        deltas = tuple(range(1, len(values) + 1))
        whole = pickle.dumps((deltas, weights, tuple(np.array(v, dtype="<u4").tobytes() for v in values)), 2)
        head = pickle.dumps((deltas, weights, None), 2)[:-5]  # N, TUPLE3, BINPUT, STOP
        assert whole.startswith(head)
        out.append(whole[len(head):])
    return out


def _pickled(blocks):
    counts = np.array([len(v) for _, values in blocks for v in values], dtype=np.int64)
    positions = np.array([p for _, values in blocks for v in values for p in v], dtype=np.int64)
    sizes = np.array([len(values) for _, values in blocks], dtype=np.int64)
    firsts = np.cumsum(sizes) - sizes
    memo = np.array([2 if isinstance(w, tuple) else 1 for w, _ in blocks], dtype=np.int64)
    data, offsets = pickled_values(positions, counts, firsts, sizes, memo)
    return [data[a:b] for a, b in itertools.pairwise(offsets.tolist())]


def test_one_value_and_the_memo_indices_of_each_size():
    # 1, 2, 3 values use TUPLE1-3; 4 and more MARK ... TUPLE; past 84 values the memo
    # indices pass 255 (LONG_BINPUT); weights as a tuple shift every index by one.
    blocks = [(None, [[5]]), (2.0, [[0, 7], [3]]), ((1.0, 2.0, 1.0), [[1], [2, 3], [4]]),
              (None, [[i] for i in range(4)]), ((1.0,) * 128, [[i, i + 300] for i in range(128)]),
              (None, [[i] for i in range(128)])]
    assert _pickled(blocks) == _expected(blocks)


def test_positions_whose_bytes_pass_ascii_and_huge_positions():
    # Bytes from 0x80 take two bytes once pickled (Latin-1 text as UTF-8).
    blocks = [(None, [[0x80, 0xFF, 0x7F80, 0xFFFFFFFF]]), (3.0, [[200, 300, 40000]] * 5)]
    assert _pickled(blocks) == _expected(blocks)


@pytest.mark.parametrize("seed", range(5))
def test_random_blocks_over_several_passes(monkeypatch, seed):
    monkeypatch.setattr(packing, "CHUNK_BYTES", 64)  # many passes, blocks straddling none
    rng = np.random.default_rng(seed)
    blocks = []
    for _ in range(40):
        n = int(rng.integers(1, 140))
        values = [sorted(rng.integers(0, 1 << int(rng.integers(1, 32)), int(rng.integers(1, 6))).tolist())
                  for _ in range(n)]
        weights = rng.choice([None, 2.0, "tuple"])
        blocks.append((tuple(float(len(v)) for v in values) if weights == "tuple" else weights, values))
    assert _pickled(blocks) == _expected(blocks)


def test_one_posting_blocks_get_the_pickles_pickle_writes():
    from archive.whoosh_internals.packing import CODECS, CODECS_END, single_pickles

    docs = np.array([0, 1, 255, 256, 65535, 65536, 2**31 - 1, 7, 300])
    weights = np.array([1.0, 2.0, 1.0, 0.5, 3.0, 1.0, 1.0, 255.0, 1e9])
    minb = np.array([0, 1, 2, 255, 0, 9, 12, 40, 200])
    maxb = minb[::-1].copy()
    heads, prefixes = single_pickles(docs, weights, docs, weights, minb, maxb)
    for k in range(len(docs)):
        w = weights[k].item()
        assert heads[k] == pickle.dumps((1, docs[k].item(), w, 0, minb[k].item(), maxb[k].item()), 2)
        whole = pickle.dumps(((docs[k].item(),), None if w == 1.0 else w, None), 2)
        assert prefixes[k] + b"N\x87q\x01." == whole
        freq = pickle.dumps(((docs[k].item(),), None if w == 1.0 else w, b"\x00\x00\x00\x05"), 2)
        assert prefixes[k] + CODECS + b"\x00\x00\x00\x05" + CODECS_END == freq
    assert single_pickles(docs[:0], weights[:0], docs[:0], weights[:0], minb[:0], maxb[:0]) == ([], [])
