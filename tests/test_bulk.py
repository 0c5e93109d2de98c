"""Reading a large JSON Lines file in worker processes, and the progress of add and rebuild."""

from __future__ import annotations

import io
import json
from contextlib import contextmanager

import pytest

import archive.bulk as bulk
import archive.cli as cli
import archive.cli.common as cli_common
from archive.home import Archive
from archive.workers import report as report_progress
from archive.workers import run_jobs
from tests.support import corpus_file


class Recorder:
    """A progress factory that records each phase's total, unit and the units advanced."""

    def __init__(self) -> None:
        self.phases: list[list] = []

    @contextmanager
    def __call__(self, phase, total, unit):
        seen = [phase, total, unit, 0]
        self.phases.append(seen)
        yield lambda n: seen.__setitem__(3, seen[3] + n)


def _records(n: int) -> list[dict]:
    return [{"id": f"a{i}", "title": f"Titre {i}", "author": "AFP", "tags": ["grève"],
             "paragraphs": [f"La grève numéro {i} continue à Lyon.", "Intertitre", "Les cheminots votent."]}
            for i in range(n)]


def _stored(home) -> list[tuple]:
    db = Archive(home).store.db
    return [db.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() for t in ("signatures", "bands")] + [
        db.execute("SELECT id, title, hash, record FROM articles ORDER BY id").fetchall()]


def test_worker_processes_store_what_one_process_stores(tmp_path, monkeypatch):
    path = tmp_path / "a.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in _records(700)) + "\n\n", encoding="utf-8")
    one = Archive(tmp_path / "one").add([str(path)], procs=1)
    monkeypatch.setattr(bulk, "BULK_BYTES", 0)  # every file goes to the workers, in chunks of 256 lines
    recorder = Recorder()
    two = Archive(tmp_path / "two").add([str(path)], procs=2, progress=recorder)
    assert one.outcomes == two.outcomes and len(two.outcomes) == 700 and two.paragraphs == 2100
    assert _stored(tmp_path / "one") == _stored(tmp_path / "two")
    size = path.stat().st_size
    assert recorder.phases[0] == ["storing", size, "B", size]


@pytest.mark.parametrize("whole", [False, True])
def test_a_bad_line_read_by_a_worker_fails_as_in_one_process(tmp_path, monkeypatch, whole):
    lines = [json.dumps(r) for r in _records(600)]
    lines[300] = '{"id": "x", "title": "T", "paragraphs": "pas une liste"}'
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    one = Archive(tmp_path / "one").add([str(path)], procs=1, all_or_nothing=whole)
    monkeypatch.setattr(bulk, "BULK_BYTES", 0)
    two = Archive(tmp_path / "two").add([str(path)], procs=2, all_or_nothing=whole)
    (a,), (b,) = one.failures, two.failures
    assert (str(a), a.code, a.discarded) == (str(b), b.code, b.discarded) == (
        f"{path}:301: 'paragraphs' must be a list of strings", "invalid_article", 300 if whole else 0)
    # Alone, the bad line loses nothing else; all or nothing, it loses its whole file.
    assert len(Archive(tmp_path / "one").store) == len(Archive(tmp_path / "two").store) == (0 if whole else 599)


@pytest.mark.corpus
def test_add_and_rebuild_report_each_phase_to_its_total(tmp_path):
    path = corpus_file("news-fr-sample.jsonl")
    paragraphs = sum(len(json.loads(line)["paragraphs"]) for line in path.read_text(encoding="utf-8").splitlines())
    size = path.stat().st_size
    recorder = Recorder()
    Archive(tmp_path / "h").add([str(path)], progress=recorder, procs=2)
    assert recorder.phases == [["storing", size, "B", size], ["analysing", 200, " articles", 200],
                               ["writing", paragraphs, " paragraphs", paragraphs]]
    recorder = Recorder()
    Archive(tmp_path / "h").rebuild(progress=recorder, procs=2)
    assert recorder.phases == [["copies", 200, " articles", 200], ["analysing", 200, " articles", 200],
                               ["writing", paragraphs, " paragraphs", paragraphs]]


def _counting(n: int) -> int:
    for _ in range(n):
        report_progress("counting", 1)
    return n


def test_workers_report_their_progress_to_one_bar():
    recorder = Recorder()
    assert run_jobs([(_counting, (300,)), (_counting, (200,))], 2, {"counting": (500, " items")}, recorder) == [
        300, 200]
    assert recorder.phases == [["counting", 500, " items", 500]]


def test_a_bar_ends_at_its_total_when_the_last_reports_come_late(monkeypatch):
    import multiprocessing.queues
    import time

    feed = multiprocessing.queues.Queue._feed

    def late_feed(*args):
        time.sleep(0.5)  # a busy machine: the worker's queue thread sends its reports late
        return feed(*args)

    # (Forked workers inherit the patched class: their reports arrive after their results.)
    monkeypatch.setattr(multiprocessing.queues.Queue, "_feed", staticmethod(late_feed))
    recorder = Recorder()
    assert run_jobs([(_counting, (300,)), (_counting, (200,))], 2, {"counting": (500, " items")}, recorder) == [
        300, 200]
    assert recorder.phases == [["counting", 500, " items", 500]]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("stream, shown", [(io.StringIO(), ""), (Terminal(), "storing  :   0%|")])
def test_a_bar_shows_on_a_terminal_only(monkeypatch, stream, shown):
    monkeypatch.setattr(cli_common, "BAR_DELAY", 0)
    monkeypatch.setattr("sys.stderr", stream)
    with cli_common.bar("storing", 2048, "B") as advance:
        advance(1024)
    assert stream.getvalue()[1:len(shown) + 1] == shown
    assert ("0.00/2.00k" in stream.getvalue()) == bool(shown)


def test_add_is_quiet_but_for_its_summary_when_stderr_is_not_a_terminal(runner, home, tmp_path, monkeypatch):
    monkeypatch.setattr(cli_common, "BAR_DELAY", 0)
    path = tmp_path / "a.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in _records(3)) + "\n", encoding="utf-8")
    r = runner.invoke(cli.cli, ["--home", str(home), "add", str(path)])
    summary, note = r.output.splitlines()  # no bar; the records' missing dates are noted
    assert summary == "3 added, 0 updated, 0 unchanged, 0 failed; 9 paragraphs in 1.5 s"
    assert note.startswith("note: 3 articles without a date (")
    r = runner.invoke(cli.cli, ["--home", str(home), "rebuild"])
    assert r.output == "index rebuilt: 3 articles, 9 paragraphs in 1.5 s\n"
