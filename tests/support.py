"""What tests share besides fixtures: the seed and corpus paths, and servers started for a test."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from archive.workers import children

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SEED_ID = "000_00611d59cef2efbe"
CORPUS = ROOT.parent / "shared" / "corpus"
#: The huge article: 30,000 paragraphs, every thousandth about a platypus.
HUGE_ID, HUGE_PARAGRAPHS, HUGE_EVERY = "compte-rendu", 30_000, 1_000

#: Five short articles for the research tools: strikes over the years, one undated.
RECORDS = [
    {"id": "g1", "title": "La grève des cheminots", "date": "2011-05-03", "source": "Le Monde",
     "author": "Anne Dupont", "tags": ["social", "transports"],
     "paragraphs": ["Les cheminots sont en grève depuis lundi.", "La SNCF prévoit des grèves * étoile."]},
    {"id": "g2", "title": "Nouvelle journée", "date": "2014-02-10", "source": "Libération",
     "tags": ["social"], "paragraphs": ["Une grève reconductible est annoncée.", "Sans rapport ici."]},
    {"id": "g3", "title": "Le télétravail s'installe", "date": "2015-02-11", "source": "Le Monde",
     "tags": ["économie"], "paragraphs": ["Le télétravail progresse, la grève recule.", "Grève ? Non."]},
    {"id": "g4", "title": "Un autre sujet", "date": "2015-02-20", "source": "Le Monde",
     "paragraphs": ["Rien à voir avec le sujet."]},
    {"id": "g5", "title": "Sans date", "source": "Ouest-France",
     "paragraphs": ["Une grève sans date connue."]},
]


def corpus_file(name: str) -> Path:
    """Return a shared corpus file, skipping the test when it is absent (failing when required)."""
    path = CORPUS / name
    if not path.exists():
        if os.environ.get("ARCHIVE_REQUIRE_CORPUS") == "1":
            pytest.fail(f"{path} is required (ARCHIVE_REQUIRE_CORPUS=1) but absent")
        pytest.skip(f"{path} is absent")
    return path


_CHANNELS: dict[int, dict] = {}


def start_server(app) -> tuple[object, str, threading.Thread]:
    """Serve a WSGI app with waitress in a thread; return the server, its URL and the thread."""
    from waitress.server import create_server

    channels: dict = {}  # waitress's socket map, ours to close at the end (create_server's `map`)
    server = create_server(app, map=channels, host="127.0.0.1", port=0, threads=4)
    _CHANNELS[id(server)] = channels

    def run() -> None:
        try:
            server.run()
        except (OSError, ValueError):
            # Closing the sockets from the test's thread can make the loop's select()
            # fail: that is the shutdown, not a failure, once stop_server began.
            if not getattr(server, "stopping", False):
                raise

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return server, f"http://127.0.0.1:{server.effective_port}", thread


def stop_server(server, thread: threading.Thread) -> None:
    """Stop a server from start_server: workers, open connections, the server, then its thread."""
    server.stopping = True
    server.task_dispatcher.shutdown()  # workers first: close() alone races them
    # Connections still open (keep-alive) would otherwise be collected later, in another
    # test, as unclosed sockets.
    for channel in list(_CHANNELS.pop(id(server)).values()):
        if channel is not server:
            channel.close()
    server.close()
    thread.join(timeout=10)


def wait_until(done: Callable[[], object], what: str, seconds: float = 60.0) -> object:
    """Poll ``done()`` until it returns something true, failing with ``what`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not (result := done()):
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {seconds:g} s")
        threading.Event().wait(0.05)
    return result


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def start_workers(home: Path, *options: str, workers: int = 2, env: dict[str, str] | None = None
                  ) -> tuple[subprocess.Popen, str, list[int]]:
    """Run ``archive serve --workers N [options]`` for a home; return the master, its URL and its workers' pids."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    master = subprocess.Popen([str(Path(sys.executable).parent / "archive"), "--home", str(home), "serve",
                               "--workers", str(workers), "--port", str(port), *options],
                              env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: master.poll() is not None or _answers(url + "/api/search?q=test"), "the server answers",
                   seconds=180)
        assert master.poll() is None, f"archive serve exited with code {master.returncode}"
        pids = wait_until(lambda: len(found := children(master.pid)) == workers and found, f"{workers} workers")
    except BaseException:
        stop_workers(master)
        raise
    return master, url, list(pids)  # type: ignore[call-overload]


def stop_workers(master: subprocess.Popen) -> None:
    """Stop a server from start_workers (its workers resumed first, should a test have paused them)."""
    for pid in children(master.pid):
        os.kill(pid, signal.SIGCONT)
    master.terminate()
    try:
        master.wait(timeout=60)
    except subprocess.TimeoutExpired:
        master.kill()
        master.wait()


def answers(home: Path, queries: list[str]) -> list[tuple[int, int, list[tuple[str, float]]]]:
    """Return each query's totals and its ten best articles with their scores (two indexes compared)."""
    from archive.search import search

    out = []
    for query in queries:
        results = search(home, query, per_page=10)
        out.append((results.total_articles, results.total_paragraphs,
                    [(hit.id, round(hit.score, 6)) for hit in results.hits]))
    return out
