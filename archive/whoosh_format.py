"""Whoosh's private on-disk format: the one module that reads and writes it directly.

Whoosh's public API answers one posting at a time through Python method calls:
reading the 40,000 postings of ``gouvernement`` that way costs tens of
milliseconds, and writing the corpus' 143,000 paragraphs through its writer
takes minutes. This module goes under that API, in both directions:

* **Reading** (:func:`read_postings`, :func:`column`, :func:`lengths`,
  :func:`deleted`): a term's W3 posting blocks (a pickled header, then pickled
  deltas, weights and values, optionally zlib-compressed) are read whole and
  decoded into numpy arrays; a numeric column or a field's length bytes are read
  as one ``numpy.frombuffer``.
* **Refreshing** (:func:`fresh_searcher`): a searcher on the latest commit that
  reuses the readers of unchanged segments.
* **Writing** (:class:`BulkSegmentWriter`): a segment writer that writes a
  whole segment from sorted posting arrays (:mod:`archive.postings`), every
  block's statistics computed at once in numpy, in the blocks of Whoosh's W3
  codec (``tests/test_whoosh_format.py`` checks that stock Whoosh reads the
  same postings, lengths and columns as from its own writer);
  :func:`commit_segments` commits segments built by worker processes.

All of it depends on the internals of exactly one release, so importing this
module checks that the installed whoosh-reloaded is that release.
"""

# ruff: noqa: E402 -- the version is checked before Whoosh's internals are imported.
from __future__ import annotations

import io
import itertools
import pickle
import shutil
import struct
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import deflate
import numpy as np

from .errors import ArchiveError
from .packing import pickled_values
from .postings import FieldPostings, SegmentData

#: The whoosh-reloaded release whose private format this module reads and writes.
WHOOSH_VERSION = "2.7.5"


class IncompatibleWhoosh(ArchiveError):
    """The installed whoosh-reloaded is not the release this archive reads and writes."""


def _check_version() -> None:
    try:
        installed = version("whoosh-reloaded")
    except PackageNotFoundError:
        installed = "none"
    if installed != WHOOSH_VERSION:
        raise IncompatibleWhoosh(
            f"whoosh-reloaded {WHOOSH_VERSION} is required (the index format depends on it), "
            f"but {installed} is installed: pip install 'whoosh-reloaded=={WHOOSH_VERSION}'")


_check_version()

from whoosh import index as whoosh_index
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, WHOOSH3_HEADER_MAGIC, _lenfield
from whoosh.reading import MultiReader, SegmentReader, TermNotFound
from whoosh.searching import Searcher
from whoosh.system import pack_int, pack_ushort
from whoosh.util.numeric import _length_byte_cache, byte_to_length
from whoosh.writing import SegmentWriter

__all__ = ["WHOOSH_VERSION", "IncompatibleWhoosh", "Segment", "segments", "segment_count",
           "read_postings", "column", "lengths", "deleted", "fresh_searcher",
           "BulkSegmentWriter", "finish_segment", "commit_segments", "index_segments", "EMPTY_IDS", "EMPTY_WEIGHTS"]

EMPTY_IDS = np.zeros(0, dtype=np.int64)
EMPTY_WEIGHTS = np.zeros(0, dtype=np.float32)
_LENGTHS = np.array([byte_to_length(i) for i in range(256)], dtype=np.float32)
_BLOCK = 128  # postings per block, as W3Codec writes them


# ---------------------------------------------------------------------------- reading

@dataclass(frozen=True)
class Segment:
    """One segment of an open reader: its reader, first global docnum, size and id."""

    reader: Any
    offset: int
    count: int
    id: str


def segments(reader: Any) -> list[Segment]:
    """Return the segments of a searcher's reader (none for an index without segments)."""
    out = []
    for r, offset in reader.leaf_readers():
        segment = getattr(r, "segment", lambda: None)()
        if segment is not None:  # an empty index has an EmptyReader leaf
            out.append(Segment(r, offset, r.doc_count_all(), segment.segment_id()))
    return out


def index_segments(ix: Any) -> list[Any]:
    """Return the segments of an index's latest commit (read from its table of contents)."""
    return list(ix._segments())


def segment_count(ix: Any) -> int:
    """Return how many segments an index's latest commit has."""
    return len(index_segments(ix))


def read_postings(segreader: Any, fieldname: str, text: str, with_values: bool = False
                  ) -> tuple[np.ndarray, np.ndarray, list[bytes] | None]:
    """Read a term's whole posting list in one segment: docnums, weights and (optionally) values."""
    try:
        info = segreader.term_info(fieldname, text)
    except TermNotFound:
        return EMPTY_IDS, EMPTY_WEIGHTS, ([] if with_values else None)
    if info.is_inlined():
        ids, weights, values = info.inlined_postings()
        return (np.asarray(ids, dtype=np.int64), np.asarray(weights, dtype=np.float32),
                list(values) if with_values else None)
    offset, length = info.extent()
    if isinstance(length, tuple):  # whoosh 2.7 unpacks the stored length as a 1-tuple
        length = length[0]
    buf = segreader._terms._postfile.get(offset, length)
    stream = io.BytesIO(buf)
    pos = 4  # past the header magic
    id_parts, weight_parts = [], []
    values_out: list[bytes] | None = [] if with_values else None
    while pos < len(buf):
        (blen,) = struct.unpack_from("!i", buf, pos)
        pos += 4
        end = pos + abs(blen)
        stream.seek(pos)
        count, _maxid, _maxw, compression, _mn, _mx = pickle.load(stream)
        data = buf[stream.tell():end]
        if compression:
            data = zlib.decompress(data)
        ids, weights, values = pickle.loads(data)
        id_parts.append(np.cumsum(np.asarray(ids, dtype=np.int64)))
        if weights is None:
            weight_parts.append(np.ones(count, dtype=np.float32))
        elif isinstance(weights, float):
            weight_parts.append(np.full(count, weights, dtype=np.float32))
        else:
            weight_parts.append(np.asarray(weights, dtype=np.float32))
        if values_out is not None:
            values_out.extend(values)
        pos = end
        if blen < 0:
            break
    return np.concatenate(id_parts), np.concatenate(weight_parts), values_out


def column(segreader: Any, name: str, count: int) -> np.ndarray:
    """Return a numeric column of one segment as an int64 array."""
    reader = segreader.column_reader(name)
    inner = getattr(reader, "_child", reader)
    if hasattr(inner, "_basepos") and hasattr(inner, "_fixedlen"):
        raw = inner._dbfile.get(inner._basepos, inner._count * inner._fixedlen)
        values = np.frombuffer(raw, dtype=">u4").astype(np.int64)
        out = np.full(count, int(inner._default), dtype=np.int64)
        out[: len(values)] = values
        return out
    return np.fromiter((int(v) for v in reader), dtype=np.int64, count=count)


def lengths(segreader: Any, fieldname: str, count: int) -> np.ndarray:
    """Return each document's length in one field of one segment (Whoosh's one-byte encoding)."""
    reader = segreader._perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
    out = np.zeros(count, dtype=np.float32)
    if reader is None:
        return out
    raw = reader._dbfile.get(reader._basepos, reader._count)
    codes = np.frombuffer(raw, dtype=np.uint8)
    out[: len(codes)] = _LENGTHS[codes]
    return out


def deleted(segreader: Any, count: int) -> np.ndarray:
    """Return the deleted docnums of one segment."""
    if not segreader.has_deletions():
        return EMPTY_IDS
    docs = np.fromiter(segreader._perdoc.deleted_docs(), dtype=np.int64)
    return docs[docs < count]


def fresh_searcher(ix: Any, old: Any) -> Any:
    """Open a searcher on the index's latest commit, reusing readers of unchanged segments.

    A segment is unchanged when its id *and* its deletions are the same: Whoosh's own
    Searcher.refresh() compares ids only, and would keep stale deletions.
    """
    toc = ix._read_toc()
    reusable = {s.id: s.reader for s in segments(old.reader())}
    readers = []
    for segment in toc.segments:
        reader = reusable.get(segment.segment_id())
        if reader is not None and reader.segment().deleted_count() == segment.deleted_count():
            del reusable[segment.segment_id()]
        else:
            reader = SegmentReader(ix.storage, toc.schema, segment, generation=toc.generation)
        readers.append(reader)
    for reader in reusable.values():
        reader.close()
    if not readers:
        return ix.searcher()
    # Always a MultiReader: it carries the generation that up_to_date() compares.
    return Searcher(MultiReader(readers, generation=toc.generation), fromindex=ix)


# ---------------------------------------------------------------------------- writing

#: Posting blocks whose pickle is shorter than this are written uncompressed (each
#: block's header says whether it is): zlib saves nothing on them, and its set-up
#: per call was the largest single cost of writing an index. Whoosh's own writer
#: compresses every block; its reader, like ours, reads both.
COMPRESS_FROM = 256
#: The others are compressed by libdeflate at this level: as small as zlib's level 3
#: (Whoosh's), in a third of the time, and in the zlib format any reader reads.
BLOCK_LEVEL = 1
_COMPRESS = deflate.zlib_compress
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
    (:class:`~archive.postings.SegmentData`), which are written block by block
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
    for i, (a, b, maxid, mw, equal, minb, maxb, first, last) in enumerate(blocks):
        if first:
            out.append(magic)
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
        head = dumps((b - a, maxid, mw, comp, minb, maxb), 2)
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


def commit_segments(ix: Any, folder: Path, new: Iterable[Any]) -> None:
    """Commit segments written by :func:`finish_segment` into a private, new index."""
    segs = index_segments(ix) + list(new)
    generation = ix.latest_generation() + 1
    whoosh_index.TOC(ix.schema, segs, generation).write(ix.storage, ix.indexname)
    whoosh_index.clean_files(ix.storage, ix.indexname, generation, segs)
    shutil.rmtree(folder / f"{ix.indexname}.tmp", ignore_errors=True)
