"""Worker processes that never outlive the process that started them.

``archive rebuild --procs N`` indexes in a pool of forked workers. When the
parent is killed (SIGKILL, the OOM killer), the workers used to carry on for
many seconds, writing hundreds of MB into a build folder nobody would publish.
The pool initializer below ties each worker's life to its parent's: on Linux the
kernel delivers SIGKILL to the worker when the parent dies
(``prctl(PR_SET_PDEATHSIG)``); elsewhere a daemon thread polls the parent's pid.
Either way a worker whose parent is already gone when it starts exits at once.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading

__all__ = ["die_with_parent"]

_PR_SET_PDEATHSIG = 1
#: Seconds between two looks at the parent, where prctl is unavailable.
POLL_SECONDS = 0.5


def die_with_parent(parent: int) -> None:
    """Make this process end when process ``parent`` ends (a pool initializer)."""
    if not _pdeathsig():
        threading.Thread(target=_watch, args=(parent,), name="parent-watch", daemon=True).start()
    # The parent may have died between fork and prctl: then no signal will come.
    if os.getppid() != parent:
        os._exit(1)


def _pdeathsig() -> bool:
    """Ask Linux to SIGKILL this process when its parent dies; tell whether it worked."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        threading.Event().wait(POLL_SECONDS)
    os._exit(1)
