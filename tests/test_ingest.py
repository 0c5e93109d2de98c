import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive.errors import IngestError
from archive.ingest import Source, find_sources, read_articles
from tests.support import SEED_ID, SEEDS


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
    assert article.id == "le-maire-a-ete-reelu-dimanche-597a51e86e"  # title slug + content hash
    assert article.title == "Le maire a été réélu dimanche."
    assert len(article.blocks) == 2


def test_a_txt_first_line_that_reads_as_a_title_is_the_title_not_also_paragraph_1(tmp_path):
    f = tmp_path / "lille.txt"
    f.write_text("La grève s’étend à Lille\n\nLes cheminots sont en grève.\n\nSecond paragraphe.\n",
                 encoding="utf-8")
    (article,) = read(f)
    assert article.title == "La grève s’étend à Lille"
    assert [b.text for b in article.blocks] == ["Les cheminots sont en grève.", "Second paragraphe."]
    (given,) = read(f, title="Titre donné")  # a title given elsewhere leaves the text whole
    assert given.title == "Titre donné" and given.blocks[0].text == "La grève s’étend à Lille"
    only = tmp_path / "seul.txt"
    only.write_text("Un intertitre seul\n", encoding="utf-8")
    (alone,) = read(only)  # a one-line text keeps its line as its text
    assert alone.title == "Un intertitre seul" and [b.text for b in alone.blocks] == ["Un intertitre seul"]


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


def test_file_too_large_is_refused(tmp_path):
    f = tmp_path / "huge.txt"
    with f.open("wb") as out:
        out.truncate(200 * 1024 * 1024)  # sparse: no disk used
    with pytest.raises(IngestError) as info:
        read(f)
    assert info.value.reason.startswith("file too large")


def test_jsonl_line_too_long_is_refused(tmp_path):
    f = tmp_path / "huge.jsonl"
    with f.open("wb") as out:
        out.write(b'{"title": "')
        out.truncate(20 * 1024 * 1024)
    with pytest.raises(IngestError) as info:
        read(f)
    assert "line longer than 16 MiB" in info.value.reason


def test_file_that_disappears_is_reported(tmp_path):
    f = tmp_path / "gone.txt"
    f.write_text("Bientôt parti.", encoding="utf-8")
    sources, _ = find_sources([str(f)])
    f.unlink()
    with pytest.raises(IngestError) as info:
        list(read_articles(sources[0]))
    assert info.value.source == str(f) and "No such file" in info.value.reason


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(min_size=1, max_size=3000), suffix=st.sampled_from([".txt", ".md", ".json", ".jsonl"]))
def test_random_bytes_are_read_or_refused_with_the_file_name(tmp_path, data, suffix):
    import tempfile

    f = Path(tempfile.mkdtemp(dir=tmp_path)) / f"random{suffix}"
    f.write_bytes(data)
    try:
        articles = read(f)
    except IngestError as exc:
        assert exc.source.startswith(str(f)) and exc.reason
    else:
        assert all(a.blocks for a in articles)


def test_a_bad_line_fails_alone_unless_all_or_nothing(tmp_path):
    from archive.home import Archive

    good = tmp_path / "in" / "good.txt"
    good.parent.mkdir()
    good.write_text("Un texte valable.", encoding="utf-8")
    (tmp_path / "in" / "trunc.jsonl").write_text(
        '{"id": "ok1", "title": "t", "paragraphs": ["p"]}\n{"id": "bad", "date": "2010-02-29", "paragraphs": ["p"]}\n'
        '{"id": "ok3", "title": "t", "paragraphs": ["p"]}\n{"id": "ok4", "tit', encoding="utf-8")
    (tmp_path / "in" / "noise.json").write_bytes(bytes(range(256)) * 4)
    report = Archive(tmp_path / "home").add([str(tmp_path / "in")])
    assert report.counts() == {"added": 3, "updated": 0, "unchanged": 0, "failed": 3}
    jsonl = str(tmp_path / "in" / "trunc.jsonl")
    assert [f.source for f in report.failures] == [str(tmp_path / "in" / "noise.json"), f"{jsonl}:2", f"{jsonl}:4"]
    assert "impossible date" in report.failures[1].reason
    assert [r.id for r in Archive(tmp_path / "home").store.rows()] == ["un-texte-valable-dd5852227a", "ok1", "ok3"]

    strict = Archive(tmp_path / "strict").add([str(tmp_path / "in")], all_or_nothing=True)
    assert strict.counts() == {"added": 1, "updated": 0, "unchanged": 0, "failed": 2}
    assert (strict.failures[1].source, strict.failures[1].discarded) == (f"{jsonl}:2", 1)
    assert [r.id for r in Archive(tmp_path / "strict").store.rows()] == ["un-texte-valable-dd5852227a"]


@pytest.mark.parametrize("name, data, where", [
    ("lone.json", b'{"id": "s", "title": "B \\ud800", "paragraphs": ["p"]}', ""),
    ("low.jsonl", b'{"id": "a", "title": "t", "paragraphs": ["p"]}\n'
                  b'{"id": "b", "title": "t", "paragraphs": ["x \\udc80"]}\n', ":2"),
    ("meta.md", b'---\nauthor: "\\ud83d"\n---\nTexte.\n', ""),
])
def test_lone_surrogates_are_refused_naming_the_file(tmp_path, name, data, where):
    f = tmp_path / name
    f.write_bytes(data)
    with pytest.raises(IngestError) as info:
        read(f)
    assert info.value.source == f"{f}{where}"
    assert "lone surrogate" in info.value.reason


def test_a_surrogate_pair_escape_is_text(tmp_path):
    f = tmp_path / "emoji.json"
    f.write_bytes(b'{"id": "e", "title": "Bravo \\ud83d\\ude00", "paragraphs": ["p"]}')
    (article,) = read(f)
    assert article.title == "Bravo \U0001f600"


@pytest.mark.parametrize("markdown, text", [
    ("Un *mot* et **deux** et __trois__.", "Un mot et deux et trois."),
    ("[lien](http://x) et ![image](i.png).", "lien et image."),
    ("[Paris](https://fr.wikipedia.org/wiki/Paris_(France)) brille.", "Paris brille."),
    ("x*y*z et 2 * 3 * 4", "x*y*z et 2 * 3 * 4"),
    ("`code` reste.", "code reste."),
    ("*a " * 500, ("*a " * 500).strip()),
    ("[a " * 500, ("[a " * 500).strip()),
    ("[a](b " * 500, ("[a](b " * 500).strip()),
])
def test_markdown_inline_markup(tmp_path, markdown, text):
    f = tmp_path / "inline.md"
    f.write_text(f"# Titre\n\n{markdown}\n", encoding="utf-8")
    (article,) = read(f)
    assert article.title == "Titre"
    assert article.paragraphs == [text]


@pytest.mark.parametrize("line, heading", [
    ("## Titre ##", "Titre"), ("# C#", "C"), ("#Pas un titre", None), ("####### sept", None),
    ("#  a" + " " * 5000 + "b", "a" + " " * 5000 + "b"),
])
def test_markdown_headings(line, heading):
    from archive.ingest.markdown import md_heading

    assert md_heading(line) == heading


def test_a_bad_record_of_a_json_list_fails_alone(tmp_path):
    from archive.home import Archive

    f = tmp_path / "list.json"
    f.write_text(json.dumps([{"id": "a", "title": "A", "paragraphs": ["Un."]}, {"id": "b", "paragraphs": 3},
                             {"id": "c", "title": "C", "paragraphs": ["Trois."]}]), encoding="utf-8")
    report = Archive(tmp_path / "home").add([str(f)])
    assert [(x.source, x.reason) for x in report.failures] == [(f"{f}[1]", "'paragraphs' must be a list of strings")]
    assert Archive(tmp_path / "home").store.ids() == ["a", "c"]
