"""Packing: the pickled positions of phrase postings, written by numpy instead of pickle.

Whoosh stores each block of a term's postings as one pickle (protocol 2) of
``(docnum deltas, weights, values)``. For the ``exact`` field a posting's value
is its positions packed as uint32, ``b"\\x05\\x00\\x00\\x00"`` for a word at
position 5, and protocol 2 writes each such ``bytes`` as a call to
``_codecs.encode`` on its Latin-1 text, each piece remembered in the pickle's
memo::

    c_codecs\\nencode\\n q\\x02  X\\x04\\x00\\x00\\x00 \\x05\\x00\\x00\\x00 q\\x03
    X\\x06\\x00\\x00\\x00latin1 q\\x04  \\x86 q\\x05  R q\\x06        (first value)
    h\\x02  X\\x04\\x00\\x00\\x00 … q\\x07  h\\x04  \\x86 q\\x08  R q\\x09   (each next one)

Pickling five million such values one object at a time was the largest cost of
writing an index. :func:`pickled_values` writes the same bytes for every block
of a field at once: each posting's record has a known length (its positions'
bytes, Latin-1 text re-encoded as UTF-8, plus opcodes whose memo indices
follow from its rank in the block), so every byte's place is computed, then
filled by a few array assignments. ``tests/test_packing.py`` compares it with
``pickle.dumps``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["pickled_values", "pickled_ints", "CHUNK_BYTES"]

_GLOBAL = np.frombuffer(b"c_codecs\nencode\n", dtype=np.uint8)
_LATIN1 = np.frombuffer(b"X\x06\x00\x00\x00latin1", dtype=np.uint8)
_TUPLES = np.frombuffer(b"t\x85\x86\x87", dtype=np.uint8)  # TUPLE (after MARK), TUPLE1..3
_MARK, _BINGET, _UNICODE, _TUPLE2, _REDUCE, _STOP = (ord(c) for c in "(hX\x86R.")
_FOUR = np.arange(4)
#: Postings' position bytes handled per pass: small enough for the index arrays to stay
#: in the processor's cache (a pass over 4 MiB took twice as long per byte).
CHUNK_BYTES = 1 << 18


def _put_size(index: np.ndarray) -> np.ndarray:
    """Bytes of BINPUT (``q`` + 1 byte) or LONG_BINPUT (``r`` + 4 bytes) for memo indices."""
    return np.where(index < 256, 2, 5)


def _put(buf: np.ndarray, at: np.ndarray, index: np.ndarray) -> None:
    """Write the memo put of ``index`` at each offset ``at``."""
    short = index < 256
    buf[at[short]] = ord("q")
    buf[at[short] + 1] = index[short]
    at, index = at[~short], index[~short]
    buf[at] = ord("r")
    _uint32(buf, at + 1, index)


def _uint32(buf: np.ndarray, at: np.ndarray, value: np.ndarray) -> None:
    """Write little-endian uint32s at each offset ``at``."""
    buf[at[:, None] + _FOUR] = value.astype("<u4").view(np.uint8).reshape(-1, 4)


def _pattern(buf: np.ndarray, at: np.ndarray, pattern: np.ndarray) -> None:
    """Write the same bytes at each offset ``at``."""
    buf[at[:, None] + np.arange(len(pattern))] = pattern


def pickled_values(positions: np.ndarray, counts: np.ndarray, firsts: np.ndarray, sizes: np.ndarray,
                   memo: np.ndarray) -> tuple[bytes, np.ndarray]:
    """Return the pickle bytes of each block's values tuple and the block's end, and each block's offset.

    ``positions`` are every posting's positions back to back (``counts`` per
    posting); block ``i`` holds ``sizes[i]`` postings from ``firsts[i]`` and its
    pickle has ``memo[i]`` memo entries before the values (1, or 2 when its
    weights are a tuple). A block's bytes are what follows the weights in
    ``pickle.dumps((deltas, weights, values), 2)``, through the final ``.``.
    """
    out, offsets, done = [], [np.zeros(1, dtype=np.int64)], 0
    ends = np.cumsum(counts)
    start = 0
    while start < len(firsts):  # passes of whole blocks, each about CHUNK_BYTES of positions
        first = int(firsts[start])
        limit = (int(ends[first - 1]) if first else 0) + CHUNK_BYTES // 4
        stop = max(start + 1, int(np.searchsorted(ends[firsts + sizes - 1], limit, side="right")))
        stop = min(stop, len(firsts))
        last = int(firsts[stop - 1] + sizes[stop - 1])
        lo = int(ends[first - 1]) if first else 0
        chunk, block_offsets = _blocks(positions[lo:int(ends[last - 1])], counts[first:last],
                                       firsts[start:stop] - first, sizes[start:stop], memo[start:stop])
        out.append(chunk)
        offsets.append(block_offsets[1:] + done)
        done += len(chunk)
        start = stop
    return b"".join(out), np.concatenate(offsets)


def _blocks(positions: np.ndarray, counts: np.ndarray, firsts: np.ndarray, sizes: np.ndarray,
            memo: np.ndarray) -> tuple[bytes, np.ndarray]:
    """Do :func:`pickled_values` for blocks whose postings start at 0 and are all present."""
    raw = positions.astype("<u4").view(np.uint8)
    high = raw >= 0x80  # a Latin-1 character past ASCII takes two bytes in UTF-8
    per_byte = 1 + high.astype(np.int64)
    text = np.empty(int(per_byte.sum()), dtype=np.uint8)
    at = np.cumsum(per_byte) - per_byte
    text[at] = np.where(high, 0xC0 | (raw >> 6), raw)
    text[at[high] + 1] = 0x80 | (raw[high] & 0x3F)
    byte_ends = np.cumsum(counts * 4)
    text_len = np.diff(np.concatenate([[0], np.cumsum(per_byte)[byte_ends - 1]])) if len(counts) else counts
    # Each posting's block, rank in it, and memo index of its string.
    block = np.repeat(np.arange(len(sizes)), sizes)
    rank = np.arange(len(counts)) - firsts[block]
    m0 = memo[block]
    first = rank == 0
    a = m0 + 3 * rank + 2  # the string's memo index (a later value)
    pre = np.where(first, 23, 7)
    post = np.where(first, 21, _put_size(a) + 4 + _put_size(a + 1) + _put_size(a + 2))
    record = pre + text_len + post
    mv = memo + 3 * sizes + 2  # the values tuple's memo index
    opening = (sizes > 3).astype(np.int64)
    closing = 3 + _put_size(mv) + _put_size(mv + 1)
    block_len = opening + np.add.reduceat(record, firsts) + closing
    block_off = np.concatenate([[0], np.cumsum(block_len)])
    within = np.cumsum(record) - record
    off = block_off[block] + opening[block] + within - within[firsts][block]
    buf = np.zeros(int(block_off[-1]), dtype=np.uint8)
    buf[block_off[:-1][sizes > 3]] = _MARK
    # The first value of a block: the global, its string, 'latin1', the pair, the call.
    o, m, q = off[first], m0[first], off[first] + 23 + text_len[first]
    _pattern(buf, o, _GLOBAL)
    _put(buf, o + 16, m)
    buf[o + 18] = _UNICODE
    _uint32(buf, o + 19, text_len[first])
    _put(buf, q, m + 1)
    _pattern(buf, q + 2, _LATIN1)
    _put(buf, q + 13, m + 2)
    buf[q + 15] = _TUPLE2
    _put(buf, q + 16, m + 3)
    buf[q + 18] = _REDUCE
    _put(buf, q + 19, m + 4)
    # Each later value: the remembered global and 'latin1', its string, the pair, the call.
    later = ~first
    o, m, ai = off[later], m0[later], a[later]
    buf[o] = _BINGET
    buf[o + 1] = m
    buf[o + 2] = _UNICODE
    _uint32(buf, o + 3, text_len[later])
    q = o + 7 + text_len[later]
    _put(buf, q, ai)
    s = q + _put_size(ai)
    buf[s] = _BINGET
    buf[s + 1] = m + 2
    buf[s + 2] = _TUPLE2
    _put(buf, s + 3, ai + 1)
    s = s + 3 + _put_size(ai + 1)
    buf[s] = _REDUCE
    _put(buf, s + 1, ai + 2)
    # The strings themselves.
    dest = np.repeat(off + pre - (np.cumsum(text_len) - text_len), text_len) + np.arange(len(text))
    buf[dest] = text
    # The end of each block: its values tuple, then the outer tuple of three, then STOP.
    c = block_off[1:] - closing
    buf[c] = _TUPLES[np.where(sizes > 3, 0, sizes)]
    _put(buf, c + 1, mv)
    c = c + 1 + _put_size(mv)
    buf[c] = 0x87
    _put(buf, c + 1, mv + 1)
    buf[block_off[1:] - 1] = _STOP
    return buf.tobytes(), block_off


def pickled_ints(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return protocol 2's opcodes for non-negative ints below 2^31 (BININT1, BININT2, BININT), padded to 5 bytes.

    Also each one's length (2, 3 or 5).
    """
    out = np.zeros((len(values), 5), dtype=np.uint8)
    le = values.astype("<u4").view(np.uint8).reshape(-1, 4)
    size = np.where(values < 256, 2, np.where(values < 65536, 3, 5))
    out[:, 0] = np.where(size == 2, ord("K"), np.where(size == 3, ord("M"), ord("J")))
    out[:, 1:] = le
    return out, size
