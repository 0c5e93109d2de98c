"""`archive serve --workers N`: every worker answers, sees new articles, shares the session key, dies with the master.

Which worker answers a connection is the kernel's choice; these tests choose it by
pausing (SIGSTOP) every other worker, so that only one can accept.
"""

from __future__ import annotations

import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from archive.home import Archive
from tests.support import start_workers, stop_workers, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="needs Linux /proc")]


def _state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]


@contextmanager
def only(worker: int, workers: list[int]) -> Iterator[None]:
    """Pause every worker but one, so that it alone accepts connections."""
    paused = [pid for pid in workers if pid != worker]
    for pid in paused:
        os.kill(pid, signal.SIGSTOP)
    try:
        wait_until(lambda: all(_state(pid) == "T" for pid in paused), "the other workers paused")
        yield
    finally:
        for pid in paused:
            os.kill(pid, signal.SIGCONT)


def total(url: str, query: str) -> int:
    with urllib.request.urlopen(f"{url}/api/search?q={urllib.parse.quote(query)}", timeout=60) as r:
        return int(json.load(r)["total_articles"])


def test_every_worker_answers_and_sees_an_article_added_while_serving(home, tmp_path):
    master, url, workers = start_workers(home, "--seed")  # seeded by the master, before the fork
    try:
        assert len(set(workers)) == 2
        for worker in workers:
            with only(worker, workers):
                assert total(url, "investir") == 1
                assert total(url, "ornithorynque") == 0
        article = tmp_path / "ornithorynque.txt"
        article.write_text("Un ornithorynque au zoo\n\nL'ornithorynque est arrivé au zoo de Lyon.", encoding="utf-8")
        assert Archive(home).add([str(article)]).counts()["added"] == 1
        for worker in workers:
            with only(worker, workers):
                assert total(url, "ornithorynque") == 1
    finally:
        stop_workers(master)


def test_a_form_served_by_one_worker_is_accepted_by_another(seeded):
    # The CSRF token lives in a session cookie signed with the app's secret key: the
    # workers must share one, though none was configured.
    env = {"ARCHIVE_ADMIN_TOKEN": "jeton-secret"}
    env_without_key = {k: v for k, v in os.environ.items() if k != "ARCHIVE_SECRET_KEY"}
    master, url, workers = start_workers(seeded.home, env={**env_without_key, **env})
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    try:
        with only(workers[0], workers), opener.open(f"{url}/add?lang=en", timeout=60) as r:
            csrf = re.search(r'name="csrf" value="([^"]+)"', r.read().decode()).group(1)
        form = urllib.parse.urlencode({"csrf": csrf, "token": "jeton-secret", "title": "Le castor du Rhône",
                                       "text": "Un castor construit un barrage sur le Rhône."}).encode()
        with only(workers[1], workers), opener.open(f"{url}/add?lang=en", data=form, timeout=60) as r:
            assert r.status == 200
            assert "1 article added, 0 updated, 0 unchanged" in r.read().decode()
        for worker in workers:
            with only(worker, workers):
                assert total(url, "castor") == 1
    finally:
        stop_workers(master)


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_workers_end_with_their_master(seeded, how):
    master, _, workers = start_workers(seeded.home)
    fds = [os.pidfd_open(pid) for pid in workers]
    try:
        master.send_signal(how)
        # A pidfd becomes readable when its process ends: wait for every worker, 30 s at most.
        ended: set[int] = set()
        while len(ended) < len(fds):
            ready, _, _ = select.select([fd for fd in fds if fd not in ended], [], [], 30)
            assert ready, f"workers {workers} outlived their master"
            ended.update(ready)
        assert master.wait(timeout=60) == (0 if how == signal.SIGTERM else -signal.SIGKILL)
    finally:
        for fd in fds:
            os.close(fd)
        stop_workers(master)


def test_a_damaged_index_stops_the_server_with_its_reason(seeded):
    # Every worker would fail alike: the master stops instead of restarting them forever.
    postings = next((seeded.home / "index").glob("g*/*.pst"))
    size = postings.stat().st_size
    postings.write_bytes(postings.read_bytes()[:100])
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    done = subprocess.run([str(Path(sys.executable).parent / "archive"), "--home", str(seeded.home), "serve",
                           "--workers", "2", "--port", str(port)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    reasons = {line for line in done.stderr.splitlines() if line.startswith("error:")}
    assert reasons == {f"error: the search index is damaged: index/{postings.parent.name}/{postings.name}: "
                       f"truncated (100 bytes, {size} recorded); run `archive check --repair`"}


def test_a_busy_port_is_said_in_one_line_before_any_worker_starts(runner, seeded):
    from archive.cli import cli

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = runner.invoke(cli, ["--home", str(seeded.home), "serve", "--workers", "2", "--port", str(port)])
    assert r.exit_code == 1
    assert r.output == (f"error: port {port} is already in use on 127.0.0.1: stop the other server "
                        "or choose another --port\n")
