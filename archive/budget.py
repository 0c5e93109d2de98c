"""The memory budget of a write: how much the processes of an add, a rebuild or a merge may hold.

A build worker used to keep its segment's postings until the end, so an import
of 8 copies of the corpus peaked at 8.8 GB. Under a budget (default 1 GiB,
``--memory`` or ``ARCHIVE_MEMORY``), each of the ``procs`` build workers gets an
equal share of what the parent process does not already hold, and flushes its
segment when the estimate of the postings it would build reaches that share
(:meth:`Budget.segment_bytes`); the segments are merged afterwards, a chunk of
terms at a time, as many segments at once and into segments as large as the
budget allows (:meth:`Budget.merge_limits`).

The figures are the resident memory of all the processes, each counted whole
(what ``bench/scale.py`` measures). A process of the archive holds about
100 MB before it indexes anything (Python, numpy, Whoosh); a budget under a few
hundred MB therefore cannot be met, and then the shares only fall to their
floors (:data:`MIN_SEGMENT`), which keeps each segment small.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import os
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

__all__ = ["DEFAULT", "ENV", "ESTIMATE_SHARE", "FRESH_WORKER", "MIN_BUDGET", "TRACKER", "Budget", "MergeLimits",
           "collector_paused", "parse_memory", "rss", "release"]

#: The budget when none is given: 1 GiB.
DEFAULT = 1 << 30
#: The environment variable that sets it (``512M``, ``2GiB``…).
ENV = "ARCHIVE_MEMORY"
#: The smallest budget accepted.
MIN_BUDGET = 32 << 20
#: What a freshly started worker process holds before it indexes anything (Python, numpy,
#: Whoosh, the archive's modules): measured 60–70 MB; counted with some slack.
FRESH_WORKER = 100 << 20
#: multiprocessing's resource tracker, a process of its own beside spawned workers: 13 MB measured.
TRACKER = 16 << 20
#: The share of a worker's budget its estimate may reach: the estimate ran 2% over at 8x the
#: corpus (a 312 MB peak for a 306 MB share, articles in the store's order), so 5% is kept aside.
ESTIMATE_SHARE = 0.95
#: A build worker's segment is flushed at this size at the least (its estimate).
MIN_SEGMENT = 4 << 20
#: Bytes a segment build holds at its peak per token added, building and writing its
#: postings (numpy arrays sorted per field, then each block's pickle): measured on
#: the corpus as the growth of a worker's RSS over what it held before.
BYTES_PER_TOKEN = 170
#: Tokens one segment may hold: its token arrays are int32.
MAX_SEGMENT_TOKENS = (1 << 31) - 1
#: Bytes a streamed merge holds per posting of the chunk it writes at once.
BYTES_PER_POSTING = 460
#: Postings a merge writes at once, at the least.
MIN_CHUNK = 20_000
#: Bytes a merge holds per segment it reads at once (its reader, the window of its
#: term table), and per block of the segment it writes (the blocks' lengths and
#: renumbering, and a frequent word's postings, which come whole: a word has at
#: most one posting per block), counted as resident memory, heap slack included:
#: measured on the corpus' 558 smallest segments merged into one (bench/merge-memory-2026-12-06.md).
MERGE_PER_SEGMENT = 160 << 10
MERGE_PER_BLOCK = 1 << 10
#: A merge pass reads two segments and writes this many blocks at the least, whatever the budget.
MIN_MERGE_BLOCKS = 16_384

_UNITS = {"": 1, "b": 1, "k": 1 << 10, "kb": 1000, "kib": 1 << 10, "m": 1 << 20, "mb": 1000**2, "mib": 1 << 20,
          "g": 1 << 30, "gb": 1000**3, "gib": 1 << 30, "t": 1 << 40, "tb": 1000**4, "tib": 1 << 40}
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*")


def parse_memory(text: str) -> int:
    """Return a memory size in bytes from ``1GiB``, ``512M``, ``1.5G``, ``800MB`` or bytes; ValueError if bad."""
    match = _SIZE.fullmatch(text or "")
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in _UNITS:
        raise ValueError(f"{text!r} is not a memory size (say 1GiB, 512M or 800MB)")
    size = int(float(match.group(1)) * _UNITS[unit])
    if size < MIN_BUDGET:
        raise ValueError(f"{text!r} is too small a memory budget (at least {MIN_BUDGET >> 20} MiB)")
    return size


def rss() -> int:
    """Return this process's resident memory in bytes (0 where /proc is missing)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def release() -> None:
    """Give the heap's free pages back to the system (glibc), so that RSS measures what is held."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    # Loaded once: each CDLL object is a small reference cycle (and find_library runs ldconfig).
    try:
        trim: Callable[[int], int] = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
        return trim
    except (OSError, AttributeError):
        return None


_collector_lock = threading.Lock()
_collector_pauses = 0
_collector_was_enabled = True


def _new_collector_lock() -> None:
    global _collector_lock
    _collector_lock = threading.Lock()  # a fork may have copied it held by another thread


os.register_at_fork(after_in_child=_new_collector_lock)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while inside: a write's bulk work makes no cycles.

    An import creates millions of tuples, lists and articles that live for a while
    (a segment's vocabulary and stored fields, the store's held rows): each full
    collection walked all of them again, for nothing, about 6% of an import's CPU
    (``archive add news-fr.jsonl``: 19.4 → 18.1 CPU s, 12.4 → 11.6 s). A write must
    therefore leave no cycle per article or segment (Whoosh's writers did, until
    ``whoosh_internals`` opened indexes on a storage that makes none); its few
    constant ones are collected once the collector runs again. Nested and concurrent
    pauses (threads of a server) resume it when the last one ends; a server's searches
    meanwhile run paused too, their few cycles freed after the write. A worker process
    forked inside a pause keeps it paused for its life.
    """
    global _collector_pauses, _collector_was_enabled
    paused = False
    try:
        with _collector_lock:
            if not _collector_pauses:
                _collector_was_enabled = gc.isenabled()
                gc.disable()
            _collector_pauses += 1
            paused = True
        yield
    finally:
        if paused:  # (an interrupt before the count: nothing to undo)
            with _collector_lock:
                _collector_pauses -= 1
                if not _collector_pauses and _collector_was_enabled:
                    gc.enable()


@dataclass(frozen=True)
class Budget:
    """A write's memory budget, in bytes, for all its processes."""

    total: int = DEFAULT

    @classmethod
    def from_env(cls, value: int | None = None) -> Budget:
        """Return the budget given, else ``$ARCHIVE_MEMORY``'s, else the default (ValueError if bad)."""
        if value is not None:
            return cls(value)
        text = os.environ.get(ENV, "").strip()
        return cls(parse_memory(text) if text else DEFAULT)

    def segment_bytes(self, procs: int, parent: int | None = None, start: str | None = None) -> int:
        """Return the share of a build worker: what its segment's postings may take at their peak.

        A forked worker starts as large as its parent (``parent``: this process's RSS
        now), and both count, so the parent's size is taken ``procs + 1`` times; a
        spawned one starts at :data:`FRESH_WORKER` (``start``: default
        :meth:`start_method`'s choice).
        """
        held = rss() if parent is None else parent
        start = start or self.start_method(procs, held)
        if procs <= 1:
            free = self.total - held
        elif start == "fork":
            free = self.total - held * (procs + 1)
        else:
            free = self.total - held - FRESH_WORKER * procs - TRACKER
        # (At most what a segment's int32 token arrays can count, whatever the budget.)
        return max(MIN_SEGMENT, min(int(free * ESTIMATE_SHARE) // max(1, procs), MAX_SEGMENT_TOKENS * BYTES_PER_TOKEN))

    @staticmethod
    def start_method(procs: int, parent: int | None = None) -> str:
        """Return how ``procs`` build workers start: ``fork`` unless the parent outweighs a fresh process.

        A forked worker is counted as large as its parent: after storing half a
        million articles (32x the corpus) the parent held about 450 MB, and three
        copies of it took the whole budget (its import peaked at 1,538 MB). A
        spawned worker imports the archive anew (a second of CPU) but starts at
        :data:`FRESH_WORKER`.
        """
        held = rss() if parent is None else parent
        return "fork" if procs <= 1 or held <= FRESH_WORKER * 3 // 2 else "spawn"

    def merge_postings(self, parent: int | None = None) -> int:
        """Return how many postings a merge (in this process) may write at once."""
        return self.merge_limits(parent).chunk

    def merge_limits(self, parent: int | None = None) -> MergeLimits:
        """Return how much one merge pass (in this process, ``parent``: its RSS now) may take on at once.

        Of what the process does not hold, an eighth goes to the chunk of postings
        written at once, an eighth to the segments read at once, and the rest to
        the blocks of the segment written (:data:`MERGE_PER_BLOCK` each).
        """
        held = rss() if parent is None else parent
        free = max(0, self.total - held)
        return MergeLimits(segments=max(2, free // 8 // MERGE_PER_SEGMENT),
                           blocks=max(MIN_MERGE_BLOCKS, free * 3 // 4 // MERGE_PER_BLOCK),
                           chunk=max(MIN_CHUNK, free // 8 // BYTES_PER_POSTING))


@dataclass(frozen=True)
class MergeLimits:
    """What one merge pass takes on at once, so that its process stays within the budget."""

    #: Segments read at once.
    segments: int
    #: Live blocks of the segment written (the merged segments' together).
    blocks: int
    #: Postings written at once (a frequent word's come whole).
    chunk: int
