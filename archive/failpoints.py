"""Failpoints: named places where a test can make the process die, deterministically.

A crash test sets ``ARCHIVE_FAILPOINT=after-store-commit`` (say) in the
environment of an ``archive add`` it starts; when the process reaches
``failpoint("after-store-commit")`` it kills itself with SIGKILL, exactly as a
power cut or the OOM killer would at that point, and the test then checks what
the archive kept. Without the variable a failpoint costs one dictionary lookup.

The points, in the order a write reaches them:

* ``after-store-commit``: a source file's articles are committed to the store,
  the index knows nothing yet;
* ``mid-index-write``: some of the pending articles are in an index writer,
  nothing is committed to the index;
* ``after-index-commit``: the index has the articles, the store's pending queue
  still lists them;
* ``before-swap``: a rebuild's new index generation is complete but not live;
* ``mid-merge``: after an index commit, small segments are being merged into a
  new one, not yet committed.
"""

from __future__ import annotations

import os
import signal

__all__ = ["POINTS", "failpoint"]

POINTS = ("after-store-commit", "mid-index-write", "after-index-commit", "before-swap", "mid-merge")
_VARIABLE = "ARCHIVE_FAILPOINT"


def failpoint(name: str) -> None:
    """Kill this process with SIGKILL if ``$ARCHIVE_FAILPOINT`` names this point."""
    assert name in POINTS, name
    if os.environ.get(_VARIABLE) == name:
        os.kill(os.getpid(), signal.SIGKILL)
