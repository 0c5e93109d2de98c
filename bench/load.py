"""HTTP load on `archive serve`: waitress threads against pre-forked workers, in one run.

    .venv/bin/python bench/load.py HOME [--servers 1,2,4] [--clients 1,2,4,8] [--seconds 15]
                                        [--rounds 2] [--threads 4] [--out FILE.md]

Starts one `archive serve` per entry of --servers on 127.0.0.1 (free ports): `1` is
waitress in one process (`--threads`), `N` is `--workers N` (gunicorn, `--threads` each),
`NxT` sets the threads too. For each, as it starts: the time from the command's start
to its first answer (the icon, which reads no index; a worker answers only once warmed),
then the first request of each kind (a plain word's page, a misspelt word that finds
almost nothing and gets a suggestion, a facet click, an article view) against the
median of ten more of that kind.

Then, for each round, each client count and each server (in an order rotated every
round, so that noise falls on all of them alike): bench/load_client.py, a separate
process of asyncio keep-alive clients, loads the server for --seconds with the mix a
reader makes (API search, its page, a facet click, an article view). Reported per
server and client count: requests/s, p50/p95 of every request, the ratio to one
client, server and client CPU per request (the server's processes read from /proc),
the cores the server kept busy (its CPU seconds per second: above 1 only when requests
ran in parallel, the figure that stays readable on a loaded machine), the busiest
worker's share of the workers' CPU, and the 1-minute load average. Last, each server's RSS and PSS (smaps_rollup) per
process. Prints markdown tables (also written to --out).
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import math
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from percentiles import p50, p95

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archive.workers import children  # noqa: E402

CLIENT = ROOT / "bench" / "load_client.py"
#: Misspellings tried, in order, for the suggestion kind: the first that finds under 3 articles.
LOW_HIT = ("gouvernemnt", "retraittes", "manifestents", "presidant", "eccologie")
PLAIN = "retraites"
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Cell:
    """Everything measured for one server at one client count, over the rounds."""

    latencies: list[float] = field(default_factory=list)
    elapsed: float = 0.0
    errors: list[str] = field(default_factory=list)
    server_cpu: float = 0.0
    client_cpu: float = 0.0
    rates: list[float] = field(default_factory=list)
    loads: list[float] = field(default_factory=list)
    busiest: list[float] = field(default_factory=list)


@dataclass
class Server:
    """One running `archive serve` under test."""

    spec: str
    workers: int
    threads: int
    process: subprocess.Popen[bytes]
    port: int
    started: float

    @property
    def name(self) -> str:
        return (f"waitress, {self.threads} threads" if self.workers == 1
                else f"--workers {self.workers} ({self.threads} threads each)")

    def pids(self) -> list[int]:
        """The master and its live children."""
        return [self.process.pid, *children(self.process.pid)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of these processes (those still alive)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / TICKS


def memory(pid: int) -> tuple[float, float]:
    """RSS and PSS in MB (PSS from smaps_rollup; NaN where unavailable)."""
    values = {}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("Rss", "Pss"):
                values[key] = int(rest.split()[0]) / 1024
    except OSError:
        pass
    return values.get("Rss", math.nan), values.get("Pss", math.nan)


def load1() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def get(port: int, path: str, deadline: float, process: subprocess.Popen[bytes] | None = None
        ) -> tuple[float, bytes]:
    """GET path on a new connection, retrying a refused connect until the deadline; return (ms, body)."""
    while True:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited with code {process.returncode}")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        try:
            start = time.perf_counter()
            conn.request("GET", path)
            response = conn.getresponse()
            body = response.read()
            if response.status != 200:
                raise RuntimeError(f"{path}: HTTP {response.status}")
            return (time.perf_counter() - start) * 1000, body
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)
        finally:
            conn.close()


def fixtures(home: Path) -> dict[str, str]:
    """Pick the requests of the first-query kinds from the archive itself."""
    from archive.search import close_engines, engine_for, search

    engine_for(home).warm()
    plain = search(home, PLAIN, per_page=1)
    tag = plain.facets["tags"][0].value
    low = next(word for word in LOW_HIT
               if (found := search(home, word)).total_articles < 3 and found.suggestion)
    close_engines()
    q = urllib.parse.quote
    return {"plain": f"/?q={q(PLAIN)}", "suggestion": f"/?q={q(low)}",
            "facet": f"/?q={q(PLAIN)}&tag={q(tag)}", "article": f"/article/{plain.hits[0].id}?q={q(PLAIN)}"}


def start(home: Path, spec: str, threads: int) -> Server:
    """Start `archive serve` for one --servers entry."""
    workers, _, t = spec.partition("x")
    n, t_n = int(workers), int(t or threads)
    port = free_port()
    # The installed command: `python -m archive.cli` would not register the commands of
    # cli_serve and the others on the group it runs.
    command = [str(Path(sys.executable).parent / "archive"), "--home", str(home), "serve", "--port", str(port),
               "--threads", str(t_n)] + (["--workers", str(n)] if n > 1 else [])
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)  # its stderr: the run's log
    return Server(spec, n, t_n, process, port, started)


def first_queries(server: Server, kinds: dict[str, str]) -> dict[str, object]:
    """Time until the server answers, then each kind's first request against its warm median."""
    deadline = server.started + 300
    # The icon touches no index: the first answer says the server (a worker, warmed) is
    # up. A worker accepts only once warmed, so the searches below never wait for a boot.
    get(server.port, "/favicon.ico", deadline, server.process)
    out: dict[str, object] = {"ready": time.monotonic() - server.started}
    for kind, path in kinds.items():
        out[kind] = [get(server.port, path, deadline, server.process)[0]]
    for kind, path in kinds.items():
        warm = [get(server.port, path, deadline)[0] for _ in range(10)]
        out[kind] = [out[kind][0], statistics.median(warm)]  # type: ignore[index]
    return out


def segment(server: Server, clients: int, seconds: float, seed: int, queries: Path, cell: Cell) -> None:
    """Load one server with one client count for one round."""
    pids = server.pids()
    cpu = {pid: cpu_seconds([pid]) for pid in pids}
    result = subprocess.run([sys.executable, str(CLIENT), f"http://127.0.0.1:{server.port}",
                             "--clients", str(clients), "--seconds", str(seconds), "--seed", str(seed),
                             "--queries", str(queries)], check=True, capture_output=True)
    used = {pid: cpu_seconds([pid]) - before for pid, before in cpu.items()}
    cell.server_cpu += sum(used.values())
    if len(pids) > 1:  # the busiest worker's share of the workers' CPU: 50 % is an even split of two
        workers = sorted((used[pid] for pid in pids[1:]), reverse=True)
        cell.busiest.append(100 * workers[0] / max(sum(workers), 1e-9))
    cell.loads.append(load1())
    data = json.loads(result.stdout)
    cell.latencies += data["latencies"]
    cell.errors += data["errors"]
    cell.elapsed += data["elapsed"]
    cell.client_cpu += data["cpu"]
    cell.rates.append(len(data["latencies"]) / data["elapsed"])


def report(servers: list[Server], clients: list[int], cells: dict[tuple[str, int], Cell],
           firsts: dict[str, dict[str, object]], memories: dict[str, list[tuple[float, float]]],
           header: list[str]) -> str:
    """Render the run as markdown."""
    lines = [*header, "", "| server | clients | req/s | × 1 client | p50 ms | p95 ms | p95 ÷ 1-client p95 "
             "| server CPU ms/req | server cores busy | busiest worker % | client CPU ms/req | req/s per round "
             "| load 1 min | errors |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|"]
    verdicts = []
    for s in servers:
        base = cells[(s.spec, clients[0])]
        base_rate, base_p95 = len(base.latencies) / base.elapsed, p95(base.latencies)
        for c in clients:
            cell = cells[(s.spec, c)]
            n = len(cell.latencies)
            rate = n / cell.elapsed
            lines.append(
                f"| {s.name} | {c} | {rate:.1f} | {rate / base_rate:.2f} | {p50(cell.latencies):.0f} "
                f"| {p95(cell.latencies):.0f} | {p95(cell.latencies) / base_p95:.2f} "
                f"| {1000 * cell.server_cpu / n:.1f} | {cell.server_cpu / cell.elapsed:.2f} "
                f"| {'/'.join(f'{b:.0f}' for b in cell.busiest) or '–'} | {1000 * cell.client_cpu / n:.1f} "
                f"| {' / '.join(f'{r:.1f}' for r in cell.rates)} "
                f"| {min(cell.loads):.1f}–{max(cell.loads):.1f} | {len(cell.errors)} |")
            if c == 4 and clients[0] == 1:
                verdicts.append(f"* {s.name}: 4 clients {rate / base_rate:.2f}× one client's throughput "
                                f"(target ≥ 1.4), p95 {p95(cell.latencies) / base_p95:.2f}× (target ≤ 2)")
    lines += ["", *verdicts, "", "First request of each kind after a start (first ms / median of the next 10 ms):",
              "", "| server | start → first answer s | plain word | misspelt word (suggestion) | facet click "
              "| article view |", "|---|---:|---:|---:|---:|---:|"]
    for s in servers:
        f = firsts[s.spec]
        cells_ = " | ".join(f"{f[k][0]:.0f} / {f[k][1]:.0f}"  # type: ignore[index]
                            for k in ("plain", "suggestion", "facet", "article"))
        lines.append(f"| {s.name} | {f['ready']:.1f} | {cells_} |")
    lines += ["", "Memory after the load (MB; PSS shares each page among the processes mapping it):", "",
              "| server | processes | RSS each | PSS total |", "|---|---:|---|---:|"]
    for s in servers:
        mem = memories[s.spec]
        lines.append(f"| {s.name} | {len(mem)} | {' + '.join(f'{r:.0f}' for r, _ in mem)} "
                     f"| {sum(p for _, p in mem):.0f} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("home", type=Path)
    ap.add_argument("--servers", default="1,2,4", help="1 = waitress; N = --workers N; NxT = N workers of T threads")
    ap.add_argument("--clients", default="1,2,4,8")
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--queries", type=Path, default=ROOT.parent / "shared" / "peers" / "queries.txt")
    ap.add_argument("--out", type=Path)
    a = ap.parse_args()
    specs, clients = a.servers.split(","), [int(c) for c in a.clients.split(",")]
    kinds = fixtures(a.home)
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    load_start = load1()
    servers: list[Server] = []
    firsts: dict[str, dict[str, object]] = {}
    cells = {(spec, c): Cell() for spec in specs for c in clients}
    memories: dict[str, list[tuple[float, float]]] = {}
    try:
        for spec in specs:  # one at a time: a start is timed alone
            servers.append(server := start(a.home, spec, a.threads))
            firsts[spec] = first_queries(server, kinds)
        for r in range(a.rounds):
            order = servers[r % len(servers):] + servers[:r % len(servers)]
            for c in clients:
                for server in order:
                    segment(server, c, a.seconds, r, a.queries, cells[(server.spec, c)])
                    print(f"round {r + 1}, {c} clients, {server.name}: {cells[(server.spec, c)].rates[-1]:.1f}/s",
                          file=sys.stderr)
        for server in servers:
            memories[server.spec] = [memory(pid) for pid in server.pids()]
    finally:
        for server in servers:
            server.process.send_signal(signal.SIGTERM)
        for server in servers:
            server.process.wait(timeout=60)
    loads = [x for cell in cells.values() for x in cell.loads]
    header = [f"## bench/load.py, {dt.datetime.now():%Y-%m-%d %H:%M}, commit {commit}", "",
              f"`{' '.join(['bench/load.py', *sys.argv[1:]])}`: {os.cpu_count()} cores, clients included; "
              f"{a.rounds} rounds × {a.seconds:g} s per cell; 1-minute load average {load_start:.1f} at the "
              f"start, {min(loads):.1f}–{max(loads):.1f} after the cells, {load1():.1f} at the end."]
    text = report(servers, clients, cells, firsts, memories, header)
    print(text)
    if a.out:
        a.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
