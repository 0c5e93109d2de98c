import json
from pathlib import Path

import pytest

from archive.errors import IngestError
from archive.ingest import Source, find_sources, read_articles

from conftest import SEED_ID, SEEDS


def read(path: Path, **overrides):
    return list(read_articles(Source(str(path)), overrides or None))


def test_seed_reads_with_its_sidecar_and_its_heading():
    (article,) = read(SEEDS / f"{SEED_ID}.txt")
    assert article.id == SEED_ID
    assert article.date.isoformat() == "2025-03-05"
    assert article.tags == ("économie", "chine", "technologie")
    assert [b.heading for b in article.blocks] == [False, False, True, False, False]
    assert article.blocks[2].text == "Xiaomi"
    assert "œuvre" in article.blocks[4].text


def test_folder_treats_sidecars_as_metadata_not_articles():
    sources, missing = find_sources([str(SEEDS)])
    assert [Path(s.path).name for s in sources] == [f"{SEED_ID}.txt"]
    assert missing == []


def test_txt_without_sidecar_derives_title_and_id(tmp_path):
    f = tmp_path / "Élection à Lyon.txt"
    f.write_text("Le maire a été réélu dimanche. Une surprise.\n\nDeuxième paragraphe.\n", encoding="utf-8")
    (article,) = read(f)
    assert article.id == "Election-a-Lyon"
    assert article.title == "Le maire a été réélu dimanche."
    assert len(article.blocks) == 2


@pytest.mark.parametrize("suffix, body", [
    (".yaml", "title: Titre YAML\ndate: 5 mars 2025\ntags: [a, b]\n"),
    (".toml", 'title = "Titre YAML"\ndate = 2025-03-05\ntags = ["a", "b"]\n'),
    (".json", '{"title": "Titre YAML", "date": "2025-03-05", "tags": ["a", "b"]}'),
])
def test_txt_sidecar_formats(tmp_path, suffix, body):
    (tmp_path / "art.txt").write_text("Un texte.\n", encoding="utf-8")
    (tmp_path / f"art{suffix}").write_text(body, encoding="utf-8")
    (article,) = read(tmp_path / "art.txt")
    assert (article.title, article.date.isoformat(), article.tags) == ("Titre YAML", "2025-03-05", ("a", "b"))


def test_markdown_front_matter_and_headings(tmp_path):
    f = tmp_path / "note.md"
    f.write_text("---\ntitle: La note\nauthor: [Anne, Bruno]\ndate: 2021-01-02\n---\n"
                 "Premier **paragraphe** avec un [lien](http://x).\n\n## Suite\n\nFin.\n", encoding="utf-8")
    (article,) = read(f)
    assert article.title == "La note"
    assert article.authors == ("Anne", "Bruno")
    assert [(b.text, b.heading) for b in article.blocks] == [
        ("Premier paragraphe avec un lien.", False), ("Suite", True), ("Fin.", False)]


def test_json_and_jsonl(tmp_path):
    rec = {"id": "j1", "title": "T", "date": "2020-01-01", "paragraphs": ["Un.", "Deux."]}
    (tmp_path / "one.json").write_text(json.dumps(rec), encoding="utf-8")
    (tmp_path / "many.jsonl").write_text(
        "\n".join(json.dumps(dict(rec, id=f"j{i}")) for i in range(3)) + "\n", encoding="utf-8")
    assert [a.id for a in read(tmp_path / "one.json")] == ["j1"]
    assert [a.id for a in read(tmp_path / "many.jsonl")] == ["j0", "j1", "j2"]


def test_cp1252_text_is_decoded(tmp_path):
    f = tmp_path / "ancien.txt"
    f.write_bytes("L’été à Noël : « déjà » œuvre.\n".encode("cp1252"))
    (article,) = read(f)
    assert article.blocks[0].text == "L’été à Noël : « déjà » œuvre."


def test_latin1_text_is_decoded(tmp_path):
    f = tmp_path / "latin.txt"
    f.write_bytes("Côte d'Ivoire, été.\n".encode("latin-1"))
    assert read(f)[0].blocks[0].text == "Côte d'Ivoire, été."


@pytest.mark.parametrize("name, data, reason", [
    ("empty.txt", b"", "empty file"),
    ("blank.txt", b"  \n\n ", "empty file"),
    ("bin.txt", b"\x89PNG\x00\x00\x01", "binary file"),
    ("bad.json", b'{"title": ', "malformed JSON"),
    ("deep.json", b"[" * 100000 + b"]" * 100000, "nested too deeply"),
    ("date.json", b'{"title": "t", "paragraphs": ["p"], "date": "2025-02-30"}', "impossible date"),
    ("bad.md", b"---\ntitle: [unclosed\n---\nText.\n", "malformed YAML"),
    ("open.md", b"---\ntitle: x\nText without end\n", "malformed front matter"),
    ("x.pdf", b"%PDF-1.4", "unsupported file type"),
    ("trunc.jsonl", b'{"id": "a", "title": "t", "paragraphs": ["p"]}\n{"id": "b", "ti', "malformed JSON"),
])
def test_rejections_name_the_file_and_the_reason(tmp_path, name, data, reason):
    f = tmp_path / name
    f.write_bytes(data)
    with pytest.raises(IngestError) as info:
        read(f)
    assert str(f) in info.value.source
    assert reason in info.value.reason


def test_jsonl_error_names_the_line(tmp_path):
    f = tmp_path / "two.jsonl"
    f.write_text('{"id": "a", "title": "t", "paragraphs": ["p"]}\n{"id": "b", "title": "t", "paragraphs": 3}\n')
    with pytest.raises(IngestError) as info:
        read(f)
    assert info.value.source == f"{f}:2"


def test_overrides_apply_to_a_single_file(tmp_path):
    f = tmp_path / "a.txt"
    f.write_text("Texte.\n", encoding="utf-8")
    (article,) = read(f, title="Nouveau titre", date="5 mars 2025", tags=["x", "y"], authors=["Moi"])
    assert (article.title, article.date.isoformat(), article.tags, article.authors) == (
        "Nouveau titre", "2025-03-05", ("x", "y"), ("Moi",))


def test_missing_paths_and_globs_are_reported(tmp_path):
    (tmp_path / "a.txt").write_text("x.", encoding="utf-8")
    sources, missing = find_sources([str(tmp_path / "*.txt"), str(tmp_path / "nope.txt"),
                                     str(tmp_path / "*.md")])
    assert [Path(s.path).name for s in sources] == ["a.txt"]
    assert [m.reason for m in missing] == ["no such file or folder", "no file matches this pattern"]
