"""Import and search through the engine interface: the embedded engine and an OpenSearch cluster, in one run.

    tools/cluster start --nodes 3 --base-port 9400 --dir /work/cl-bench --heap 448m
    nice -n 10 .venv/bin/python bench/cluster_latency.py --cluster-dir /work/cl-bench \
        --workdir /work/cl-bench-work --times 1,2 [--reps 5] [--json bench/cluster-2026-12-06.json]

For each size N of ``--times`` (N copies of ``../shared/corpus/news-fr.jsonl``, written as
``bench/scale.py`` writes them: new ids, dates moved back; N = 1 is the corpus itself), in
fresh homes: ``archive add FILE`` on the embedded engine, then on the cluster (a home whose
``archive.toml`` names the cluster: the store, then the first index filled in bulk), each
in a child process run as this one is (``nice``); wall seconds, the importer's CPU seconds
and the nodes' CPU seconds (``/proc/PID/stat`` before and after). ``archive check`` on the
cluster home. Then, in this process, both homes are opened with
:func:`archive.engines.open_engine` and the peer harness's 48 queries (its own parsing and
filters, built as its ``project`` peer builds them: ``bench/parity.py``'s ``request_of``)
go through ``engine.search``: one warm-up pass, then ``--reps`` passes, each query on one
engine then the other (the same moment of the machine's load for both); p50/p95/max of the
wall milliseconds (the harness's nearest-rank percentiles) per engine. Sizes: the embedded
index folder, the cluster index's primaries and total (``_cat/indices``); the nodes' RSS.

Three JVMs and the importer on a 2-core machine shared with other work: the figures are
this machine's, not a production cluster's; their ratios and growth with N mean most.
The homes are deleted after each size unless ``--keep``; ``--search-only`` times the queries
again on the homes a ``--keep`` run left.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
ARCHIVE = ROOT / ".venv" / "bin" / "archive"
PEERS = ROOT.parent / "shared" / "peers"
CORPUS = ROOT.parent / "shared" / "corpus" / "news-fr.jsonl"
TICKS = os.sysconf("SC_CLK_TCK")

from cluster_import import rss_mib  # noqa: E402


def cpu_seconds(pids: list[int]) -> float:
    """Return the user + system CPU seconds the processes used so far (0 for one that is gone)."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / TICKS
    return total


def folder_mib(path: Path) -> float:
    """Return a folder's size in MiB."""
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2 ** 20, 1)


def timed_add(home: Path, jsonl: Path, node_pids: list[int]) -> dict[str, Any]:
    """Run ``archive add`` in a child; return its wall and CPU seconds and the nodes' CPU seconds meanwhile."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")}
    nodes_before = cpu_seconds(node_pids)
    start = time.monotonic()
    child = subprocess.Popen([str(ARCHIVE), "--home", str(home), "add", str(jsonl)], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.monotonic() - start
    stderr = child.stderr.read() if child.stderr else ""
    if status:
        raise SystemExit(f"archive add into {home} failed ({status}):\n{stderr[-3000:]}")
    return {"wall_s": round(wall, 1), "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
            "nodes_cpu_s": round(cpu_seconds(node_pids) - nodes_before, 1),
            "pending_note": [line for line in stderr.splitlines() if "pending" in line]}


def latencies(homes: dict[str, Path], reps: int) -> dict[str, dict[str, float]]:
    """Run the harness's queries through each home's engine, interleaved; return ms percentiles per engine."""
    sys.path.insert(0, str(PEERS))
    from common import load_queries  # the harness's own
    from parity import request_of
    from percentiles import p50, p95

    from archive.engines import open_engine

    requests = [request_of(line) for line in load_queries(str(PEERS / "queries.txt"))]
    engines = {name: open_engine(home) for name, home in homes.items()}
    times: dict[str, list[float]] = {name: [] for name in engines}
    first: dict[str, float] = {}
    for engine in engines.values():
        engine.warm()
    for rep in range(reps + 1):
        for request in requests:
            for name, engine in engines.items():
                start = time.perf_counter()
                engine.search(request)
                ms = (time.perf_counter() - start) * 1000
                if rep:
                    times[name].append(ms)
                else:
                    first.setdefault(name, ms)
    out = {}
    for name, engine in engines.items():
        values = times[name]
        out[name] = {"engine": engine.name, "queries": len(values), "p50_ms": round(p50(values), 1),
                     "p95_ms": round(p95(values), 1), "max_ms": round(max(values), 1),
                     "first_ms": round(first[name], 1)}
        engine.close()
    return out


def cluster_sizes(host: str, alias: str) -> dict[str, Any]:
    """Return the cluster index's documents (articles + nested paragraphs) and sizes in MiB."""
    url = f"{host}/_cat/indices/{alias}?format=json&bytes=kb&h=index,docs.count,pri.store.size,store.size"
    with urllib.request.urlopen(url, timeout=60) as answer:
        rows = json.loads(answer.read())
    return {"lucene_docs": sum(int(r["docs.count"]) for r in rows),
            "primaries_mib": round(sum(int(r["pri.store.size"]) for r in rows) / 1024, 1),
            "total_mib": round(sum(int(r["store.size"]) for r in rows) / 1024, 1)}


def measure(times: int, work: Path, info: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """Import N copies of the corpus into both engines, check, and time the queries."""
    from scale import write_synthetic

    from archive.engines.config import EngineConfig, load_config, save_config

    embedded, clustered = work / f"embedded-x{times}", work / f"cluster-x{times}"
    if args.search_only:
        row = {"times": times, "load_before": round(os.getloadavg()[0], 1),
               "search": latencies({"embedded": embedded, "cluster": clustered}, args.reps),
               "node_rss_mib": rss_mib(info["pids"]), "load_after": round(os.getloadavg()[0], 1)}
        print(json.dumps(row), file=sys.stderr, flush=True)
        return row
    jsonl = args.corpus if times == 1 else work / f"corpus-x{times}.jsonl"
    articles = write_synthetic(args.corpus, times, jsonl) if times > 1 else sum(1 for _ in jsonl.open())
    for home in (embedded, clustered):
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
    save_config(EngineConfig(home=clustered.resolve(), engine="opensearch", hosts=tuple(info["hosts"])))
    pids = info["pids"]
    row: dict[str, Any] = {"times": times, "articles": articles, "load_before": round(os.getloadavg()[0], 1)}
    print(f"x{times}: {articles} articles; embedded add…", file=sys.stderr, flush=True)
    row["embedded_add"] = timed_add(embedded, jsonl, pids)
    row["embedded_index_mib"] = folder_mib(embedded / "index")
    print(f"x{times}: embedded {row['embedded_add']}; cluster add…", file=sys.stderr, flush=True)
    row["cluster_add"] = timed_add(clustered, jsonl, pids)
    print(f"x{times}: cluster {row['cluster_add']}", file=sys.stderr, flush=True)
    check = subprocess.run([str(ARCHIVE), "--home", str(clustered), "check"], capture_output=True, text=True,
                           env={k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")})
    row["cluster_check"] = (check.stdout + check.stderr).strip().splitlines()[-1:]
    row["cluster_index"] = cluster_sizes(info["hosts"][0], load_config(clustered).alias)
    row["store_mib"] = folder_mib(clustered) - folder_mib(clustered / "index") if (clustered / "index").exists() \
        else folder_mib(clustered)
    row["search"] = latencies({"embedded": embedded, "cluster": clustered}, args.reps)
    row["node_rss_mib"] = rss_mib(pids)
    row["load_after"] = round(os.getloadavg()[0], 1)
    print(json.dumps(row), file=sys.stderr, flush=True)
    if not args.keep:
        from archive.engines.opensearch.writing import ClusterWriter
        from archive.home import Archive

        ClusterWriter(load_config(clustered), Archive(clustered).store).drop()
        shutil.rmtree(embedded, ignore_errors=True)
        shutil.rmtree(clustered, ignore_errors=True)
        if times > 1:
            jsonl.unlink()
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cluster-dir", required=True, type=Path, help="a running cluster's tools/cluster folder")
    parser.add_argument("--workdir", required=True, type=Path, help="where homes and synthetic files go")
    parser.add_argument("--times", default="1", help="comma-separated copies of the corpus, smallest first")
    parser.add_argument("--reps", type=int, default=5, help="timed passes over the 48 queries")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--keep", action="store_true", help="keep the homes and the cluster indexes")
    parser.add_argument("--search-only", action="store_true", help="only the queries, on the homes of a --keep run")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    status = subprocess.run([sys.executable, str(ROOT / "tools" / "cluster"), "status", "--dir", str(args.cluster_dir)],
                            check=True, capture_output=True, text=True)
    info = json.loads(status.stdout)
    if 0 in info["pids"]:
        raise SystemExit(f"a node of {args.cluster_dir} is down: {info}")
    args.workdir.mkdir(parents=True, exist_ok=True)
    rows = []
    for times in (int(t) for t in args.times.split(",")):
        rows.append(measure(times, args.workdir, info, args))
        if args.json:  # after each size: a later one may not finish
            args.json.write_text(json.dumps({"nodes": len(info["pids"]), "rows": rows}, indent=1) + "\n")
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
