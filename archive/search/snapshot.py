"""Snapshot: one opened index generation, as dense per-block arrays.

The index holds one Whoosh document per block (paragraph or heading). A
:class:`Snapshot` opens the live generation and lays its blocks end to end,
segment after segment, giving each a *global docnum*; beside them it keeps
numpy arrays read once per segment: the block's article (``aid``), its number
in the article (``n``), whether it is alive (not deleted), and its length in
each scored field. A posting list (``invest``: the blocks containing a form of
*investir*) then becomes two arrays, global docnums and term frequencies
(:meth:`Snapshot.postings`), which the matching stage scores in numpy.

A refresh after a small ``archive add`` keeps the arrays of unchanged segments;
a rebuild (a new generation) opens everything anew.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from typing import Any, TypeVar

import numpy as np

from .. import whoosh_format as wf
from ..analysis import Chain
from ..home import Archive
from ..indexing import schema_chain

__all__ = ["Snapshot", "FIELDS"]

#: The fields scored with BM25, whose lengths are kept.
FIELDS = ("text", "title", "exact", "title_exact")
#: Values computed per snapshot and kept (each a small array).
MEMO_SIZE = 512
T = TypeVar("T")


class Snapshot:
    """One opened index generation: its searcher and per-block arrays."""

    ix: Any
    searcher: Any
    cache: dict[str, dict[str, np.ndarray]]

    def __init__(self, archive: Archive, previous: Snapshot | None = None) -> None:
        self.name = archive.index_dir.current_name()
        cache: dict[str, dict[str, np.ndarray]]
        if previous is not None and previous.name == self.name:
            # Same generation, new commit: keep the arrays of unchanged segments.
            self.ix = previous.ix
            self.searcher = wf.fresh_searcher(self.ix, previous.searcher)
            cache = previous.cache
        else:
            self.ix = archive.index_dir.open()
            self.searcher = self.ix.searcher()
            cache = {}
        self.chain: Chain = schema_chain(self.ix.schema)
        self._memo: OrderedDict[Hashable, Any] = OrderedDict()
        self._memo_lock = threading.Lock()
        reader = self.searcher.reader()
        self.segments = wf.segments(reader)
        self.size = sum(s.count for s in self.segments)
        self.cache = {}
        parts = []
        for seg in self.segments:
            arrays = cache.get(seg.id)
            if arrays is None:
                arrays = {"aid": wf.column(seg.reader, "aid", seg.count),
                          "n": wf.column(seg.reader, "n", seg.count)}
                for f in FIELDS:
                    arrays[f] = wf.lengths(seg.reader, f, seg.count)
            self.cache[seg.id] = arrays
            alive = np.ones(seg.count, dtype=bool)
            alive[wf.deleted(seg.reader, seg.count)] = False
            parts.append((arrays, alive))
        if parts:
            self.aid = np.concatenate([p["aid"] for p, _ in parts])
            self.n = np.concatenate([p["n"] for p, _ in parts])
            self.alive = np.concatenate([a for _, a in parts])
            self.length = {f: np.concatenate([p[f] for p, _ in parts]) for f in FIELDS}
        else:
            self.aid = self.n = np.zeros(0, dtype=np.int64)
            self.alive = np.zeros(0, dtype=bool)
            self.length = {f: np.zeros(0, dtype=np.float32) for f in FIELDS}
        # Blocks grouped by article: the blocks of aid a are by_aid[start[a]:start[a] + count[a]].
        self.by_aid = np.argsort(self.aid, kind="stable")
        self.aid_count = np.bincount(self.aid, minlength=1)
        self.aid_start = np.concatenate(([0], np.cumsum(self.aid_count)[:-1]))
        total_docs = max(1, int(self.alive.sum()))
        self.n_docs = total_docs
        self.avg = {f: max(1.0, float(reader.field_length(f)) / total_docs) for f in self.length}
        # Title lengths count once per article (block 0 only carries them).
        titled = max(1, int(((self.n == 0) & self.alive).sum()))
        for f in ("title", "title_exact"):
            self.avg[f] = max(1.0, float(reader.field_length(f)) / titled)
        self.n_titled = titled

    def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        """Return a value computed once per snapshot (the forms a typed accent allows…), LRU-bounded."""
        with self._memo_lock:
            if key in self._memo:
                self._memo.move_to_end(key)
                return self._memo[key]
        value = compute()
        with self._memo_lock:
            self._memo[key] = value
            while len(self._memo) > MEMO_SIZE:
                self._memo.popitem(last=False)
        return value

    def up_to_date(self) -> bool:
        """Tell whether the index has no newer commit."""
        return bool(self.searcher.up_to_date())

    def blocks_of(self, aids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return every block (live or not) of the given articles, and how many each has."""
        counts = self.aid_count[aids]
        total = int(counts.sum())
        if not total:
            return wf.EMPTY_IDS, counts
        starts = np.repeat(self.aid_start[aids] - np.concatenate(([0], np.cumsum(counts)[:-1])), counts)
        return self.by_aid[starts + np.arange(total)], counts

    def close(self) -> None:
        """Close the searcher and the index."""
        self.searcher.close()
        self.ix.close()

    def postings(self, fieldname: str, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Return global docnums and weights of a term, deleted blocks dropped."""
        ids_parts, w_parts = [], []
        for seg in self.segments:
            ids, weights, _ = wf.read_postings(seg.reader, fieldname, text)
            if len(ids):
                ids_parts.append(ids + seg.offset)
                w_parts.append(weights)
        if not ids_parts:
            return wf.EMPTY_IDS, wf.EMPTY_WEIGHTS
        ids = np.concatenate(ids_parts)
        weights = np.concatenate(w_parts)
        keep = self.alive[ids]
        return ids[keep], weights[keep]

    def occurrences(self, fieldname: str, text: str) -> tuple[np.ndarray, list[bytes]]:
        """Return a term's live global docnums and their packed positions."""
        id_parts: list[np.ndarray] = []
        values_out: list[bytes] = []
        for seg in self.segments:
            ids, _, values = wf.read_postings(seg.reader, fieldname, text, with_values=True)
            if not len(ids) or values is None:
                continue
            keep = self.alive[ids + seg.offset]
            id_parts.append(ids[keep] + seg.offset)
            values_out.extend(v for v, k in zip(values, keep.tolist()) if k)
        return (np.concatenate(id_parts) if id_parts else wf.EMPTY_IDS), values_out

    @staticmethod
    def positions(ids: np.ndarray, values: list[bytes], candidates: np.ndarray) -> np.ndarray:
        """Return ``docnum << 32 | position`` for every occurrence in the candidate blocks."""
        hit = np.nonzero(np.isin(ids, candidates, assume_unique=True))[0]
        if not len(hit):
            return wf.EMPTY_IDS
        chosen = [values[i] for i in hit.tolist()]
        counts = np.fromiter((len(v) // 4 for v in chosen), dtype=np.int64, count=len(chosen))
        pos = np.frombuffer(b"".join(chosen), dtype="<u4").astype(np.int64)
        return (np.repeat(ids[hit], counts) << 32) | pos

    def doc_frequency(self, fieldname: str, text: str) -> int:
        """Return how many blocks contain a term."""
        return int(self.searcher.doc_frequency(fieldname, text))

    def frequency(self, fieldname: str, text: str) -> int:
        """Return how many times a term occurs over every block (deleted ones included)."""
        return int(self.searcher.reader().frequency(fieldname, text))

    def expand_prefix(self, fieldname: str, prefix: str, limit: int) -> list[str]:
        """Return up to ``limit`` terms of a field starting with ``prefix``."""
        terms: list[str] = []
        for t in self.searcher.reader().expand_prefix(fieldname, prefix):
            terms.append(t.decode("utf-8") if isinstance(t, bytes) else t)
            if len(terms) >= limit:
                break
        return terms

    def terms(self, fieldname: str, *, private: bool = False) -> Iterator[tuple[str, Any]]:
        """Iterate over a field's terms and their info (``private``: through a reader of its own).

        A private reader has file handles of its own, so that a background thread can
        walk the terms while searches read the shared ones.
        """
        reader = self.ix.reader() if private else self.searcher.reader()
        try:
            for text, info in reader.iter_field(fieldname):
                yield (text.decode("utf-8") if isinstance(text, bytes) else text), info
        finally:
            if private:
                reader.close()
