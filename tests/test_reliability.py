"""Crashes, concurrent writers and readers: nothing stored is ever lost or half-seen.

Each crash test kills an `archive` process at a named failpoint (archive/failpoints.py),
so it knows exactly what the process had done, and asserts that outcome.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest

from archive.failpoints import held
from archive.home import Archive
from archive.search import search
from archive.store import Store
from tests.support import SEED_ID, SEEDS, corpus_file, start_server, stop_server

pytestmark = [pytest.mark.slow, pytest.mark.corpus]
ARCHIVE = [sys.executable, "-m", "archive.cli"]


def make_batch(path: Path, count: int, prefix: str, version: str = "v1") -> Path:
    """Write ``count`` articles built from the sample's texts under new ids.

    Past the sample's size the texts repeat: those are wire copies, so counts of
    every article search with ``show_copies=True``.
    """
    with corpus_file("news-fr-sample.jsonl").open(encoding="utf-8") as f:
        sample = [json.loads(line) for line in f]
    with path.open("w", encoding="utf-8") as f:
        for i in range(count):
            rec = dict(sample[i % len(sample)])
            rec["id"] = f"{prefix}-{i:05d}"
            rec["paragraphs"] = [f"{version} {p}" for p in rec["paragraphs"]]
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return path


def run(home: Path, *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([*ARCHIVE, "--home", str(home), *args], capture_output=True, text=True,
                          timeout=300, **kwargs)


def assert_whole(home: Path, expected_ids: set[str], batch_ids: set[str]) -> None:
    """Every batch article is either fully stored or absent, and earlier ones are intact."""
    arch = Archive(home)
    stored = {a.id: a for a in arch.store.iter_articles()}
    assert expected_ids <= set(stored)
    present = batch_ids & set(stored)
    assert present in (set(), batch_ids)  # one transaction per file
    for article_id in present:
        assert all(p.text.startswith("v1 ") for p in stored[article_id].blocks[:1])


def killed_at(point: str, home: Path, *args: str) -> None:
    """Run an archive command that kills itself at failpoint ``point``."""
    env = dict(os.environ, ARCHIVE_FAILPOINT=point)
    proc = run(home, *args, env=env)
    assert proc.returncode == -signal.SIGKILL, (point, proc.stdout, proc.stderr)


BATCH = {f"k-{i:05d}" for i in range(1000)}


@pytest.mark.parametrize("point", ["after-store-commit", "mid-index-write"])
def test_killed_between_store_and_index_keeps_the_batch_and_repair_indexes_it(tmp_path, point):
    home = tmp_path / "home"
    assert run(home, "add", str(SEEDS)).returncode == 0
    killed_at(point, home, "add", str(make_batch(tmp_path / "batch.jsonl", 1000, "k")))
    assert_whole(home, {SEED_ID}, BATCH)
    assert set(Archive(home).store.pending()) == BATCH  # the index owes exactly the batch
    # The live index still opens and answers, without the batch.
    assert search(home, "Xiaomi").total_articles == 1
    check = run(home, "check", "--json")
    assert check.returncode == 1
    assert json.loads(check.stdout)["missing"] == sorted(BATCH)
    assert run(home, "check", "--repair").returncode == 0
    assert run(home, "check").stdout == "store and index agree\n"
    assert search(home, "v1", per_page=1, show_copies=True).total_articles == 1000


def test_killed_after_the_index_commit_the_next_write_empties_the_queue(tmp_path):
    home = tmp_path / "home"
    assert run(home, "add", str(SEEDS)).returncode == 0
    killed_at("after-index-commit", home, "add", str(make_batch(tmp_path / "batch.jsonl", 1000, "k")))
    assert_whole(home, {SEED_ID}, BATCH)
    assert set(Archive(home).store.pending()) == BATCH
    assert run(home, "check").stdout == "store and index agree\n"  # the index has them
    assert run(home, "add", str(SEEDS)).stdout.startswith("0 added, 0 updated, 1 unchanged, 0 failed; 0 paragraphs in ")
    assert Archive(home).store.pending() == []
    assert search(home, "v1", per_page=1, show_copies=True).total_articles == 1000


@pytest.mark.parametrize("point", ["mid-index-write", "before-swap"])
def test_killed_rebuild_keeps_the_live_index(tmp_path, point):
    home = tmp_path / "home"
    batch = make_batch(tmp_path / "batch.jsonl", 1000, "r")
    assert run(home, "add", str(batch), str(SEEDS)).returncode == 0
    before = search(home, "Xiaomi OR gouvernement").total_articles
    live = (home / "index" / "CURRENT").read_text()
    killed_at(point, home, "rebuild", "--procs", "1")
    assert (home / "index" / "CURRENT").read_text() == live
    assert len(Archive(home).store) == 1001
    assert search(home, "Xiaomi OR gouvernement").total_articles == before
    assert run(home, "check").returncode == 0
    assert run(home, "rebuild").returncode == 0
    assert run(home, "check").returncode == 0
    assert len([p for p in (home / "index").iterdir() if p.name.startswith("g")]) == 1


def test_two_adds_at_once_both_go_in(tmp_path):
    home = tmp_path / "home"
    a = make_batch(tmp_path / "a.jsonl", 300, "a")
    b = make_batch(tmp_path / "b.jsonl", 300, "b")
    procs = [subprocess.Popen([*ARCHIVE, "--home", str(home), "add", str(f)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for f in (a, b)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert len(Archive(home).store) == 600
    assert run(home, "check").returncode == 0


def test_a_store_opened_while_another_process_creates_it_is_whole_and_the_same(tmp_path):
    # Two adds on a new home once both switched a new file to WAL and one died "database is locked".
    path = tmp_path / "home" / "store.sqlite"
    first: list[Store] = []
    with held("store-create") as hold:
        creator = threading.Thread(target=lambda: first.append(Store(path)))
        creator.start()
        assert hold.reached.wait(30)
        assert not path.exists()  # nothing half made is in place
        second = Store(path)  # its own new store goes in place first
        assert second.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        hold.release()
        creator.join(30)
    first[0].queue(["x-1"])
    assert second.pending() == ["x-1"]  # the held creator dropped its store and opened the one in place
    assert sorted(p.name for p in path.parent.iterdir()) == ["store.sqlite", "store.sqlite-shm", "store.sqlite-wal"]


def test_killed_while_creating_the_store_leaves_no_store_and_the_next_add_makes_it(tmp_path):
    home = tmp_path / "home"
    killed_at("store-create", home, "add", str(SEEDS))
    assert not (home / "archive.sqlite3").exists()
    assert len(list(home.glob(".archive.sqlite3.*.new"))) == 1  # the killed creator's, beside
    assert run(home, "add", str(SEEDS)).returncode == 0
    assert search(home, "Xiaomi").total_articles == 1
    assert list(home.glob(".archive.sqlite3.*")) == []  # the dead creator's was swept


def test_what_dead_creators_left_beside_a_store_is_swept(tmp_path):
    home = tmp_path / "home"
    assert run(home, "add", str(SEEDS)).returncode == 0
    dead = 4_194_304 + 1  # past any pid_max: no such process
    left = [home / f".archive.sqlite3.{dead}.1.new{end}" for end in ("", "-wal", "-shm")]
    os.link(home / "archive.sqlite3", left[0])  # killed after its link: a second name of the store
    for path in left[1:]:
        path.write_bytes(b"")
    mine = home / f".archive.sqlite3.{os.getpid()}.1.new"  # a live creator's: kept
    mine.write_bytes(b"")
    assert search(home, "Xiaomi").total_articles == 1
    assert list(home.glob(".archive.sqlite3.*")) == [mine]
    assert (home / "archive.sqlite3").stat().st_nlink == 1


def test_server_answers_while_add_and_rebuild_run(tmp_path):
    from webui import create_app

    home = tmp_path / "home"
    first = make_batch(tmp_path / "first.jsonl", 200, "c", "v1")
    assert run(home, "add", str(first)).returncode == 0
    server, url, server_thread = start_server(create_app({"ARCHIVE_HOME": str(home)}))
    stop = threading.Event()
    statuses: list[int] = []
    torn: list[str] = []

    def reader() -> None:
        while not stop.is_set():
            for path in ("/api/search?q=gouvernement&per_page=5", "/api/articles/c-00007",
                         "/?q=France&tag=politique"):
                try:
                    with urllib.request.urlopen(url + path, timeout=30) as r:
                        statuses.append(r.status)
                        if path.startswith("/api/articles/"):
                            versions = {p.split(" ", 1)[0] for p in json.loads(r.read())["paragraphs"]}
                            if len(versions) != 1:
                                torn.append(str(versions))
                except urllib.error.HTTPError as exc:
                    statuses.append(exc.code)

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        batch = make_batch(tmp_path / "batch.jsonl", 2000, "c", "v2")
        assert run(home, "add", str(batch)).returncode == 0
        assert run(home, "rebuild").returncode == 0
    finally:
        stop.set()
        for t in threads:
            t.join()
        stop_server(server, server_thread)
    assert statuses and set(statuses) == {200}
    assert torn == []
    assert search(home, "", per_page=1, show_copies=True).total_articles == 2000
