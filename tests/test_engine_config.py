"""The engine config of a home (archive.toml and the environment) and the cluster's article documents."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from archive.engines.config import CONFIG_FILE, EngineConfig, load_config, save_config
from archive.engines.opensearch.documents import article_document
from archive.engines.opensearch.settings import alias_name, index_name
from archive.errors import BadParameter
from archive.model import Article, Block


@pytest.fixture(autouse=True)
def _no_engine_variables(monkeypatch):
    for name in ("ARCHIVE_ENGINE", "ARCHIVE_ENGINE_HOSTS", "ARCHIVE_ENGINE_INDEX"):
        monkeypatch.delenv(name, raising=False)


def test_a_home_without_config_uses_the_embedded_engine(tmp_path: Path) -> None:
    config = load_config(tmp_path)
    assert (config.engine, config.hosts, config.cluster) == ("whoosh", (), False)


def test_config_round_trips_through_archive_toml(tmp_path: Path) -> None:
    config = EngineConfig(home=tmp_path, engine="opensearch", hosts=("http://127.0.0.1:9200", "http://h2:9201"),
                          index="archive-news")
    save_config(config)
    assert (tmp_path / CONFIG_FILE).read_text() == (
        'engine = "opensearch"\nhosts = ["http://127.0.0.1:9200", "http://h2:9201"]\nindex = "archive-news"\n')
    assert load_config(tmp_path) == config and config.alias == "archive-news"
    save_config(config.with_engine("whoosh"))
    assert not (tmp_path / CONFIG_FILE).exists()


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch) -> None:
    save_config(EngineConfig(home=tmp_path, engine="opensearch", hosts=("http://a:9200",)))
    monkeypatch.setenv("ARCHIVE_ENGINE_HOSTS", "http://127.0.0.1:9200, http://127.0.0.1:9201/")
    config = load_config(tmp_path)
    assert (config.hosts, config.alias) == (("http://127.0.0.1:9200", "http://127.0.0.1:9201"),
                                            alias_name(tmp_path))
    monkeypatch.setenv("ARCHIVE_ENGINE", "whoosh")
    assert load_config(tmp_path).engine == "whoosh"
    monkeypatch.setenv("ARCHIVE_ENGINE", "opensearch")
    monkeypatch.delenv("ARCHIVE_ENGINE_HOSTS")
    (tmp_path / CONFIG_FILE).unlink()
    assert load_config(tmp_path).hosts == ("http://127.0.0.1:9200",)


@pytest.mark.parametrize(("variable", "value", "code"), [
    ("ARCHIVE_ENGINE", "elastic", "engine_name"),
    ("ARCHIVE_ENGINE_HOSTS", "127.0.0.1:9200", "engine_hosts"),
])
def test_bad_engine_settings_are_refused_with_one_line(tmp_path: Path, monkeypatch, variable: str, value: str,
                                                       code: str) -> None:
    monkeypatch.setenv("ARCHIVE_ENGINE", "opensearch")
    monkeypatch.setenv(variable, value)
    with pytest.raises(BadParameter) as caught:
        load_config(tmp_path)
    assert caught.value.code == code


def test_an_unreadable_config_is_a_bad_parameter(tmp_path: Path) -> None:
    (tmp_path / CONFIG_FILE).write_text("engine = \n")
    with pytest.raises(BadParameter) as caught:
        load_config(tmp_path)
    assert caught.value.code == "engine_config"


def test_index_names_are_versioned_behind_a_home_alias(tmp_path: Path) -> None:
    alias = alias_name(tmp_path)
    assert alias == alias_name(str(tmp_path)) and alias.startswith("archive-") and len(alias) == 20
    assert alias != alias_name(tmp_path / "other")
    assert index_name(alias, 7) == f"{alias}-000007"


def test_article_document_carries_what_a_page_shows() -> None:
    article = Article(id="greve-1", title="Grève à la SNCF", date=dt.date(2024, 3, 5), source="Le Monde",
                      authors=("A. Martin", "B. Durand"), tags=("social",), url="https://example.org/1",
                      blocks=(Block("Les trains", heading=True), Block("La grève continue.")))
    versions = [{"revision": 1, "stored_at": "2024-03-05T10:00:00+00:00", "source": "greve.txt",
                 "title": "Grève", "record": {"id": "greve-1", "title": "Grève", "paragraphs": ["Avant."]}},
                {"revision": 2, "stored_at": "2024-03-06T10:00:00+00:00", "source": "greve.txt",
                 "title": "Grève à la SNCF", "record": None}]
    doc = article_document(article, ("afp-1", [{"id": "afp-1", "source": "AFP"}], False),
                           indexed_at="2026-01-01T00:00:00+00:00", versions=versions)
    assert doc == {
        "id": "greve-1", "title": "Grève à la SNCF", "title_derived": False,
        "paragraphs": [{"n": 0, "text": "Les trains", "kind": "heading"}, {"n": 1, "text": "La grève continue."}],
        "date": "2024-03-05", "year": 2024, "source": "Le Monde", "author": ["A. Martin", "B. Durand"],
        "tags": ["social"], "url": "https://example.org/1", "lang": "fr", "copy_group": "afp-1",
        "copies": [{"id": "afp-1", "source": "AFP"}], "representative": False, "revisions": 2,
        "versions": versions, "content_hash": article.content_hash(), "paragraph_count": 2,
        "indexed_at": "2026-01-01T00:00:00+00:00"}
    alone = article_document(article)
    assert (alone["copy_group"], alone["copies"], alone["representative"]) == ("greve-1", [], True)
    assert (alone["revisions"], alone["versions"]) == (1, [])
