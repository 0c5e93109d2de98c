"""How search latency grows with the archive, measured in one interleaved run.

    .venv/bin/python bench/growth.py HOME_SMALL HOME_LARGE [HOME …] [--reps 5] [--runs 3] [--json OUT]
                                     [--peers ../shared/peers]

``bench/scale.py --serve`` measures each size in a fresh process one after the other: on
a shared machine, a burst of load during one size's queries moves its p95 by half, and
a ratio of two such figures says more about the machine than about the engine. Here each
home is served by the peer harness's own worker (``worker.py serve --peer project``,
read from --peers, not copied), all of them at once, and every query goes to each home
back to back, the order rotating per query and per pass, as the harness interleaves its
peers: noise hits every size alike. After a warm-up pass, --reps timed passes make one
run; --runs runs (fresh workers each) give the figures (the harness's nearest-rank
percentiles) and the median of each ratio to the first home.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PEERS = ROOT.parent / "shared" / "peers"


@dataclass(frozen=True)
class Setup:
    """One worker of an interleaved run: a peer of the harness, its folder, and the source tree
    it imports this project from (None: the one installed)."""

    peer: str
    folder: Path
    tree: Path | None = None


def one_run(setups: list[Setup], reps: int, peers: Path) -> list[dict[str, float]]:
    """Serve every setup at once, run the interleaved passes, return each setup's p50/p95/mean."""
    sys.path.insert(0, str(peers))
    from common import load_queries, percentile  # type: ignore[import-not-found]

    # The harness's bench.py by its path: this project has a `bench` folder of its own.
    spec = importlib.util.spec_from_file_location("peer_bench", peers / "bench.py")
    assert spec is not None and spec.loader is not None
    harness = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(harness)
    queries = load_queries(peers / "queries.txt")
    served = []
    try:
        for setup in setups:
            # The harness starts its workers with CHILD_ENV: a tree goes first on their path.
            env = dict(harness.CHILD_ENV)
            harness.CHILD_ENV.update({"PYTHONPATH": str(setup.tree)} if setup.tree else {})
            try:
                served.append(harness.Served(setup.peer, str(setup.folder)))
            finally:
                harness.CHILD_ENV.clear()
                harness.CHILD_ENV.update(env)
        for q, f in queries:
            for s in served:
                s.ask(op="search", query=q, filters=f)
        times: list[list[float]] = [[] for _ in setups]
        for rep in range(reps):
            for qi, (q, f) in enumerate(queries):
                k = (rep + qi) % len(setups)
                for i in list(range(k, len(setups))) + list(range(k)):
                    times[i].append(served[i].ask(op="search", query=q, filters=f)["ms"])
    finally:
        for s in served:
            s.close()
    out = []
    for ms in times:
        ms.sort()
        out.append({"p50_ms": percentile(ms, 50), "p95_ms": percentile(ms, 95), "mean_ms": statistics.fmean(ms)})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("homes", type=Path, nargs="+", help="archive homes, the smallest first")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--peers", type=Path, default=PEERS, help="the peer harness's folder")
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    if len(a.homes) < 2:
        sys.exit("error: give two homes or more, the smallest first")
    if not (a.peers / "worker.py").exists():
        sys.exit(f"error: no worker.py in {a.peers} (pass --peers)")
    runs = [one_run([Setup("project", home) for home in a.homes], a.reps, a.peers) for _ in range(a.runs)]
    result: dict[str, Any] = {"homes": [str(h) for h in a.homes], "reps": a.reps, "runs": runs, "ratios": {}}
    print("| run | " + " | ".join(f"{h.name} p50 / p95 ms" for h in a.homes) + " | p95 ratios |")
    print("|---:|" + "---:|" * (len(a.homes) + 1))
    for n, run in enumerate(runs, 1):
        ratios = [r["p95_ms"] / run[0]["p95_ms"] for r in run[1:]]
        print(f"| {n} | " + " | ".join(f"{r['p50_ms']:.2f} / {r['p95_ms']:.2f}" for r in run)
              + " | " + ", ".join(f"{x:.2f}x" for x in ratios) + " |")
    for i, home in enumerate(a.homes[1:], 1):
        for key in ("p50_ms", "p95_ms"):
            result["ratios"][f"{home.name}/{a.homes[0].name} {key}"] = statistics.median(
                run[i][key] / run[0][key] for run in runs)
    for name, value in result["ratios"].items():
        print(f"median ratio {name}: {value:.2f}x")
    if a.json:
        a.json.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
