"""Writing Whoosh's files: whole segments from sorted posting arrays, in W3 blocks."""

from __future__ import annotations

import hashlib
import itertools
import pickle
import shutil
import struct
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import deflate
import numpy as np
from whoosh import index as whoosh_index
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, WHOOSH3_HEADER_MAGIC, _lenfield
from whoosh.filedb.filetables import md5_hash
from whoosh.system import pack_int, pack_ushort
from whoosh.util.numeric import _length_byte_cache
from whoosh.writing import SegmentWriter

from ._decoding import _BLOCK, index_segments
from .packing import CODECS, CODECS_END, NONE_END, pickled_values, single_pickles
from .postings import FieldPostings, SegmentData

# ---------------------------------------------------------------------------- writing

#: Posting blocks whose pickle is shorter than this are written uncompressed (each
#: block's header says whether it is): zlib saves nothing on them, and its set-up
#: per call was the largest single cost of writing an index. Whoosh's own writer
#: compresses every block; its reader, like ours, reads both.
COMPRESS_FROM = 256
#: The others are compressed by libdeflate at this level: as small as zlib's level 3
#: (Whoosh's), in a third of the time, and in the zlib format any reader reads.
BLOCK_LEVEL = 1
_COMPRESS: Callable[[Any, int], Any] = deflate.zlib_compress


@contextmanager
def compressed_like_whoosh() -> Iterator[None]:
    """Compress every block with zlib at Whoosh's level while inside: files equal Whoosh's byte for byte.

    For comparing with Whoosh's own writer only: it changes how this process writes.
    """
    global COMPRESS_FROM, BLOCK_LEVEL, _COMPRESS
    saved = COMPRESS_FROM, BLOCK_LEVEL, _COMPRESS
    COMPRESS_FROM, BLOCK_LEVEL, _COMPRESS = 0, 3, zlib.compress
    try:
        yield
    finally:
        COMPRESS_FROM, BLOCK_LEVEL, _COMPRESS = saved
_NO_LENGTH = np.iinfo(np.int64).max
_LENGTH_CACHE = np.asarray(_length_byte_cache, dtype=np.int64)
#: Posting blocks written between two calls of a writer's ``written`` (its progress).
_TICK = 4096


def _length_bytes(values: np.ndarray) -> np.ndarray:
    """Encode field lengths as Whoosh's one-byte lengths (``length_to_byte``, vectorised)."""
    out = np.searchsorted(_LENGTH_CACHE, np.minimum(values, 106374), side="left")
    return np.where(values >= 106374, 255, out).astype(np.int64)


class BulkSegmentWriter(SegmentWriter):
    """A segment writer that writes a whole segment at once from numpy arrays.

    Whoosh's own writer pushes every posting through a sorting pool and a
    per-posting method call; here a subclass collects documents its own way and
    returns them from :meth:`segment_data` as sorted postings per field
    (:class:`~.postings.SegmentData`), which are written block by block
    with the statistics computed for all blocks at once.
    """

    def segment_data(self) -> SegmentData:
        """Return the documents added, as postings (implemented by subclasses)."""
        raise NotImplementedError

    def written(self, share: float) -> None:
        """Hear that another ``share`` (0 to 1) of the segment's posting blocks was written."""

    def _flush_segment(self) -> None:
        data = self.segment_data()
        _write_per_document(self.perdocwriter, self.schema, data)
        self.perdocwriter.close()
        fw = self.fieldwriter
        total = max(1, sum(int(((np.diff(f.starts) + _BLOCK - 1) // _BLOCK).sum()) for f in data.fields.values()))
        for fieldname in sorted(data.fields):
            fw.start_field(fieldname, self.schema[fieldname])
            _write_terms(fw, data.fields[fieldname], self.schema[fieldname].format, self.codec._compression,
                         lambda n: self.written(n / total))
            fw.finish_field()
        # W3FieldWriter.close(), with the terms index's hash tables built in bulk.
        _close_terms_index(fw._tindex)
        fw._postfile.close()
        fw.is_closed = True


def _write_per_document(pdw: Any, schema: Any, data: SegmentData) -> None:
    """Write the per-document files (lengths, numeric columns, stored fields) as Whoosh's writer would."""
    pdw._doccount = data.doccount
    for fieldname in sorted(data.fields):
        postings = data.fields[fieldname]
        if postings.lengths is None or not schema[fieldname].scorable or not postings.lengths.any():
            continue
        pdw._fieldlengths[fieldname] = int(postings.lengths.sum())
        _write_numeric(pdw, _lenfield(fieldname), LENGTHS_COLUMN, _length_bytes(postings.lengths))
    for name, values in data.columns.items():
        _write_numeric(pdw, name, schema[name].column_type, values)
    writer = pdw._get_column("_stored")._child  # PickleColumn around CompressedBytesColumn
    compressed: dict[tuple[tuple[str, str], ...], bytes] = {}  # blocks of one article store the same
    chunks = [compressed.get(stored) or compressed.setdefault(
        stored, zlib.compress(pickle.dumps(dict(stored), 2), writer._level)) for stored in data.stored]
    writer._dbfile.write(b"".join(chunks))
    sizes = [len(c) for c in chunks]
    writer._lengths.extend(sizes)
    writer._offsets.extend(itertools.accumulate([0, *sizes[:-1]]))
    writer._offset_base = sum(sizes)
    writer._count = len(chunks)


def _write_numeric(pdw: Any, name: str, column: Any, values: np.ndarray) -> None:
    """Write a numeric column as NumericColumn's writer does: up to its last non-default value."""
    pdw._create_column(name, column)
    writer = pdw._get_column(name)
    if (nondefault := np.flatnonzero(values != column._default)).size:
        count = int(nondefault[-1]) + 1
        writer._dbfile.write(values[:count].astype(np.dtype(column._typecode).newbyteorder(">")).tobytes())
        writer._count = count


#: filetables' record head (key and value lengths) and hash table slot.
_RECORD_HEAD = struct.Struct("!ii")
_POINTER = np.dtype([("hash", ">u4"), ("position", ">i8")])
#: W3TermInfo.to_bytes() for a term whose postings are in the postings file.
_TERM_INFO = np.dtype([("flags", "u1"), ("weight", ">f4"), ("df", ">u4"), ("minlength", "u1"),
                       ("maxlength", "u1"), ("maxweight", ">f4"), ("minid", ">u4"), ("maxid", ">u4"),
                       ("offset", ">i8"), ("length", ">i4")])


def _write_terms(fw: Any, postings: FieldPostings, fmt: Any, level: int, tick: Callable[[int], None]) -> None:
    """Write a field's posting lists in W3 blocks, as W3PostingsWriter would, and index its terms."""
    if not postings.terms:
        return
    starts, docs = postings.starts, postings.docs
    nblocks = (np.diff(starts) + _BLOCK - 1) // _BLOCK
    term_of = np.repeat(np.arange(len(nblocks)), nblocks)
    first_block = np.cumsum(nblocks) - nblocks
    bstart = starts[:-1][term_of] + _BLOCK * (np.arange(len(term_of)) - first_block[term_of])
    bend = np.minimum(bstart + _BLOCK, starts[1:][term_of])
    weights = postings.freqs.astype(np.float64)
    lengths = np.zeros(len(docs), dtype=np.int64) if postings.lengths is None else postings.lengths[docs]
    # Each block's statistics, for all blocks at once.
    maxw = np.maximum.reduceat(weights, bstart)
    same = np.minimum.reduceat(weights, bstart) == maxw
    minlen = np.minimum.reduceat(np.where(lengths > 0, lengths, _NO_LENGTH), bstart)
    maxlen = np.maximum.reduceat(lengths, bstart)
    deltas = docs.copy()
    deltas[1:] -= docs[:-1]
    deltas[bstart] = docs[bstart]  # each block's ids are delta-encoded from 0
    fixed = fmt.fixed_value_size()
    if fixed == 4:  # Frequency: a posting's value is its frequency as a big-endian uint32
        values = postings.freqs.astype(">u4").tobytes()
    elif fixed != 0:  # Positions: the values' pickle is written by numpy, whole
        if postings.positions is None:
            raise ValueError(f"{type(fmt).__name__} postings need their positions")
        values, offsets = pickled_values(postings.positions, postings.freqs, bstart, bend - bstart,
                                         np.where(same, 1, 2))
        ends = offsets.tolist()
    firsts = np.concatenate([[True], term_of[1:] != term_of[:-1]])
    lasts = np.concatenate([term_of[1:] != term_of[:-1], [True]])
    dl, wl = deltas.tolist(), weights.tolist()
    blocks = zip(bstart.tolist(), bend.tolist(), docs[bend - 1].tolist(), maxw.tolist(), same.tolist(),
                 _length_bytes(np.where(minlen == _NO_LENGTH, 0, minlen)).tolist(),
                 _length_bytes(maxlen).tolist(), firsts.tolist(), lasts.tolist())
    out: list[bytes | bytearray] = []
    block_sizes: list[int] = []
    data: bytes | bytearray
    dumps, compress, magic = pickle.dumps, _COMPRESS, WHOOSH3_HEADER_MAGIC
    # Blocks of one posting (~40 %) take their pickles' bytes from numpy (see single_pickles).
    single = bend - bstart == 1
    heads, prefixes = single_pickles(deltas[bstart[single]], weights[bstart[single]], docs[bstart[single]],
                                      maxw[single], _length_bytes(np.where(minlen == _NO_LENGTH, 0, minlen))[single],
                                      _length_bytes(maxlen)[single])
    one = itertools.count()
    freqs = postings.freqs
    small = (freqs < 0x80).tolist() if fixed == 4 else []  # frequency bytes that Latin-1 leaves alone
    for i, (a, b, maxid, mw, equal, minb, maxb, first, last) in enumerate(blocks):
        if first:
            out.append(magic)
        k = next(one) if b - a == 1 else -1
        if k >= 0 and fixed == 0:
            data = prefixes[k] + NONE_END
        elif k >= 0 and fixed == 4 and small[a]:
            data = prefixes[k] + CODECS + values[4 * a:4 * b] + CODECS_END
        elif k >= 0 and fixed not in (0, 4):
            data = prefixes[k] + values[ends[i]:ends[i + 1]]
        else:
            mini_weights = (None if mw == 1.0 else wl[a]) if equal else tuple(wl[a:b])
            if fixed == 0:
                data = dumps((tuple(dl[a:b]), mini_weights, None), 2)
            elif fixed == 4:
                data = dumps((tuple(dl[a:b]), mini_weights, values[4 * a:4 * b]), 2)
            else:  # the pickle up to its values (without "N, TUPLE3, BINPUT, STOP"), then theirs
                data = dumps((tuple(dl[a:b]), mini_weights, None), 2)[:-5] + values[ends[i]:ends[i + 1]]
        comp = 0
        if level and len(data) >= COMPRESS_FROM:
            data, comp = compress(data, BLOCK_LEVEL), BLOCK_LEVEL
        head = heads[k] if k >= 0 and comp == 0 else dumps((b - a, maxid, mw, comp, minb, maxb), 2)
        size = len(head) + len(data)
        out += (pack_int(-size if last else size), head, data)
        block_sizes.append(4 + size)
        if i % _TICK == _TICK - 1:
            tick(_TICK)
    tick(len(term_of) % _TICK)
    # Each term's statistics and extent, as W3TermInfo.to_bytes() packs them.
    term_bytes = len(magic) + np.add.reduceat(np.array(block_sizes, dtype=np.int64), first_block)
    postfile = fw._postfile
    base = postfile.tell()
    postfile.write(b"".join(out))
    info = np.zeros(len(nblocks), dtype=_TERM_INFO)
    info["weight"] = np.add.reduceat(weights, starts[:-1])
    info["df"] = np.diff(starts)
    term_minlen = np.minimum.reduceat(minlen, first_block)
    info["minlength"] = _length_bytes(np.where(term_minlen == _NO_LENGTH, 0, term_minlen))
    info["maxlength"] = _length_bytes(np.maximum.reduceat(maxlen, first_block))
    info["maxweight"] = np.maximum.reduceat(maxw, first_block)
    info["minid"] = docs[starts[:-1]]
    info["maxid"] = docs[starts[1:] - 1]
    info["offset"] = base + np.cumsum(term_bytes) - term_bytes
    info["length"] = term_bytes
    _index_terms(fw._tindex, pack_ushort(fw._fieldid), postings.terms, info.tobytes(), _TERM_INFO.itemsize)


def _index_terms(tindex: Any, prefix: bytes, terms: list[bytes], rows: bytes, size: int) -> None:
    """Add a field's terms (ascending) and their fixed-size infos, as OrderedHashWriter.add() does one by one."""
    if prefix + terms[0] <= tindex.lastkey:
        raise ValueError("terms must be added in ascending order")
    dbfile, buckets, hashfn, head = tindex.dbfile, tindex.buckets, tindex.hashfn, _RECORD_HEAD.pack
    if hashfn is md5_hash:
        hashfn = _md5_low32
    position, parts, positions = dbfile.tell(), list[bytes](), list[int]()
    for k, term in enumerate(terms):
        key = prefix + term
        positions.append(position)
        h = hashfn(key)
        buckets[h & 255].append((h, position))
        parts += (head(len(key), size), key, rows[k * size:(k + 1) * size])
        position += _RECORD_HEAD.size + len(key) + size
    dbfile.write(b"".join(parts))
    tindex.index.extend(positions)
    tindex.lastkey = prefix + terms[-1]


def _md5_low32(key: bytes) -> int:
    """Return Whoosh's ``md5_hash`` of a key (the digest's low 32 bits) without its hex round trip."""
    return int.from_bytes(hashlib.md5(key, usedforsecurity=False).digest()[12:], "big")


def _close_terms_index(tindex: Any) -> None:
    """Finish a terms index as HashWriter.close() does, each bucket's hash table written in one call."""
    dbfile = tindex.dbfile
    for entries in tindex.buckets:
        numslots = 2 * len(entries)
        tindex.directory.append((dbfile.tell(), numslots))
        hashes, positions = [0] * numslots, [0] * numslots
        for h, position in entries:
            slot = (h >> 8) % numslots
            while positions[slot]:  # linear probing; no key sits at position 0 (the header)
                slot = (slot + 1) % numslots
            hashes[slot], positions[slot] = h, position
        table = np.zeros(numslots, dtype=_POINTER)
        table["hash"], table["position"] = hashes, positions
        dbfile.write(table.tobytes())
    tindex._write_directory()
    start = dbfile.tell()
    tindex._write_extras()
    dbfile.write_int(dbfile.tell() - start)
    dbfile.close()


def finish_segment(writer: Any) -> Any:
    """Write a writer's segment files without committing; return the segment (worker processes)."""
    # Not writer.commit(): it would delete the temporary folder other workers share.
    return writer._finalize_segment()


def commit_segments(ix: Any, folder: Path, new: Iterable[Any], whole: list[Any] | None = None) -> None:
    """Commit segments written by :func:`finish_segment` into a private, new index.

    ``whole``, when given, is the index's whole list of segments instead (a merge's result).
    """
    segs = list(whole) if whole is not None else index_segments(ix) + list(new)
    generation = ix.latest_generation() + 1
    whoosh_index.TOC(ix.schema, segs, generation).write(ix.storage, ix.indexname)
    whoosh_index.clean_files(ix.storage, ix.indexname, generation, segs)
    shutil.rmtree(folder / f"{ix.indexname}.tmp", ignore_errors=True)
