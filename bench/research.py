"""Research tools' latency: a 4-query monthly trend and concordance pages of frequent words.

    .venv/bin/python bench/research.py HOME [--reps 20] [--cold-reps N] [--words gouvernement France État]

HOME holds the corpus (``archive --home HOME add ../shared/corpus/news-fr.jsonl``).
Each measure runs once as a warm-up (opening the index, reading the catalog), then
--reps timed passes; the script reports the median and p95 wall milliseconds and the
median CPU milliseconds of the process (steadier on a loaded machine), and the load
average before and after. For each word it measures the search of that word (the
bound a concordance page is held to) and the concordance:

* *page 1, cold*: its cache emptied before each pass, so the occurrences are counted
  anew (in the index) and the page's paragraphs read;
* *page 100, cold*: the same, far into the occurrences;
* *page 2, counted*: the next page once the first was shown (the usual case);
* *sorted by the word before, cold*: every matching paragraph read (a quarter of the passes);
* *sorted by the word before, scanned*: another page of that sort.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archive.research import concordance, trend  # noqa: E402
from archive.search import SearchRequest, engine_for  # noqa: E402

TREND_QUERIES = ["grève", "télétravail", "vaccin", "climat"]
FREQUENT = ["gouvernement", "France", "État"]


def timed(fn: Callable[[], object], reps: int, before: Callable[[], None] | None = None) -> dict[str, float]:
    """Return the median and p95 wall time and the median CPU time of ``fn``, in ms."""
    fn()
    wall, cpu = [], []
    for _ in range(reps):
        if before:
            before()
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    wall.sort()
    p95 = wall[min(len(wall) - 1, round(0.95 * (len(wall) - 1)))]
    return {"median_ms": round(statistics.median(wall), 1), "p95_ms": round(p95, 1),
            "cpu_median_ms": round(statistics.median(cpu), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("home", type=Path)
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--cold-reps", type=int, default=None, help="passes of the cold measures (default --reps)")
    parser.add_argument("--words", nargs="+", default=FREQUENT)
    args = parser.parse_args()
    engine = engine_for(args.home)
    out: dict[str, object] = {"load average before": os.getloadavg()}
    requests = [SearchRequest.build(q) for q in TREND_QUERIES]
    out["trend 4 queries by month"] = timed(lambda: trend(engine, requests, "month"), args.reps)
    out["search (one of them, for scale)"] = timed(lambda: engine.search(requests[0]), args.reps)
    clear = engine.derived.clear
    cold = args.cold_reps or args.reps
    for word in args.words:
        req = SearchRequest.build(word)
        first = concordance(engine, req)
        out[f"kwic {word!r}: occurrences"] = first.total
        out[f"search {word!r}"] = timed(lambda r=req: engine.search(r), args.reps)
        out[f"kwic {word!r} page 1, cold"] = timed(lambda r=req: concordance(engine, r), cold, before=clear)
        out[f"kwic {word!r} page 100, cold"] = timed(lambda r=req: concordance(engine, r, page=100), cold,
                                                     before=clear)
        out[f"kwic {word!r} page 2, counted"] = timed(lambda r=req: concordance(engine, r, page=2), args.reps)
        out[f"kwic {word!r} sorted by the word before, cold"] = timed(
            lambda r=req: concordance(engine, r, sort="left", page=3), max(3, cold // 4), before=clear)
        out[f"kwic {word!r} sorted by the word before, scanned"] = timed(
            lambda r=req: concordance(engine, r, sort="left", page=4), args.reps)
    out["load average after"] = os.getloadavg()
    print(json.dumps(out, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
