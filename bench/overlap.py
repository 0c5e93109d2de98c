"""Overlap: do two slow searches at once take about as long as one?

    .venv/bin/python bench/overlap.py HOME [--reps 5]

Each slow query below is timed alone (median of --reps), then as two copies
started together (median wall time of both finishing), two ways:

* **threads**: one engine, two threads. No lock spans a search, but the Python
  parts of a search (decoding posting blocks, highlighting) take turns on the
  GIL; only numpy's array operations run beside each other.
* **workers**: two processes with an engine each, as ``archive serve --workers
  2`` runs them, sharing the index through the page cache; timed from sending
  the query to both answers (one worker alone is the baseline).

Prints a markdown table with the ratio pair / alone (1.0: perfect overlap,
2.0: none) and the load average, which matters on a shared machine.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archive.search import Engine, SearchRequest  # noqa: E402

SLOW = [
    "le OR la OR les OR de OR des OR et OR un OR une",
    '"de la" "à la" "pour les"',
    "gouvernement OR président OR ministre OR France OR politique OR économie",
    "covid",
]


def alone(engine: Engine, request: SearchRequest, reps: int) -> float:
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        engine.search(request)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def pair(engine: Engine, request: SearchRequest, reps: int) -> float:
    times = []
    for _ in range(reps):
        start = threading.Barrier(3)

        def run(barrier: threading.Barrier = start) -> None:
            barrier.wait()
            engine.search(request)

        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        start.wait()
        t0 = time.perf_counter()
        for t in threads:
            t.join()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def serve(home: Path, conn: Any) -> None:
    """Answer queries sent through ``conn`` with an engine of this process's own (a worker)."""
    engine = Engine(home)
    engine.warm()
    for query in SLOW:
        engine.search(SearchRequest.build(query))
    conn.send("ready")
    while (query := conn.recv()) is not None:
        engine.search(SearchRequest.build(query))
        conn.send("done")
    engine.close()


def workers(conns: list[Any], query: str, reps: int) -> float:
    """Return the median time for the given workers to all answer the query."""
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for c in conns:
            c.send(query)
        for c in conns:
            if not c.poll(600):  # (a worker that died would leave this waiting forever)
                raise SystemExit("a worker did not answer within 10 minutes")
            c.recv()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("home", type=Path)
    ap.add_argument("--reps", type=int, default=5)
    a = ap.parse_args()
    # The workers start before this process opens anything (forked, they inherit nothing open).
    context = multiprocessing.get_context("fork")
    pipes = [context.Pipe() for _ in range(2)]
    procs = [context.Process(target=serve, args=(a.home, child)) for _, child in pipes]
    for p in procs:
        p.start()
    conns = [parent for parent, _ in pipes]
    for c in conns:
        if not c.poll(600):
            raise SystemExit("a worker did not start within 10 minutes")
        c.recv()
    engine = Engine(a.home)
    engine.warm()
    print("| query | alone ms | two threads ms | ratio | one worker ms | two workers ms | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for query in SLOW:
        request = SearchRequest.build(query)
        engine.search(request)  # warm
        one, two = alone(engine, request, a.reps), pair(engine, request, a.reps)
        w1, w2 = workers(conns[:1], query, a.reps), workers(conns, query, a.reps)
        print(f"| `{query}` | {one * 1000:.0f} | {two * 1000:.0f} | {two / one:.2f} "
              f"| {w1 * 1000:.0f} | {w2 * 1000:.0f} | {w2 / w1:.2f} |")
    load = os.getloadavg()
    print(f"\nload average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, {os.cpu_count()} cores")
    for c in conns:
        c.send(None)
    for p in procs:
        p.join()
    engine.close()


if __name__ == "__main__":
    main()
