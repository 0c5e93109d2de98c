"""Segment hygiene: search latency after successive bulk adds, merged or not.

    .venv/bin/python bench/segments.py [--chunks 20] [--policies none,rebuild16,merge] [--reps 5]
                                       [--corpus ../shared/corpus/news-fr.jsonl] [--json OUT]

Splits the corpus into --chunks JSON Lines files in a temporary folder (never in the
project), then, for each policy, adds them one after the other into a fresh home, each
with `archive add` in a child process (its wall time and CPU from os.wait4):

* ``none``: no merging and no rebuild: one segment per bulk add;
* ``rebuild16``: no merging, a full rebuild once a write leaves more than 16 segments
  (the policy before segment merging);
* ``merge``: the size-tiered merging of archive/merging.py (the default policy).

The first chunk goes into an empty home, hence through a full build (two segments with
`--procs 2`). After the last add: the segments, the index's size, and the harness's query
mix in a fresh child process (bench/querymix.py); the `none` home is then rebuilt
(`archive rebuild`) and measured again, as the one-build reference.
"""

from __future__ import annotations

import argparse
import json
import os
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


def run_policy(policy: str, chunks: list[Path], home: Path, reps: int, peers: Path) -> dict:
    walls, cpus, counts = [], [], []
    for n, chunk in enumerate(chunks, 1):
        wall, cpu = timed([sys.executable, "-c", RUNNER, policy, "--home", str(home), "add", str(chunk)])
        walls.append(round(wall, 1))
        cpus.append(round(cpu, 1))
        counts.append(len(segment_sizes(home)))
        print(f"  {policy} add {n}: {wall:.1f} s, {counts[-1]} segments", file=sys.stderr, flush=True)
    return {"policy": policy, "add_wall_s": walls, "add_cpu_s": cpus, "segments_after_add": counts,
            "segment_sizes": segment_sizes(home), "index_mb": round(dir_mb(home / "index"), 1),
            "latency": measure_in_child(home, reps, peers)}


def table(rows: list[dict]) -> str:
    out = ["| policy | segments (blocks) | adds wall s (total / slowest) | adds CPU s | index MB "
           "| p50 ms | p95 ms |", "|---|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        lat = r["latency"]
        sizes = ", ".join(f"{s:,}" for s in r["segment_sizes"])
        walls = f"{sum(r['add_wall_s']):.0f} / {max(r['add_wall_s']):.0f}" if r["add_wall_s"] else "-"
        cpu = f"{sum(r['add_cpu_s']):.0f}" if r["add_cpu_s"] else "-"
        out.append(f"| {r['policy']} | {len(r['segment_sizes'])} ({sizes}) | {walls} | {cpu} | "
                   f"{r['index_mb']:.0f} | {lat['p50_ms']:.1f} | {lat['p95_ms']:.1f} |")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chunks", type=int, default=20)
    ap.add_argument("--policies", default="none,rebuild16,merge")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus" / "news-fr.jsonl")
    ap.add_argument("--peers", type=Path, default=PEERS)
    ap.add_argument("--json", type=Path, help="also write the figures here")
    a = ap.parse_args()
    rows = []
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="segments-") as tmp:
        chunks = split(a.corpus, a.chunks, Path(tmp))
        for policy in a.policies.split(","):
            home = Path(tmp) / f"home-{policy}"
            rows.append(run_policy(policy, chunks, home, a.reps, a.peers))
            print(f"  {policy}: segments after each add {rows[-1]['segments_after_add']}", file=sys.stderr)
            if policy == "none":
                wall, cpu = timed([sys.executable, "-m", "archive.cli", "--home", str(home), "rebuild"])
                rows.append({"policy": f"none, then rebuild ({wall:.0f} s, CPU {cpu:.0f} s)", "add_wall_s": [],
                             "add_cpu_s": [], "segments_after_add": [], "segment_sizes": segment_sizes(home),
                             "index_mb": round(dir_mb(home / "index"), 1),
                             "latency": measure_in_child(home, a.reps, a.peers)})
    print(f"{a.chunks} bulk adds of {a.corpus.name}; load average (1, 5, 15 min) before "
          f"{load_before}, after {os.getloadavg()}")
    print(table(rows))
    for r in rows:
        if r["segments_after_add"]:
            print(f"{r['policy']}: segments after each add {r['segments_after_add']}; "
                  f"add wall s {r['add_wall_s']}")
    if a.json:
        a.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
