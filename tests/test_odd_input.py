"""The smaller holes of issue 22: huge revisions, odd file names, links, empty folders, NEAR/N, five q."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from archive.cli import cli
from archive.query import parse_query


def run(runner, home, *args):
    return runner.invoke(cli, ["--home", str(home), *args])


def test_a_huge_revision_number_is_no_version(client, seeded, runner):
    some = next(iter(seeded.store.rows())).id
    assert client.get(f"/article/{some}?revision=9223372036854775808").status_code == 404
    assert client.get(f"/article/{some}?revision=99999999999999999999").status_code == 404
    r = run(runner, seeded.home, "show", some, "--revision", "99999999999999999999")
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert "revision 99999999999999999999" in r.output


@pytest.mark.parametrize("command", [["history", "x"], ["duplicates"], ["backup", "copy.sqlite3"]])
def test_read_only_commands_make_no_archive_in_an_empty_folder(runner, tmp_path, command):
    empty = tmp_path / "empty"
    empty.mkdir()
    args = [str(tmp_path / a) if a.endswith(".sqlite3") else a for a in command]
    r = run(runner, empty, *args)
    assert r.exit_code != 0 and "no archive in" in r.output
    assert list(empty.iterdir()) == []


def test_a_file_named_with_bytes_that_are_not_utf8_is_read(runner, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (Path(os.fsdecode(bytes(folder) + b"/gr\xe8ve.txt"))).write_text("La grève continue.", encoding="utf-8")
    r = run(runner, tmp_path / "home", "add", str(folder))
    assert r.exit_code == 0, r.output
    assert "1 added" in r.output


def test_a_newline_in_a_file_name_cannot_forge_a_line(runner, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "bad\nfailed: forged.txt").write_bytes(b"")
    r = run(runner, tmp_path / "home", "add", str(folder))
    assert r.exit_code == 1
    failed = [line for line in r.output.splitlines() if line.startswith("failed:")]
    assert len(failed) == 1 and "bad\\x0afailed: forged.txt" in failed[0]


def test_links_leaving_an_added_folder_are_skipped_with_a_note(runner, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("Le mot de passe secret.", encoding="utf-8")
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "ok.txt").write_text("Un article ordinaire.", encoding="utf-8")
    (folder / "inner.txt").symlink_to(folder / "ok.txt")
    (folder / "leak.txt").symlink_to(secret)
    r = run(runner, tmp_path / "home", "add", str(folder))
    assert r.exit_code == 0 and "1 added" in r.output
    assert "note: " in r.output and "leak.txt: a symbolic link leaving the folder" in r.output
    r = run(runner, tmp_path / "home", "add", "--follow-symlinks", str(folder))
    assert "1 added" in r.output and "leaving" not in r.output


def test_near_with_a_large_distance_is_proximity_capped_and_says_so():
    parsed = parse_query("grève NEAR/1000 cheminots")
    assert [(r.text, r.role) for r in parsed.interpretations] == [("grève NEAR/99 cheminots", "near")]
    assert parsed.root.slop == 99


def test_five_queries_on_a_trend_get_the_trend_message(client):
    r = client.get("/api/trend?" + "&".join(f"q=w{i}" for i in range(5)))
    assert r.status_code == 400 and r.get_json()["error"] == "a trend compares at most 4 queries"
    page = client.get("/tendances?" + "&".join(f"q=w{i}" for i in range(5)))
    assert page.status_code == 400 and "compare au plus 4 recherches" in page.get_data(as_text=True)
    assert "60" in client.get("/api/search?" + "&".join(f"x{i}=1" for i in range(61))).get_json()["error"]


def test_a_write_killed_mid_index_leaves_no_damage_and_upload_folders_are_cleaned(tmp_path, seeded):
    import subprocess
    import sys
    import tempfile

    from webui import create_app

    records = tmp_path / "more.jsonl"
    records.write_text("".join(f'{{"id": "k{i}", "title": "T {i}", "paragraphs": ["La grève {i}."]}}\n'
                               for i in range(5)), encoding="utf-8")
    killed = subprocess.run([sys.executable, "-c", "from archive.cli import main; main()", "--home",
                             str(seeded.home), "add", str(records)],
                            env={**os.environ, "ARCHIVE_FAILPOINT": "mid-index-write"}, capture_output=True)
    assert killed.returncode == -9
    check = subprocess.run([sys.executable, "-c", "from archive.cli import main; main()", "--home",
                            str(seeded.home), "check"], capture_output=True, text=True)
    assert "damaged:" not in check.stdout and check.stdout.startswith("missing: 5 ")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = Path(tempfile.gettempdir()) / f"archive-upload-{int(dead.stdout)}-x1"
    mine = Path(tempfile.gettempdir()) / f"archive-upload-{os.getpid()}-x2"
    for folder in (stale, mine):
        folder.mkdir()
        (folder / "article.json").write_text("{}", encoding="utf-8")
    try:
        app = create_app({"ARCHIVE_HOME": str(seeded.home), "TESTING": True})
        app.extensions["archive"].close()
        assert not stale.exists() and mine.exists()
    finally:
        import shutil

        shutil.rmtree(stale, ignore_errors=True)
        shutil.rmtree(mine, ignore_errors=True)
