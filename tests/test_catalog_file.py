"""The catalog's side file: read at opening when it matches the store, rebuilt when missing, stale or broken."""

from archive.model import Article
from archive.search import search
from archive.search.catalog_file import NAME
from archive.search.facets import FACETS, Catalog


def _state(catalog):
    return (catalog.size, catalog.valid.tolist(), catalog.days.tolist(), catalog.listed.tolist(),
            catalog.cluster.tolist(), list(catalog.ids), catalog.aid_of("copie-traore"),
            {name: (catalog.facets[name][0].tolist(), catalog.facets[name][1].tolist(), catalog.facets[name][2])
             for name in FACETS},
            {name: catalog.counts(name, catalog.valid_aids) for name in FACETS})


def _filled(seeded, wire_records):
    seeded.add_articles([Article.from_record(r) for r in wire_records])
    return seeded.home / NAME


def test_a_catalog_is_read_back_from_its_file_unchanged(seeded, wire_records):
    path = _filled(seeded, wire_records)
    built = Catalog(seeded)
    written = path.stat().st_ino
    read = Catalog(seeded)
    assert path.stat().st_ino == written  # read, not rebuilt (a rebuild replaces the file)
    assert _state(read) == _state(built)
    assert int(read.cluster[read.aid_of("copie-traore")]) < 0  # copies kept as one cluster


def test_a_stale_file_is_rebuilt_with_the_new_articles(seeded, wire_records):
    path = _filled(seeded, wire_records)
    Catalog(seeded)
    written = path.stat().st_ino
    seeded.add_articles([Article.from_record({"id": "neuf", "title": "T", "source": "Nouvelle Source",
                                              "date": "2021-05-06", "paragraphs": ["Lyon encore."]})])
    fresh = Catalog(seeded)
    assert path.stat().st_ino != written
    assert fresh.aid_of("neuf") is not None
    assert ("nouvelle source", "Nouvelle Source", 1, ()) in fresh.counts("source", fresh.valid_aids)
    assert _state(Catalog(seeded)) == _state(fresh)


def test_a_missing_or_broken_file_is_rebuilt_with_the_same_answers(seeded, wire_records):
    path = _filled(seeded, wire_records)
    built = _state(Catalog(seeded))
    before = search(seeded.home, "Traoré", source="Le Parisien")
    path.unlink()
    assert _state(Catalog(seeded)) == built and path.exists()
    path.write_bytes(b"not a catalog")
    assert _state(Catalog(seeded)) == built
    assert path.read_bytes()[:2] == b"PK"  # replaced by a whole new file
    after = search(seeded.home, "Traoré", source="Le Parisien")
    assert [h.id for h in after.hits] == [h.id for h in before.hits] and after.total_articles == 1


def test_a_large_add_leaves_the_catalog_saved_for_the_next_opening(tmp_path, runner, monkeypatch):
    import json

    from archive.cli import cli

    monkeypatch.setattr("archive.cli.articles.CATCH_UP", 2)
    home = tmp_path / "home"
    lines = tmp_path / "three.jsonl"
    lines.write_text("".join(json.dumps({"id": f"a{i}", "title": f"Titre {i}", "date": "2020-01-0" + str(i + 1),
                                         "paragraphs": ["Le conseil municipal vote."]}) + "\n" for i in range(3)))
    result = runner.invoke(cli, ["--home", str(home), "add", str(lines)])
    assert result.exit_code == 0, result.output
    saved = (home / NAME).stat().st_ino
    from archive.home import Archive

    catalog = Catalog(Archive(home))
    assert (home / NAME).stat().st_ino == saved  # read back, not built again
    assert [catalog.aid_of(f"a{i}") is not None for i in range(3)] == [True, True, True]
    monkeypatch.setattr("archive.cli.articles.CATCH_UP", 5000)
    (home / NAME).unlink()
    more = tmp_path / "one.jsonl"
    more.write_text(json.dumps({"id": "b", "title": "B", "paragraphs": ["Un autre."]}) + "\n")
    assert runner.invoke(cli, ["--home", str(home), "add", str(more)]).exit_code == 0
    assert not (home / NAME).exists()  # a small add leaves it to the next opening
