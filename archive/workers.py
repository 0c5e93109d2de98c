"""Worker processes that never outlive the process that started them, and say how far they are.

(And :func:`in_thread`: one piece of work in a thread beside the caller, waited for through a future.)

``archive rebuild --procs N`` indexes in a pool of forked workers. When the
parent is killed (SIGKILL, the OOM killer), the workers used to carry on for
many seconds, writing hundreds of MB into a build folder nobody would publish.
The pool initializer below ties each worker's life to its parent's: on Linux the
kernel delivers SIGKILL to the worker when the parent dies
(``prctl(PR_SET_PDEATHSIG)``); elsewhere a daemon thread polls the parent's pid.
Either way a worker whose parent is already gone when it starts exits at once.

A worker also reports its progress (:func:`report`: ``("analysing", 200)``, 200
more articles analysed) through a queue, a few times a second at most;
:func:`run_jobs` runs the jobs and shows what they report as one progress bar
per phase (``analysing 8,927/17,854 articles``), refreshed while it waits.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from contextlib import AbstractContextManager
from typing import Any, TypeVar

from .budget import collector_paused

__all__ = ["alive", "die_with_parent", "children", "report", "run_jobs", "in_thread", "Bars", "Progress", "Tally",
           "Phases", "no_progress"]

T = TypeVar("T")

#: ``progress(phase, total, unit)`` returns a context manager yielding ``advance(n)``;
#: ``advance(0)`` only refreshes the display (elapsed time, rate).
Progress = Callable[[str, "int | None", str], AbstractContextManager[Callable[[int], None]]]
#: ``tally(phase, n)``: ``n`` more units of ``phase`` done, a job's side of a :data:`Progress`
#: (:func:`report` in a worker, :class:`Bars` in the parent).
Tally = Callable[[str, int], None]
#: The phases a pool's jobs report: phase → (total, unit).
Phases = Mapping[str, tuple["int | None", str]]
#: Seconds between two reports of one worker, and between two refreshes of the bars.
REPORT_SECONDS = 0.25

_reports: Any = None  # this worker's queue to the parent
_pending: dict[str, int] = {}
#: The phase name of a job's last report (after every other), and the seconds a finished
#: operation waits for the end marker of a job whose worker died.
_END, END_WAIT = "\x00end", 10.0
_last = [0.0]

_PR_SET_PDEATHSIG = 1
#: Seconds between two looks at the parent, where prctl is unavailable.
POLL_SECONDS = 0.5


def in_thread(work: Callable[[], T], name: str) -> Future[T]:
    """Run ``work`` in a daemon thread named ``name``; its result (or exception) comes through the future.

    A daemon: a one-shot command never waits at exit for work nobody waits for.
    """
    future: Future[T] = Future()

    def run() -> None:
        try:
            future.set_result(work())
        except BaseException as exc:  # handed to whoever waits on the future
            future.set_exception(exc)

    threading.Thread(target=run, name=name, daemon=True).start()
    return future


def die_with_parent(parent: int) -> None:
    """Make this process end when process ``parent`` ends (a pool initializer)."""
    if not _pdeathsig():
        threading.Thread(target=_watch, args=(parent,), name="parent-watch", daemon=True).start()
    # The parent may have died between fork and prctl: then no signal will come.
    if os.getppid() != parent:
        os._exit(1)


def children(pid: int) -> list[int]:
    """Return the pids whose parent is ``pid``, read from /proc (Linux; none elsewhere).

    What shows that a server's workers or a build's pool ended with their parent.
    """
    found: list[int] = []
    if not os.path.isdir("/proc"):
        return found
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="utf-8") as f:
                    stat = f.read()
            except OSError:
                continue  # ended meanwhile
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                found.append(int(entry))
    return sorted(found)


def _pdeathsig() -> bool:
    """Ask Linux to SIGKILL this process when its parent dies; tell whether it worked."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def alive(pid: int) -> bool:
    """Tell whether process ``pid`` exists (one left by a killed writer, say, is gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's
    return True


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        threading.Event().wait(POLL_SECONDS)
    os._exit(1)


def no_progress(phase: str, total: int | None, unit: str) -> AbstractContextManager[Callable[[int], None]]:
    """Show no progress."""
    return _Silent()


class _Silent:
    def __enter__(self) -> Callable[[int], None]:
        return lambda n: None

    def __exit__(self, *exc: object) -> None:
        return None


def _start_worker(parent: int, reports: Any) -> None:
    """Initialize a pool worker: die with the parent, report progress to it."""
    global _reports
    die_with_parent(parent)
    _reports = reports
    _pending.clear()


def report(phase: str, n: int, *, flush: bool = False) -> None:
    """Count ``n`` more units of ``phase`` done; send the counts to the parent now and then (``n=0``: now)."""
    if _reports is None:
        return
    # A new phase sends the last counts of the one before at once: it has ended.
    flush = flush or not n or any(count for name, count in _pending.items() if name != phase)
    _pending[phase] = _pending.get(phase, 0) + n
    now = time.monotonic()
    if flush or now - _last[0] >= REPORT_SECONDS:
        _last[0] = now
        for name, count in _pending.items():
            if name and count:
                _reports.put((name, count))
        _pending.clear()


def run_jobs(jobs: Sequence[tuple[Callable[..., Any], tuple[Any, ...]]], procs: int, phases: Phases,
             progress: Progress, start: str = "fork", meanwhile: Callable[[], object] | None = None) -> list[Any]:
    """Run ``jobs`` in ``procs`` workers; show their reports, one bar per phase; return their results.

    The workers are forked, or with ``start="spawn"`` started afresh (then the jobs
    must be functions of a module). A bar opens when its phase first reports and
    closes when all jobs are done. A job's exception is raised here once every job has ended.
    ``meanwhile`` runs in this thread once the workers have started: a lock it takes
    or a thread it starts is not copied into them half-way.
    """
    ctx = multiprocessing.get_context(start)
    reports = ctx.Queue()
    with Bars(progress, phases) as bars, \
            ctx.Pool(procs, initializer=_start_worker, initargs=(os.getpid(), reports)) as pool:
        results = [pool.apply_async(_run, (job, args)) for job, args in jobs]
        if meanwhile is not None:
            meanwhile()
        ended, deadline = 0, float("inf")
        while True:
            done = all(r.ready() for r in results)
            for phase, n in _drain(reports, 0.05 if done else REPORT_SECONDS):
                if phase == _END:
                    ended += 1
                else:
                    bars(phase, n)
            bars(None, 0)
            # A job's result can arrive before its last reports: a worker's queue sends them
            # from a thread, late on a busy machine (the bar stopped at 17,808 of 17,854).
            # Each job's end marker comes after them; a job that sent none (its worker died)
            # is waited for a bounded time.
            if done and deadline == float("inf"):
                deadline = time.monotonic() + END_WAIT
            if done and (ended >= len(jobs) or time.monotonic() > deadline):
                break
        return [r.get() for r in results]


class Bars:
    """The progress bars of an operation, one per phase: opened when the phase first advances,
    closed when it reaches its total (or when the operation ends).

    ``bars(phase, n)`` advances a phase; ``bars(None, 0)`` refreshes every open bar.
    """

    def __init__(self, progress: Progress, phases: Phases) -> None:
        self.progress, self.phases = progress, phases
        self.open: dict[str, tuple[AbstractContextManager[Callable[[int], None]], Callable[[int], None]]] = {}
        self.done: dict[str, int] = {}

    def __enter__(self) -> Bars:
        return self

    def __exit__(self, *exc: object) -> None:
        for phase in list(self.open):
            self._close(phase)

    def __call__(self, phase: str | None, n: int) -> None:
        if phase is None:
            for _, advance in self.open.values():
                advance(0)
            return
        total, unit = self.phases.get(phase, (None, ""))
        if phase not in self.open and phase not in self.done:
            bar = self.progress(phase, total, unit)
            self.open[phase] = (bar, bar.__enter__())
            self.done[phase] = 0
        if phase in self.open:
            self.open[phase][1](n)
            self.done[phase] += n
            if total is not None and self.done[phase] >= total:
                self._close(phase)

    def _close(self, phase: str) -> None:
        bar, _ = self.open.pop(phase)
        bar.__exit__(None, None, None)


def _run(job: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    """Run one job in a worker, then send what it has not reported yet and its end marker."""
    try:
        with collector_paused():  # (a spawned worker does not inherit its parent's pause)
            return job(*args)
    finally:
        report("", 0, flush=True)
        if _reports is not None:
            _reports.put((_END, 0))


def _drain(reports: Any, wait: float) -> Iterator[tuple[str, int]]:
    """Yield the reports queued, waiting up to ``wait`` seconds for the first."""
    try:
        yield reports.get(timeout=wait)
        while True:
            yield reports.get_nowait()
    except queue.Empty:
        return
