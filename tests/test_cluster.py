"""The archive on a real 3-node OpenSearch cluster (tools/cluster): analysis, writes, checks and faults."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from archive.analysis import FRENCH, WORD_RE
from archive.cli import cli
from archive.engines import open_engine
from archive.engines.config import CONFIG_FILE, EngineConfig, load_config, save_config
from archive.engines.opensearch.client import connect
from archive.engines.opensearch.settings import index_body
from archive.engines.opensearch.writing import ClusterWriter
from archive.errors import ArticleNotFound
from archive.failpoints import held
from archive.home import AddReport, Archive
from archive.model import Article
from tests.support import SEEDS

pytestmark = [pytest.mark.cluster, pytest.mark.slow]


@pytest.fixture
def cluster_home(cluster, tmp_path: Path):
    """A home whose archive.toml points at the session's cluster; its indexes are dropped afterwards."""
    home = tmp_path / "home"
    home.mkdir()
    config = EngineConfig(home=home.resolve(), engine="opensearch", hosts=tuple(cluster.hosts))
    save_config(config)
    yield home
    if cluster.running().count(0) == 0:
        ClusterWriter(load_config(home), Archive(home).store).drop()


def _records(n: int, seed: int = 7) -> list[dict]:
    """Return n distinct articles of a few French paragraphs (no two alike: no copies)."""
    rng = random.Random(seed)
    words = ("grève conseil municipal élection député ministère budget hôpital école tribunal enquête "
             "incendie forêt récolte vendange marché usine salariés syndicat préfet mairie région "
             "tempête inondation sécheresse football cyclisme festival théâtre musée patrimoine").split()
    records = []
    for i in range(n):
        paragraphs = [" ".join(rng.choice(words) for _ in range(25)) + f" numéro {i} {rng.random():.6f}."
                      for _ in range(3)]
        records.append({"id": f"synth-{i:04d}", "title": f"Dépêche {i} : {rng.choice(words)}",
                        "date": f"2021-{1 + i % 12:02d}-{1 + i % 28:02d}", "source": "Test",
                        "paragraphs": paragraphs})
    return records


def _jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def test_tools_cluster_prints_hosts_and_pids(cluster) -> None:
    assert len(cluster.hosts) == 3 and all(h.startswith("http://127.0.0.1:") for h in cluster.hosts)
    assert cluster.running() == cluster.pids
    health = connect(cluster.hosts).cluster.health()
    assert (health["number_of_nodes"], health["status"] in ("green", "yellow")) == (3, True)


EXAMPLES = [
    "L’Assemblée a décidé d'investir aujourd’hui en R&D.",
    "lʼÉtat d‘urgence, qu’il dit : jusqu'à l'O.N.U. !",
    "Quand et pourquoi la tour a-t-elle été construite ? Où ? Comment ?",
    "Le cœur de l’œuvre ; ex æquo ; les Œuvres complètes",
    "Investissements, investir ; ÉLECTIONS élection Élection",
]


def test_analysis_matches_the_chain_on_french_examples(cluster) -> None:
    client = connect(cluster.hosts)
    client.indices.create(index="archive-test-analysis", body=index_body(1, 0))
    try:
        for text in EXAMPLES:
            raws = WORD_RE.findall(text)
            expected = {
                "archive_search": {p: set(FRENCH.word(r).search) for p, r in enumerate(raws) if FRENCH.word(r).search},
                "archive_exact": {p: {FRENCH.word(r).exact} for p, r in enumerate(raws)},
                "archive_forms": {p: {FRENCH.word(r).form.replace("’", "'")} for p, r in enumerate(raws)},
            }
            for analyzer, wanted in expected.items():
                got: dict[int, set[str]] = {}
                for token in client.indices.analyze(index="archive-test-analysis",
                                                    body={"analyzer": analyzer, "text": text})["tokens"]:
                    got.setdefault(token["position"], set()).add(token["token"])
                assert got == wanted, (analyzer, text)
    finally:
        client.indices.delete(index="archive-test-analysis")


def test_add_then_check_agrees_and_copies_follow(cluster_home: Path, wire_records: list[dict],
                                                tmp_path: Path) -> None:
    archive = Archive(cluster_home)
    report = archive.add([str(SEEDS), str(_jsonl(tmp_path / "wire.jsonl", wire_records))])
    assert (report.counts()["added"], report.pending) == (4, 0)
    assert archive.check().ok
    assert archive.store.pending() == []
    client = connect(load_config(cluster_home).hosts)
    alias = load_config(cluster_home).alias

    def doc(article_id: str) -> dict:
        return client.get(index=alias, id=article_id)["_source"]

    dispatch, copy = doc("afp-traore"), doc("copie-traore")
    assert (dispatch["copies"], dispatch["representative"]) == ([{"id": "copie-traore", "source": "Le Parisien"}],
                                                                True)
    assert (copy["copies"], copy["representative"]) == ([{"id": "afp-traore", "source": "Orange Actu"}], False)
    assert dispatch["copy_group"] == copy["copy_group"] != doc("marche-traore")["copy_group"]
    assert (dispatch["paragraph_count"], dispatch["revisions"]) == (len(wire_records[0]["paragraphs"]), 1)
    # Removing a copy changes what its mate's document shows.
    archive.remove(["copie-traore"])
    assert (doc("afp-traore")["copies"], doc("afp-traore")["representative"]) == ([], True)
    assert archive.check().ok
    assert client.count(index=alias)["count"] == 3


def test_a_web_server_without_the_store_shows_versions_from_the_cluster(cluster_home: Path, tmp_path: Path) -> None:
    archive = Archive(cluster_home)
    for text in ("La grève continue à Lille.", "La grève est levée à Lille."):
        archive.add_articles([Article.from_record({"id": "v1", "title": "Grève à Lille", "date": "2021-03-01",
                                                   "paragraphs": [text]})])
    # A web server's home: only an archive.toml naming the same index, no store.
    web = tmp_path / "web"
    web.mkdir()
    config = load_config(cluster_home)
    save_config(EngineConfig(home=web.resolve(), engine="opensearch", hosts=config.hosts, index=config.alias))
    engine = open_engine(web)
    assert [(e.revision, e.title) for e in engine.history("v1")] == [(1, "Grève à Lille"), (2, "Grève à Lille")]
    assert engine.history("v1") == archive.store.history("v1")
    assert engine.revision("v1", 1).paragraphs == ["La grève continue à Lille."]
    assert engine.revision("v1", 2).paragraphs == ["La grève est levée à Lille."]
    with pytest.raises(ArticleNotFound):
        engine.revision("v1", 3)
    assert engine.history("nothing") == []
    from webui import create_app

    client = create_app({"ARCHIVE_HOME": str(web), "TESTING": True, "ARCHIVE_ADMIN_TOKEN": "s3cret"}).test_client()
    current = client.get("/article/v1").get_data(as_text=True)
    assert "(2 versions)" in current and "La grève est levée à Lille." in current
    earlier = client.get("/article/v1?revision=1").get_data(as_text=True)
    assert "Version antérieure 1 sur 2." in earlier and "La grève continue à Lille." in earlier
    assert client.get("/article/v1?revision=3").status_code == 404
    assert client.get("/").status_code == 200 and client.get("/?q=grève").status_code == 200
    added = client.post("/api/articles", json={"id": "w1", "title": "T", "paragraphs": ["Metz."]},
                        headers={"Authorization": "Bearer s3cret"})
    assert (added.status_code, added.get_json()["code"]) == (403, "no_store")
    assert not (web / "archive.sqlite3").exists()
    engine.close()


def test_rebuild_switches_the_alias_and_moves_between_engines(cluster, tmp_path: Path, runner) -> None:
    home = tmp_path / "home"
    assert runner.invoke(cli, ["--home", str(home), "add", str(SEEDS)]).exit_code == 0
    hosts = ",".join(cluster.hosts)
    moved = runner.invoke(cli, ["--home", str(home), "rebuild", "--engine", "opensearch", "--hosts", hosts])
    assert moved.exit_code == 0, moved.output
    config = load_config(home)
    assert (config.engine, config.hosts) == ("opensearch", tuple(cluster.hosts))
    writer = ClusterWriter(config, Archive(home).store)
    try:
        assert (writer.live_index(), list(writer.generations())) == (f"{config.alias}-000001",
                                                                      [f"{config.alias}-000001"])
        assert runner.invoke(cli, ["--home", str(home), "rebuild"]).exit_code == 0
        assert (writer.live_index(), list(writer.generations())) == (f"{config.alias}-000002",
                                                                      [f"{config.alias}-000002"])
        checked = runner.invoke(cli, ["--home", str(home), "check"])
        assert (checked.exit_code, checked.output) == (0, "store and index agree\n")
        back = runner.invoke(cli, ["--home", str(home), "rebuild", "--engine", "whoosh"])
        assert back.exit_code == 0, back.output
        assert not (home / CONFIG_FILE).exists() and load_config(home).engine == "whoosh"
        assert Archive(home).check().ok
    finally:
        writer.drop()


def test_check_lists_each_difference_and_repair_fixes_them(cluster_home: Path, runner) -> None:
    archive = Archive(cluster_home)
    archive.add([str(SEEDS)])
    config = load_config(cluster_home)
    client = connect(config.hosts)
    client.index(index=config.alias, id="ghost", body={"title": "x", "content_hash": "0", "paragraph_count": 1},
                 refresh=True)
    seed = archive.store.ids()[0]
    client.update(index=config.alias, id=seed, body={"doc": {"content_hash": "changed"}}, refresh=True)
    checked = runner.invoke(cli, ["--home", str(cluster_home), "check"])
    assert (checked.exit_code, checked.output) == (1, f"extra: 1 (ghost)\nstale: 1 ({seed})\n")
    repaired = runner.invoke(cli, ["--home", str(cluster_home), "check", "--repair"])
    assert (repaired.exit_code, repaired.output.splitlines()[-1]) == (0, "repaired")
    assert archive.check().ok


def test_node_killed_during_add_loses_nothing(cluster, cluster_home: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("archive.engines.opensearch.writing.CHUNK", 40)  # several bulk requests from few articles
    archive = Archive(cluster_home)
    archive.add([str(SEEDS)])  # the index exists: the big add goes through the queue, replicas on
    big = _jsonl(tmp_path / "big.jsonl", _records(150))
    reports: list[AddReport] = []
    with held("mid-index-write") as hold:
        # The first bulk chunk is acknowledged, the rest not yet sent, when the node dies.
        writer = threading.Thread(target=lambda: reports.append(archive.add([str(big)])))
        writer.start()
        assert hold.reached.wait(300)
        cluster.kill(1)
    writer.join(600)
    assert (reports[0].counts()["added"], reports[0].pending, reports[0].notes) == (150, 0, [])
    cluster.start()  # brings the node back
    assert cluster.running().count(0) == 0
    report = archive.check()
    assert (report.ok, report.missing, report.stale) == (True, [], [])
    config = load_config(cluster_home)
    assert connect(config.hosts).count(index=config.alias)["count"] == 151


def test_cluster_down_add_stores_then_repair_catches_up(cluster, cluster_home: Path, tmp_path: Path,
                                                        runner) -> None:
    archive = Archive(cluster_home)
    archive.add([str(SEEDS)])
    records = _records(3, seed=11)
    cluster.stop()
    try:
        added = runner.invoke(cli, ["--home", str(cluster_home), "add", str(_jsonl(tmp_path / "a.jsonl", records))])
        assert added.exit_code == 0, added.output
        assert "note: indexing pending for 3 articles: the search cluster" in added.stderr
        assert added.stdout.startswith("3 added, 0 updated, 0 unchanged, 0 failed")
        assert archive.store.pending() == [r["id"] for r in records]
        down = runner.invoke(cli, ["--home", str(cluster_home), "check"])
        assert down.exit_code == 4 and "error: the search cluster" in down.stderr
    finally:
        cluster.start()
    repaired = runner.invoke(cli, ["--home", str(cluster_home), "check", "--repair"])
    assert (repaired.exit_code, repaired.output.splitlines()[-1]) == (0, "repaired")
    assert archive.store.pending() == [] and archive.check().ok


@pytest.mark.parametrize("point", ["after-store-commit", "after-index-commit"])
def test_add_killed_is_finished_by_the_next_write(cluster_home: Path, tmp_path: Path, point: str) -> None:
    Archive(cluster_home).add([str(SEEDS)])
    first, second = _records(4, seed=5)[:2], _records(4, seed=5)[2:]
    killed = subprocess.run([sys.executable, "-m", "archive.cli", "--home", str(cluster_home), "add",
                             str(_jsonl(tmp_path / "first.jsonl", first))], capture_output=True, text=True,
                            timeout=300, env=dict(os.environ, ARCHIVE_FAILPOINT=point))
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    archive = Archive(cluster_home)
    assert archive.store.pending() == [r["id"] for r in first]
    report = archive.add([str(_jsonl(tmp_path / "second.jsonl", second))])
    assert (report.counts()["added"], report.pending) == (2, 0)
    assert archive.store.pending() == [] and archive.check().ok
