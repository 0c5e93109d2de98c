"""Per-query latency (wall and CPU) of the harness's queries through its project peer, for tree ROOT: one JSON line.

    PYTHONPATH=ROOT .venv/bin/python bench/sparse_latency.py ROOT HOME REPS   (see sparse_interleave.sh)
"""

from __future__ import annotations

import importlib
import json
import statistics
import sys
import time
from pathlib import Path

PEERS = Path(__file__).resolve().parent.parent.parent / "shared" / "peers"
EXTRA = [("lubrizol", None), ("gouvernement", None), ("de", None)]  # rare, frequent, a stop word (not in p50/p95)


def rss_mb() -> int:
    """Return this process's resident memory in MB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    return -1


def main() -> None:
    root, home, reps = sys.argv[1], sys.argv[2], int(sys.argv[3])
    sys.path[:0] = [str(PEERS), root]
    common, peer, archive = (importlib.import_module(m) for m in ("common", "peer_project", "archive"))
    assert archive.__file__.startswith(root), archive.__file__
    queries = common.load_queries(str(PEERS / "queries.txt")) + EXTRA
    searcher = peer.Searcher(home)
    t = time.perf_counter()
    searcher.search(*queries[0], page_size=10)
    first = (time.perf_counter() - t) * 1000
    for q, f in queries:
        searcher.search(q, f, page_size=10)
    per: dict[str, list[float]] = {}
    per_cpu: dict[str, list[float]] = {}
    times, cpu = [], []
    for _ in range(reps):
        for i, (q, f) in enumerate(queries):
            t, c = time.perf_counter(), time.process_time()
            searcher.search(q, f, page_size=10)
            ms, cpu_ms = (time.perf_counter() - t) * 1000, (time.process_time() - c) * 1000
            per.setdefault(f"{i}:{q}|{f}", []).append(ms)
            per_cpu.setdefault(f"{i}:{q}|{f}", []).append(cpu_ms)
            if i < len(queries) - len(EXTRA):
                times.append(ms)
                cpu.append(cpu_ms)
    times.sort()
    cpu.sort()
    pct = common.percentile
    print(json.dumps({"p50": round(pct(times, 50), 2), "p95": round(pct(times, 95), 2),
                      "cpu_p50": round(pct(cpu, 50), 2), "cpu_p95": round(pct(cpu, 95), 2),
                      "first_ms": round(first, 1), "rss_mb": rss_mb(),
                      "per": {k: round(statistics.median(v), 2) for k, v in per.items()},
                      "per_cpu": {k: round(statistics.median(v), 2) for k, v in per_cpu.items()}}))


if __name__ == "__main__":
    main()
