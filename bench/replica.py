"""Read replicas in action: a replica copied again and again while its source keeps adding.

    .venv/bin/python bench/replica.py [--corpus ../shared/corpus/news-fr.jsonl] [--chunks 8] [--workdir DIR]

1. Splits the corpus into --chunks JSON Lines files in a temporary folder (never in the
   project) and imports the first into the source home.
2. A child process adds the other chunks to the source, one `archive add` after the
   other, while this script
   * replicates the source into the replica home (`archive replicate`, a child process
     each time) in a loop, and after each copy runs `archive check` on the replica (its
     store and index must agree);
   * serves the replica from a reader thread, as a server would: one long-lived engine
     running the peer harness's query mix over and over; it must never fail, and the
     number of articles it finds must never go down.
3. Once the adds are done: one last replication, then every query of the harness's mix
   on the source and on the replica: the same totals, article ids and scores.

Prints one line per replication (seconds, index files copied and linked, MB copied,
articles) and exits 1 if anything differed or failed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from querymix import PEERS  # noqa: E402
from segments import split  # noqa: E402

from archive.search import search  # noqa: E402

ARCHIVE = [sys.executable, "-m", "archive.cli"]


def archive(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*ARCHIVE, *args], capture_output=True, text=True)


def answers(searcher: Any, queries: list[tuple[str, dict[str, Any]]]) -> list[tuple[int, list[tuple[str, float]]]]:
    """Return each query's total and ranked (id, score) pairs, as the harness's project peer gets them."""
    out = []
    for q, f in queries:
        found = searcher.search(q, f, page_size=10)
        out.append((found["total_articles"], [(h["article_id"], h["score"]) for h in found["hits"]]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus" / "news-fr.jsonl")
    ap.add_argument("--chunks", type=int, default=8)
    ap.add_argument("--peers", type=Path, default=PEERS, help="the peer harness's folder (its queries)")
    ap.add_argument("--workdir", type=Path)
    a = ap.parse_args()
    sys.path.insert(0, str(a.peers))
    from common import load_queries
    from peer_project import Searcher

    queries = load_queries(str(a.peers / "queries.txt"))
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="replica-", dir=a.workdir) as tmp:
        source, replica = Path(tmp) / "source", Path(tmp) / "replica"
        chunks = split(a.corpus, a.chunks, Path(tmp))
        if archive("--home", str(source), "add", str(chunks[0])).returncode:
            sys.exit("error: the first import failed")
        first = archive("--home", str(source), "replicate", str(replica))
        if first.returncode:
            sys.exit(f"error: the first replication failed: {first.stderr.strip()}")
        adding = subprocess.Popen(
            [sys.executable, "-c", "import subprocess, sys\nfor c in sys.argv[2:]:\n"
             "    subprocess.run([sys.executable, '-m', 'archive.cli', '--home', sys.argv[1], 'add', c], check=True)",
             str(source), *map(str, chunks[1:])], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        stop = threading.Event()
        served = {"searches": 0, "errors": 0, "fewer": 0}

        def reader() -> None:
            searcher, seen = Searcher(str(replica)), 0
            while not stop.is_set():
                for q, f in queries:
                    try:
                        searcher.search(q, f, page_size=10)
                        served["searches"] += 1
                    except Exception as exc:  # counted: the replica must never fail
                        served["errors"] += 1
                        failures.append(f"reader: {type(exc).__name__}: {exc}")
                total = search(replica, "", per_page=1, show_copies=True).total_articles  # every article
                served["fewer"] += total < seen
                seen = max(seen, total)

        thread = threading.Thread(target=reader, daemon=True)
        thread.start()
        round_ = 0
        while True:
            finished = adding.poll() is not None
            round_ += 1
            t = time.perf_counter()
            r = archive("--home", str(source), "replicate", str(replica), "--json")
            took = time.perf_counter() - t
            if r.returncode:
                failures.append(f"replication {round_}: {r.stderr.strip()}")
                break
            done = json.loads(r.stdout)
            check = archive("--home", str(replica), "check")
            if check.returncode:
                failures.append(f"replication {round_}: check: {check.stdout.strip()}")
            print(f"replication {round_}: {took:.1f} s, {done['copied']} files copied "
                  f"({done['copied_bytes'] / 2**20:.1f} MB), {done['linked']} linked, {done['articles']} articles, "
                  f"source still adding: {not finished}; replica check: "
                  f"{'agrees' if not check.returncode else 'DIFFERS'}", flush=True)
            if finished:
                break
        stop.set()
        thread.join()
        if adding.returncode:
            failures.append(f"adds failed: {adding.stderr.read().decode() if adding.stderr else ''}")
        same = answers(Searcher(str(source)), queries) == answers(Searcher(str(replica)), queries)
        if not same:
            failures.append("the replica's answers differ from the source's")
        print(f"reader on the replica: {served['searches']} searches, {served['errors']} errors, "
              f"{served['fewer']} times fewer articles than before")
        print(f"after the last replication, {len(queries)} queries: "
              f"{'the same totals, ids and scores' if same else 'DIFFERENT answers'} on source and replica")
        if served["fewer"]:
            failures.append("the reader saw the article count go down")
    for line in failures:
        print("FAILED:", line)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
