"""Decoding Whoosh's files: posting blocks, columns and lengths as numpy arrays, at explicit offsets."""

from __future__ import annotations

import io
import os
import pickle
import struct
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.columns import NumericColumn, TranslatingColumnReader
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import BufferFile, StructFile
from whoosh.reading import MultiReader, SegmentReader, TermNotFound
from whoosh.searching import Searcher
from whoosh.util.numeric import byte_to_length

EMPTY_IDS = np.zeros(0, dtype=np.int64)
EMPTY_WEIGHTS = np.zeros(0, dtype=np.float32)
_LENGTHS = np.array([byte_to_length(i) for i in range(256)], dtype=np.float32)
_BLOCK = 128  # postings per block, as W3Codec writes them


# ---------------------------------------------------------------------------- reading

class PositionalFile(StructFile):
    """A read-only index file read at explicit offsets: threads share no file position.

    ``get()`` (what Whoosh's term tables and our posting reads use) is one
    ``os.pread``; ``seek()``/``read()`` (opening a segment) keep one position per thread.
    """

    def __init__(self, path: str, name: str) -> None:
        raw = open(path, "rb", buffering=0)
        super().__init__(raw, name=name)
        self.is_real = False  # read_array() then goes through read(), not the shared handle
        self._fd = raw.fileno()
        self._size = os.fstat(self._fd).st_size
        self._local = threading.local()

    def get(self, position: int, length: int) -> bytes:
        data = os.pread(self._fd, length, position)
        while 0 < len(data) < length:  # pread may return less than asked before the end
            more = os.pread(self._fd, length - len(data), position + len(data))
            if not more:
                break
            data += more
        return data

    def read(self, size: int | None = -1) -> bytes:
        pos = self.tell()
        if size is None or size < 0:
            size = max(0, self._size - pos)
        data = self.get(pos, size)
        self._local.pos = pos + len(data)
        return data

    def readline(self, size: int = -1) -> bytes:
        raise io.UnsupportedOperation("readline")  # (pickle asks for it; Whoosh's binary ones never call it)

    def read_pickle(self) -> Any:
        return pickle.load(self)  # (Whoosh's own reads the shared handle directly)

    def seek(self, offset: int, whence: int = 0) -> int:
        base = (0, self.tell(), self._size)[whence]
        self._local.pos = base + offset
        return int(self._local.pos)

    def tell(self) -> int:
        return int(getattr(self._local, "pos", 0))

    def subset(self, offset: int, length: int, name: str | None = None) -> Any:
        return BufferFile(self.get(offset, length), name=name or self._name)


class _PositionalStorage(FileStorage):
    """A read-only folder of index files opened as :class:`PositionalFile`."""

    def open_file(self, name: str, **kwargs: Any) -> PositionalFile:
        return PositionalFile(self._fpath(name), name)


def open_for_reading(folder: Path | str) -> Any:
    """Open an index for searching from many threads at once (positional reads, no writer)."""
    return _PositionalStorage(str(folder), readonly=True).open_index()


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


def open_segment(ix: Any, segment: Any) -> Any:
    """Open a reader on one segment of an index (``archive check`` reads every segment alone)."""
    return SegmentReader(ix.storage, ix.schema, segment)


def segment_count(ix: Any) -> int:
    """Return how many segments an index's latest commit has."""
    return len(index_segments(ix))


def read_postings(segreader: Any, fieldname: str, text: str, with_values: bool = False
                  ) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, bytes] | None]:
    """Read a term's whole posting list in one segment: docnums, weights and (optionally) values.

    Values come as each posting's byte length and all of them concatenated (a
    positions field packs each posting's positions as little-endian uint32).
    """
    try:
        info = segreader.term_info(fieldname, text)
    except TermNotFound:
        return EMPTY_IDS, EMPTY_WEIGHTS, ((EMPTY_IDS, b"") if with_values else None)
    if info.is_inlined():
        ids, weights, values = info.inlined_postings()
        return (np.asarray(ids, dtype=np.int64), np.asarray(weights, dtype=np.float32),
                _packed([values]) if with_values else None)
    offset, length = info.extent()
    if isinstance(length, tuple):  # whoosh 2.7 unpacks the stored length as a 1-tuple
        length = length[0]
    buf = segreader._terms._postfile.get(offset, length)
    stream = io.BytesIO(buf)
    pos = 4  # past the header magic
    id_parts, weight_parts, value_parts = [], [], []
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
        if with_values:
            value_parts.append(values)
        pos = end
        if blen < 0:
            break
    return (np.concatenate(id_parts), np.concatenate(weight_parts),
            _packed(value_parts) if with_values else None)


def _packed(blocks: list[Any]) -> tuple[np.ndarray, bytes]:
    """Return the byte length of each posting's value, and the values concatenated."""
    values = [v for block in blocks for v in (block or ())]
    return np.fromiter(map(len, values), dtype=np.int64, count=len(values)), b"".join(values)


def column(segreader: Any, name: str, count: int) -> np.ndarray:
    """Return a numeric column of one segment as an int64 array (read in one piece)."""
    reader = segreader.column_reader(name)
    inner = reader
    # A COLUMN field's reader comes wrapped (its translation is the identity for numbers).
    while isinstance(inner, TranslatingColumnReader):
        inner = inner._reader
    if isinstance(inner, NumericColumn.Reader):
        raw = inner._dbfile.get(inner._basepos, inner._count * inner._fixedlen)
        values = np.frombuffer(raw, dtype=">" + inner._typecode)
        if len(values) == count:
            return values.astype(np.int64)
        out = np.full(count, int(inner._default), dtype=np.int64)
        out[: len(values)] = values
        return out
    return np.fromiter((int(v) for v in reader), dtype=np.int64, count=count)


def length_codes(segreader: Any, fieldname: str, count: int) -> np.ndarray:
    """Return each document's length in one field of one segment as Whoosh's byte (see :func:`decoded_lengths`).

    A byte per block, not a float: four fields of 4.6 million blocks (32 copies of the
    corpus) take 18 MB, and the searches decode only the blocks they weigh.
    """
    out = np.zeros(count, dtype=np.uint8)
    reader = segreader._perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
    if reader is None:
        return out
    codes = np.frombuffer(reader._dbfile.get(reader._basepos, reader._count), dtype=np.uint8)
    out[: len(codes)] = codes[:count]
    return out


def decoded_lengths(codes: np.ndarray) -> np.ndarray:
    """Return the lengths (float32) that Whoosh's length bytes stand for."""
    return np.asarray(_LENGTHS[codes])


def deleted(segreader: Any, count: int) -> np.ndarray:
    """Return the deleted docnums of one segment."""
    if not segreader.has_deletions():
        return EMPTY_IDS
    docs = np.fromiter(segreader._perdoc.deleted_docs(), dtype=np.int64)
    return docs[docs < count]


def segment_readers(searcher: Any) -> list[Any]:
    """Return the segment readers under a searcher (what closing it would close)."""
    return [r for r, _ in searcher.reader().leaf_readers()]


def read_toc(ix: Any) -> Any:
    """Return the table of contents of the index's latest commit, as Whoosh reads it."""
    return ix._read_toc()


def fresh_searcher(ix: Any, old: Any, toc_of: Callable[[Any], Any] = read_toc) -> Any:
    """Open a searcher on the index's latest commit, reusing readers of unchanged segments.

    A segment is unchanged when its id *and* its deletions are the same: Whoosh's own
    Searcher.refresh() compares ids only, and would keep stale deletions. The old
    searcher's readers are left open (searches may still be reading them): the
    caller closes, with :func:`segment_readers`, those no searcher uses any more.
    ``toc_of`` reads the table of contents (a test gives one a merge has replaced).
    """
    reusable = {s.id: s.reader for s in segments(old.reader())}
    for attempt in range(10):
        toc = toc_of(ix)
        readers, opened = [], []
        try:
            for segment in toc.segments:
                reader = reusable.get(segment.segment_id())
                if reader is None or reader.segment().deleted_count() != segment.deleted_count():
                    reader = SegmentReader(ix.storage, toc.schema, segment, generation=toc.generation)
                    opened.append(reader)
                readers.append(reader)
            break
        except FileNotFoundError:
            # A commit after the one read (a merge) deleted a segment it replaced, as
            # Whoosh's own reader() expects: read the newer table of contents.
            for reader in opened:
                reader.close()
            if attempt == 9:
                raise
    if not readers:
        return ix.searcher()
    # Always a MultiReader: it carries the generation that up_to_date() compares.
    return Searcher(MultiReader(readers, generation=toc.generation), fromindex=ix)
