"""Shared fixtures: temporary homes, the seed archive, the 200-article sample, the web app."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive.home import Archive
from archive.search import close_engines

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


_CORPUS_FIXTURES = {"sample_home", "sample_copy", "sample_server"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests that read the shared corpus through a fixture (``-m "not corpus"`` skips them)."""
    for item in items:
        if _CORPUS_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.corpus)


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
