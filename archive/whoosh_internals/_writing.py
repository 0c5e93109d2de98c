"""Writing Whoosh's files: whole segments from sorted posting arrays, in W3 blocks."""

from __future__ import annotations

import hashlib
import itertools
import os
import pickle
import shutil
import struct
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from isal import isal_zlib
from whoosh import index as whoosh_index
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.filetables import md5_hash
from whoosh.system import pack_ushort
from whoosh.util import random_name
from whoosh.util.numeric import _length_byte_cache
from whoosh.writing import SegmentWriter

from ._decoding import _BLOCK, index_segments
from .blocks import MAGIC, BlockStats, field_blocks
from .packing import pickled_values
from .postings import FieldPostings, SegmentData

# ---------------------------------------------------------------------------- writing

#: Posting blocks whose pickle is shorter than this are written uncompressed (each
#: block's header says whether it is): zlib saves nothing on them, and its set-up
#: per call was the largest single cost of writing an index. Whoosh's own writer
#: compresses every block; its reader, like ours, reads both.
COMPRESS_FROM = 256
#: What the header of a compressed block says (Whoosh's readers ask only whether it is 0).
BLOCK_LEVEL = 1


def _fastest(data: Any, level: int) -> bytes:
    """Compress a block with ISA-L's fastest level (whatever ``level`` says), in the zlib format any reader reads.

    Against libdeflate's level 1 (as small as zlib's level 3, Whoosh's), in a fifth of the
    time: importing the corpus took 2 to 3.5 CPU seconds less (of 25), for an index 15% larger.
    """
    return isal_zlib.compress(data, 0)


_COMPRESS: Callable[[Any, int], Any] = _fastest


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
_EMPTY = np.zeros(0, dtype=np.int64)
_LENGTH_CACHE = np.asarray(_length_byte_cache, dtype=np.int64)


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
        keys: list[tuple[np.ndarray, np.ndarray]] = []
        for fieldname in sorted(data.fields):
            fw.start_field(fieldname, self.schema[fieldname])
            keys += _write_terms(fw, data.fields[fieldname], self.schema[fieldname].format,
                                 self.codec._compression, lambda n: self.written(n / total))
            fw.finish_field()
        # W3FieldWriter.close(), with the terms index's hash tables built in bulk.
        _close_terms_index(fw._tindex, keys)
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


def _write_terms(fw: Any, postings: FieldPostings, fmt: Any, level: int,
                 tick: Callable[[int], None]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Write a field's posting lists in W3 blocks, as W3PostingsWriter would, and index its terms.

    Return the terms' hashes and positions in the terms index (none or one pair).
    """
    if not postings.terms:
        return []
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
    tails = None
    if fixed not in (0, 4):  # Positions: their pickles are written by numpy, whole
        if postings.positions is None:
            raise ValueError(f"{type(fmt).__name__} postings need their positions")
        values, offsets = pickled_values(postings.positions, postings.freqs, bstart, bend - bstart,
                                         np.where(same, 1, 2))
        tails = values, offsets.tolist()
    stats = BlockStats(deltas, weights, bstart, bend - bstart, docs[bend - 1], maxw, same,
                       _length_bytes(np.where(minlen == _NO_LENGTH, 0, minlen)), _length_bytes(maxlen),
                       np.concatenate([[True], term_of[1:] != term_of[:-1]]),
                       np.concatenate([term_of[1:] != term_of[:-1], [True]]))
    pieces, block_sizes = field_blocks(stats, postings.freqs if fixed == 4 else None, tails,
                                       _COMPRESS if level else None, COMPRESS_FROM, BLOCK_LEVEL)
    tick(len(term_of))
    # Each term's statistics and extent, as W3TermInfo.to_bytes() packs them.
    term_bytes = len(MAGIC) + np.add.reduceat(block_sizes, first_block)
    postfile = fw._postfile
    base = postfile.tell()
    postfile.write(b"".join(pieces))
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
    return [_index_terms(fw._tindex, pack_ushort(fw._fieldid), postings.terms, info.tobytes(), _TERM_INFO.itemsize)]


def _index_terms(tindex: Any, prefix: bytes, terms: list[bytes], rows: bytes,
                 size: int) -> tuple[np.ndarray, np.ndarray]:
    """Add a field's terms (ascending) and their fixed-size infos, as OrderedHashWriter.add() does one by one.

    Return each key's hash and position, for :func:`_close_terms_index` (not put in
    the writer's buckets: the hash tables are built from these arrays).
    """
    if prefix + terms[0] <= tindex.lastkey:
        raise ValueError("terms must be added in ascending order")
    dbfile, hashfn = tindex.dbfile, tindex.hashfn
    keys = [prefix + term for term in terms]
    if hashfn is md5_hash:  # the digest's low 32 bits, without md5_hash's hex round trip
        md5 = hashlib.md5
        digests = b"".join([md5(key, usedforsecurity=False).digest() for key in keys])
        hashes = np.frombuffer(digests, dtype=">u4")[3::4].astype(np.int64)
    else:
        hashes = np.array([hashfn(key) for key in keys], dtype=np.int64)
    # Each record: its head (key and value lengths), the key, the value.
    lengths = np.fromiter(map(len, keys), dtype=np.int64, count=len(keys))
    records = _RECORD_HEAD.size + lengths + size
    at = np.cumsum(records) - records
    buf = np.empty(int(records.sum()), dtype=np.uint8)
    heads = np.empty((len(keys), 2), dtype=">i4")
    heads[:, 0], heads[:, 1] = lengths, size
    buf[at[:, None] + np.arange(_RECORD_HEAD.size)] = heads.view(np.uint8).reshape(-1, _RECORD_HEAD.size)
    key_at = np.repeat(at + _RECORD_HEAD.size - (np.cumsum(lengths) - lengths), lengths)
    buf[key_at + np.arange(len(key_at))] = np.frombuffer(b"".join(keys), dtype=np.uint8)
    buf[(at + _RECORD_HEAD.size + lengths)[:, None] + np.arange(size)] = \
        np.frombuffer(rows, dtype=np.uint8).reshape(-1, size)
    positions = dbfile.tell() + at
    dbfile.write(buf.tobytes())
    # OrderedHashWriter's index of positions: retyped for the largest as its appends would, then extended.
    index = tindex.index
    index.append(int(positions[-1]))
    index.array.pop()
    index.array.extend(positions.tolist())
    tindex.lastkey = keys[-1]
    return hashes, positions


def _close_terms_index(tindex: Any, keys: list[tuple[np.ndarray, np.ndarray]]) -> None:
    """Finish a terms index as HashWriter.close() does, each bucket's hash table written in one call.

    ``keys`` are the hashes and positions :func:`_index_terms` returned, in order:
    each key goes to bucket ``hash & 255`` after any the writer's own ``add`` put there.
    """
    dbfile = tindex.dbfile
    hashes = np.concatenate([h for h, _ in keys] or [_EMPTY])
    positions = np.concatenate([p for _, p in keys] or [_EMPTY])
    order = np.argsort(hashes & 255, kind="stable")
    bounds = np.searchsorted((hashes & 255)[order], np.arange(257)).tolist()
    ordered_hashes, ordered_positions = hashes[order].tolist(), positions[order].tolist()
    for bucket, entries in enumerate(tindex.buckets):
        lo, hi = bounds[bucket], bounds[bucket + 1]
        entries = [*entries, *zip(ordered_hashes[lo:hi], ordered_positions[lo:hi])]
        numslots = 2 * len(entries)
        tindex.directory.append((dbfile.tell(), numslots))
        table_hashes, table_positions = [0] * numslots, [0] * numslots
        for h, position in entries:
            slot = (h >> 8) % numslots
            while table_positions[slot]:  # linear probing; no key sits at position 0 (the header)
                slot = (slot + 1) % numslots
            table_hashes[slot], table_positions[slot] = h, position
        table = np.zeros(numslots, dtype=_POINTER)
        table["hash"], table["position"] = table_hashes, table_positions
        dbfile.write(table.tobytes())
    tindex._write_directory()
    start = dbfile.tell()
    tindex._write_extras()
    dbfile.write_int(dbfile.tell() - start)
    dbfile.close()


class _Storage(FileStorage):
    """Whoosh's file storage, whose ``create()`` keeps no caught error alive.

    Whoosh's catches the ``FileExistsError`` of a folder that exists into a local
    (``e = sys.exc_info()[1]``): frame, error and traceback form a cycle that holds
    every frame under it, and with them the writer being built (each writer's
    per-document files begin with ``temp_storage("MAIN.tmp")``, a folder that exists
    from the second segment on). Only the cyclic collector frees that, and a write
    pauses it (:func:`archive.budget.collector_paused`): a build worker kept every
    segment's writer, 4 MB each, and at 16 times the corpus went 150 MB over its share.
    """

    def create(self) -> _Storage:
        os.makedirs(self.folder, exist_ok=True)  # (still an error where a file has the name)
        return self

    def temp_storage(self, name: str | None = None) -> _Storage:
        return _Storage(os.path.join(self.folder, name or f"{random_name()}.tmp")).create()


def open_index(folder: str | Path) -> Any:
    """Open the index in ``folder`` for writing (``whoosh.index.open_dir`` on :class:`_Storage`)."""
    return _Storage(str(folder)).open_index()


def create_index(folder: str | Path, schema: Any) -> Any:
    """Create an empty index in ``folder`` (``whoosh.index.create_in`` on :class:`_Storage`)."""
    return _Storage(str(folder)).create().create_index(schema)


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
