"""Load clients for bench/load.py: N concurrent keep-alive HTTP clients in one asyncio loop.

    .venv/bin/python bench/load_client.py URL --clients 4 --seconds 15 [--seed 0] [--queries FILE]

Run as a process of its own, so that the clients' Python (parsing, the GIL) does
not share an interpreter with the orchestrator; one thread and one event loop keep
the clients' CPU small beside the server's. Each client loops until the deadline
over the mix a reader makes: a search through the JSON API, the same search's page,
a click on one of its tag facets, the reading view of one of its hits. Prints one
JSON object: every answered request's latency in ms, errors, elapsed seconds and the
clients' own CPU seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from latency import load_queries  # noqa: E402


class Connection:
    """One keep-alive HTTP/1.1 connection to the server, reopened when the server closes it."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> tuple[int, bytes]:
        """Send GET path; return the status and the body (one retry on a connection the server closed)."""
        reused = self.writer is not None
        try:
            return await self._get(path)
        except (ConnectionError, asyncio.IncompleteReadError):
            self.close()
            if not reused:
                raise
            return await self._get(path)

    async def _get(self, path: str) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                          "Accept-Encoding: identity\r\n\r\n".encode("ascii"))
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                key, _, value = line.partition(":")
                headers[key.strip().lower()] = value.strip().lower()
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding") == "chunked":
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                parts.append(await self.reader.readexactly(size + 2))
                if size == 0:
                    break
            body = b"".join(p[:-2] for p in parts)
        else:
            body = await self.reader.read()
            headers["connection"] = "close"
        if headers.get("connection") == "close":
            self.close()
        return status, body

    def close(self) -> None:
        """Drop the connection (the next request opens another)."""
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def run(url: str, clients: int, seconds: float, seed: int, queries: list[str]) -> dict:
    """Run the clients until the deadline; return latencies and errors."""
    parsed = urllib.parse.urlsplit(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 80
    latencies: list[float] = []
    errors: list[str] = []
    deadline = time.monotonic() + seconds

    async def get(conn: Connection, path: str) -> bytes | None:
        start = time.perf_counter()
        try:
            status, body = await conn.get(path)
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            conn.close()
            errors.append(f"{path}: {exc!r}")
            return None
        if status != 200:
            errors.append(f"{path}: HTTP {status}")
            return None
        latencies.append((time.perf_counter() - start) * 1000)
        return body

    async def client(n: int) -> None:
        rng = random.Random(seed * 1000 + n)
        conn = Connection(host, port)
        try:
            while time.monotonic() < deadline:
                q = urllib.parse.quote(rng.choice(queries))
                body = await get(conn, f"/api/search?q={q}&per_page=10")
                if body is None:
                    continue
                data = json.loads(body)
                await get(conn, f"/?q={q}")
                tags = data["facets"].get("tags") or []
                if tags:
                    await get(conn, f"/?q={q}&tag={urllib.parse.quote(rng.choice(tags)['value'])}")
                if data["hits"]:
                    await get(conn, f"/article/{rng.choice(data['hits'])['id']}?q={q}")
        finally:
            conn.close()

    started = time.monotonic()
    await asyncio.gather(*(client(n) for n in range(clients)))
    return {"latencies": latencies, "errors": errors, "elapsed": time.monotonic() - started}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("url")
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--queries", type=Path, default=ROOT.parent / "shared" / "peers" / "queries.txt")
    a = ap.parse_args()
    queries = [q for q, _ in load_queries(a.queries)]
    cpu = time.process_time()
    out = asyncio.run(run(a.url, a.clients, a.seconds, a.seed, queries))
    out["cpu"] = time.process_time() - cpu
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
