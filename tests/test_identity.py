import json

from archive.model import Article
from tests.support import SEED_ID, SEEDS


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_two_same_named_files_from_two_folders_are_two_articles(archive, tmp_path):
    nord = write(tmp_path / "nord" / "greve.txt", "Grève à la SNCF à Lille.\n\nLes trains sont à quai.\n")
    sud = write(tmp_path / "sud" / "greve.txt", "Grève à la SNCF à Marseille.\n\nLe port est bloqué.\n")
    first = archive.add([nord])
    second = archive.add([sud])
    assert first.outcomes == [("greve-a-la-sncf-a-lille-5fb3bcf78b", "added")]
    assert second.outcomes == [("greve-a-la-sncf-a-marseille-67f41f2454", "added")]
    assert len(archive.store) == 2 and first.notes == second.notes == []


def test_re_adding_the_same_file_is_unchanged(archive, tmp_path):
    path = write(tmp_path / "greve.txt", "Grève à la SNCF à Lille.\n")
    archive.add([path])
    assert archive.add([path]).counts() == {"added": 0, "updated": 0, "unchanged": 1, "failed": 0}


def test_an_edited_file_updates_its_id_and_keeps_the_first_version(archive, tmp_path):
    path = tmp_path / "greve.txt"
    write(path, "Grève à la SNCF à Lille.\n\nLa grève continue.\n")
    ((article_id, _),) = archive.add([str(path)]).outcomes
    write(path, "Grève à la SNCF à Lille.\n\nLa grève est levée.\n")
    assert archive.add([str(path)]).outcomes == [(article_id, "updated")]
    assert [e.revision for e in archive.store.history(article_id)] == [1, 2]
    assert archive.store.revision(article_id, 1).paragraphs[1] == "La grève continue."
    assert archive.store.get(article_id).paragraphs[1] == "La grève est levée."
    assert {e.source for e in archive.store.history(article_id)} == {str(path.resolve())}


def test_another_file_with_a_taken_derived_id_gets_a_new_id_and_a_note(archive, tmp_path):
    old = "Grève à la SNCF à Lille.\n\nLa grève continue.\n"
    path = tmp_path / "a" / "greve.txt"
    write(path, old)
    ((article_id, _),) = archive.add([str(path)]).outcomes
    write(path, "Grève à la SNCF à Lille.\n\nLa grève est levée.\n")
    archive.add([str(path)])
    # A second file holding the first text: its derived id is taken by the edited article.
    other = write(tmp_path / "b" / "greve.txt", old)
    report = archive.add([other])
    assert report.outcomes == [(f"{article_id}-2", "added")]
    assert report.notes == [f"{tmp_path / 'b' / 'greve.txt'}: another text already has the id "
                            f"{article_id}; stored as {article_id}-2"]
    assert archive.store.get(article_id).paragraphs[1] == "La grève est levée."
    assert archive.add([other]).counts()["unchanged"] == 1  # the new id is remembered for that file


def test_two_pastes_are_two_articles_and_the_same_paste_is_unchanged(archive, tmp_path):
    # The web form writes every paste to a temporary pasted.txt: the path names nothing.
    def paste(text):
        return archive.add([write(tmp_path / "pasted.txt", text)], origin="web")

    assert paste("Premier texte collé sur Rennes.\n").counts()["added"] == 1
    assert paste("Second texte collé sur Nantes.\n").counts()["added"] == 1
    assert paste("Second texte collé sur Nantes.\n").counts()["unchanged"] == 1
    assert sorted(archive.store.ids()) == ["premier-texte-colle-sur-rennes-c4ab870a40",
                                           "second-texte-colle-sur-nantes-2d94d9832a"]
    assert archive.store.history("premier-texte-colle-sur-rennes-c4ab870a40")[0].source == "web:pasted.txt"


def test_json_without_id_follows_the_same_rule(archive, tmp_path):
    path = write(tmp_path / "a.json", json.dumps({"title": "Sans id", "paragraphs": ["Un texte."]}))
    assert archive.add([path]).outcomes == [("sans-id-06dd5357fc", "added")]
    assert archive.add([path]).outcomes == [("sans-id-06dd5357fc", "unchanged")]


def test_explicit_ids_stay_the_identity(archive):
    report = archive.add([str(SEEDS)])
    assert report.outcomes == [(SEED_ID, "added")]
    rec = {"id": "x1", "title": "T", "paragraphs": ["Un."]}
    archive.add_articles([Article.from_record(rec)])
    assert archive.add_articles([Article.from_record(dict(rec, paragraphs=["Deux."]))]) == [("x1", "updated")]


def test_a_removed_text_added_again_comes_back_under_its_id(archive, tmp_path):
    path = write(tmp_path / "t.txt", "Un texte qui revient.\n")
    ((article_id, _),) = archive.add([path]).outcomes
    archive.remove([article_id])
    other = write(tmp_path / "copie" / "t.txt", "Un texte qui revient.\n")
    assert archive.add([other]).outcomes == [(article_id, "added")]
    assert [e.revision for e in archive.store.history(article_id)] == [1, 2]
