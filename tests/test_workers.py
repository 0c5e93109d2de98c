"""Pool workers end with the process that started them."""

from __future__ import annotations

import gc
import multiprocessing
import os
import select
import signal
import subprocess
import sys

import pytest

from archive.workers import no_progress, run_jobs

# A parent that starts a pool with the indexing initializer and gives each worker a
# long task (as a rebuild does); each worker prints its pid once busy. Idle workers
# end on their own when the task pipe closes; busy ones used to finish their task.
PARENT = """
import multiprocessing, os, threading
from archive.workers import die_with_parent

def busy(_):
    os.write(1, b"%d\\n" % os.getpid())  # one write: the two workers' lines never interleave
    threading.Event().wait(120)

ctx = multiprocessing.get_context("fork")
pool = ctx.Pool(2, initializer=die_with_parent, initargs=(os.getpid(),))
pool.map(busy, range(2), chunksize=1)
"""


@pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="needs pidfd_open (Linux)")
def test_pool_workers_die_with_their_parent():
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    try:
        workers = [int(parent.stdout.readline()) for _ in range(2)]
        fds = [os.pidfd_open(pid) for pid in workers]
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        parent.stdout.close()
    assert len(set(workers)) == 2
    try:
        # A pidfd becomes readable when its process ends: wait for both, 10 s at most.
        ended: set[int] = set()
        while len(ended) < 2:
            ready, _, _ = select.select([fd for fd in fds if fd not in ended], [], [], 10)
            assert ready, f"workers {workers} outlived their parent"
            ended.update(ready)
    finally:
        for fd in fds:
            os.close(fd)


@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_jobs_run_with_the_collector_paused(start: str) -> None:
    """A job runs with the cyclic collector paused, whether its worker was forked or started afresh."""
    assert run_jobs([(gc.isenabled, ())], 1, {}, no_progress, start) == [False]
    assert gc.isenabled()


def test_what_runs_meanwhile_runs_once_the_workers_have_started() -> None:
    # (A lock it takes, a thread it starts, must not be copied into a worker forked half-way.)
    seen: list[int] = []
    assert run_jobs([(os.getpid, ()), (os.getpid, ())], 2, {}, no_progress,
                    meanwhile=lambda: seen.append(len(multiprocessing.active_children()))) != [os.getpid()] * 2
    assert seen == [2]
