"""Fuzzy words over a home: the vocabulary's build, and each fuzzy word's expansion, time and hits.

    .venv/bin/python bench/fuzzy.py HOME [--reps 5]

Prints a markdown table: per query, the words it expanded to (how many, the first
few), the articles found, and the median time of the expansion alone (the
vocabulary's ``within``, computed anew each time) and of the whole search (which
may reuse the expansion of the same query), after a first untimed search.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archive.home import Archive  # noqa: E402
from archive.query import Fuzzy, parse_query  # noqa: E402
from archive.search import Engine, SearchRequest  # noqa: E402

QUERIES = ["gouvernemnt~", "Stammerjohn~", "Stammerjohn", "retraittes~2", "manifestatoin~", "macron~",
           "cheminots~2", "élysée~", "sncf~", "a~", "zzqxw~2"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("home", type=Path)
    ap.add_argument("--reps", type=int, default=5)
    a = ap.parse_args()
    engine = Engine(Archive(a.home))
    t0 = time.perf_counter()
    with engine.live.reading() as (snap, _):
        vocabulary = engine._words(snap)
    built = time.perf_counter() - t0
    print(f"vocabulary: {len(vocabulary.words):,} words, built in {built:.2f} s (waited here)\n")
    print("| query | words | first words | articles | expansion ms (median) | search ms (median) |")
    print("|---|---:|---|---:|---:|---:|")
    for q in QUERIES:
        result = engine.search(SearchRequest(query=q))
        node = parse_query(q).root
        term, distance = (node.term, node.distance) if isinstance(node, Fuzzy) else ("", 0)
        expansions, searches = [], []
        for _ in range(a.reps):
            getattr(vocabulary, "_within", {}).clear()  # (each expansion computed, not remembered)
            t0 = time.perf_counter()
            words = vocabulary.within(term, distance, 32) if term else []
            expansions.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            engine.search(SearchRequest(query=q))
            searches.append((time.perf_counter() - t0) * 1000)
        shown = ", ".join(words[:4]) + (" …" if len(words) > 4 else "")
        print(f"| `{q}` | {len(words)} | {shown} | {result.total_articles} | "
              f"{statistics.median(expansions):.1f} | {statistics.median(searches):.1f} |")


if __name__ == "__main__":
    main()
