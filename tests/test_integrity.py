"""Index integrity: the manifest, damage found by `check`, repaired by `check --repair`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from archive.cli import cli
from archive.errors import IndexDamaged
from archive.home import Archive
from archive.integrity import MANIFEST, ensure_intact, noticing_damage, verify_files, write_manifest
from archive.search import search


def generation(archive: Archive) -> Path:
    return archive.index_dir.path / str(archive.index_dir.current_name())


def segment_file(archive: Archive, suffix: str) -> Path:
    (path,) = generation(archive).glob(f"MAIN_*{suffix}")
    return path


def damage(path: Path, how: str) -> None:
    if how == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif how == "missing":
        path.unlink()
    else:
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF  # same size, one byte flipped
        path.write_bytes(bytes(data))


def test_every_commit_records_every_file(seeded):
    folder = generation(seeded)
    manifest = json.loads((folder / MANIFEST).read_text())
    names = sorted(p.name for p in folder.iterdir() if p.name != MANIFEST)
    assert sorted(manifest["files"]) == names
    assert all(set(entry) == {"size", "blake2b"} for entry in manifest["files"].values())
    assert verify_files(folder) == []
    seeded.add_articles([])  # nothing pending: no commit, the manifest stays
    assert json.loads((folder / MANIFEST).read_text()) == manifest


@pytest.mark.parametrize("suffix, how", [(".aid.col", "truncated"), (".pst", "missing"),
                                         (".trm", "corrupted")])
def test_damage_is_reported_then_repaired(runner, seeded, suffix, how):
    path = segment_file(seeded, suffix)
    damage(path, how)
    where = f"index/{path.parent.name}/{path.name}"
    r = runner.invoke(cli, ["--home", str(seeded.home), "check"])
    assert r.exit_code == 1
    assert r.output.splitlines()[0].startswith(f"damaged: {where}: {how}")
    assert "store and index agree" not in r.output
    repaired = runner.invoke(cli, ["--home", str(seeded.home), "check", "--repair"])
    assert repaired.exit_code == 0 and repaired.output.endswith("repaired\n")
    again = runner.invoke(cli, ["--home", str(seeded.home), "check"])
    assert (again.exit_code, again.output) == (0, "store and index agree\n")
    assert search(seeded.home, "Xiaomi").total_articles == 1


def test_a_truncated_column_is_also_seen_against_the_store(sample_copy):
    archive = Archive(sample_copy)
    damage(segment_file(archive, ".aid.col"), "truncated")
    report = archive.check()
    assert report.damage[0].endswith(".aid.col: truncated (3112 bytes, 6224 recorded)")
    assert report.damage[1].startswith("index: aid column disagrees with the store for ")


def test_a_never_written_index_does_not_agree(runner, home):
    Archive(home)  # a store without an index (`check` alone never makes a home)
    r = runner.invoke(cli, ["--home", str(home), "check"])
    assert r.exit_code == 1
    assert r.output == ("damaged: index: missing (never built, or of an older format); "
                        "run `archive check --repair`\n")
    assert runner.invoke(cli, ["--home", str(home), "check", "--repair"]).exit_code == 0
    assert runner.invoke(cli, ["--home", str(home), "check"]).output == "store and index agree\n"


def test_an_interrupted_commit_is_recorded_by_repair(seeded, tmp_path):
    folder = generation(seeded)
    manifest = (folder / MANIFEST).read_bytes()
    extra = tmp_path / "x.json"
    extra.write_text('{"id": "x", "title": "X", "paragraphs": ["Brest."]}')
    seeded.add([str(extra)])
    (folder / MANIFEST).write_bytes(manifest)  # as if killed between commit and manifest
    report = seeded.check()
    assert report.damage == [f"index/{folder.name}/{MANIFEST}: unrecorded (describes _MAIN_1.toc, the index "
                             "is at _MAIN_2.toc: an index write was interrupted)"]
    assert seeded.check(repair=True).repaired
    assert seeded.check().ok
    assert [p.name for p in seeded.index_dir.path.iterdir() if p.name.startswith("g")] == [folder.name]


def test_search_helpers_raise_index_damaged(seeded):
    folder = generation(seeded)
    ensure_intact(folder)
    damage(segment_file(seeded, ".pst"), "missing")
    with pytest.raises(IndexDamaged) as info:
        ensure_intact(folder)
    assert info.value.http_status == 503
    assert str(info.value).startswith(f"the search index is damaged: index/{folder.name}/MAIN_")
    assert str(info.value).endswith(".pst: missing; run `archive check --repair`")
    # What Whoosh raises when it opens the segment (without leaking its half-open files here).
    with pytest.raises(IndexDamaged) as info:
        with noticing_damage(folder):
            raise FileNotFoundError(2, "No such file or directory", str(segment_file(seeded, ".trm")))
    assert str(info.value).endswith(".pst: missing; run `archive check --repair`")


def test_reading_lets_programming_errors_through(seeded):
    with pytest.raises(KeyError):
        with noticing_damage(generation(seeded)):
            raise KeyError("not damage")


def test_the_next_write_rebuilds_a_damaged_index(seeded, tmp_path):
    damage(segment_file(seeded, ".pst"), "missing")
    extra = tmp_path / "x.json"
    extra.write_text('{"id": "x", "title": "X", "paragraphs": ["Brest."]}')
    assert seeded.add([str(extra)]).counts()["added"] == 1
    assert seeded.check().ok
    assert search(seeded.home, "Brest OR Xiaomi").total_articles == 2


def test_manifest_is_written_atomically(seeded):
    folder = generation(seeded)
    write_manifest(folder)
    assert [p.name for p in folder.iterdir() if p.name.startswith(MANIFEST)] == [MANIFEST]
