"""HTTP load on `archive serve`: concurrent loopback clients for a fixed time.

    .venv/bin/python bench/load.py HOME [--clients 8] [--seconds 60] [--threads 4]

Starts `archive serve` on 127.0.0.1 (a free port) for HOME, then runs --clients
threads for --seconds of mixed requests: searches from the peer query mix, facet
clicks taken from the results, article views and JSON API calls. Loops are bounded by
time; only loopback is used. Prints requests, requests/s, p50/p95 and errors.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from latency import load_queries  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("home", type=Path)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--queries", type=Path, default=ROOT.parent / "shared" / "peers" / "queries.txt")
    a = ap.parse_args()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-m", "archive.cli", "--home", str(a.home), "serve",
                               "--port", str(port), "--threads", str(a.threads)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/api/search?q=test", timeout=5).read()
                break
            except OSError:
                time.sleep(0.1)
        queries = [q for q, _ in load_queries(a.queries)]
        latencies: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()
        deadline = time.monotonic() + a.seconds

        def get(path: str) -> bytes | None:
            t = time.perf_counter()
            try:
                with urllib.request.urlopen(base + path, timeout=30) as r:
                    body = r.read()
                ok = True
            except (urllib.error.URLError, OSError) as exc:
                body, ok = None, False
                with lock:
                    errors.append(f"{path}: {exc}")
            with lock:
                if ok:
                    latencies.append((time.perf_counter() - t) * 1000)
            return body

        def client(seed: int) -> None:
            rng = random.Random(seed)
            while time.monotonic() < deadline:
                q = urllib.parse.quote(rng.choice(queries))
                body = get(f"/api/search?q={q}&per_page=10")
                if body is None:
                    continue
                data = json.loads(body)
                get(f"/?q={q}")
                tags = data["facets"].get("tags") or []
                if tags:
                    get(f"/?q={q}&tag={urllib.parse.quote(rng.choice(tags)['value'])}")
                if data["hits"]:
                    hit = rng.choice(data["hits"])
                    get(f"/article/{hit['id']}?q={q}")

        threads = [threading.Thread(target=client, args=(i,)) for i in range(a.clients)]
        start = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - start
        latencies.sort()

        def pct(p: float) -> float:
            return latencies[max(0, math.ceil(p / 100 * len(latencies)) - 1)] if latencies else float("nan")

        print(f"{a.clients} clients, {elapsed:.0f} s, {a.threads} server threads: "
              f"{len(latencies)} requests ({len(latencies) / elapsed:.1f}/s), "
              f"p50 {pct(50):.0f} ms, p95 {pct(95):.0f} ms, errors {len(errors)}")
        for e in errors[:5]:
            print("  ", e)
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
