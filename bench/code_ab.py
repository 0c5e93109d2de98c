"""Two source trees' search latency, and each one's p50 against Tantivy's, in one interleaved run.

    .venv/bin/python bench/code_ab.py OLD_TREE HOME TANTIVY_DIR [--runs 4] [--reps 5] [--json OUT]
    git worktree add /tmp/wt-old 9967e66      # the tree to compare this checkout with

The peer harness's p50 ratio to Tantivy moves by ±5 % from one run to the next on this shared
machine, as much as a change being measured. Here three workers of the harness serve at
once (``bench/growth.py``'s interleaving): this project from OLD_TREE (put first on the
worker's ``PYTHONPATH``), this project as installed (this checkout), both on HOME, and
Tantivy on TANTIVY_DIR (a ``bench.py --workdir`` folder's ``news-tantivy``). Each query goes
to the three back to back, the order rotating: noise hits the trees alike, and the ratio
new / old is read from the same seconds.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from growth import PEERS, Setup, one_run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("old", type=Path, help="the source tree to compare with (a git worktree)")
    ap.add_argument("home", type=Path, help="an archive home holding the corpus")
    ap.add_argument("tantivy", type=Path, help="the harness's Tantivy index folder")
    ap.add_argument("--runs", type=int, default=4)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--peers", type=Path, default=PEERS, help="the peer harness's folder")
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    setups = [Setup("project", a.home, a.old.resolve()), Setup("project", a.home), Setup("tantivy", a.tantivy)]
    runs = []
    print("| run | old p50 / p95 ms | new p50 / p95 ms | Tantivy p50 / p95 ms | old / Tantivy | new / Tantivy "
          "| new / old |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n in range(1, a.runs + 1):
        old, new, tantivy = one_run(setups, a.reps, a.peers)
        runs.append({"old": old, "new": new, "tantivy": tantivy})
        print(f"| {n} | " + " | ".join(f"{r['p50_ms']:.2f} / {r['p95_ms']:.2f}" for r in (old, new, tantivy))
              + f" | {old['p50_ms'] / tantivy['p50_ms']:.3f} | {new['p50_ms'] / tantivy['p50_ms']:.3f}"
              f" | {new['p50_ms'] / old['p50_ms']:.3f} |", flush=True)
    medians = {f"{x}/{y} p50": statistics.median(r[x]["p50_ms"] / r[y]["p50_ms"] for r in runs)
               for x, y in (("old", "tantivy"), ("new", "tantivy"), ("new", "old"))}
    print("median: " + ", ".join(f"{k} {v:.3f}" for k, v in medians.items()))
    if a.json:
        a.json.write_text(json.dumps({"old": str(a.old), "home": str(a.home), "runs": runs, "medians": medians},
                                     indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
