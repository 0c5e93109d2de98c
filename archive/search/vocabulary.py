"""Vocabulary: every word of the archive, for fuzzy words and "did you mean".

``gouvernemnt~`` finds ``gouvernement`` by comparing the typed word with every
exact term of the archive (folded and lowercased, as the index holds them: an
accent or a capital is never an edit) whose length is within the distance:
RapidFuzz's optimal string alignment distance (an insertion, deletion,
substitution or transposition of two neighbours each count one edit), in C
over the words of each length, a few milliseconds for the corpus's 200,000
words. Every word counts, the rarest and the shortest too: ``Stammerjohn~``
finds the article ``Stammerjohn`` finds, and a word typed exactly finds itself.
Suggestions ("did you mean") keep to words found in at least three paragraphs.

The words are read from the index's ``exact`` field, a list per length. Walking
the archive's terms in Python takes seconds and holds the GIL, which slowed
every search running meanwhile 2-3x: for a large archive it is read in a child
process (:func:`build_in_background`), on the other core, and sent back in one piece.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from collections.abc import Iterable, Iterator
from concurrent.futures import Future
from pathlib import Path

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import OSA

from .. import whoosh_internals as wf
from ..analysis import STOP_WORDS
from ..failpoints import failpoint
from ..workers import die_with_parent, in_thread

__all__ = ["Vocabulary", "build_in_background", "build_in_child", "distance", "distance_ok", "IN_PROCESS_BLOCKS"]

#: Below this many blocks, an archive's vocabulary is built in a thread (well under
#: a second); above, in a child process.
IN_PROCESS_BLOCKS = 20_000
#: Fuzzy expansions kept per vocabulary (all dropped when full).
WITHIN_KEPT = 256
#: The folder that holds the ``archive`` package, for the child process's imports.
_ROOT = Path(__file__).resolve().parents[2]


class Vocabulary:
    """Every archive word (exact terms) with how many blocks hold it, listed by length."""

    #: Suggestions keep to words in at least this many blocks (a typo printed once is no suggestion).
    MIN_DF = 3

    def __init__(self, terms: Iterable[tuple[str, int]]) -> None:
        self.words: list[str] = []
        df: list[int] = []
        for word, freq in terms:
            self.words.append(word)
            df.append(freq)
        self.df = np.array(df, dtype=np.int64)
        #: Per length, the words of that length and their indexes in ``words``; and the same
        #: of the words in at least MIN_DF blocks (suggestions compare only those: half as many).
        self.lengths = self._by_length(range(len(self.words)))
        self.frequent = self._by_length(np.flatnonzero(self.df >= self.MIN_DF).tolist())
        self._within: dict[tuple[str, int, int], list[str]] = {}

    @classmethod
    def of_index(cls, folder: str) -> Vocabulary:
        """Build the vocabulary of the index generation in ``folder`` (opened privately)."""
        failpoint("vocabulary-build")
        return cls(_exact_terms(folder))

    def __len__(self) -> int:
        return len(self.words)

    def _by_length(self, indexes: Iterable[int]) -> dict[int, tuple[list[str], np.ndarray]]:
        by_length: dict[int, list[int]] = {}
        for i in indexes:
            by_length.setdefault(len(self.words[i]), []).append(i)
        return {n: ([self.words[i] for i in ids], np.array(ids, dtype=np.int64)) for n, ids in by_length.items()}

    def _near(self, term: str, limit: int, shortest: int, frequent: bool = False) -> list[tuple[int, int]]:
        """Return (distance, index) of the words within ``limit`` edits of ``term`` and at least ``shortest`` long."""
        found: list[tuple[int, int]] = []
        lengths = self.frequent if frequent else self.lengths
        for n in range(max(shortest, len(term) - limit, 0), len(term) + limit + 1):
            if n not in lengths:
                continue
            words, ids = lengths[n]
            for _, d, k in process.extract(term, words, scorer=OSA.distance, processor=None,
                                           score_cutoff=limit, limit=None):
                found.append((int(d), int(ids[k])))
        return found

    def within(self, term: str, distance: int, limit: int) -> list[str]:
        """Return up to ``limit`` words within ``distance`` edits of ``term``: nearest, then most frequent first."""
        key = (term, distance, limit)
        known = self._within.get(key)
        if known is None:
            found = self._near(term, distance, 0)
            found.sort(key=lambda f: (f[0], -int(self.df[f[1]]), self.words[f[1]]))
            known = [self.words[i] for _, i in found[:limit]]
            # The next page of the same query asks again: a few hundred answers are kept.
            if len(self._within) >= WITHIN_KEPT:
                self._within.clear()  # (searches in other threads may be reading it: no iteration)
            self._within[key] = known
        return list(known)

    def closest(self, term: str) -> str | None:
        """Return the nearest, then most frequent, word of at least MIN_DF blocks within two edits of ``term``."""
        scored = [(d, -int(self.df[i]), self.words[i]) for d, i in self._near(term, 2, len(term) - 1, frequent=True)
                  if d and self.words[i] not in STOP_WORDS]
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
        return in_thread(lambda: Vocabulary.of_index(str(folder)), "archive-vocabulary")
    return in_thread(lambda: build_in_child(str(folder)), "archive-vocabulary")


def build_in_child(folder: str) -> Vocabulary:
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


def distance(a: str, b: str) -> int:
    """Return the optimal string alignment distance (Damerau-Levenshtein without repeated edits)."""
    return int(OSA.distance(a, b))


def distance_ok(a: str, b: str, limit: int) -> bool:
    """Tell whether two words are within ``limit`` edits (lengths checked first)."""
    return abs(len(a) - len(b)) <= limit and OSA.distance(a, b, score_cutoff=limit) <= limit
