"""Import the corpus into the embedded engine and into a local 3-node OpenSearch cluster, in one run.

    .venv/bin/python bench/cluster_import.py [--corpus FILE] [--json OUT]

Starts a cluster with tools/cluster (normal JIT, 384 MiB heaps) in a temporary folder,
then times, each in a fresh home: ``archive add CORPUS`` on the embedded engine,
``archive add CORPUS`` on the cluster (store, then the first index filled in bulk), and
``archive rebuild`` on the cluster (the index alone, refilled from the store). Reports
wall-clock seconds, the index sizes and the nodes' resident memory; stops the cluster.
Three JVMs on a 2-core machine: figures of this machine, not of a cluster.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARCHIVE = ROOT / ".venv" / "bin" / "archive"


def run(home: Path, env: dict[str, str], *args: str) -> float:
    """Run one archive command and return its wall-clock seconds."""
    start = time.monotonic()
    done = subprocess.run([str(ARCHIVE), "--home", str(home), *args], env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    if done.returncode:
        raise SystemExit(f"archive {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return round(time.monotonic() - start, 1)


def rss_mib(pids: list[int]) -> list[int]:
    """Return each process's resident memory in MiB."""
    out = []
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                out.append(int(line.split()[1]) // 1024)
    return out


def folder_mib(path: Path) -> int:
    """Return a folder's size in MiB."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) // (1024 * 1024)


def main() -> None:
    """Run the three imports and print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus" / "news-fr.jsonl"))
    parser.add_argument("--base-port", type=int, default=19900)
    parser.add_argument("--limit", type=int, default=0, help="only the first N articles of the corpus")
    parser.add_argument("--json")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="archive-bench-"))
    os.chmod(work, 0o755)
    if args.limit:
        with open(args.corpus, encoding="utf-8") as f:
            lines = [line for _, line in zip(range(args.limit), f)]
        (work / "corpus.jsonl").write_text("".join(lines), encoding="utf-8")
        args.corpus = str(work / "corpus.jsonl")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")}
    figures: dict[str, object] = {"articles": sum(1 for _ in open(args.corpus, encoding="utf-8")),
                                  "load_before": os.getloadavg()[0]}
    started = time.monotonic()
    info = json.loads(subprocess.run(
        [sys.executable, str(ROOT / "tools" / "cluster"), "start", "--nodes", "3", "--base-port",
         str(args.base_port), "--dir", str(work / "cluster")], check=True, capture_output=True, text=True).stdout)
    figures["cluster_start_s"] = round(time.monotonic() - started, 1)
    try:
        figures["embedded_add_s"] = run(work / "embedded", env, "add", args.corpus)
        figures["embedded_index_mib"] = folder_mib(work / "embedded" / "index")
        cluster_env = {**env, "ARCHIVE_ENGINE": "opensearch", "ARCHIVE_ENGINE_HOSTS": ",".join(info["hosts"])}
        figures["cluster_add_s"] = run(work / "clustered", cluster_env, "add", args.corpus)
        figures["cluster_rebuild_s"] = run(work / "clustered", cluster_env, "rebuild")
        figures["embedded_rebuild_s"] = run(work / "embedded", env, "rebuild")
        check = subprocess.run([str(ARCHIVE), "--home", str(work / "clustered"), "check"], env=cluster_env,
                               capture_output=True, text=True)
        figures["cluster_check"] = check.stdout.strip()
        stats = subprocess.run(["curl", "-s", f"{info['hosts'][0]}/_cat/indices?bytes=mb&h=index,docs.count,"
                                "pri.store.size,store.size"], capture_output=True, text=True).stdout.strip()
        figures["cluster_indices"] = stats
        figures["node_rss_mib"] = rss_mib(info["pids"])
    finally:
        subprocess.run([sys.executable, str(ROOT / "tools" / "cluster"), "stop", "--dir", str(work / "cluster")],
                       capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    figures["load_after"] = os.getloadavg()[0]
    print(json.dumps(figures, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1) + "\n")


if __name__ == "__main__":
    main()
