"""Overlap: do two slow searches in two threads take about as long as one?

    .venv/bin/python bench/overlap.py HOME [--reps 5]

With one engine on HOME, each slow query below is timed alone (median of
--reps), then as two copies started together in two threads (median wall time
of both finishing). No lock spans a search, and numpy releases the GIL in its
heavy array operations, so on two cores the pair should take well under twice
one; the Python parts (decoding posting blocks, highlighting) still take turns
on the GIL. Prints a markdown table with the ratio pair / alone (1.0: perfect
overlap, 2.0: none) and the load average, which matters on a shared machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("home", type=Path)
    ap.add_argument("--reps", type=int, default=5)
    a = ap.parse_args()
    engine = Engine(a.home)
    engine.warm()
    print("| query | alone ms | two at once ms | ratio |")
    print("|---|---:|---:|---:|")
    for query in SLOW:
        request = SearchRequest.build(query)
        engine.search(request)  # warm
        one, two = alone(engine, request, a.reps), pair(engine, request, a.reps)
        print(f"| `{query}` | {one * 1000:.0f} | {two * 1000:.0f} | {two / one:.2f} |")
    load = os.getloadavg()
    print(f"\nload average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, {os.cpu_count()} cores")
    engine.close()


if __name__ == "__main__":
    main()
