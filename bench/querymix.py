"""The peer harness's query mix on one home, in a fresh child process: p50/p95 and memory.

    .venv/bin/python bench/querymix.py HOME [--reps 5] [--peers ../shared/peers]

Runs the harness's own `queries.txt` through its `project` peer, both read from --peers
(not copied: the same query parsing, filters and `search()` call as the harness): once
as warm-up, then --reps passes, each search timed as the harness times it. Prints one
JSON line: p50/p95/max ms (the harness's percentile), the same for the warm-up pass
(``unseen_``: each query new to the process, so nothing it derives is kept yet: its
words' lists decoded, united and grouped), the same for the CPU time of each
search (steadier than wall time on a loaded machine), the first query's time (index
opened cold), RSS after the queries and after `warm()` (the spelling vocabulary that
`archive serve` builds before serving), and the process's peak RSS.

`bench/segments.py` and `bench/scale.py` call :func:`measure_in_child`, so that each
measure starts from a process that has opened nothing.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEERS = ROOT.parent / "shared" / "peers"


def status_mb(field: str) -> float:
    """Return a memory figure of this process from /proc/self/status (VmRSS, VmHWM), in MB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def measure(home: Path, reps: int, peers: Path) -> dict[str, float | int]:
    """Time the harness's queries on ``home`` in this process; return the figures."""
    sys.path.insert(0, str(peers))
    sys.path.insert(0, str(ROOT))
    from common import load_queries, percentile  # the harness's own
    from peer_project import Searcher

    from archive.search import engine_for

    queries = load_queries(str(peers / "queries.txt"))
    searcher = Searcher(str(home))
    t = time.perf_counter()
    searcher.search(*queries[0], page_size=10)
    first = (time.perf_counter() - t) * 1000
    unseen = []  # (the warm-up pass: every query new to this process, its lists decoded and united)
    for q, f in queries:
        t = time.perf_counter()
        searcher.search(q, f, page_size=10)
        unseen.append((time.perf_counter() - t) * 1000)
    unseen.sort()
    times, cpu = [], []
    for _ in range(reps):
        for q, f in queries:
            t, c = time.perf_counter(), time.process_time()
            searcher.search(q, f, page_size=10)
            times.append((time.perf_counter() - t) * 1000)
            cpu.append((time.process_time() - c) * 1000)
    times.sort()
    cpu.sort()
    rss_queries = status_mb("VmRSS")
    engine_for(home).warm()
    return {"queries": len(queries), "reps": reps, "p50_ms": round(percentile(times, 50), 2),
            "p95_ms": round(percentile(times, 95), 2), "max_ms": round(times[-1], 2),
            "cpu_p50_ms": round(percentile(cpu, 50), 2), "cpu_p95_ms": round(percentile(cpu, 95), 2),
            "first_ms": round(first, 1), "unseen_p50_ms": round(percentile(unseen, 50), 2),
            "unseen_p95_ms": round(percentile(unseen, 95), 2), "rss_after_queries_mb": round(rss_queries),
            "rss_after_warm_mb": round(status_mb("VmRSS")), "peak_rss_mb": round(status_mb("VmHWM"))}


def measure_in_child(home: Path, reps: int = 5, peers: Path = PEERS) -> dict[str, float | int]:
    """Run :func:`measure` in a fresh Python process and return its figures."""
    out = subprocess.run([sys.executable, __file__, str(home), "--reps", str(reps), "--peers", str(peers)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("home", type=Path)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--peers", type=Path, default=PEERS, help="the peer harness's folder")
    a = ap.parse_args()
    if not (a.peers / "queries.txt").exists():
        sys.exit(f"error: no queries.txt in {a.peers} (pass --peers)")
    print(json.dumps(measure(a.home, a.reps, a.peers)))


if __name__ == "__main__":
    main()
