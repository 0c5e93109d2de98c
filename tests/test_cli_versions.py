import json

import pytest

import archive.cli.common
from archive.cli import cli
from archive.home import Archive


def run(runner, home, *args, input=None):
    return runner.invoke(cli, ["--home", str(home), *args], input=input)


@pytest.fixture
def edited(runner, home, tmp_path):
    """A home where article `a` was stored twice (two revisions) and `b` once."""
    f = tmp_path / "a.jsonl"
    # (Dated: an undated article adds a note to the add report.)
    f.write_text(json.dumps({"id": "a", "title": "Un", "date": "2025-01-02", "paragraphs": ["Lyon gagne."]}) + "\n"
                 + json.dumps({"id": "b", "title": "Deux", "date": "2025-01-03", "paragraphs": ["Nice perd."]}) + "\n")
    assert run(runner, home, "add", str(f)).exit_code == 0
    f.write_text(json.dumps({"id": "a", "title": "Un bis", "date": "2025-01-02", "paragraphs": ["Marseille gagne."]})
                 + "\n")
    assert run(runner, home, "add", str(f)).output == \
        "0 added, 1 updated, 0 unchanged, 0 failed; 1 paragraph in 1.5 s\n"
    return f


def test_history_lists_versions_oldest_first(runner, home, edited):
    out = json.loads(run(runner, home, "history", "a", "--json").output)
    stored = [e.stored_at for e in Archive(home).store.history("a")]
    assert out == [
        {"revision": 1, "stored_at": stored[0], "source": f"{edited.resolve()}:1", "title": "Un"},
        {"revision": 2, "stored_at": stored[1], "source": f"{edited.resolve()}:1", "title": "Un bis"}]
    text = run(runner, home, "history", "a").output.splitlines()
    assert text[1].endswith("\tUn bis (current)") and text[0].startswith("1\t")


def test_show_revision(runner, home, edited):
    old = json.loads(run(runner, home, "show", "a", "--revision", "1", "--json").output)
    assert (old["title"], old["paragraphs"]) == ("Un", ["Lyon gagne."])
    shown = run(runner, home, "show", "a", "--revision", "1").output.splitlines()
    assert shown == ["Un", "2025-01-02", "", "Lyon gagne."]
    missing = run(runner, home, "show", "a", "--revision", "3")
    assert missing.exit_code == 1 and missing.output == "error: no article with id 'a revision 3'\n"
    assert run(runner, home, "show", "a", "--revision", "0").exit_code == 2
    assert run(runner, home, "history", "nope").exit_code == 1


def test_remove_keeps_history_unless_purge(runner, home, edited):
    assert run(runner, home, "remove", "a").output == "1 removed\n"
    assert run(runner, home, "show", "a").exit_code == 1
    assert json.loads(run(runner, home, "show", "a", "--revision", "2", "--json").output)["title"] == "Un bis"
    assert run(runner, home, "history", "a").output.endswith(
        "(removed: `archive remove --purge` deletes this history)\n")
    assert run(runner, home, "remove", "--purge", "a").output == "1 purged\n"
    assert run(runner, home, "history", "a").exit_code == 1


def test_removing_several_from_a_terminal_asks(runner, home, edited, monkeypatch):
    monkeypatch.setattr(archive.cli.common, "interactive", lambda: True)
    declined = run(runner, home, "remove", "a", "b", input="n\n")
    assert declined.exit_code == 1 and "Remove 2 articles (their history is kept)?" in declined.output
    assert "nothing removed" in declined.output and len(Archive(home).store) == 2
    purge = run(runner, home, "remove", "--purge", "a", "b", input="y\n")
    assert "Purge 2 articles (their whole history is deleted)?" in purge.output
    assert purge.output.endswith("2 purged\n") and len(Archive(home).store) == 0


def test_yes_skips_the_question_and_one_article_is_not_asked(runner, home, edited, monkeypatch):
    monkeypatch.setattr(archive.cli.common, "interactive", lambda: True)
    assert run(runner, home, "remove", "a").output == "1 removed\n"
    assert run(runner, home, "remove", "--yes", "b", "a", "--purge").output == "2 purged\n"


def test_export_with_history_round_trips(runner, home, edited, tmp_path):
    exported = run(runner, home, "export", "--with-history").output
    first = json.loads(exported.splitlines()[0])
    assert [v["record"]["paragraphs"] for v in first["history"]] == [["Lyon gagne."]]
    assert first["stored"]["revision"] == 2
    other = tmp_path / "other"
    assert run(runner, other, "add", "-", input=exported).output == \
        "2 added, 0 updated, 0 unchanged, 0 failed; 2 paragraphs in 1.5 s\n"
    assert run(runner, other, "export", "--with-history").output == exported
    assert run(runner, other, "history", "a", "--json").output == run(runner, home, "history", "a", "--json").output
    # Reading the same export again changes nothing.
    assert run(runner, other, "add", "-", input=exported).output == \
        "0 added, 0 updated, 2 unchanged, 0 failed; 0 paragraphs in 1.5 s\n"
    assert run(runner, other, "export", "--with-history").output == exported
    assert run(runner, home, "export").output == run(runner, other, "export").output


def test_bad_history_in_an_import_is_refused(runner, home):
    record = {"id": "x", "title": "T", "paragraphs": ["P."], "history": [{"revision": 1}]}
    r = run(runner, home, "add", "-", input=json.dumps(record))
    assert r.exit_code == 1 and "each 'history' entry needs a 'record'" in r.output
    assert len(Archive(home).store) == 0


def test_duplicates(runner, home, tmp_path, wire_records):
    f = tmp_path / "wire.jsonl"
    f.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in wire_records), encoding="utf-8")
    run(runner, home, "add", str(f))
    assert json.loads(run(runner, home, "duplicates", "--json").output) == [
        {"ids": ["afp-traore", "copie-traore"], "similarity": 0.844}]
    text = run(runner, home, "duplicates").output
    assert text.startswith("2 copies, similarity 0.84\n  afp-traore\t2020-07-02\tOrange Actu\t")
    assert text.endswith("1 clusters, 2 articles\n")


def test_export_with_history_carries_removed_articles_history(runner, home, edited, tmp_path):
    assert run(runner, home, "remove", "a").exit_code == 0
    exported = run(runner, home, "export", "--with-history").output
    last = json.loads(exported.splitlines()[-1])
    assert (last["id"], last["removed"], [v["revision"] for v in last["history"]]) == ("a", True, [1, 2])
    other = tmp_path / "other"
    assert run(runner, other, "add", "-", input=exported).output == \
        "1 added, 0 updated, 0 unchanged, 0 failed; 1 paragraph in 1.5 s\n"
    assert run(runner, other, "export", "--with-history").output == exported
    assert run(runner, other, "history", "a", "--json").output == run(runner, home, "history", "a", "--json").output
    assert run(runner, other, "show", "a").exit_code == 1  # still removed there
    assert json.loads(run(runner, other, "show", "a", "--revision", "1", "--json").output)["title"] == "Un"


def test_search_collapses_copies_unless_show_copies(runner, home, tmp_path, wire_records):
    f = tmp_path / "wire.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in wire_records[:2]))
    assert run(runner, home, "add", str(f)).exit_code == 0
    out = json.loads(run(runner, home, "search", "témoin", "Traoré", "--sort", "date", "--json").output)
    assert out["total_articles"] == 1
    assert out["hits"][0]["copies"] == [{"id": "copie-traore", "source": "Le Parisien", "date": "2020-07-03",
                                         "title": "Adama Traoré : les avocats s'opposent sur un témoin"}]
    text = run(runner, home, "search", "témoin", "Traoré", "--sort", "date").output
    assert "  + 1 copy: Le Parisien (copie-traore)" in text
    shown = json.loads(run(runner, home, "search", "témoin", "Traoré", "--show-copies", "--json").output)
    assert shown["total_articles"] == 2 and [h["copies"] for h in shown["hits"]] == [[], []]
