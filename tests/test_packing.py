"""Pickled positions and posting blocks written by numpy against pickle.dumps itself."""

import itertools
import pickle
import struct
import zlib

import numpy as np
import pytest

from archive.whoosh_internals import packing
from archive.whoosh_internals.blocks import BlockStats, Layout, field_blocks
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


def _whoosh_blocks(blocks, kind, compress_from):
    """Return each block as W3PostingsWriter writes it (magic, size, header and data pickles), by pickle itself."""
    out = []
    for deltas, weights, values, maxid, minb, maxb, first, last in blocks:
        mw = max(weights)
        mini = (None if mw == 1.0 else weights[0]) if min(weights) == mw else tuple(weights)
        if kind == "none":
            v = None
        elif kind == "freq":
            v = np.array(values, dtype=">u4").tobytes()
        else:
            v = tuple(np.array(p, dtype="<u4").tobytes() for p in values)
        data, comp = pickle.dumps((tuple(deltas), mini, v), 2), 0
        if len(data) >= compress_from:
            data, comp = zlib.compress(data, 1), 1
        head = pickle.dumps((len(deltas), maxid, mw, comp, minb, maxb), 2)
        size = len(head) + len(data)
        out.append((b"W3Bl" if first else b"") + struct.pack(">i", -size if last else size) + head + data)
    return out


def _field_blocks(blocks, kind, compress_from):
    """Return what field_blocks writes for the same blocks, and each block's size."""
    deltas = np.array([d for b in blocks for d in b[0]], dtype=np.int64)
    weights = np.array([w for b in blocks for w in b[1]], dtype=np.float64)
    sizes = np.array([len(b[0]) for b in blocks], dtype=np.int64)
    starts = np.cumsum(sizes) - sizes
    same = np.array([min(b[1]) == max(b[1]) for b in blocks])
    stats = BlockStats(deltas, weights, starts, sizes, np.array([b[3] for b in blocks]),
                       np.array([max(b[1]) for b in blocks]), same, np.array([b[4] for b in blocks]),
                       np.array([b[5] for b in blocks]), np.array([b[6] for b in blocks]),
                       np.array([b[7] for b in blocks]))
    values = tails = None
    if kind == "freq":
        values = np.array([v for b in blocks for v in b[2]], dtype=np.int64)
    if kind == "positions":
        counts = np.array([len(p) for b in blocks for p in b[2]], dtype=np.int64)
        positions = np.array([x for b in blocks for p in b[2] for x in p], dtype=np.int64)
        data, offsets = pickled_values(positions, counts, starts, sizes, np.where(same, 1, 2))
        tails = data, offsets.tolist()
    pieces, block_sizes = field_blocks(stats, values, tails, zlib.compress, compress_from, 1)
    return b"".join(bytes(p) for p in pieces), block_sizes.tolist()


@pytest.mark.parametrize("kind", ["none", "freq", "positions"])
@pytest.mark.parametrize("compress_from", [0, 256, 10**9])
def test_field_blocks_are_the_blocks_pickle_writes(kind, compress_from):
    # Short blocks (numpy) and long ones (pickle per block), equal and varied weights, weights
    # of 1.0 (None), frequencies past 0x7F (two UTF-8 bytes), ids of every int opcode,
    # compressed or not, first and last blocks of terms.
    rng = np.random.default_rng(7)
    blocks = []
    for k in range(80):
        n = int(rng.integers(1, 129)) if k % 2 else int(rng.integers(1, 20))
        deltas = rng.integers(1, 70000, n).tolist()
        deltas[0] = int(rng.choice([0, 255, 256, 65535, 65536, 2**31 - 1]))
        if rng.random() < 0.5:
            weights = [float(x) for x in rng.choice([1, 1, 2, 127, 128, 300], n)]
        else:
            weights = [float(rng.choice([1, 3, 200]))] * n
        values = [int(w) for w in weights]
        if kind == "positions":
            values = [sorted(rng.integers(0, 1 << 20, int(w) % 7 + 1).tolist()) for w in weights]
            weights = [float(len(v)) for v in values]
        blocks.append((deltas, weights, values, int(rng.choice([0, 300, 70000, 2**31 - 1])),
                       int(rng.integers(0, 256)), int(rng.integers(0, 256)), k % 3 == 0, k % 3 == 2))
    expected = _whoosh_blocks(blocks, kind, compress_from)
    data, sizes = _field_blocks(blocks, kind, compress_from)
    assert data == b"".join(expected)
    assert sizes == [len(b) - 4 * b.startswith(b"W3Bl") for b in expected]


def test_layout_joins_pieces_in_order():
    layout = Layout(3)
    layout.const(b"<")
    layout.add(np.array([[1, 2], [3, 4], [5, 6]], dtype=np.uint8), np.array([1, 2, 0]))
    layout.add(np.array([[7], [8], [9]], dtype=np.uint8), owner=np.array([0, 0, 2]))
    layout.const(b">", owner=np.array([1]))
    buf, offsets = layout.build()
    assert [buf[a:b].tobytes() for a, b in itertools.pairwise(offsets.tolist())] == \
        [b"<\x01\x07\x08", b"<\x03\x04>", b"<\x09"]
    assert layout.lengths().tolist() == [4, 4, 2]
