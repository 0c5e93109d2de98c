"""Failpoints: named places where a test can make the process die, deterministically.

A crash test sets ``ARCHIVE_FAILPOINT=after-store-commit`` (say) in the
environment of an ``archive add`` it starts; when the process reaches
``failpoint("after-store-commit")`` it kills itself with SIGKILL, exactly as a
power cut or the OOM killer would at that point, and the test then checks what
the archive kept. Without the variable a failpoint costs one dictionary lookup.

The points, in the order a write reaches them:

* ``store-create``: a new store is complete beside its place, not yet linked into it;
* ``after-store-commit``: a source file's articles are committed to the store,
  the index knows nothing yet;
* ``mid-index-write``: some of the pending articles are in an index writer,
  nothing is committed to the index;
* ``after-index-commit``: the index has the articles, the store's pending queue
  still lists them;
* ``before-swap``: a rebuild's new index generation is complete but not live;
* ``mid-merge``: after an index commit, small segments are being merged into a
  new one, not yet committed.

A test of concurrency *holds* a thread at a point instead (:func:`held`): the
first thread to reach ``matching`` (a search, between taking its snapshot and
reading postings), ``vocabulary-build`` or ``catalog-load`` (the first search's
thread reading the catalog) waits there until the test lets it go, so the test
can prove what other threads do meanwhile, without sleeps.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["POINTS", "failpoint", "held", "Hold"]

POINTS = ("store-create", "after-store-commit", "mid-index-write", "after-index-commit", "before-swap", "mid-merge",
          "matching", "vocabulary-build", "catalog-load")
_VARIABLE = "ARCHIVE_FAILPOINT"


class Hold:
    """One thread held at a point: ``reached`` once it is there, released by :meth:`release`."""

    def __init__(self) -> None:
        self.reached = threading.Event()
        self._go = threading.Event()
        self._taken = False
        self._lock = threading.Lock()

    def take(self) -> bool:
        """Claim the hold for the calling thread; False when another thread has it."""
        with self._lock:
            if self._taken:
                return False
            self._taken = True
            return True

    def wait(self) -> None:
        """Say the point is reached, and wait to be released."""
        self.reached.set()
        self._go.wait()

    def release(self) -> None:
        """Let the held thread go on (and any later one pass)."""
        self._go.set()


_HOLDS: dict[str, Hold] = {}


@contextmanager
def held(name: str) -> Iterator[Hold]:
    """Hold the first thread of this process that reaches point ``name``, until released."""
    assert name in POINTS, name
    hold = _HOLDS[name] = Hold()
    try:
        yield hold
    finally:
        del _HOLDS[name]
        hold.release()


def failpoint(name: str) -> None:
    """Kill this process with SIGKILL if ``$ARCHIVE_FAILPOINT`` names this point (or hold a thread)."""
    assert name in POINTS, name
    hold = _HOLDS.get(name)
    if hold is not None and hold.take():
        hold.wait()
    if os.environ.get(_VARIABLE) == name:
        os.kill(os.getpid(), signal.SIGKILL)
