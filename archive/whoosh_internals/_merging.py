"""Merging segments in bounded memory: their postings read term by term and written as one segment."""

from __future__ import annotations

import heapq
import io
import itertools
import pickle
import struct
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3Codec, W3TermInfo, _lenfield
from whoosh.reading import SegmentReader
from whoosh.system import pack_ushort
from whoosh.util.numeric import byte_to_length
from whoosh.writing import SegmentWriter

from ..failpoints import failpoint
from ._decoding import column, deleted
from ._writing import _close_terms_index, _write_numeric, _write_terms
from .postings import FieldPostings

_DECODED = np.array([byte_to_length(b) for b in range(256)], dtype=np.int64)


class SegmentMerger(SegmentWriter):
    """A segment writer whose segment is the live documents of other segments, in their order.

    Each field's terms are read from the segments in term order (a k-way merge of
    their term tables), renumbered past deleted documents and written as
    :class:`~archive.whoosh_internals.BulkSegmentWriter` writes a built segment, at most
    ``chunk`` postings at once (a frequent term's postings come whole). Besides the
    chunk, memory holds a few bytes per document of the merged segment (its
    lengths and columns). A segment built in one piece and one merged from its
    parts hold the same postings, lengths and statistics; when deleted documents
    are dropped, their lengths leave the field totals as the one-byte lengths
    Whoosh keeps of them (an approximation, as in Whoosh's own merges).

    ``tick(n)`` hears that ``n`` more bytes of the segments' postings were read.
    """

    def __init__(self, ix: Any, sources: list[Any], *, chunk: int, tick: Callable[[int], None] = lambda n: None,
                 **kwargs: Any) -> None:
        super().__init__(ix, **kwargs)
        self.sources, self.chunk, self.tick = sources, chunk, tick
        self._read = 0  # postings bytes read since the last tick
        self._shifts: list[int | None] = []  # each source's shift of document numbers, None if it has deletions
        self._added = True  # commit() then writes this segment

    @classmethod
    def unlocked(cls, ix: Any, sources: list[Any], *, chunk: int,
                 tick: Callable[[int], None] = lambda n: None) -> SegmentMerger:
        """Return a merger that takes no index lock (its caller holds the archive's), writing separate files."""
        return cls(ix, sources, chunk=chunk, tick=tick, _lk=False, compound=False)

    def postings_bytes(self) -> int:
        """Return the size of the merged segments' postings files (what ``tick`` counts up to)."""
        return sum(self.storage.file_length(seg.make_filename(W3Codec.POSTS_EXT)) for seg in self.sources)

    def _flush_segment(self) -> None:
        readers = [SegmentReader(self.storage, self.schema, seg) for seg in self.sources]
        try:
            maps, total = [], 0
            for reader in readers:
                count = reader.doc_count_all()
                alive = np.ones(count, dtype=bool)
                alive[deleted(reader, count)] = False
                docmap = np.full(count, -1, dtype=np.int64)
                docmap[alive] = total + np.arange(int(alive.sum()), dtype=np.int64)
                maps.append((alive, docmap))
                total += int(alive.sum())
            # A segment without deletions is renumbered by one shift (not a gather and a check per term).
            self._shifts = [int(docmap[0]) if len(alive) and alive.all() else None for alive, docmap in maps]
            decoded = self._write_per_document(readers, maps, total)
            self.perdocwriter.close()
            self.docnum = total
            fw = self.fieldwriter
            names = sorted({name for r in readers for name in r._terms.indexed_field_names()})
            self._keys: list[tuple[np.ndarray, np.ndarray]] = []  # the terms index's, from _write_terms
            for fieldname in names:
                fw.start_field(fieldname, self.schema[fieldname])
                self._write_field(fw, fieldname, readers, maps, decoded.get(fieldname))
                fw.finish_field()
            _close_terms_index(fw._tindex, self._keys)
            fw._postfile.close()
            fw.is_closed = True
            failpoint("mid-merge")
        finally:
            for reader in readers:
                reader.close()

    def _write_per_document(self, readers: list[Any], maps: list[tuple[np.ndarray, np.ndarray]],
                            total: int) -> dict[str, np.ndarray]:
        """Write lengths, columns and stored fields of the live documents; return each field's decoded lengths."""
        pdw, schema = self.perdocwriter, self.schema
        pdw._doccount = total
        decoded: dict[str, np.ndarray] = {}
        for fieldname in sorted(name for name in schema.names() if schema[name].scorable):
            parts, length = [], 0
            for reader, (alive, _) in zip(readers, maps, strict=True):
                codes = _length_codes(reader, fieldname, len(alive))
                parts.append(codes[alive])
                # The segment's exact total, less what its deleted documents held.
                length += int(reader.field_length(fieldname)) - int(_DECODED[codes[~alive]].sum())
            codes = np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)
            if codes.any():
                pdw._fieldlengths[fieldname] = length
                _write_numeric(pdw, _lenfield(fieldname), LENGTHS_COLUMN, codes)
                decoded[fieldname] = _DECODED[codes]
        for name in ("aid", "n"):
            values = np.concatenate([column(r, name, len(alive))[alive] for r, (alive, _) in zip(readers, maps,
                                                                                                  strict=True)])
            _write_numeric(pdw, name, schema[name].column_type, values)
        writer = pdw._get_column("_stored")._child
        for reader, (alive, _) in zip(readers, maps, strict=True):
            stored = reader._perdoc._cached_reader("_stored", _stored_column())._child
            sizes = np.asarray(stored._lengths, dtype=np.int64)[: len(alive)]
            offsets = np.asarray(stored._offsets, dtype=np.int64)[: len(alive)]
            if alive.all():
                end = int(offsets[-1] + sizes[-1]) if len(sizes) else 0
                writer._dbfile.write(stored._dbfile.get(stored._basepos, end))
            else:
                get, base = stored._dbfile.get, stored._basepos
                writer._dbfile.write(b"".join(get(base + int(o), int(s))
                                              for o, s in zip(offsets[alive], sizes[alive], strict=True) if s))
            kept = sizes[alive]
            writer._lengths.extend(kept.tolist())
            writer._offsets.extend((writer._offset_base + np.cumsum(kept) - kept).tolist())
            writer._offset_base += int(kept.sum())
            writer._count += len(kept)
        return decoded

    def _write_field(self, fw: Any, fieldname: str, readers: list[Any], maps: list[tuple[np.ndarray, np.ndarray]],
                     lengths: np.ndarray | None) -> None:
        """Write one field's merged postings, a chunk of terms at a time."""
        fmt = self.schema[fieldname].format
        positioned = fmt.fixed_value_size() not in (0, 4)
        level = self.codec._compression
        terms: list[bytes] = []
        docs: list[np.ndarray] = []
        freqs: list[np.ndarray] = []
        positions: list[np.ndarray] = []
        starts_of: list[int] = []  # each term's live postings
        held = 0

        def write() -> None:
            starts = np.concatenate([[0], np.cumsum(starts_of)]).astype(np.int64)
            postings = FieldPostings(list(terms), starts, np.concatenate(docs), np.concatenate(freqs),
                                     np.concatenate(positions) if positioned else None, lengths)
            self._keys += _write_terms(fw, postings, fmt, level, lambda n: None)
            self.tick(self._read)
            self._read = 0
            for held_list in (terms, docs, freqs, positions, starts_of):
                held_list.clear()

        streams = [_field_terms(r, fieldname, k) for k, r in enumerate(readers)]
        pending: list[tuple[bytes, int, bytes]] = []
        for item in heapq.merge(*streams):
            if pending and item[0] != pending[0][0]:
                held += self._add_term(pending, readers, maps, positioned, terms, docs, freqs, positions, starts_of)
                pending = []
                if held >= self.chunk:
                    write()
                    held = 0
            pending.append(item)
        if pending:
            self._add_term(pending, readers, maps, positioned, terms, docs, freqs, positions, starts_of)
        if terms:
            write()

    def _add_term(self, pending: list[tuple[bytes, int, bytes]], readers: list[Any],
                  maps: list[tuple[np.ndarray, np.ndarray]], positioned: bool, terms: list[bytes],
                  docs: list[np.ndarray], freqs: list[np.ndarray], positions: list[np.ndarray],
                  starts_of: list[int]) -> int:
        """Read one term's postings from the segments holding it, renumbered; return how many are live."""
        count = 0
        for _, k, value in pending:
            ids, freq, pos = _postings(readers[k]._terms._postfile, value, positioned)
            self._read += 0 if value[0] else _EXTENT.unpack_from(value, _INFO.size)[1]
            shift = self._shifts[k]
            if shift is not None:
                new = ids + shift
            else:
                new = maps[k][1][ids]
                keep = new >= 0
                if not keep.all():
                    if pos is not None:
                        pos = pos[np.repeat(keep, freq)]
                    new, freq = new[keep], freq[keep]
                if not len(new):
                    continue
            docs.append(new)
            freqs.append(freq)
            if pos is not None:
                positions.append(pos)
            count += len(new)
        if count:
            terms.append(pending[0][0])
            starts_of.append(count)
        return count


#: A term info's head (W3TermInfo), then its postings' offset and length when not inlined.
_INFO = struct.Struct("!BfIBBfII")
_EXTENT = struct.Struct("!qi")
_BLOCK_SIZE = struct.Struct("!i")
_RECORD = struct.Struct("!ii")
#: Bytes of a segment's term table read at once: held for every segment a merge reads
#: (at 1 MiB, 558 small segments merged at once held 430 MB of windows).
_WINDOW = 64 << 10


def _postings(postfile: Any, value: bytes, positioned: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Decode a term's postings from its info: document numbers, frequencies and (positioned) positions."""
    blocks: list[tuple[Any, Any, Any]] = []
    if value[0]:  # inlined in the term table (Whoosh's own writer does so for rare terms)
        blocks.append(W3TermInfo.from_bytes(value).inlined_postings())
    else:
        offset, length = _EXTENT.unpack_from(value, _INFO.size)
        buf = postfile.get(offset, length)
        stream = io.BytesIO(buf)
        at = 4  # past the header magic
        while at < len(buf):
            (size,) = _BLOCK_SIZE.unpack_from(buf, at)
            stream.seek(at + 4)
            count, _maxid, _maxw, compression, _mn, _mx = pickle.load(stream)
            end = at + 4 + abs(size)
            data = buf[stream.tell():end]
            deltas, weights, values = pickle.loads(zlib.decompress(data) if compression else data)
            blocks.append((itertools.accumulate(deltas), [1.0] * count if weights is None else
                           [weights] * count if isinstance(weights, float) else weights, values))
            at = end
            if size < 0:
                break
    ids_all: list[int] = []
    weights_all: list[float] = []
    values_all: list[bytes] = []
    for ids, weights, values in blocks:
        ids_all.extend(ids)
        weights_all.extend(weights)
        if positioned:
            values_all.extend(values)
    docs = np.array(ids_all, dtype=np.int64)
    if positioned:
        freq = np.fromiter(map(len, values_all), dtype=np.int64, count=len(values_all)) // 4
        return docs, freq, np.frombuffer(b"".join(values_all), dtype="<u4").astype(np.int64)
    return docs, np.array(weights_all, dtype=np.int64), None


def _field_terms(reader: Any, fieldname: str, k: int) -> Iterator[tuple[bytes, int, bytes]]:
    """Yield one segment's terms of a field in order, with the segment's number and each term's info.

    The records of the term table are read in windows of :data:`_WINDOW` bytes,
    not one by one through Whoosh's reader (four reads and a term info object each).
    """
    number = reader._terms._fieldmap.get(fieldname)
    if number is None:
        return
    tindex = reader._terms._tindex
    prefix = pack_ushort(number)
    at = tindex.closest_key_pos(prefix)
    if at is None:
        return
    end, get = tindex.endofdata, tindex.dbfile.get
    buf, base = b"", at
    while at < end:
        if at + _RECORD.size > base + len(buf):
            buf, base = get(at, min(_WINDOW, end - at)), at
        keylen, vallen = _RECORD.unpack_from(buf, at - base)
        stop = at + _RECORD.size + keylen + vallen
        if stop > base + len(buf):
            buf, base = get(at, max(_WINDOW, stop - at)), at
        key = buf[at - base + _RECORD.size:at - base + _RECORD.size + keylen]
        if key[:2] != prefix:
            return
        yield key[2:], k, buf[stop - base - vallen:stop - base]
        at = stop


def _length_codes(reader: Any, fieldname: str, count: int) -> np.ndarray:
    """Return each document's one-byte length in a field of one segment."""
    out = np.zeros(count, dtype=np.uint8)
    lengths = reader._perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
    if lengths is not None:
        codes = np.frombuffer(lengths._dbfile.get(lengths._basepos, lengths._count), dtype=np.uint8)
        out[: len(codes)] = codes[:count]
    return out


def _stored_column() -> Any:
    from whoosh.codec.whoosh3 import STORED_COLUMN

    return STORED_COLUMN
