"""Blocks: a field's posting blocks, as W3PostingsWriter writes them, laid out by numpy.

Whoosh writes a term's postings in blocks of up to 128, each block as::

    [b"W3Bl" before a term's first block] [size, big-endian int32, negative for its last]
    [header: pickle of (count, maxid, maxweight, compression, minlength, maxlength)]
    [data: pickle of (docnum deltas, weights, values), zlib-compressed when compression > 0]

with the pickles of protocol 2. A block of two postings with frequencies 1 and 3,
documents 7 and 9, has the data pickle::

    \\x80\\x02  K\\x07 K\\x02 \\x86 q\\x00  G<1.0> G<3.0> \\x86 q\\x01  <values> \\x87 q\\x02 .
    (PROTO)  (deltas, TUPLE2, BINPUT) (weights, TUPLE2, BINPUT) (values, TUPLE3, BINPUT, STOP)

(equal weights are one float, ``None`` when 1.0; 4 or more items are MARK … TUPLE).
Every piece has a length known from its value, so :class:`Layout` places each
block's pieces (header, deltas, weights, values) in one buffer with a few array
assignments per kind of piece, instead of two ``pickle.dumps`` per block. Values
are ``None`` (no values), a block's frequencies as one ``bytes`` (pickled as
``_codecs.encode`` of their Latin-1 text), or positions, whose pickles
:func:`~.packing.pickled_values` writes. ``tests/test_packing.py`` compares the
blocks with ``pickle.dumps``.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC

from .packing import pickled_ints

__all__ = ["Layout", "BlockStats", "field_blocks", "MAGIC"]

MAGIC = WHOOSH3_HEADER_MAGIC  # before each term's first block
_TUPLES = np.frombuffer(b"t\x85\x86\x87", dtype=np.uint8)  # TUPLE (after MARK), TUPLE1..3
_CODECS = np.frombuffer(b"c_codecs\nencode\nq\x00X", dtype=np.uint8)
_CODECS_END = np.frombuffer(b"q\x00X\x06\x00\x00\x00latin1q\x00\x86q\x00Rq\x00\x87q\x00.", dtype=np.uint8)
_END_PUTS = (1, 14, 17, 20, 23)  # in _CODECS_END, BINPUTs of the string, 'latin1', the pair, the call, the tuple


class Layout:
    """Bytes of ``count`` records, each the concatenation of its pieces, built piece kind by piece kind.

    Each :meth:`add` gives some records one piece each (or several, in order):
    rows of a byte matrix, each row's first ``used`` bytes. Records' pieces follow
    the order of the calls.
    """

    def __init__(self, count: int) -> None:
        self.count = count
        self.parts: list[tuple[np.ndarray | None, np.ndarray, np.ndarray | None]] = []

    def add(self, rows: np.ndarray, used: np.ndarray | None = None, owner: np.ndarray | None = None) -> None:
        """Add pieces: ``rows`` (uint8, one row per piece), ``used`` bytes of each (all: the whole row).

        ``owner`` is each piece's record, ascending (default: one piece per record).
        """
        self.parts.append((owner, rows, used))

    def const(self, pattern: bytes, owner: np.ndarray | None = None) -> None:
        """Add the same bytes to every record (or to those of ``owner``)."""
        rows = len(owner) if owner is not None else self.count
        self.add(np.broadcast_to(np.frombuffer(pattern, dtype=np.uint8), (rows, len(pattern))), None, owner)

    def lengths(self) -> np.ndarray:
        """Return each record's length."""
        totals = [self._totals(owner, rows, used) for owner, rows, used in self.parts]
        return np.asarray(np.sum(totals, axis=0, dtype=np.int64) if totals else np.zeros(self.count, dtype=np.int64))

    def build(self) -> tuple[np.ndarray, np.ndarray]:
        """Return the records' bytes back to back, and each record's offset (``count + 1`` of them)."""
        totals = [self._totals(owner, rows, used) for owner, rows, used in self.parts]
        offsets = np.zeros(self.count + 1, dtype=np.int64)
        np.cumsum(np.sum(totals, axis=0, dtype=np.int64) if totals else offsets[1:], out=offsets[1:])
        buf = np.empty(int(offsets[-1]), dtype=np.uint8)
        cursor = offsets[:-1].copy()  # where each record's next piece goes
        for (owner, rows, used), total in zip(self.parts, totals, strict=True):
            if owner is None:
                at = cursor
            else:
                sizes = np.full(len(rows), rows.shape[1], dtype=np.int64) if used is None else used
                before = np.cumsum(sizes) - sizes  # bytes of this kind before each piece, all records
                at = cursor[owner] + before - (np.cumsum(total) - total)[owner]
            _scatter(buf, at, rows, used)
            cursor = cursor + total
        return buf, offsets

    def _totals(self, owner: np.ndarray | None, rows: np.ndarray, used: np.ndarray | None) -> np.ndarray:
        sizes = np.full(len(rows), rows.shape[1], dtype=np.int64) if used is None else used.astype(np.int64)
        if owner is None:
            return sizes
        return np.bincount(owner, weights=sizes, minlength=self.count).astype(np.int64)


def _scatter(buf: np.ndarray, at: np.ndarray, rows: np.ndarray, used: np.ndarray | None) -> None:
    """Write each row's first ``used`` bytes (all of them when None) at its offset."""
    width = rows.shape[1]
    if used is None:
        buf[at[:, None] + np.arange(width)] = rows
    elif width == 1:
        keep = used > 0
        buf[at[keep]] = rows[keep, 0]
    else:
        keep = np.arange(width) < used[:, None]
        buf[(at[:, None] + np.arange(width))[keep]] = rows[keep]


def _floats(values: np.ndarray) -> np.ndarray:
    """Return BINFLOAT opcodes (``G`` and the big-endian double) of floats, one row each."""
    out = np.empty((len(values), 9), dtype=np.uint8)
    out[:, 0] = ord("G")
    out[:, 1:] = values.astype(">f8").view(np.uint8).reshape(-1, 8)
    return out


def _closing(sizes: np.ndarray, memo: int | np.ndarray) -> np.ndarray:
    """Return a tuple's closing opcode (by its size) and BINPUT ``memo``, one 3-byte row per tuple."""
    out = np.empty((len(sizes), 3), dtype=np.uint8)
    out[:, 0] = _TUPLES[np.where(sizes > 3, 0, sizes)]
    out[:, 1] = ord("q")
    out[:, 2] = memo
    return out


@dataclass
class BlockStats:
    """A field's posting blocks: each block's postings and the statistics its header holds."""

    #: Each posting's document number, delta-encoded from the block's start.
    deltas: np.ndarray
    #: Each posting's weight (its frequency, as a float).
    weights: np.ndarray
    #: Each block's postings: ``sizes[i]`` of them from ``starts[i]``.
    starts: np.ndarray
    sizes: np.ndarray
    #: Each block's last document, largest weight, and whether all its weights are equal.
    maxids: np.ndarray
    maxweights: np.ndarray
    same: np.ndarray
    #: Each block's shortest and longest document, as Whoosh's length bytes.
    minlengths: np.ndarray
    maxlengths: np.ndarray
    #: Whether the block is its term's first, its last.
    firsts: np.ndarray
    lasts: np.ndarray


def _heads(layout: Layout, b: BlockStats, comp: np.ndarray) -> None:
    """Add each block's header pickle: ``(count, maxid, maxweight, compression, minlength, maxlength)``."""
    n = len(b.sizes)
    start = np.empty((n, 5), dtype=np.uint8)
    start[:] = np.frombuffer(b"\x80\x02(K\x00", dtype=np.uint8)
    start[:, 4] = b.sizes  # at most 128 postings: BININT1
    layout.add(start)
    layout.add(*pickled_ints(b.maxids))
    rest = np.empty((n, 19), dtype=np.uint8)
    rest[:, :9] = _floats(b.maxweights)
    rest[:, 9:15] = ord("K")
    rest[:, 10], rest[:, 12], rest[:, 14] = comp, b.minlengths, b.maxlengths
    rest[:, 15:] = np.frombuffer(b"tq\x00.", dtype=np.uint8)
    layout.add(rest)


def _data(layout: Layout, b: BlockStats, block_of: np.ndarray) -> np.ndarray:
    """Add each block's data pickle up to its values: PROTO, the deltas, the weights; return the values' memo index."""
    n, sizes = len(b.sizes), b.sizes
    many = sizes > 3
    start = np.empty((n, 3), dtype=np.uint8)
    start[:, :2] = np.frombuffer(b"\x80\x02", dtype=np.uint8)
    start[:, 2] = ord("(")
    layout.add(start, 2 + many)
    layout.add(*pickled_ints(b.deltas), owner=block_of)
    layout.add(_closing(sizes, 0))
    # Equal weights: one float, or None for 1.0. Otherwise a tuple of floats (memo 1).
    one = b.same & (b.maxweights == 1.0)
    head = _floats(b.maxweights)
    head[one, 0] = ord("N")
    head[~b.same, 0] = ord("(")
    layout.add(head, np.where(b.same, np.where(one, 1, 9), many.astype(np.int64)))
    varied = ~b.same[block_of]
    layout.add(_floats(b.weights[varied]), owner=block_of[varied])
    layout.add(_closing(sizes, 1), np.where(b.same, 0, 3))
    return np.where(b.same, 1, 2)


def _frequencies(layout: Layout, values: np.ndarray, b: BlockStats, block_of: np.ndarray, memo: np.ndarray) -> None:
    """Add each block's frequencies: one ``bytes`` of big-endian uint32s, pickled as ``_codecs.encode``."""
    raw = values.astype(">u4").view(np.uint8).reshape(-1, 4)
    high = raw >= 0x80  # a Latin-1 character past ASCII takes two bytes in UTF-8
    text = np.zeros((len(raw), 8), dtype=np.uint8)
    width = 1 + high.astype(np.int64)
    at = np.cumsum(width, axis=1) - width
    rows = np.arange(len(raw))[:, None]
    text[rows, at] = np.where(high, 0xC0 | (raw >> 6), raw)
    text[(rows + 0 * at)[high], at[high] + 1] = 0x80 | (raw[high] & 0x3F)
    used = width.sum(axis=1)
    n = len(b.sizes)
    head = np.empty((n, len(_CODECS) + 4), dtype=np.uint8)
    head[:, :len(_CODECS)] = _CODECS
    head[:, 17] = memo
    head[:, len(_CODECS):] = np.bincount(block_of, weights=used, minlength=n).astype("<u4").view(
        np.uint8).reshape(-1, 4)
    layout.add(head)
    layout.add(text, used, owner=block_of)
    end = np.empty((n, len(_CODECS_END)), dtype=np.uint8)
    end[:] = _CODECS_END
    for k, place in enumerate(_END_PUTS):
        end[:, place] = memo + k + 1
    layout.add(end)


def _codecs_end(memo: int) -> bytes:
    """Return what follows a frequencies' text in a block whose values have memo index ``memo``."""
    end = bytearray(_CODECS_END.tobytes())
    for k, place in enumerate(_END_PUTS):
        end[place] = memo + k + 1
    return bytes(end)


#: Blocks of more postings than this are pickled by ``pickle.dumps``: its cost per posting
#: is lower than numpy's per byte; the call per block is what costs on short blocks.
SMALL = 16


def _subset(b: BlockStats, keep: np.ndarray) -> tuple[BlockStats, np.ndarray]:
    """Return the blocks of ``keep`` (a mask) with their postings only, and which postings those are."""
    postings = np.repeat(keep, b.sizes)
    sizes = b.sizes[keep]
    return BlockStats(b.deltas[postings], b.weights[postings], np.cumsum(sizes) - sizes, sizes, b.maxids[keep],
                      b.maxweights[keep], b.same[keep], b.minlengths[keep], b.maxlengths[keep], b.firsts[keep],
                      b.lasts[keep]), postings


def field_blocks(b: BlockStats, values: np.ndarray | None, tails: tuple[bytes, list[int]] | None,
                 compress: Callable[[Any, int], Any] | None, compress_from: int,
                 level: int) -> tuple[list[Any], np.ndarray]:
    """Return a field's posting blocks as pieces of the postings file (bytes-like), and each block's size.

    ``values`` are each posting's frequency (Frequency format), ``tails`` each block's
    pickled positions from ``pickled_values`` (its bytes and block offsets), neither
    for blocks without values. A block whose data pickle has at least
    ``compress_from`` bytes is compressed by ``compress`` at ``level`` (none if None).
    A block's size counts its length prefix and header, not the term's magic.
    """
    n = len(b.sizes)
    small = b.sizes <= SMALL
    s, postings = _subset(b, small)
    m = len(s.sizes)
    block_of = np.repeat(np.arange(m), s.sizes)
    body = Layout(m)
    memo = _data(body, s, block_of)
    if values is not None:
        _frequencies(body, values[postings], s, block_of, memo)
    elif tails is None:
        end = np.empty((m, 5), dtype=np.uint8)
        end[:] = np.frombuffer(b"N\x87q\x00.", dtype=np.uint8)
        end[:, 3] = memo
        body.add(end)
    tail_offsets = np.asarray(tails[1], dtype=np.int64) if tails is not None else np.zeros(n + 1, dtype=np.int64)
    tail_len = np.diff(tail_offsets)[small]
    data_len = body.lengths() + tail_len
    comp = (data_len >= compress_from) if compress is not None else np.zeros(m, dtype=bool)
    heads = Layout(m)
    _heads(heads, s, np.where(comp, level, 0))
    head_len = heads.lengths()
    size = head_len + data_len
    # A small block whole, or up to its positions: magic, size, header, data pickle.
    layout = Layout(m)
    layout.const(MAGIC, np.flatnonzero(s.firsts))
    layout.add((np.where(s.lasts, -size, size).astype(">i4")).view(np.uint8).reshape(-1, 4))
    layout.parts += heads.parts + body.parts
    buf, offsets = layout.build()
    sizes = np.zeros(n, dtype=np.int64)
    sizes[small] = 4 + size
    view, tail = buf.data, tails[0] if tails is not None else b""
    ends, tail_ends = offsets.tolist(), tail_offsets.tolist()
    data_at = (offsets[1:] - data_len + tail_len).tolist()  # where each small block's data pickle starts
    head_lens, smalls, compressed = head_len.tolist(), small.tolist(), comp.tolist()
    rank: list[int] = (np.cumsum(small) - small).tolist()  # each block's first record in the buffer
    firsts, lasts, maxids, maxweights = b.firsts.tolist(), b.lasts.tolist(), b.maxids.tolist(), b.maxweights.tolist()
    frequencies = values.astype(">u4").tobytes() if values is not None else b""
    # Blocks whose frequency bytes are all below 0x80: their Latin-1 text is its own UTF-8.
    ascii_frequencies = (np.maximum.reduceat(values, b.starts) < 0x80).tolist() if values is not None and n else []
    codecs = {put: _CODECS.tobytes()[:-2] + bytes([put]) + b"X" for put in (1, 2)}  # by the values' memo index
    codecs_end = {put: _codecs_end(put) for put in (1, 2)}
    dumps = pickle.dumps

    def whole(i: int, head: Any, data: Any) -> tuple[bytes, Any, Any]:
        """Return block ``i`` from its header and data: its magic and size, header, data."""
        packed = len(head) + len(data)
        sizes[i] = 4 + packed
        return (MAGIC if firsts[i] else b"") + (-packed if lasts[i] else packed).to_bytes(4, "big", signed=True), \
            head, data

    def pickled(i: int) -> tuple[bytes, Any, Any]:
        """Return a large block ``i``, pickled by pickle as W3PostingsWriter does."""
        a, z = int(b.starts[i]), int(b.starts[i] + b.sizes[i])
        deltas, mw = tuple(b.deltas[a:z].tolist()), maxweights[i]
        weights = (None if mw == 1.0 else mw) if b.same[i] else tuple(b.weights[a:z].tolist())
        if values is not None and ascii_frequencies[i]:  # pickle's bytes: _codecs.encode of its Latin-1 text
            put = 1 if b.same[i] else 2
            data = dumps((deltas, weights, None), 2)[:-5] + codecs[put] + (4 * (z - a)).to_bytes(4, "little") \
                + frequencies[4 * a:4 * z] + codecs_end[put]
        elif values is not None:
            data = dumps((deltas, weights, frequencies[4 * a:4 * z]), 2)
        elif tails is None:
            data = dumps((deltas, weights, None), 2)
        else:  # the pickle up to its values (without "N, TUPLE3, BINPUT, STOP"), then theirs
            data = dumps((deltas, weights, None), 2)[:-5] + tail[tail_ends[i]:tail_ends[i + 1]]
        comp = 0
        if compress is not None and len(data) >= compress_from:
            data, comp = compress(data, level), level
        head = dumps((z - a, maxids[i], mw, comp, int(b.minlengths[i]), int(b.maxlengths[i])), 2)
        return whole(i, head, data)

    def packed(i: int) -> tuple[bytes, Any, Any]:
        """Return a small block ``i`` whose data is compressed: its header and data from the buffer."""
        assert compress is not None  # only compressed blocks come here
        j = rank[i]
        data = view[data_at[j]:ends[j + 1]].tobytes() + tail[tail_ends[i]:tail_ends[i + 1]]
        return whole(i, view[data_at[j] - head_lens[j]:data_at[j]], compress(data, level))

    pieces: list[Any] = []
    if tails is None:  # small blocks are whole in the buffer: runs of uncompressed ones are written at once
        done = 0
        special = ~small
        special[np.flatnonzero(small)[comp]] = True
        for i in np.flatnonzero(special).tolist():
            j = rank[i]
            if done < ends[j]:
                pieces.append(view[done:ends[j]])
            if smalls[i]:
                pieces += packed(i)
                done = ends[j + 1]
            else:
                pieces += pickled(i)
                done = ends[j]
        pieces.append(view[done:])
    else:  # each block's positions follow its part of the buffer
        for i in range(n):
            j = rank[i]
            if not smalls[i]:
                pieces += pickled(i)
            elif compressed[j]:
                pieces += packed(i)
            else:
                pieces += (view[ends[j]:ends[j + 1]], tail[tail_ends[i]:tail_ends[i + 1]])
    return pieces, sizes
