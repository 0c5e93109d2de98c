"""Shared fixtures: temporary homes, the seed archive, the 200-article sample, the web app."""

from __future__ import annotations

import itertools
import os
import shutil
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
from click.testing import CliRunner

from archive.home import Archive
from archive.search import close_engines
from archive.workers import children

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SEED_ID = "000_00611d59cef2efbe"
CORPUS = ROOT.parent / "shared" / "corpus"


def corpus_file(name: str) -> Path:
    """Return a shared corpus file, skipping the test when it is absent (failing when required)."""
    path = CORPUS / name
    if not path.exists():
        if os.environ.get("ARCHIVE_REQUIRE_CORPUS") == "1":
            pytest.fail(f"{path} is required (ARCHIVE_REQUIRE_CORPUS=1) but absent")
        pytest.skip(f"{path} is absent")
    return path


def start_server(app) -> tuple[object, str, threading.Thread]:
    """Serve a WSGI app with waitress in a thread; return the server, its URL and the thread."""
    from waitress.server import create_server

    server = create_server(app, host="127.0.0.1", port=0, threads=4)

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
    for channel in list(server._map.values()):
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


_CORPUS_FIXTURES = {"sample_home", "sample_copy", "sample_server"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests that read the shared corpus through a fixture (``-m "not corpus"`` skips them)."""
    for item in items:
        if _CORPUS_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.corpus)


@pytest.fixture(autouse=True)
def _steady_clock(monkeypatch):
    """Let the command line's clock tick 1.5 s per reading, so that its summary lines compare exactly."""
    ticks = itertools.count(0, 1.5)
    monkeypatch.setattr("archive.cli._clock", lambda: next(ticks))


@pytest.fixture(autouse=True)
def _fresh_engines():
    """Drop cached search engines between tests (each test has its own homes)."""
    yield
    close_engines()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def archive(home: Path) -> Archive:
    return Archive(home, lock_wait=2.0)


@pytest.fixture
def seeded(archive: Archive) -> Archive:
    report = archive.add([str(SEEDS)])
    assert report.counts() == {"added": 1, "updated": 0, "unchanged": 0, "failed": 0}
    return archive


@pytest.fixture(scope="session")
def sample_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home holding the 200 articles of news-fr-sample.jsonl, built once per session."""
    path = corpus_file("news-fr-sample.jsonl")
    home = tmp_path_factory.mktemp("sample")
    report = Archive(home).add([str(path)])
    assert report.counts()["added"] == 200
    return home


#: The huge article: 30,000 paragraphs, every thousandth about a platypus.
HUGE_ID, HUGE_PARAGRAPHS, HUGE_EVERY = "compte-rendu", 30_000, 1_000


@pytest.fixture(scope="session")
def huge_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home holding one 30,000-paragraph article and the seed article, built once per session."""
    from archive.model import Article

    home = tmp_path_factory.mktemp("huge")
    paragraphs = ["La séance continue." + (" Un ornithorynque traverse l’hémicycle." if n % HUGE_EVERY == 0 else "")
                  for n in range(1, HUGE_PARAGRAPHS + 1)]
    arch = Archive(home)
    arch.add([str(SEEDS)])
    arch.add_articles([Article.from_record({"id": HUGE_ID, "title": "Compte rendu intégral de la séance",
                                            "date": "2021-03-04", "paragraphs": paragraphs})])
    return home


@pytest.fixture
def sample_copy(sample_home: Path, tmp_path: Path) -> Path:
    """A private copy of the sample home, for tests that write."""
    target = tmp_path / "sample"
    shutil.copytree(sample_home, target)
    return target


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def app(seeded: Archive):
    from webui import create_app

    app = create_app({"ARCHIVE_HOME": str(seeded.home), "TESTING": True, "ARCHIVE_ADMIN_TOKEN": None})
    yield app
    app.extensions["archive"].close()


@pytest.fixture
def client(app):
    return app.test_client()


# An agency dispatch, the same dispatch lightly edited by another title, and an
# unrelated article on the same subject (for the copy clusters).
DISPATCH = [
    "Quatre ans après la mort d'Adama Traoré lors de son interpellation, les avocats de la famille "
    "et de la défense ont livré jeudi à la presse deux versions contradictoires de l'audition d'un "
    "témoin clé, chacun y voyant la démonstration de sa thèse dans ce dossier sensible.",
    "Ce témoin, chez qui Adama Traoré s'était réfugié le 19 juillet 2016 à Beaumont-sur-Oise juste "
    "avant son arrestation par les gendarmes, était entendu pour la première fois par les juges "
    "d'instruction, en présence des avocats.",
    "Enjeu de l'interrogatoire : déterminer dans quel état de santé se trouvait Adama Traoré avant "
    "l'arrivée des gendarmes, alors que les derniers experts judiciaires ont estimé que son pronostic "
    "vital était engagé de façon irréversible avant l'arrestation.",
    "Mais à l'issue de cette audition de plus de quatre heures, chaque camp en a donné un récit "
    "diamétralement opposé.",
]
COPY = [
    DISPATCH[0].replace("jeudi", "ce jeudi"),
    DISPATCH[1],
    DISPATCH[2].replace("les derniers experts judiciaires", "les experts"),
    DISPATCH[3] + " L'enquête se poursuit.",
]
SAME_SUBJECT = [
    "La famille d'Adama Traoré a de nouveau manifesté samedi à Beaumont-sur-Oise pour réclamer la "
    "vérité sur la mort du jeune homme, survenue en juillet 2016 dans la caserne de Persan après son "
    "interpellation par des gendarmes.",
    "Plusieurs milliers de personnes ont défilé derrière Assa Traoré, sa sœur, qui dénonce depuis "
    "quatre ans les lenteurs de l'instruction et les expertises médicales successives, qu'elle juge "
    "favorables aux militaires.",
    "Les juges d'instruction doivent encore entendre plusieurs témoins dans les prochaines semaines, "
    "selon une source proche du dossier, avant de décider d'éventuelles mises en examen.",
]


@pytest.fixture
def wire_records() -> list[dict]:
    """Three records: a dispatch, its copy in another title, an unrelated article on the affair."""
    return [
        {"id": "afp-traore", "title": "Affaire Traoré : deux versions d'une audition clé",
         "source": "Orange Actu", "date": "2020-07-02", "paragraphs": DISPATCH},
        {"id": "copie-traore", "title": "Adama Traoré : les avocats s'opposent sur un témoin",
         "source": "Le Parisien", "date": "2020-07-03", "paragraphs": COPY},
        {"id": "marche-traore", "title": "Nouvelle marche pour Adama Traoré",
         "source": "Ouest-France", "date": "2020-07-18", "paragraphs": SAME_SUBJECT},
    ]


@pytest.fixture(scope="session")
def cluster():
    """A 3-node OpenSearch cluster (tools/cluster), started once per session; skipped if it cannot start.

    With ``ARCHIVE_REQUIRE_CLUSTER=1`` (CI) a cluster that cannot start fails the tests instead.
    """
    from clusters import ClusterFailed, new_cluster, remove_cluster

    try:
        local = new_cluster()
    except (ClusterFailed, OSError, subprocess.SubprocessError) as exc:
        if os.environ.get("ARCHIVE_REQUIRE_CLUSTER") == "1":
            pytest.fail(f"the local OpenSearch cluster is required (ARCHIVE_REQUIRE_CLUSTER=1) but did not start:"
                        f" {exc}")
        pytest.skip(f"the local OpenSearch cluster did not start: {exc}")
    yield local
    remove_cluster(local)
