"""Shared fixtures: temporary homes, the seed archive, the 200-article sample, the web app."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive.home import Archive
from archive.search import close_engines
from tests.support import HUGE_EVERY, HUGE_ID, HUGE_PARAGRAPHS, RECORDS, SEEDS, corpus_file

# The command line speaks the locale's language: the suite's expected lines are English
# whatever the machine's locale (tests of French set ARCHIVE_LANG or LANG themselves).
os.environ["ARCHIVE_LANG"] = "en"

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
    monkeypatch.setattr("archive.cli.common.clock", lambda: next(ticks))


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
def research_home(archive: Archive) -> Archive:
    """An archive of the five RECORDS articles, for the research tools."""
    from archive.model import Article

    archive.add_articles([Article.from_record(r) for r in RECORDS])
    return archive


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


@pytest.fixture
def admin_app(seeded: Archive):
    """The web app on the seed archive with adding enabled (token ``s3cret``), uploads limited to 64 KiB."""
    from webui import create_app

    app = create_app({"ARCHIVE_HOME": str(seeded.home), "ARCHIVE_ADMIN_TOKEN": "s3cret",
                      "MAX_CONTENT_LENGTH": 64 * 1024})
    yield app
    app.extensions["archive"].close()


@pytest.fixture
def admin(admin_app):
    return admin_app.test_client()


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
    from tests.clusters import ClusterFailed, new_cluster, remove_cluster

    try:
        local = new_cluster()
    except (ClusterFailed, OSError, subprocess.SubprocessError) as exc:
        if os.environ.get("ARCHIVE_REQUIRE_CLUSTER") == "1":
            pytest.fail(f"the local OpenSearch cluster is required (ARCHIVE_REQUIRE_CLUSTER=1) but did not start:"
                        f" {exc}")
        pytest.skip(f"the local OpenSearch cluster did not start: {exc}")
    yield local
    remove_cluster(local)
