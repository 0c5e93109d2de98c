"""Hostile requests beside ordinary searches: what a reader waits while an attacker pushes.

    .venv/bin/python bench/abuse.py HOME [--seconds 40] [--hostile 3] [--threads 4]
    .venv/bin/python bench/abuse.py HOME --research [--workers 2] [--seconds 20]

Adds (once) a 30,000-paragraph article to HOME (id ``abuse-huge``, paragraphs of
the corpus cut to 300 characters), starts ``archive serve`` on a free loopback
port, and runs one ordinary reader (results pages of the peer query mix, one
after the other) for --seconds alone, then for --seconds beside --hostile
threads replaying the requests of issue 13 in a loop: 32 copies of ``"de la"``
in one query (page and API), ``covid`` with 60,000 empty ``&to=``, the huge
article's reading view (with and without a query, deep inside it) and its JSON,
token guesses, an operator soup, fuzzy and prefix floods, a full CSV export, an
impossible date, a hostile Host header. Prints the ordinary requests' p50/p95
in both phases and each hostile kind's count, statuses and median, as markdown.
Only loopback is used; every loop is bounded in time.

``--research`` replaces the hostile mix by the research tools' worst (issue 22):
four threads each sorting a concordance of 120 ORed prefixes (``/api/kwic?order=left``
and ``right``, a different set of prefixes every time, so no cache helps) and four
threads each exporting the whole archive (``/export?format=csv``, ``csv-excel``,
``jsonl`` and ``/export.csv``), every one in a loop, beside the ordinary reader;
``--workers N`` serves with ``archive serve --workers N``.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from latency import load_queries  # noqa: E402
from percentiles import p50, p95  # noqa: E402

HUGE_ID, HUGE_PARAGRAPHS = "abuse-huge", 30_000
TOKEN = "abuse-bench-secret-token"


#: The command line (not ``-m archive.cli``: run as __main__, it would miss the commands
#: that other modules add to the real ``archive.cli``, such as ``serve``).
ARCHIVE = [sys.executable, "-c", "from archive.cli import main; main()"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ensure_huge(home: Path, corpus: Path) -> None:
    """Add the 30,000-paragraph article to the home unless it is there."""
    from archive import Archive, Article

    arch = Archive(home)
    if HUGE_ID in arch.store:
        return
    paragraphs: list[str] = []
    with corpus.open(encoding="utf-8") as f:
        for line in f:
            for p in json.loads(line).get("paragraphs") or []:
                paragraphs.append(p[:300].rsplit(" ", 1)[0] if len(p) > 300 else p)
            if len(paragraphs) >= HUGE_PARAGRAPHS:
                break
    t = time.monotonic()
    arch.add_articles([Article.from_record({
        "id": HUGE_ID, "title": "Compte rendu intégral des débats", "date": "2021-03-04",
        "source": "Journal officiel", "paragraphs": paragraphs[:HUGE_PARAGRAPHS]})])
    print(f"added {HUGE_ID} ({HUGE_PARAGRAPHS} paragraphs) in {time.monotonic() - t:.0f} s", file=sys.stderr)


def hostile_requests() -> list[tuple[str, str, str, dict[str, str]]]:
    """Return (kind, method, path, headers) of every hostile request replayed."""
    de_la = urllib.parse.quote(" ".join(['"de la"'] * 32))
    return [
        ("32 × \"de la\" (page)", "GET", f"/?q={de_la}", {}),
        ("32 × \"de la\" (API)", "GET", f"/api/search?q={de_la}", {}),
        ("covid + 60,000 &to=", "GET", "/?q=covid" + "&to=" * 60_000, {}),
        ("huge article, reading view", "GET", f"/article/{HUGE_ID}", {}),
        ("huge article, ?q=gouvernement", "GET", f"/article/{HUGE_ID}?q=gouvernement", {}),
        ("huge article, at=25000", "GET", f"/article/{HUGE_ID}?at=25000&q=la", {}),
        ("huge article, JSON", "GET", f"/api/articles/{HUGE_ID}", {}),
        ("token guess", "POST", "/api/articles", {"Authorization": "Bearer guess"}),
        ("operator soup", "GET", "/?q=" + urllib.parse.quote("((a OR (b -c)) \"d e\"~3 " * 40), {}),
        ("fuzzy flood", "GET", "/?q=" + urllib.parse.quote(
            " OR ".join(f"{w}~2" for w in ("gouvernemnt", "presidnt", "ministere", "reforme", "retraites",
                                           "economie", "politque", "entreprize"))), {}),
        ("prefix flood", "GET", "/?q=" + urllib.parse.quote(" OR ".join(f"{c}*" for c in "abcdefghilmnoprst")), {}),
        ("CSV export of la", "GET", "/export.csv?q=la", {}),
        ("impossible date", "GET", "/?q=covid&to=0001-00", {}),
        ("Host: evil.example", "GET", "/article//x", {"Host": "evil.example"}),
    ]


def research_requests() -> list[tuple[str, str, str, dict[str, str]]]:
    """Return the hostile research requests, one per attacker thread (``{n}``: a fresh prefix set)."""
    return [("concordance, 120 prefixes, order=left", "GET", "/api/kwic?order=left&q={n}", {}),
            ("concordance, 120 prefixes, order=right", "GET", "/api/kwic?order=right&q={n}", {}),
            ("concordance, 120 prefixes, order=left, page 2", "GET", "/api/kwic?order=left&page=2&q={n}", {}),
            ("concordance, 120 prefixes, order=right, csv", "GET", "/kwic.csv?order=right&q={n}", {}),
            ("whole-archive export, csv", "GET", "/export?format=csv", {}),
            ("whole-archive export, csv-excel", "GET", "/export?format=csv-excel", {}),
            ("whole-archive export, jsonl", "GET", "/export?format=jsonl", {}),
            ("whole-archive export, /export.csv", "GET", "/export.csv", {})]


_PAIRS = ["".join(p) for p in itertools.product("abcdefgilmnoprstuv", repeat=2)]


def prefixes(n: int) -> str:
    """Return a query of 120 ORed two-letter prefixes, a different set for each ``n``."""
    start = (n * 7) % len(_PAIRS)
    chosen = (_PAIRS[start:] + _PAIRS[:start])[:120]
    return urllib.parse.quote(" OR ".join(f"{p}*" for p in chosen))


class Client:
    """Requests over one loopback connection at a time, timed."""

    def __init__(self, port: int) -> None:
        self.port = port

    def request(self, method: str, path: str, headers: dict[str, str] | None = None) -> tuple[int, float]:
        """Return the status and seconds of one request (status 0 when the connection failed)."""
        t = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            body = b"{}" if method == "POST" else None
            conn.request(method, path, body=body, headers={"Content-Type": "application/json", **(headers or {})})
            response = conn.getresponse()
            response.read()
            status = response.status
        except OSError:
            status = 0
        finally:
            conn.close()
        return status, time.perf_counter() - t


def ordinary(client: Client, queries: list[str], seconds: float, seed: int) -> tuple[list[float], int]:
    """Run ordinary searches one after the other for ``seconds``; return latencies (ms) and failures."""
    rng = random.Random(seed)
    latencies: list[float] = []
    failed = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status, took = client.request("GET", "/?q=" + urllib.parse.quote(rng.choice(queries)))
        if status == 200:
            latencies.append(took * 1000)
        else:
            failed += 1
    return latencies, failed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("home", type=Path)
    ap.add_argument("--seconds", type=float, default=40.0)
    ap.add_argument("--hostile", type=int, default=3)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--workers", type=int, default=0, help="Serve with --workers N (0: waitress alone).")
    ap.add_argument("--research", action="store_true", help="The research tools' hostile requests instead.")
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus" / "news-fr.jsonl")
    ap.add_argument("--queries", type=Path, default=ROOT.parent / "shared" / "peers" / "queries.txt")
    a = ap.parse_args()
    if not a.research:
        ensure_huge(a.home, a.corpus)
    port = free_port()
    env = {**os.environ, "ARCHIVE_ADMIN_TOKEN": TOKEN}
    workers = ["--workers", str(a.workers)] if a.workers else []
    server = subprocess.Popen([*ARCHIVE, "--home", str(a.home), "serve", *workers,
                               "--port", str(port), "--threads", str(a.threads)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = Client(port)
    try:
        for _ in range(600):
            if client.request("GET", "/favicon.ico")[0] == 200:
                break
            if server.poll() is not None:
                raise SystemExit(f"archive serve stopped (exit {server.returncode})")
            time.sleep(0.2)
        else:
            raise SystemExit("archive serve did not start in time")
        queries = [q for q, _ in load_queries(a.queries)]
        ordinary(client, queries, 5, 0)  # warm-up, not counted
        alone, alone_failed = ordinary(client, queries, a.seconds, 1)

        stop = threading.Event()
        seen: dict[str, list[tuple[int, float]]] = {}
        lock = threading.Lock()
        requests = research_requests() if a.research else hostile_requests()
        hostile = len(requests) if a.research else a.hostile
        counter = itertools.count()

        def attacker(offset: int) -> None:
            i = offset
            while not stop.is_set():
                kind, method, path, headers = requests[i % len(requests)]
                result = client.request(method, path.replace("{n}", prefixes(next(counter))), headers)
                with lock:
                    seen.setdefault(kind, []).append(result)
                # In --research, each thread keeps its one request.
                i += 0 if a.research else 1

        attackers = [threading.Thread(target=attacker, args=(k * len(requests) // max(1, hostile),))
                     for k in range(hostile)]
        for t in attackers:
            t.start()
        beside, beside_failed = ordinary(client, queries, a.seconds, 1)
        stop.set()
        for t in attackers:
            t.join(timeout=300)
    finally:
        server.terminate()
        server.wait(timeout=60)

    load = os.getloadavg()
    print(f"`bench/abuse.py` on {a.home}: one ordinary reader, {a.seconds:.0f} s per phase, "
          f"server threads {a.threads}, workers {a.workers or 'none (waitress)'}; "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}\n")
    print("| ordinary searches | requests | failed | p50 ms | p95 ms | max ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, values, failed in (("alone", alone, alone_failed),
                                 (f"beside {hostile} hostile", beside, beside_failed)):
        print(f"| {name} | {len(values)} | {failed} | {p50(values):.0f} | {p95(values):.0f} | "
              f"{max(values, default=float('nan')):.0f} |")
    print("\n| hostile request | sent | statuses | median s | max s |")
    print("|---|---:|---|---:|---:|")
    for kind, _, _, _ in requests:
        results = seen.get(kind, [])
        statuses = ", ".join(f"{s}×{sum(1 for r, _ in results if r == s)}" for s in sorted({r for r, _ in results}))
        times = [t for _, t in results]
        worst = max(times, default=float("nan"))
        print(f"| {kind} | {len(results)} | {statuses} | {p50(times):.2f} | {worst:.2f} |")


if __name__ == "__main__":
    main()
