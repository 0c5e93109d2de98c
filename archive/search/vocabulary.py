"""Vocabulary: the archive's frequent words, for "did you mean" and fuzzy words.

``gouvernemnt`` finds ``gouvernement`` by the "symmetric delete" method: every
frequent exact term of the archive (in at least three blocks) is filed under
each of its one-letter deletions (``gouvernement`` under ``ouvernement``,
``guvernement``…, ``gouvernemnt``); a typed word and a vocabulary word within
one substitution, insertion, deletion or transposition share a key, so the
candidates cost a few lookups instead of a walk over every term.

The keys are kept as CRC-32 hashes in one sorted numpy array beside the index
of the word each belongs to (a collision only adds a candidate that the
distance check then drops), so the whole vocabulary is a list of words and
three arrays. Walking the archive's terms in Python takes seconds and holds
the GIL, which slowed every search running meanwhile 2-3x: for a large archive
it is built in a child process (:func:`build_in_background`), on the other
core, and sent back in one piece.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from pathlib import Path

import numpy as np

from .. import whoosh_format as wf
from ..analysis import STOP_WORDS
from ..failpoints import failpoint
from ..workers import die_with_parent

__all__ = ["Vocabulary", "build_in_background", "distance", "distance_ok", "IN_PROCESS_BLOCKS"]

#: Below this many blocks, an archive's vocabulary is built in a thread (well under
#: a second); above, in a child process.
IN_PROCESS_BLOCKS = 20_000
#: The folder that holds the ``archive`` package, for the child process's imports.
_ROOT = Path(__file__).resolve().parents[2]


class Vocabulary:
    """Frequent archive words (exact terms), found by their one-letter deletions."""

    MIN_DF = 3

    def __init__(self, terms: Iterable[tuple[str, int]]) -> None:
        words: list[str] = []
        df: list[int] = []
        for word, freq in terms:
            if freq >= self.MIN_DF and len(word) >= 3 and word.isalpha():
                words.append(word)
                df.append(freq)
        hashes: list[int] = []
        owners: list[int] = []
        for i, word in enumerate(words):
            keys = _deletions(word)
            hashes.extend(_hash(k) for k in keys)
            owners.extend([i] * len(keys))
        keys_array = np.array(hashes, dtype=np.uint32)
        order = np.argsort(keys_array, kind="stable")
        self.words = words
        self.df = np.array(df, dtype=np.int64)
        self.keys = keys_array[order]
        self.owners = np.array(owners, dtype=np.int32)[order]

    @classmethod
    def of_index(cls, folder: str) -> Vocabulary:
        """Build the vocabulary of the index generation in ``folder`` (opened privately)."""
        failpoint("vocabulary-build")
        return cls(_exact_terms(folder))

    def __len__(self) -> int:
        return len(self.words)

    def _candidates(self, keys: set[str]) -> list[int]:
        """Return the indexes of the words filed under any of ``keys``."""
        hashes = np.fromiter((_hash(k) for k in keys), dtype=np.uint32, count=len(keys))
        lo = np.searchsorted(self.keys, hashes, "left").tolist()
        hi = np.searchsorted(self.keys, hashes, "right").tolist()
        parts = [self.owners[a:b] for a, b in zip(lo, hi) if b > a]
        return np.unique(np.concatenate(parts)).tolist() if parts else []

    def within(self, term: str, distance: int, limit: int) -> list[str]:
        """Return the archive's words within ``distance`` edits of ``term``, most frequent first."""
        keys = _deletions(term)
        if distance > 1:
            keys = {d for k in keys for d in _deletions(k)}
        found = [i for i in self._candidates(keys) if distance_ok(term, self.words[i], distance)]
        found.sort(key=lambda i: (-int(self.df[i]), self.words[i]))
        return [self.words[i] for i in found[:limit]]

    def closest(self, term: str) -> str | None:
        """Return the most frequent vocabulary word within two edits of ``term``."""
        scored = []
        for i in self._candidates(_deletions(term)):
            word = self.words[i]
            if word != term and len(word) >= len(term) - 1 and word not in STOP_WORDS:
                d = distance(term, word)
                if d <= 2:
                    scored.append((d, -int(self.df[i]), word))
        return min(scored)[2] if scored else None


def _exact_terms(folder: str) -> Iterator[tuple[str, int]]:
    """Yield every exact term of an index generation and how many blocks hold it."""
    ix = wf.open_for_reading(folder)
    reader = ix.reader()
    try:
        for text, info in reader.iter_field("exact"):
            yield (text.decode("utf-8") if isinstance(text, bytes) else text), info.doc_frequency()
    finally:
        reader.close()
        ix.close()


def build_in_background(folder: Path | str, blocks: int) -> Future[Vocabulary]:
    """Start building a generation's vocabulary: in a thread when small, else in a child process."""
    if blocks < IN_PROCESS_BLOCKS:
        return _in_thread(lambda: Vocabulary.of_index(str(folder)))
    return _in_thread(lambda: _in_child(str(folder)))


def _in_child(folder: str) -> Vocabulary:
    """Build a vocabulary in a child process (this thread only waits, without the GIL)."""
    # A fresh interpreter, not fork (forking a process that runs server threads can
    # deadlock the child) nor multiprocessing's spawn (it re-runs the caller's main script).
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_ROOT), env.get("PYTHONPATH")]))
    code = "from archive.search.vocabulary import _child; _child()"
    done = subprocess.run([sys.executable, "-c", code, folder, str(os.getpid())], env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, check=False)
    if done.returncode:
        raise RuntimeError("the vocabulary build failed: "
                           + done.stderr.decode("utf-8", "replace").strip()[-500:])
    vocabulary = pickle.loads(done.stdout)  # (from our own child: trusted)
    assert isinstance(vocabulary, Vocabulary)
    return vocabulary


def _child() -> None:
    """Build the vocabulary of ``argv[1]`` and write it, pickled, to stdout (the child process)."""
    folder, parent = sys.argv[1], int(sys.argv[2])
    die_with_parent(parent)
    sys.stdout.buffer.write(pickle.dumps(Vocabulary.of_index(folder), protocol=pickle.HIGHEST_PROTOCOL))


def _in_thread(build: Callable[[], Vocabulary]) -> Future[Vocabulary]:
    """Run ``build`` in a daemon thread: a one-shot command never waits for it at exit."""
    future: Future[Vocabulary] = Future()

    def run() -> None:
        try:
            future.set_result(build())
        except BaseException as exc:  # handed to whoever waits on the future
            future.set_exception(exc)

    threading.Thread(target=run, name="archive-vocabulary", daemon=True).start()
    return future


def _hash(key: str) -> int:
    return zlib.crc32(key.encode("utf-8"))


def _deletions(word: str) -> set[str]:
    return {word} | {word[:i] + word[i + 1:] for i in range(len(word))}


def distance_ok(a: str, b: str, limit: int) -> bool:
    """Tell whether two words are within ``limit`` edits (lengths checked first)."""
    return abs(len(a) - len(b)) <= limit and distance(a, b) <= limit


def distance(a: str, b: str) -> int:
    """Return the Damerau-Levenshtein (optimal string alignment) distance."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]
