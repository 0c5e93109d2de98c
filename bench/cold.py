"""Cold stalls: the first request of each kind after a start, an add or a rebuild, against warm ones.

    .venv/bin/python bench/cold.py HOME [--reps 10] [--rebuild]

Starts ``archive serve`` on a free loopback port (readiness is polled on the
favicon, which touches no index), then sends one request of each kind (a word, a
phrase, a prefix, a fuzzy word, an accented word, a query finding nothing that gets
a suggestion, a facet filter, a date sort, the JSON API, a reading view): the
*first* after the start. Then --reps rounds of the same kinds give the warm
p50/p95. Then another process adds one article (id ``cold-bench``, removed at the
end) and the first request of each kind is timed again; with --rebuild, the same
after ``archive rebuild``. Prints a markdown table; the goal is every first
request within 2x the warm p95 of its kind. Only loopback is used.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

from percentiles import p50, p95

KINDS = [
    ("word", "/?q=covid"),
    ("phrase", "/?q=" + urllib.parse.quote('"réforme des retraites"')),
    ("prefix", "/?q=" + urllib.parse.quote("vaccin*")),
    ("fuzzy", "/?q=" + urllib.parse.quote("gouvernemnt~")),
    ("accented", "/?q=" + urllib.parse.quote("élève")),
    ("suggestion", "/?q=" + urllib.parse.quote("presidnetielle")),
    ("facet", "/?q=emploi&tag=economie"),
    ("date sort", "/?q=climat&sort=-date"),
    ("API", "/api/search?q=" + urllib.parse.quote("Macron retraites")),
    ("reading view", None),  # a hit of "climat" (another each time), read with its query
]


#: The command line (not ``-m archive.cli``: run as __main__, it would miss the commands
#: that other modules add to the real ``archive.cli``, such as ``serve``).
ARCHIVE = [sys.executable, "-c", "from archive.cli import main; main()"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(port: int, path: str) -> tuple[int, float, bytes]:
    t = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
        return response.status, (time.perf_counter() - t) * 1000, body
    finally:
        conn.close()


def one_round(port: int, article: str) -> dict[str, float]:
    """Time one request of each kind, in order (the reading view of ``article``)."""
    out = {}
    for kind, path in KINDS:
        status, ms, _ = get(port, path or f"/article/{article}?q=climat")
        if status != 200:
            raise SystemExit(f"{kind}: HTTP {status}")
        out[kind] = ms
    return out


def archive_cli(home: Path, *args: str) -> None:
    subprocess.run([*ARCHIVE, "--home", str(home), *args], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("home", type=Path)
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--rebuild", action="store_true")
    a = ap.parse_args()
    port = free_port()
    started = time.perf_counter()
    server = subprocess.Popen([*ARCHIVE, "--home", str(a.home), "serve",
                               "--port", str(port), "--threads", str(a.threads)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    columns: dict[str, dict[str, float]] = {}
    try:
        for _ in range(1200):
            try:
                if get(port, "/favicon.ico")[0] == 200:
                    break
            except OSError:
                if server.poll() is not None:
                    raise SystemExit(f"archive serve stopped (exit {server.returncode})") from None
                time.sleep(0.1)
        else:
            raise SystemExit("archive serve did not start in time")
        ready = time.perf_counter() - started
        # The reading view's article: found with the API, after the timed first requests.
        article = ""
        first = {}
        for kind, path in KINDS:
            if path is None:
                hits = json.loads(get(port, "/api/search?q=climat&per_page=1")[2])["hits"]
                article = hits[0]["id"]
                path = f"/article/{article}?q=climat"
            first[kind] = get(port, path)[1]
        columns["first after start"] = first
        # Each round reads another article: a reading view asked again is kept per snapshot.
        hits = json.loads(get(port, f"/api/search?q=climat&per_page={a.reps + 2}")[2])["hits"]
        others = [h["id"] for h in hits if h["id"] != article]
        rounds = [one_round(port, others[i % len(others)]) for i in range(a.reps)]
        warm = {kind: [r[kind] for r in rounds] for kind, _ in KINDS}
        with tempfile.TemporaryDirectory() as tmp:
            record = Path(tmp) / "cold.json"
            record.write_text(json.dumps({"id": "cold-bench", "title": "Un article ajouté",
                                          "date": "2024-05-06", "paragraphs": ["Le climat et l’emploi."]}),
                              encoding="utf-8")
            archive_cli(a.home, "add", str(record))
            columns["first after add"] = one_round(port, others[-1])
            if a.rebuild:
                archive_cli(a.home, "rebuild")
                columns["first after rebuild"] = one_round(port, others[-2])
            archive_cli(a.home, "remove", "--purge", "cold-bench")
    finally:
        server.terminate()
        server.wait(timeout=60)
    load = os.getloadavg()
    print(f"`bench/cold.py` on {a.home}: server ready in {ready:.1f} s (warmed before listening); "
          f"{a.reps} warm rounds; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}\n")
    names = list(columns)
    print("| kind | warm p50 ms | warm p95 ms | " + " | ".join(f"{n} ms (× warm p95)" for n in names) + " |")
    print("|---|---:|---:|" + "---:|" * len(names))
    for kind, _ in KINDS:
        warm_p95 = p95(warm[kind])
        cells = " | ".join(f"{columns[n][kind]:.0f} ({columns[n][kind] / warm_p95:.1f}×)" for n in names)
        print(f"| {kind} | {p50(warm[kind]):.0f} | {warm_p95:.0f} | {cells} |")


if __name__ == "__main__":
    main()
