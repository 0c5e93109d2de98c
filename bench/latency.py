"""Search latency, memory and add-to-searchable time through the Python API.

    .venv/bin/python bench/latency.py HOME [--reps 5] [--queries ../shared/peers/queries.txt]

HOME is an archive home holding the corpus (for example after
`archive --home HOME add ../shared/corpus/news-fr.jsonl`). Each query runs once as a
warm-up, then --reps timed passes; page 1, 10 articles, facets, grouping and highlights,
as the peer harness measures them. Figures are medians; the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from percentiles import p50, p95

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archive.search import SearchRequest, engine_for, search  # noqa: E402

DEFAULT_QUERIES = ["élection", "vaccins", "gilets jaunes", '"Emmanuel Macron"', "etat d urgence",
                   "l'Assemblée nationale", "kangourou", "France", "vaccin | tags=sante"]


def load_queries(path: Path | None) -> list[tuple[str, dict]]:
    lines = path.read_text(encoding="utf-8").splitlines() if path and path.exists() else DEFAULT_QUERIES
    out = []
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        text, _, filters = line.partition(" | ")
        kw: dict = {}
        for part in filters.split():
            key, value = part.split("=", 1)
            if key == "tags":
                kw["tag"] = value.split(",")
            elif key == "author":
                kw["author"] = [value]
            elif key == "year":
                kw["date_from"], kw["date_to"] = f"{value}-01-01", f"{value}-12-31"
        out.append((text, kw))
    return out


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def dir_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def add_one(home: Path) -> dict:
    """Time `archive add` of one new article, then until search finds it."""
    article = {"id": f"bench-{time.time_ns()}", "title": "Un ornithorynque à Quimper",
               "date": "2020-06-01", "paragraphs": ["Un ornithorynque xylophoniste a été vu à Quimper."]}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(article, f)
    engine_for(home).search(SearchRequest("ornithorynque xylophoniste"))  # the searcher is open and warm
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "archive.cli", "--home", str(home), "add", f.name], check=True,
                   capture_output=True)
    t1 = time.perf_counter()
    while not any(h.id == article["id"] for h in search(home, "ornithorynque xylophoniste").hits):
        time.sleep(0.005)
    t2 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "archive.cli", "--home", str(home), "remove", article["id"]],
                   check=True, capture_output=True)
    os.unlink(f.name)
    return {"add_command_s": round(t1 - t0, 3), "searchable_after_s": round(t2 - t1, 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("home", type=Path)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--queries", type=Path, default=ROOT.parent / "shared" / "peers" / "queries.txt")
    a = ap.parse_args()
    queries = load_queries(a.queries)
    for text, kw in queries:
        search(a.home, text, per_page=10, **kw)
    times: dict[str, list[float]] = {}
    for _ in range(a.reps):
        for text, kw in queries:
            t = time.perf_counter()
            search(a.home, text, per_page=10, **kw)
            times.setdefault(f"{text} {kw or ''}".strip(), []).append((time.perf_counter() - t) * 1000)
    flat = [x for v in times.values() for x in v]
    print(f"queries {len(queries)} x {a.reps}: p50 {p50(flat):.1f} ms, p95 {p95(flat):.1f} ms, "
          f"max {max(flat):.1f} ms")
    print(f"RSS after queries {rss_mb():.0f} MB; index on disk {dir_mb(a.home / 'index'):.0f} MB")
    for name, values in sorted(times.items(), key=lambda kv: -statistics.median(kv[1]))[:10]:
        print(f"  {statistics.median(values):7.1f} ms  {name}")
    print("add one article:", add_one(a.home))


if __name__ == "__main__":
    main()
