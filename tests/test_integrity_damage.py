"""Damage to any file of the index never crashes: check says it in one line, search answers 503, repair restores.

A small index is built once; then, for every file of ``index/`` in turn (CURRENT,
the generation's FORMAT, manifest, table of contents and every segment file),
a copy of the home gets one damage: a byte flipped at the start, the middle or
the end, the file cut to half, or deleted.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from archive.cli import cli
from archive.home import Archive
from archive.model import Article
from archive.search import search
from webui import create_app

# Whoosh leaves a damaged file's handle to the garbage collector when its parsing fails:
# that is noise here, not the crash this module looks for.
pytestmark = [pytest.mark.filterwarnings("ignore::ResourceWarning"),
              pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")]

QUERIES = ["grève", "cheminots", "gouvernement", "réforme", "Lyon", "grève OR Lyon", '"la grève"',
           "gouv*", "titre:grève", "-grève Lyon"]
DAMAGES = ["flip-start", "flip-middle", "flip-end", "truncate", "delete"]


def _records() -> list[dict]:
    words = ["grève", "cheminots", "gouvernement", "réforme", "Lyon", "retraites", "la", "syndicats"]
    return [{"id": f"d{i:02d}", "title": f"La grève {words[i % 8]} {i}", "date": f"20{10 + i % 10}-03-0{1 + i % 9}",
             "source": ["Le Monde", "Libération"][i % 2], "tags": [words[(i + 3) % 8]],
             "paragraphs": [f"Les {words[i % 8]} et la {words[(i + 1) % 8]} {i}.",
                            f"Le {words[(i + 2) % 8]} parle de la grève à Lyon."]} for i in range(24)]


def _totals(home: Path) -> list[int]:
    return [search(home, q).total_articles for q in QUERIES]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[int]]:
    home = tmp_path_factory.mktemp("damage") / "home"
    Archive(home).add_articles([Article.from_record(r) for r in _records()])
    totals = _totals(home)
    from archive.search import close_engines

    close_engines()
    assert len(set(totals)) > 2, totals
    return home, totals


def _files(home: Path) -> list[str]:
    index = home / "index"
    return ["CURRENT", *sorted(str(p.relative_to(index)) for p in index.glob("g*/*") if p.is_file())]


def _damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "delete":
        path.unlink()
    elif how == "truncate":
        path.write_bytes(data[:len(data) // 2])
    else:
        at = {"flip-start": 0, "flip-middle": len(data) // 2, "flip-end": len(data) - 1}[how]
        path.write_bytes(data[:at] + bytes([data[at] ^ 0xA5]) + data[at + 1:])


def _cases() -> list[tuple[str, str]]:
    kinds = ["CURRENT", "FORMAT", "MANIFEST.json", "toc", ".aid.col", ".n.col", "._stored.col", "._text_len.col",
             "._title_len.col", ".pst", ".trm"]
    return [(kind, how) for kind in kinds for how in DAMAGES]


def _pick(files: list[str], kind: str) -> str:
    found = [f for f in files if f == kind or f.endswith("/" + kind) or (kind.startswith(".") and f.endswith(kind))
             or (kind == "toc" and f.endswith(".toc"))]
    assert found, (kind, files)
    return found[0]


def test_every_file_of_the_index_is_covered(pristine):
    home, _ = pristine
    files = _files(home)
    covered = {_pick(files, kind) for kind, _ in _cases()}
    others = [f for f in files if f not in covered and f.rsplit(".", 1)[-1] in ("col", "seg", "pst", "trm", "toc")]
    # Every other column file is of a kind already covered (one per field, read alike).
    assert all(f.endswith("_len.col") for f in others), others


@pytest.mark.parametrize("kind, how", _cases())
def test_damage_is_reported_served_as_503_and_repaired(pristine, tmp_path, runner, kind, how):
    source, totals = pristine
    home = tmp_path / "home"
    shutil.copytree(source, home)
    name = _pick(_files(home), kind)
    _damage(home / "index" / name, how)

    check = runner.invoke(cli, ["--home", str(home), "check"])
    lines = check.output.splitlines()
    assert check.exit_code == 1 and "Traceback" not in check.output, check.output
    assert sum(line.startswith("damaged: ") for line in lines) >= 1, check.output
    assert not isinstance(check.exception, Exception) or isinstance(check.exception, SystemExit)

    found = runner.invoke(cli, ["--home", str(home), "search", "grève"])
    unmanifested = name.endswith("MANIFEST.json") and how == "delete"  # the index itself is whole
    if unmanifested:
        assert found.exit_code == 0
    else:
        assert found.exit_code == 1 and found.output.startswith("error: "), found.output
        assert len(found.output.splitlines()) == 1 and "Traceback" not in found.output
        app = create_app({"ARCHIVE_HOME": str(home), "TESTING": True})
        try:
            r = app.test_client().get("/api/search?q=gr%C3%A8ve")
            assert r.status_code == 503 and r.get_json()["ok"] is False
        finally:
            app.extensions["archive"].close()

    repair = runner.invoke(cli, ["--home", str(home), "check", "--repair"])
    assert repair.exit_code == 0 and "repaired" in repair.output, repair.output
    assert runner.invoke(cli, ["--home", str(home), "check"]).exit_code == 0
    from archive.search import close_engines

    close_engines()
    assert _totals(home) == totals


def test_current_holding_bytes_that_are_not_utf8(pristine, tmp_path, runner):
    source, totals = pristine
    home = tmp_path / "home"
    shutil.copytree(source, home)
    (home / "index" / "CURRENT").write_bytes(b"g\xff\xfe\n")
    check = runner.invoke(cli, ["--home", str(home), "check"])
    assert check.exit_code == 1 and "damaged: index/CURRENT: unreadable" in check.output
    found = runner.invoke(cli, ["--home", str(home), "search", "grève"])
    assert found.exit_code == 1 and found.output.startswith("error: ")
    assert runner.invoke(cli, ["--home", str(home), "check", "--repair"]).exit_code == 0
    assert _totals(home) == totals
