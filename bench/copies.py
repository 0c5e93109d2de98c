"""Wire copies on the shared corpus: import cost with and without detection, clusters, a sample to check.

One run imports ``news-fr.jsonl`` twice, each in a fresh child process (so
peak memory is per import): once with copy detection off, once on. It then
reads every candidate pair the LSH bands give, counts clusters and clustered
articles at several thresholds (single linkage, as the store does), and writes
50 clusters drawn at random at the store's threshold, with their texts, to
``bench/copies-sample.txt`` for checking by eye.

    .venv/bin/python bench/copies.py [--corpus ../shared/corpus/news-fr.jsonl] [--sample 50]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archive import copies  # noqa: E402
from archive.home import Archive  # noqa: E402
from archive.ingest import Source, read_incoming  # noqa: E402

THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def child(corpus: str, home: str, detect: bool) -> None:
    """Import the corpus into ``home`` and print timings and peak memory as JSON."""
    arch = Archive(home, detect_copies=detect)
    t0 = time.perf_counter()
    with arch.writing():
        outcomes = arch.store.put(read_incoming(Source(corpus)))
    t1 = time.perf_counter()
    arch.sync()
    t2 = time.perf_counter()
    print(json.dumps({"detect": detect, "articles": len(outcomes), "store_s": round(t1 - t0, 1),
                      "index_s": round(t2 - t1, 1), "total_s": round(t2 - t0, 1),
                      "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}))


def pairs(db: sqlite3.Connection) -> list[tuple[str, str, float]]:
    """Return every candidate pair the LSH bands give, with its estimated similarity."""
    sigs = {i: np.frombuffer(s, dtype=np.uint32) for i, s in db.execute("SELECT id, sig FROM signatures")}
    seen: set[tuple[str, str]] = set()
    for (key,) in db.execute("SELECT key FROM bands GROUP BY key HAVING count(*) > 1").fetchall():
        ids = sorted(r[0] for r in db.execute("SELECT id FROM bands WHERE key = ?", (key,)))
        seen.update((a, b) for i, a in enumerate(ids) for b in ids[i + 1:])
    return [(a, b, copies.similarity(sigs[a], sigs[b])) for a, b in sorted(seen)]


def single_linkage(edges: list[tuple[str, str, float]], threshold: float) -> list[list[str]]:
    """Group ids linked by an edge at ``threshold`` or more."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b, s in edges:
        if s >= threshold:
            parent[find(a)] = find(b)
    groups: dict[str, list[str]] = {}
    for x in parent:
        groups.setdefault(find(x), []).append(x)
    return [sorted(g) for g in groups.values() if len(g) > 1]


def main() -> None:
    """Run both imports, then report clusters and write the sample."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus" / "news-fr.jsonl"))
    ap.add_argument("--sample", type=int, default=50)
    ap.add_argument("--child", nargs=2, metavar=("HOME", "DETECT"))
    args = ap.parse_args()
    if args.child:
        child(args.corpus, args.child[0], args.child[1] == "1")
        return
    tmp = Path(tempfile.mkdtemp(prefix="bench-copies-"))
    runs = []
    for detect in (False, True):
        out = subprocess.run([sys.executable, __file__, "--corpus", args.corpus, "--child",
                              str(tmp / f"home{int(detect)}"), str(int(detect))],
                             check=True, capture_output=True, text=True).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))
        print(runs[-1])
    arch = Archive(tmp / "home1")
    db = arch.store.db
    edges = pairs(db)
    print(f"candidate pairs: {len(edges)}; articles with a signature: "
          f"{db.execute('SELECT count(*) FROM signatures').fetchone()[0]}")
    for t in THRESHOLDS:
        groups = single_linkage(edges, t)
        print(f"threshold {t}: {len(groups)} clusters, {sum(map(len, groups))} articles, "
              f"largest {max(map(len, groups), default=0)}")
    hist = np.histogram([s for _, _, s in edges], bins=np.linspace(0, 1, 21))[0]
    print("pair similarity histogram (0.05 bins):", hist.tolist())
    found = arch.store.duplicates()
    print(f"store at THRESHOLD {copies.THRESHOLD}: {len(found)} clusters, "
          f"{sum(len(c.ids) for c in found)} articles")
    random.seed(12)
    sample = random.sample(found, min(args.sample, len(found)))
    with (ROOT / "bench" / "copies-sample.txt").open("w", encoding="utf-8") as f:
        for n, cluster in enumerate(sample, 1):
            f.write(f"=== {n}. similarity {cluster.similarity:.3f}, {len(cluster.ids)} articles\n")
            for article in arch.store.get_many(cluster.ids).values():
                body = " ".join(article.paragraphs)
                f.write(f"--- {article.id} | {article.source} | {article.date} | {article.title}\n"
                        f"    {body[:400]}\n    … {body[-200:]}\n")
    print(f"sample written to bench/copies-sample.txt; homes in {tmp}")


if __name__ == "__main__":
    main()
