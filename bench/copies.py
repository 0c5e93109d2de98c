"""Wire copies on the shared corpus: import cost with and without detection, clusters, a sample to check.

One run imports ``news-fr.jsonl`` twice, each in a fresh child process (so
peak memory is per import): once with copy detection off, once on; then
repeats the store phase alone (where detection runs), off and on alternated,
so that the load of a shared machine hits both alike. It then
reads every candidate pair the LSH bands give, counts clusters and clustered
articles at several thresholds (single linkage, as the store does), and writes
every cluster down to similarity 0.30, best link first, with the start and
end of each text and the sentences they share, to ``copies-review.txt`` in the
run's temporary folder (it quotes the corpus, so it stays out of the tree) for
checking by eye; bench/copies.md gives the verdicts.

    .venv/bin/python bench/copies.py [--corpus ../shared/corpus/news-fr.jsonl]
"""

from __future__ import annotations

import argparse
import json
import re
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


def child(corpus: str, home: str, detect: bool, index: bool) -> None:
    """Import the corpus into ``home`` (storing, then indexing) and print times and peak memory as JSON.

    CPU seconds are reported beside wall seconds: the machine is shared, and CPU time
    is what other processes' load disturbs least.
    """
    arch = Archive(home, detect_copies=detect)
    t0, c0 = time.perf_counter(), time.process_time()
    with arch.writing():
        outcomes = arch.store.put(read_incoming(Source(corpus)))
    t1, c1 = time.perf_counter(), time.process_time()
    if index:
        arch.sync()
    t2, c2 = time.perf_counter(), time.process_time()
    print(json.dumps({"detect": detect, "articles": len(outcomes),
                      "store_s": round(t1 - t0, 1), "store_cpu_s": round(c1 - c0, 1),
                      "index_s": round(t2 - t1, 1), "total_s": round(t2 - t0, 1),
                      "total_cpu_s": round(c2 - c0, 1),
                      "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}))


def run_child(corpus: str, home: Path, detect: bool, index: bool) -> dict[str, object]:
    """Run one import in a fresh process and return its report."""
    out = subprocess.run([sys.executable, __file__, "--corpus", corpus, "--child", str(home),
                          str(int(detect)), str(int(index))], check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


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
    """Run the imports, then report clusters and write the review list."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus" / "news-fr.jsonl"))
    ap.add_argument("--repeat", type=int, default=3, help="Alternated store-only imports per setting.")
    ap.add_argument("--child", nargs=3, metavar=("HOME", "DETECT", "INDEX"))
    args = ap.parse_args()
    if args.child:
        child(args.corpus, args.child[0], args.child[1] == "1", args.child[2] == "1")
        return
    tmp = Path(tempfile.mkdtemp(prefix="bench-copies-"))
    print("full import (store + index), off then on:")
    for detect in (False, True):
        print(run_child(args.corpus, tmp / f"home{int(detect)}", detect, True))
    print(f"store phase only, alternated {args.repeat}x:")
    for r in range(args.repeat):
        for detect in (False, True):
            print(run_child(args.corpus, tmp / f"store{r}{int(detect)}", detect, False))
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
    # The review list quotes the corpus: it stays beside the temporary homes, out of the tree.
    review(arch, edges, tmp / "copies-review.txt")
    print(f"review list written to {tmp / 'copies-review.txt'}; homes in {tmp}")


def review(arch: Archive, edges: list[tuple[str, str, float]], out: Path) -> None:
    """Write every cluster down to the lowest threshold, best link first, with texts to judge by eye."""
    best: dict[tuple[str, str], float] = {}
    for a, b, s in edges:
        best[(a, b)] = best[(b, a)] = s
    groups = single_linkage(edges, min(THRESHOLDS))
    groups.sort(key=lambda g: -max(best.get((a, b), 0.0) for a in g for b in g if a != b))
    with out.open("w", encoding="utf-8") as f:
        for n, group in enumerate(groups, 1):
            arts = arch.store.get_many(group)
            top = max(best.get((a, b), 0.0) for a in group for b in group if a != b)
            sentences = [_sentences(" ".join(arts[i].paragraphs)) for i in group]
            shared = len(set.intersection(*sentences))
            f.write(f"=== {n}. similarity {top:.3f}, {len(group)} articles, "
                    f"sentences shared by all: {shared} of {'/'.join(str(len(x)) for x in sentences)}\n")
            for i in group:
                body = " ".join(arts[i].paragraphs)
                f.write(f"--- {i} | {arts[i].source} | {arts[i].date} | {arts[i].title}\n"
                        f"    {body[:300]}\n    … {body[-160:]}\n")


def _sentences(text: str) -> set[str]:
    return {s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if len(s) > 40}


if __name__ == "__main__":
    main()
