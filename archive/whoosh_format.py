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
* **Reading from many threads** (:func:`open_for_reading`): Whoosh reads its
  files with ``seek()`` then ``read()`` on one shared handle, so two searches in
  two threads would move each other's position; an index opened here reads at
  explicit offsets (``os.pread``), each thread keeping its own position.
* **Refreshing** (:func:`fresh_searcher`): a searcher on the latest commit that
  reuses the readers of unchanged segments.
* **Writing** (:class:`BulkSegmentWriter`): a segment writer fed analyzed
  blocks, which writes each term's posting blocks in one call, byte for byte
  what Whoosh's W3 codec writes (``tests/test_whoosh_format.py`` compares both);
  :func:`commit_segments` commits segments built by worker processes.

All of it depends on the internals of exactly one release, so importing this
module checks that the installed whoosh-reloaded is that release.
"""

# ruff: noqa: E402 -- the version is checked before Whoosh's internals are imported.
from __future__ import annotations

import io
import os
import pickle
import shutil
import struct
import threading
import zlib
from array import array
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ArchiveError

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
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, WHOOSH3_HEADER_MAGIC, W3TermInfo, _lenfield
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import BufferFile, StructFile
from whoosh.reading import MultiReader, SegmentReader, TermNotFound
from whoosh.searching import Searcher
from whoosh.system import pack_uint, pack_ushort
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.writing import SegmentWriter

__all__ = ["WHOOSH_VERSION", "IncompatibleWhoosh", "Segment", "segments", "segment_count",
           "open_for_reading", "segment_readers", "read_postings", "column", "lengths", "deleted", "fresh_searcher",
           "BulkSegmentWriter", "finish_segment", "commit_segments", "index_segments", "EMPTY_IDS", "EMPTY_WEIGHTS"]

EMPTY_IDS = np.zeros(0, dtype=np.int64)
EMPTY_WEIGHTS = np.zeros(0, dtype=np.float32)
_LENGTHS = np.array([byte_to_length(i) for i in range(256)], dtype=np.float32)
_BLOCK = 128  # postings per block, as W3Codec writes them
_UINTS = [pack_uint(i) for i in range(256)]


# ---------------------------------------------------------------------------- reading

class _PositionalFile(StructFile):
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
    """A read-only folder of index files opened as :class:`_PositionalFile`."""

    def open_file(self, name: str, **kwargs: Any) -> _PositionalFile:
        return _PositionalFile(self._fpath(name), name)


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


def segment_readers(searcher: Any) -> list[Any]:
    """Return the segment readers under a searcher (what closing it would close)."""
    return [r for r, _ in searcher.reader().leaf_readers()]


def fresh_searcher(ix: Any, old: Any) -> Any:
    """Open a searcher on the index's latest commit, reusing readers of unchanged segments.

    A segment is unchanged when its id *and* its deletions are the same: Whoosh's own
    Searcher.refresh() compares ids only, and would keep stale deletions. The old
    searcher's readers are left open (searches may still be reading them): the
    caller closes, with :func:`segment_readers`, those no searcher uses any more.
    """
    reusable = {s.id: s.reader for s in segments(old.reader())}
    for attempt in range(10):
        toc = ix._read_toc()
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


# ---------------------------------------------------------------------------- writing

Posting = tuple[int, float, bytes, int]  # docnum, weight, value bytes, field length


class BulkSegmentWriter(SegmentWriter):
    """A segment writer fed analyzed blocks, writing each term's postings in one call.

    Whoosh's own writer pushes every posting through a sorting pool and a
    per-posting method call; here the two big fields arrive as term lists and
    their postings are kept in dicts until the segment is flushed.
    """

    def __init__(self, ix: Any, counted: tuple[str, ...], positioned: tuple[str, ...], **kwargs: Any) -> None:
        super().__init__(ix, **kwargs)
        self._counted, self._positioned = counted, positioned
        self._postings: dict[str, dict[bytes, list[Posting]]] = {}
        self._analyzed: dict[str, defaultdict[str, list[Posting]]] = {
            f: defaultdict(list) for f in counted + positioned}

    def add_block(self, terms: dict[str, list[str]], fields: dict[str, Any]) -> None:
        """Add one document: analyzed terms of the bulk fields (in order), and its other fields."""
        schema, pdw, docnum = self.schema, self.perdocwriter, self.docnum
        pdw.start_doc(docnum)
        for fieldname in self._counted:
            tokens = terms[fieldname]
            counts: dict[str, int] = {}
            for term in tokens:
                counts[term] = counts.get(term, 0) + 1
            analyzed, n = self._analyzed[fieldname], len(tokens)
            for term, f in counts.items():
                analyzed[term].append((docnum, float(f), _UINTS[f] if f < 256 else pack_uint(f), n))
            pdw.add_field(fieldname, schema[fieldname], None, n)
        for fieldname in self._positioned:
            tokens = terms[fieldname]
            positions: defaultdict[str, list[int]] = defaultdict(list)
            for pos, term in enumerate(tokens):
                positions[term].append(pos)
            analyzed, n = self._analyzed[fieldname], len(tokens)
            encode = schema[fieldname].format.encode
            for term, plist in positions.items():
                analyzed[term].append((docnum, float(len(plist)), encode(plist), n))
            pdw.add_field(fieldname, schema[fieldname], None, n)
        for fieldname in sorted(fields):
            value = fields[fieldname]
            field = schema[fieldname]
            length = 0
            if field.indexed:
                items = list(field.index(value))
                if field.scorable:
                    length = sum(freq for _, freq, _, _ in items)
                postings = self._postings.setdefault(fieldname, {})
                for tbytes, _, weight, vbytes in items:
                    postings.setdefault(tbytes, []).append((docnum, weight, vbytes, length))
            pdw.add_field(fieldname, field, value if field.stored else None, length)
            if field.column_type is not None:
                pdw.add_column_value(fieldname, field.column_type, field.to_column_value(value))
        pdw.finish_doc()
        self.docnum += 1
        self._added = True

    def _flush_segment(self) -> None:
        self.perdocwriter.close()
        for fieldname, analyzed in self._analyzed.items():
            if analyzed:
                self._postings[fieldname] = {t.encode("utf-8"): p for t, p in analyzed.items()}
            analyzed.clear()
        fw = self.fieldwriter
        for fieldname in sorted(self._postings):
            fw.start_field(fieldname, self.schema[fieldname])
            terms = self._postings[fieldname]
            fixed = self.schema[fieldname].format.fixed_value_size()
            prefix = pack_ushort(fw._fieldid)
            for tbytes in sorted(terms):
                info = _write_postings(fw._postfile, terms[tbytes], fixed, self.codec._compression)
                fw._tindex.add(prefix + tbytes, info.to_bytes())
            fw.finish_field()
        fw.close()
        self._postings.clear()


def _write_postings(postfile: Any, postings: list[Posting], fixed: int | None,
                    compression: int) -> W3TermInfo:
    """Write one term's posting list in W3 blocks, as W3PostingsWriter would; return its info."""
    info = W3TermInfo()
    start = postfile.tell()
    postfile.write(WHOOSH3_HEADER_MAGIC)
    total = len(postings)
    for first in range(0, total, _BLOCK):
        chunk = postings[first:first + _BLOCK]
        ids = [p[0] for p in chunk]
        weights = array("f", [p[1] for p in chunk])
        nonzero = [p[3] for p in chunk if p[3]]
        minlength = min(nonzero) if nonzero else None
        maxlength = max(nonzero) if nonzero else 0
        maxweight = max(weights)
        deltas = tuple(b - a for a, b in zip([0, *ids[:-1]], ids))
        if all(w == 1.0 for w in weights):
            mini_weights: Any = None
        elif all(w == weights[0] for w in weights):
            mini_weights = weights[0]
        else:
            mini_weights = tuple(weights)
        values = [p[2] for p in chunk if p[2]]
        if fixed is None or fixed < 0:
            mini_values: Any = tuple(values)
        elif fixed == 0:
            mini_values = None
        else:
            mini_values = b"".join(values)
        data = pickle.dumps((deltas, mini_weights, mini_values), 2)
        if compression:
            data = zlib.compress(data, compression)
        head = pickle.dumps((len(ids), ids[-1], maxweight, compression, length_to_byte(minlength),
                             length_to_byte(maxlength)), 2)
        size = len(head) + len(data)
        postfile.write_int(-size if first + _BLOCK >= total else size)
        postfile.write(head)
        postfile.write(data)
        # The same bookkeeping as W3TermInfo.add_block().
        info._weight += sum(weights)
        info._df += len(ids)
        if info._minlength is None:
            info._minlength = minlength
        elif minlength is not None:
            info._minlength = min(info._minlength, minlength)
        info._maxlength = max(info._maxlength, maxlength)
        info._maxweight = max(info._maxweight, maxweight)
        if info._minid is None:
            info._minid = ids[0]
        info._maxid = ids[-1]
    info.set_extent(start, postfile.tell() - start)
    return info


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
