"""Research tools' latency: a 4-query monthly trend and a concordance page of a frequent word.

    .venv/bin/python bench/research.py HOME [--reps 20]

HOME holds the corpus (``archive --home HOME add ../shared/corpus/news-fr.jsonl``).
Each measure runs once as a warm-up (opening the index, reading the catalog), then
--reps timed passes; the script reports the median and p95 in milliseconds. The
concordance is measured three ways: a *cold* scan (its cache emptied before each
pass: every matching paragraph read and marked), the next page of a scanned query
(the usual case once a reader is on the page), and another sort of it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archive.research import concordance, trend  # noqa: E402
from archive.research import kwic as kwic_module  # noqa: E402
from archive.search import SearchRequest, engine_for  # noqa: E402

TREND_QUERIES = ["grève", "télétravail", "vaccin", "climat"]
FREQUENT = ["gouvernement", "France"]


def timed(fn: Callable[[], object], reps: int, before: Callable[[], None] | None = None) -> dict[str, float]:
    fn()
    samples = []
    for _ in range(reps):
        if before:
            before()
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return {"median_ms": round(statistics.median(samples), 1), "p95_ms": round(p95, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("home", type=Path)
    parser.add_argument("--reps", type=int, default=20)
    args = parser.parse_args()
    engine = engine_for(args.home)
    out: dict[str, object] = {}
    requests = [SearchRequest.build(q) for q in TREND_QUERIES]
    out["trend 4 queries by month"] = timed(lambda: trend(engine, requests, "month"), args.reps)
    out["search (one of them, for scale)"] = timed(lambda: engine.search(requests[0]), args.reps)
    for word in FREQUENT:
        req = SearchRequest.build(word)
        first = concordance(engine, req)
        out[f"kwic {word!r}: occurrences"] = first.total
        out[f"kwic {word!r} page 1, cold scan"] = timed(lambda r=req: concordance(engine, r), max(3, args.reps // 4),
                                                       before=kwic_module._CACHE.clear)
        out[f"kwic {word!r} page 2, scanned"] = timed(lambda r=req: concordance(engine, r, page=2), args.reps)
        out[f"kwic {word!r} sorted by the word before"] = timed(
            lambda r=req: concordance(engine, r, sort="left", page=3), args.reps)
    print(json.dumps(out, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
