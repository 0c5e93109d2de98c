"""Segment hygiene: search latency after successive bulk adds, merged or not, and per segment count.

    .venv/bin/python bench/segments.py [--chunks 20] [--policies none,rebuild16,merge] [--counts 1,4,16]
                                       [--rounds 3] [--reps 5] [--corpus ../shared/corpus/news-fr.jsonl] [--json OUT]

Splits the corpus into --chunks JSON Lines files in a temporary folder (never in the
project), then, for each policy, adds them one after the other into a fresh home, each
with `archive add` in a child process (its wall time and CPU from os.wait4):

* ``none``: no merging and no rebuild: one segment per bulk add;
* ``rebuild16``: no merging, a full rebuild once a write leaves more than 16 segments
  (the policy before segment merging);
* ``merge``: the size-tiered merging of archive/merging.py (the default policy).

The first chunk goes into an empty home, hence through a full build (two segments with
`--procs 2`). For --counts, copies of one home holding the whole corpus are rebuilt with
`rebuild --procs K`, which leaves exactly K segments of equal size: the cost of the
segment count alone. Last, every home's search latency is measured with the harness's
query mix (bench/querymix.py, a fresh child process each time) in --rounds rounds, the
homes in a rotated order each round, so that the machine's load falls on all of them
alike; the table gives the median over rounds of each figure, wall and CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from querymix import PEERS, measure_in_child  # noqa: E402

from archive.home import Archive  # noqa: E402
from archive.merging import live_sizes  # noqa: E402

# Runs the CLI with the merging policy swapped (argv: policy, then the CLI's arguments).
RUNNER = """
import sys
import archive.home as home
from archive.merging import live_sizes

policy = sys.argv.pop(1)
if policy != "merge":
    def count(index_dir, store, **kwargs):
        ix = index_dir.open()
        try:
            return len(live_sizes(ix))
        finally:
            ix.close()
    home.merge_segments = count
    if policy == "none":
        home.MAX_SEGMENTS = 10**9
from archive.cli import main
sys.argv = ["archive", *sys.argv[1:]]
main()
"""


def split(corpus: Path, chunks: int, folder: Path) -> list[Path]:
    """Write the corpus as ``chunks`` consecutive JSON Lines files; return their paths."""
    lines = corpus.read_text(encoding="utf-8").splitlines(keepends=True)
    size = -(-len(lines) // chunks)
    paths = []
    for i in range(chunks):
        path = folder / f"chunk{i:02d}.jsonl"
        path.write_text("".join(lines[i * size:(i + 1) * size]), encoding="utf-8")
        paths.append(path)
    return paths


def timed(args: list[str]) -> tuple[float, float]:
    """Run a command; return its wall and CPU (user + sys, children included) seconds."""
    t = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    if status:
        raise SystemExit(f"failed: {' '.join(args)}\n{proc.stderr.read().decode() if proc.stderr else ''}")
    return wall, usage.ru_utime + usage.ru_stime


def segment_sizes(home: Path) -> list[int]:
    ix = Archive(home).index_dir.open()
    try:
        return sorted(live_sizes(ix).values(), reverse=True)
    finally:
        ix.close()


def dir_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def run_policy(policy: str, chunks: list[Path], home: Path) -> dict:
    walls, cpus, counts = [], [], []
    for n, chunk in enumerate(chunks, 1):
        wall, cpu = timed([sys.executable, "-c", RUNNER, policy, "--home", str(home), "add", str(chunk)])
        walls.append(round(wall, 1))
        cpus.append(round(cpu, 1))
        counts.append(len(segment_sizes(home)))
        print(f"  {policy} add {n}: {wall:.1f} s, {counts[-1]} segments", file=sys.stderr, flush=True)
    return {"policy": policy, "home": str(home), "add_wall_s": walls, "add_cpu_s": cpus, "segments_after_add": counts}


def rebuilt_copy(base: Path, home: Path, procs: int) -> dict:
    """Copy a home and rebuild its index in ``procs`` processes (one segment each)."""
    shutil.copytree(base, home)
    wall, cpu = timed([sys.executable, "-c", RUNNER, "merge", "--home", str(home), "rebuild", "--procs", str(procs)])
    return {"policy": f"rebuilt, --procs {procs} ({wall:.0f} s, CPU {cpu:.0f} s)", "home": str(home),
            "add_wall_s": [], "add_cpu_s": [], "segments_after_add": []}


def measure_all(rows: list[dict], rounds: int, reps: int, peers: Path) -> None:
    """Measure every home's latency in rotated rounds; store the medians in each row."""
    runs: list[list[dict]] = [[] for _ in rows]
    for r in range(rounds):
        order = list(range(len(rows)))
        order = order[r % len(order):] + order[:r % len(order)]
        for i in order:
            runs[i].append(measure_in_child(Path(rows[i]["home"]), reps, peers))
        print(f"  latency round {r + 1}/{rounds} done", file=sys.stderr, flush=True)
    for row, measured in zip(rows, runs):
        home = Path(row["home"])
        row["segment_sizes"] = segment_sizes(home)
        row["index_mb"] = round(dir_mb(home / "index"), 1)
        row["latency_rounds"] = measured
        row["latency"] = {k: statistics.median(m[k] for m in measured)
                          for k in ("p50_ms", "p95_ms", "cpu_p50_ms", "cpu_p95_ms", "first_ms")}


def table(rows: list[dict]) -> str:
    out = ["| home | segments (live blocks) | adds wall s (total / slowest) | adds CPU s | index MB "
           "| p50 ms | p95 ms | CPU p50 ms | CPU p95 ms |", "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lat = r["latency"]
        sizes = ", ".join(f"{s:,}" for s in r["segment_sizes"])
        walls = f"{sum(r['add_wall_s']):.0f} / {max(r['add_wall_s']):.0f}" if r["add_wall_s"] else "-"
        cpu = f"{sum(r['add_cpu_s']):.0f}" if r["add_cpu_s"] else "-"
        out.append(f"| {r['policy']} | {len(r['segment_sizes'])} ({sizes}) | {walls} | {cpu} | "
                   f"{r['index_mb']:.0f} | {lat['p50_ms']:.1f} | {lat['p95_ms']:.1f} | {lat['cpu_p50_ms']:.1f} | "
                   f"{lat['cpu_p95_ms']:.1f} |")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chunks", type=int, default=20)
    ap.add_argument("--policies", default="none,rebuild16,merge", help="comma-separated; empty for none")
    ap.add_argument("--counts", default="", help="segment counts of rebuilt copies of one home, e.g. 1,4,16")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus" / "news-fr.jsonl")
    ap.add_argument("--peers", type=Path, default=PEERS)
    ap.add_argument("--json", type=Path, help="also write the figures here")
    a = ap.parse_args()
    rows = []
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="segments-") as tmp:
        policies = [p for p in a.policies.split(",") if p]
        if policies:
            chunks = split(a.corpus, a.chunks, Path(tmp))
            for policy in policies:
                rows.append(run_policy(policy, chunks, Path(tmp) / f"home-{policy}"))
        counts = [int(c) for c in a.counts.split(",") if c]
        if counts:
            base = Path(rows[0]["home"]) if rows else Path(tmp) / "home-one-add"
            if not rows:
                wall, cpu = timed([sys.executable, "-c", RUNNER, "merge", "--home", str(base), "add", str(a.corpus)])
                rows.append({"policy": f"one add ({wall:.0f} s, CPU {cpu:.0f} s)", "home": str(base),
                             "add_wall_s": [], "add_cpu_s": [], "segments_after_add": []})
            for k in counts:
                rows.append(rebuilt_copy(base, Path(tmp) / f"home-procs{k}", k))
        measure_all(rows, a.rounds, a.reps, a.peers)
    print(f"{a.chunks if policies else 1} add(s) of {a.corpus.name}; latency: median of {a.rounds} rotated rounds "
          f"of {a.reps} passes; load average (1, 5, 15 min) before {load_before}, after {os.getloadavg()}")
    print(table(rows))
    for r in rows:
        if r["segments_after_add"]:
            print(f"{r['policy']}: segments after each add {r['segments_after_add']}; "
                  f"add wall s {r['add_wall_s']}; add CPU s {r['add_cpu_s']}")
    if a.json:
        a.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
