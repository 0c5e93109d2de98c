"""Read replicas: a consistent copy while the source keeps adding, the same answers, nothing overwritten."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

import archive.replica as replica_module
from archive.cli import cli
from archive.home import Archive
from archive.replica import MARKER, ReplicaRefused, replicate
from archive.search import Engine, SearchRequest, search
from archive.store import PAGE_BYTES

QUERIES = ["grève", "réforme des retraites", '"premier ministre"', "gouvernement -Macron", "vaccin OR masque",
           "titre:coronavirus", "tag:politique France"]
WORDS = "grève cheminots réforme retraites ministre Lyon hôpital vaccin maire budget climat".split()


def answers(home: Path) -> list[tuple[int, list[tuple[str, float]]]]:
    """Return each query's total and ranked (id, score) pairs on a home."""
    out = []
    for query in QUERIES:
        found = search(home, query, per_page=50)
        out.append((found.total_articles, [(h.id, h.score) for h in found.hits]))
    return out


def add_batch(home: Path, folder: Path, name: str, count: int) -> None:
    path = folder / f"{name}.jsonl"
    path.write_text("".join(json.dumps({"id": f"{name}-{i}", "title": f"{WORDS[i % len(WORDS)]} {name} {i}",
                                        "date": f"2021-0{1 + i % 9}-01",
                                        "paragraphs": [" ".join(WORDS[(i + j) % len(WORDS)] for j in range(5)),
                                                       f"Dépêche {name} numéro {i}."]}) + "\n"
                            for i in range(count)), encoding="utf-8")
    assert Archive(home).add([str(path)]).counts()["added"] == count


def test_a_replica_answers_every_query_as_its_source(sample_copy, tmp_path):
    done = replicate(Archive(sample_copy), Archive(tmp_path / "replica"))
    assert (done.articles, done.pending, done.linked) == (200, 0, 0)
    assert done.copied == len(json.loads(next((sample_copy / "index").glob("g*/MANIFEST.json")).read_text())["files"])
    assert answers(tmp_path / "replica") == answers(sample_copy)
    assert all(total for total, _ in answers(sample_copy))
    assert Archive(tmp_path / "replica").check().ok
    marker = json.loads((tmp_path / "replica" / MARKER).read_text())
    assert (marker["source"], marker["generation"]) == (str(sample_copy), Archive(sample_copy).store.generation())
    assert not list(sample_copy.glob(".replica-*"))  # the staging folder is gone


def test_replicating_again_copies_only_new_files_and_an_open_reader_follows(sample_copy, tmp_path):
    replica = tmp_path / "replica"
    first = replicate(Archive(sample_copy), Archive(replica))
    reader = Engine(replica)  # a server on the replica, open across replications
    request = SearchRequest.build("dépêche numéro", per_page=50)
    before = reader.search(request).total_articles
    again = replicate(Archive(sample_copy), Archive(replica))
    assert (again.copied, again.linked) == (0, first.copied)
    add_batch(sample_copy, tmp_path, "nuit", 30)
    third = replicate(Archive(sample_copy), Archive(replica))
    assert third.copied > 0 and third.linked > 0 and third.articles == 230
    assert reader.search(request).total_articles == search(sample_copy, "dépêche numéro").total_articles
    assert reader.search(request).total_articles == before + 30
    assert answers(replica) == answers(sample_copy)
    assert [p.name for p in (replica / "index").iterdir() if p.name.startswith("g")] == [
        (replica / "index" / "CURRENT").read_text().strip()]
    reader.close()


def test_an_add_between_staging_and_publishing_waits_for_the_next_copy(tmp_path, monkeypatch):
    source, replica = tmp_path / "source", tmp_path / "replica"
    add_batch(source, tmp_path, "jour", 40)
    before = answers(source)
    publish = replica_module.publish_index

    def add_meanwhile(staged: Path, dest: Archive) -> tuple[int, int, int]:
        # The source's lock is free once staged: the night's add goes in now.
        add_batch(source, tmp_path, "soir", 25)
        return publish(staged, dest)

    monkeypatch.setattr(replica_module, "publish_index", add_meanwhile)
    done = replicate(Archive(source), Archive(replica))
    monkeypatch.undo()
    # The replica is the source as staged: before the add, whole and consistent.
    assert done.articles == 40
    assert answers(replica) == before
    assert Archive(replica).check().ok
    assert replicate(Archive(source), Archive(replica)).articles == 65
    assert answers(replica) == answers(source) != before


def test_a_replication_killed_half_way_leaves_a_replica_the_next_one_completes(tmp_path, monkeypatch):
    source, replica = tmp_path / "source", tmp_path / "replica"
    add_batch(source, tmp_path, "jour", 20)
    replicate(Archive(source), Archive(replica))
    add_batch(source, tmp_path, "soir", 20)

    def killed(staged: Path, dest: Archive) -> tuple[int, int, int]:
        raise KeyboardInterrupt  # after the store went in, before the index switched

    monkeypatch.setattr(replica_module, "publish_index", killed)
    with pytest.raises(KeyboardInterrupt):
        replicate(Archive(source), Archive(replica))
    monkeypatch.undo()
    assert len(Archive(replica).store) == 40  # the store is the new copy, the index the old one
    assert search(replica, "soir").total_articles == 0
    assert replicate(Archive(source), Archive(replica)).articles == 40
    assert answers(replica) == answers(source)
    assert Archive(replica).check().ok


def test_a_home_that_is_not_a_replica_is_never_overwritten(tmp_path):
    source, other = tmp_path / "source", tmp_path / "other"
    add_batch(source, tmp_path, "jour", 5)
    add_batch(other, tmp_path, "autre", 3)
    with pytest.raises(ReplicaRefused, match=r"holds an archive \(3 articles\) that is not a replica"):
        replicate(Archive(source), Archive(other))
    assert sorted(Archive(other).store.ids()) == ["autre-0", "autre-1", "autre-2"]
    with pytest.raises(ReplicaRefused, match="another home"):
        replicate(Archive(source), Archive(source))


def test_a_replica_written_to_since_its_copy_is_refused(tmp_path):
    source, replica = tmp_path / "source", tmp_path / "replica"
    add_batch(source, tmp_path, "jour", 5)
    replicate(Archive(source), Archive(replica))
    add_batch(replica, tmp_path, "local", 2)  # articles stored nowhere else
    with pytest.raises(ReplicaRefused, match="was written to since it was copied"):
        replicate(Archive(source), Archive(replica))
    assert len(Archive(replica).store) == 7


def test_a_source_whose_last_commit_is_unrecorded_must_be_repaired_first(tmp_path):
    source = tmp_path / "source"
    add_batch(source, tmp_path, "jour", 5)
    folder = Archive(source).index_dir.path / str(Archive(source).index_dir.current_name())
    manifest = json.loads((folder / "MANIFEST.json").read_text())
    manifest["toc"] = "_MAIN_0.toc"  # as a writer killed between its commit and its manifest leaves it
    (folder / "MANIFEST.json").write_text(json.dumps(manifest))
    with pytest.raises(ReplicaRefused, match="check --repair"):
        replicate(Archive(source), Archive(tmp_path / "replica"))
    assert not (tmp_path / "replica" / "index").exists()


def test_the_replicate_command(tmp_path):
    source, replica = tmp_path / "source", tmp_path / "replica"
    add_batch(source, tmp_path, "jour", 5)
    runner = CliRunner()
    r = runner.invoke(cli, ["--home", str(source), "replicate", str(replica), "--json"])
    assert r.exit_code == 0, r.output
    report = json.loads(r.output)
    assert (report["articles"], report["pending"], report["linked"]) == (5, 0, 0)
    r = runner.invoke(cli, ["--home", str(source), "replicate", str(replica)])
    assert r.exit_code == 0
    assert r.output.startswith(f"{replica}: a replica of {source} at store generation ")
    assert r.output.endswith(f"index files: 0 copied (0.0 MB), {report['copied']} already there\n")
    r = runner.invoke(cli, ["--home", str(replica), "replicate", str(source)])
    assert r.exit_code == 1
    assert "is not a replica" in r.output
    r = runner.invoke(cli, ["--home", str(tmp_path / "nowhere"), "replicate", str(replica)])
    assert r.exit_code == 1
    assert not (tmp_path / "nowhere").exists()


def test_python_dash_m_archive_cli_knows_the_commands_of_every_cli_module(tmp_path):
    import subprocess
    import sys

    for command in ("replicate", "trend", "serve"):
        r = subprocess.run([sys.executable, "-m", "archive.cli", command, "--help"], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        assert r.stdout.startswith(f"Usage: archive {command} ")


@pytest.mark.parametrize("older", ["source", "replica"])
def test_a_store_replicates_into_a_home_of_another_page_size(tmp_path, older):
    # Stores made before 16 KiB pages keep 4 KiB ones; SQLite copies into a WAL database only page for page.
    homes = {"source": tmp_path / "source", "replica": tmp_path / "replica"}
    homes[older].mkdir()
    db = sqlite3.connect(homes[older] / "archive.sqlite3")
    db.execute("PRAGMA page_size = 4096")
    db.execute("CREATE TABLE t (x)")
    db.close()
    add_batch(homes["source"], tmp_path, "a", 30)
    Archive(homes["replica"])  # an empty replica, its store created as it would be
    done = replicate(Archive(homes["source"]), Archive(homes["replica"]))
    assert done.articles == 30
    assert answers(homes["replica"]) == answers(homes["source"])
    sizes = {name: Archive(home).store.db.execute("PRAGMA page_size").fetchone()[0] for name, home in homes.items()}
    assert sizes[older] == 4096 and sizes[next(n for n in homes if n != older)] == PAGE_BYTES
