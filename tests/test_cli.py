import json

import pytest

from archive.cli import cli
from archive.home import Archive
from tests.support import SEED_ID, SEEDS, corpus_file


def run(runner, home, *args, input=None):
    return runner.invoke(cli, ["--home", str(home), *args], input=input)


def test_add_search_show_list_stats(runner, home):
    r = run(runner, home, "add", str(SEEDS))
    assert r.exit_code == 0
    assert r.output == "1 added, 0 updated, 0 unchanged, 0 failed; 5 paragraphs in 1.5 s\n"
    again = run(runner, home, "add", str(SEEDS))
    assert again.output == "0 added, 0 updated, 1 unchanged, 0 failed; 0 paragraphs in 1.5 s\n"
    out = json.loads(run(runner, home, "search", "investir", "--json").output)
    assert out["total_articles"] == 1 and out["hits"][0]["paragraphs"][0]["n"] == 3
    assert run(runner, home, "list").output.startswith(f"{SEED_ID}\t2025-03-05\tLei Jun")
    shown = json.loads(run(runner, home, "show", SEED_ID, "--json").output)
    assert shown["paragraphs"][2] == "Xiaomi" and shown["headings"] == [2]
    stats = json.loads(run(runner, home, "stats", "--json").output)
    assert (stats["articles"], stats["blocks"], stats["index"]) == (1, 5, "ready")


def test_add_keeps_every_author_of_a_record(runner, home, tmp_path):
    f = tmp_path / "a.jsonl"
    f.write_text(json.dumps({"id": "a", "title": "Un", "paragraphs": ["Lyon gagne."], "authors": ["Anne", "Bob"]}))
    assert run(runner, home, "add", str(f)).exit_code == 0
    shown = json.loads(run(runner, home, "show", "a", "--json").output)
    assert (shown["author"], shown["authors"]) == ("Anne, Bob", ["Anne", "Bob"])
    # An option given on the command line still applies.
    assert run(runner, home, "add", str(f), "--author", "Claire").output.startswith("0 added, 1 updated")
    assert json.loads(run(runner, home, "show", "a", "--json").output)["author"] == "Claire"


def test_update_remove_and_unknown_id(runner, home, tmp_path):
    f = tmp_path / "a.json"
    f.write_text(json.dumps({"id": "a", "title": "Un", "paragraphs": ["Lyon gagne."]}))
    assert run(runner, home, "add", str(f)).exit_code == 0
    f.write_text(json.dumps({"id": "a", "title": "Un", "paragraphs": ["Marseille gagne."]}))
    assert run(runner, home, "add", str(f)).output.startswith("0 added, 1 updated")
    assert json.loads(run(runner, home, "search", "Lyon", "--json").output)["total_articles"] == 0
    assert json.loads(run(runner, home, "search", "Marseille", "--json").output)["total_articles"] == 1
    missing = run(runner, home, "remove", "a", "nope")
    assert missing.exit_code == 1 and "no article with id 'nope'" in missing.output
    assert run(runner, home, "show", "a").exit_code == 0  # all or none: a is still there
    assert run(runner, home, "remove", "a").output == "1 removed\n"


def test_partial_failure_keeps_the_good_files(runner, home, tmp_path):
    good = tmp_path / "good.txt"
    good.write_text("Un bon texte.\n", encoding="utf-8")
    bad = tmp_path / "bad.json"
    bad.write_text('{"title": "x", "paragraphs": ["p"], "date": "2025-02-30"}')
    r = run(runner, home, "add", str(good), str(bad))
    assert r.exit_code == 1
    assert f"failed: {bad}: impossible date" in r.output
    assert len(Archive(home).store) == 1


def test_usage_errors_exit_2(runner, home):
    assert run(runner, home, "add").exit_code == 2
    assert run(runner, home, "add", "--title", "x", str(SEEDS)).exit_code == 2
    assert run(runner, home, "search", "x", "--per-page", "0").exit_code == 2


def test_stdin_jsonl_and_export_round_trip(runner, home, tmp_path):
    lines = "\n".join(json.dumps({"id": f"s{i}", "title": f"T{i}", "date": "2020-01-0%d" % (i + 1),
                                  "paragraphs": ["Texte « cité »\u00a0!", "Intertitre", "Fin."]})
                      for i in range(3))
    assert run(runner, home, "add", "-", input=lines).output.startswith("3 added")
    exported = run(runner, home, "export").output
    other = tmp_path / "other"
    assert run(runner, other, "add", "-", input=exported).output.startswith("3 added")
    assert run(runner, other, "export").output == exported
    assert [a.to_record() for a in Archive(other).store.iter_articles()] == \
        [a.to_record() for a in Archive(home).store.iter_articles()]


def test_rebuild_check_and_repair(runner, home):
    run(runner, home, "add", str(SEEDS))
    assert run(runner, home, "check").output == "store and index agree\n"
    arch = Archive(home)
    import shutil
    shutil.rmtree(arch.index_dir.path)
    r = run(runner, home, "check")
    assert r.exit_code == 1 and r.output.startswith(f"missing: 1 ({SEED_ID})")
    assert run(runner, home, "rebuild").output == "index rebuilt: 1 article, 5 paragraphs in 1.5 s\n"
    assert run(runner, home, "check").exit_code == 0
    # A stale index entry: change the store behind the index's back.
    import dataclasses
    arch.store.put([dataclasses.replace(arch.store.get(SEED_ID), title="Autre titre")])
    arch.store.mark_indexed([SEED_ID])
    r = run(runner, home, "check", "--repair")
    assert "stale: 1" in r.output and "repaired" in r.output and r.exit_code == 0


def test_backup_is_a_readable_store(runner, home, tmp_path):
    run(runner, home, "add", str(SEEDS))
    dest = tmp_path / "backup" / "archive.sqlite3"
    assert run(runner, home, "backup", str(dest)).exit_code == 0
    restored = tmp_path / "restored"
    restored.mkdir()
    (restored / "archive.sqlite3").write_bytes(dest.read_bytes())
    assert run(runner, restored, "rebuild").exit_code == 0
    assert json.loads(run(runner, restored, "search", "Xiaomi", "--json").output)["total_articles"] == 1


@pytest.mark.corpus
def test_sample_import_of_200_articles(runner, home):
    path = corpus_file("news-fr-sample.jsonl")
    r = run(runner, home, "add", str(path))
    paragraphs = sum(len(json.loads(line)["paragraphs"]) for line in path.read_text(encoding="utf-8").splitlines())
    assert r.output == f"200 added, 0 updated, 0 unchanged, 0 failed; {paragraphs} paragraphs in 1.5 s\n"
    assert run(runner, home, "check").exit_code == 0


def test_second_writer_waits_then_says_so(runner, home):
    arch = Archive(home, lock_wait=0.2)
    with arch.writing():
        r = runner.invoke(cli, ["--home", str(home), "--wait", "0.2", "add", str(SEEDS)])
    assert r.exit_code == 3
    assert "another process is writing" in r.output
    assert len(Archive(home).store) == 0


def test_many_large_adds_end_in_one_rebuilt_index(runner, home, tmp_path, monkeypatch):
    import archive.home

    monkeypatch.setattr(archive.home, "FAST_BATCH", 2)
    monkeypatch.setattr(archive.home, "MAX_SEGMENTS", 3)
    for batch in range(4):
        f = tmp_path / f"b{batch}.jsonl"
        f.write_text("\n".join(json.dumps({"id": f"b{batch}-{i}", "title": f"T{i}",
                                           "paragraphs": [f"Texte {batch} {i}."]}) for i in range(3)))
        assert run(runner, home, "add", str(f)).exit_code == 0
    with Archive(home).index_dir.open().searcher() as searcher:
        assert len(searcher.reader().leaf_readers()) <= 3
    assert run(runner, home, "check").exit_code == 0
    found = json.loads(run(runner, home, "search", "texte", "--json", "--per-page", "100").output)
    assert found["total_articles"] == 12


@pytest.mark.parametrize("command", [["stats"], ["list"], ["show", "x"], ["search", "x"], ["check"], ["export"]])
def test_read_only_commands_never_create_a_home(runner, tmp_path, command):
    missing = tmp_path / "nowhere"
    r = run(runner, missing, *command)
    assert r.exit_code == 1
    assert r.output == f"error: no archive in {missing} (add articles first, or pass --home)\n"
    assert not missing.exists()


def test_global_options_after_the_subcommand(runner, home, tmp_path):
    assert runner.invoke(cli, ["add", str(SEEDS), "--home", str(home)]).exit_code == 0
    stats = runner.invoke(cli, ["stats", "--json", "--home", str(home), "--wait", "1"])
    assert json.loads(stats.output)["articles"] == 1
    # After the subcommand wins over before it.
    other = runner.invoke(cli, ["--home", str(tmp_path / "other"), "list", "--home", str(home)])
    assert other.output.startswith(SEED_ID)
    with Archive(home, lock_wait=0.2).writing():
        r = runner.invoke(cli, ["add", str(SEEDS), "--home", str(home), "--wait", "0.1"])
    assert r.exit_code == 3


def test_a_query_starting_with_a_dash_gets_a_hint(runner, home):
    run(runner, home, "add", str(SEEDS))
    r = run(runner, home, "search", "-presse")
    assert r.exit_code == 2
    assert ("No such option '-p'. To search for a word starting with '-', put '--' before the query: "
            "archive search -- -presse") in r.output
    assert run(runner, home, "search", "--", "-presse").exit_code == 0


def test_terminal_output_agrees_in_number(runner, home):
    run(runner, home, "add", str(SEEDS))
    out = run(runner, home, "search", "investir").output
    assert out.startswith("1 article · 1 paragraph (page 1/1)\n")
    assert "  ¶4: En ce qui concerne" in out
    assert run(runner, home, "search", "Xiaomi").output.startswith("1 article · 5 paragraphs")
    assert "  + 2 more paragraphs" in run(runner, home, "search", "Xiaomi").output


def test_a_bad_jsonl_line_fails_alone_or_rolls_back_its_file(runner, home, tmp_path):
    f = tmp_path / "lot.jsonl"
    f.write_text('{"id": "a", "title": "A", "paragraphs": ["Lyon."]}\n'
                 '{"id": "c"}\n{"id": "b", "title": "B", "paragraphs": ["Lyon."]}\n')
    strict = run(runner, home, "add", "--all-or-nothing", str(f))
    assert strict.exit_code == 1
    assert ("  nothing from this file was stored: its 1 good article before the error was rolled back too; "
            "fix the line and add the file again\n") in strict.output
    assert len(Archive(home).store) == 0
    alone = run(runner, home, "add", str(f))
    assert alone.exit_code == 1
    assert alone.output.splitlines()[0] == f"failed: {f}:2: 'paragraphs' must be a list of strings"
    assert alone.output.splitlines()[1].startswith("2 added, 0 updated, 0 unchanged, 1 failed")
    assert Archive(home).store.ids() == ["a", "b"]


def test_serve_on_a_busy_port_says_so_in_one_line(runner, home):
    import socket

    run(runner, home, "add", str(SEEDS))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = run(runner, home, "serve", "--port", str(port))
    assert r.exit_code == 1
    assert r.output == (f"error: port {port} is already in use on 127.0.0.1: stop the other server "
                        "or choose another --port\n")
@pytest.fixture
def research_cli_home(research_home):
    return research_home.home


def test_trend_command_table_and_json(runner, research_cli_home):
    out = json.loads(run(runner, research_cli_home, "trend", "grève", "télétravail", "--by", "year", "--json").output)
    assert out["by"] == "year" and [p["count"] for p in out["series"][0]["points"]] == [1, 0, 0, 1, 1]
    table = run(runner, research_cli_home, "trend", "grève", "--by", "year", "--source", "Le Monde").output
    assert table.splitlines()[1].split() == ["2011", "1", "(100.0%)"]
    assert table.splitlines()[-1].split() == ["total", "2"]
    assert run(runner, research_cli_home, "trend", "a", "b", "c", "d", "e").exit_code == 2


def test_kwic_command_aligned_csv_and_json(runner, research_cli_home):
    r = run(runner, research_cli_home, "kwic", "grève", "--width", "22")
    assert r.exit_code == 0
    # Paragraphs numbered from 1, as the reading view anchors them.
    assert r.stdout.splitlines()[0] == "Les cheminots sont en  grève  depuis lundi.          g1#p1"
    rows = run(runner, research_cli_home, "kwic", "grève", "--csv").output.splitlines()
    assert rows[0] == "id,n,date,title,left,match,right" and len(rows) == 7
    assert rows[1].startswith("g1,1,")
    out = json.loads(run(runner, research_cli_home, "kwic", "grève", "--json", "--per-page", "2").output)
    assert (out["total"], len(out["lines"])) == (6, 2)


def test_export_command_formats(runner, research_cli_home, tmp_path):
    target = tmp_path / "corpus.txt"
    r = run(runner, research_cli_home, "export", "--query", "grève", "--format", "iramuteq", "-o", str(target))
    assert r.exit_code == 0 and target.read_text(encoding="utf-8").count("****") == 4
    jsonl = run(runner, research_cli_home, "export", "-q", "grève", "--source", "Le Monde").output
    assert sorted(json.loads(line)["id"] for line in jsonl.splitlines()) == ["g1", "g3"]
    excel = tmp_path / "x.csv"
    run(runner, research_cli_home, "export", "-q", "grève", "--format", "csv-excel", "-o", str(excel))
    assert excel.read_bytes().startswith("\ufeffid;date;".encode())
    assert len(run(runner, research_cli_home, "export").output.splitlines()) == 5  # every article, as before
def test_search_explain_prints_each_piece(runner, seeded):
    r = run(runner, seeded.home, "search", "--explain", "l’investissement", "le", "invest*")
    assert r.exit_code == 0
    assert r.output.splitlines()[:4] == [
        "l’investissement\tword\tinvest",
        "le\tstopword\t-",
        "invest*\tprefix\tinvestir, investissement, investissements, investira",
        "",
    ]


def test_impossible_dates_exit_2(runner, seeded):
    r = run(runner, seeded.home, "search", "x", "--to", "0001-00")
    assert r.exit_code == 2
    assert r.output == "error: to: impossible month in '0001-00' (months are 01 to 12)\n"
    assert run(runner, seeded.home, "search", "--from", "2020-02-30").exit_code == 2


def test_control_characters_are_shown_escaped(runner, home, tmp_path):
    f = tmp_path / "ctl.json"
    f.write_text(json.dumps({"id": "ctl", "title": "Titre \x1b[31mrouge\x07", "source": "S\x9b2J",
                             "date": "2020-01-02", "paragraphs": ["Lyon \x1b]0;pwned\x07 vote \u202eelbat."]}))
    assert run(runner, home, "add", str(f)).exit_code == 0
    assert run(runner, home, "list").output == "ctl\t2020-01-02\tTitre \\x1b[31mrouge\\x07\n"
    assert run(runner, home, "show", "ctl").output == (
        "Titre \\x1b[31mrouge\\x07\n2020-01-02 · S\\x9b2J\n\nLyon \\x1b]0;pwned\\x07 vote \\u202eelbat.\n")
    out = run(runner, home, "search", "Lyon").output.splitlines()
    assert out[2] == "Titre \\x1b[31mrouge\\x07"
    assert out[4] == "  ¶1: Lyon \\x1b]0;pwned\\x07 vote \\u202eelbat."
    shown = run(runner, home, "show", "ctl", "--json").output
    assert "\x1b" not in shown and "\x9b" not in shown and "\u202e" not in shown
    assert json.loads(shown)["source"] == "S\x9b2J"


def test_missing_index_and_unopenable_store_are_one_line(runner, seeded, tmp_path):
    import shutil

    shutil.rmtree(seeded.index_dir.path)
    r = run(runner, seeded.home, "search", "Xiaomi")
    assert (r.exit_code, r.output) == (1, "error: the search index is missing or out of date; run `archive rebuild`\n")
    bad = tmp_path / "bad"
    (bad / "archive.sqlite3").mkdir(parents=True)  # what a read-only home also gives: no store to open
    r = run(runner, bad, "list")
    assert r.exit_code == 1 and r.output.count("\n") == 1
    assert r.output.startswith(f"error: cannot open the store {bad / 'archive.sqlite3'} (unable to open database file)")


def test_a_lock_that_cannot_be_written_is_one_line(runner, seeded, monkeypatch):
    import errno

    import archive.home

    real_open = archive.home.os.open

    def read_only(path, flags, *args):
        if str(path).endswith(".lock"):
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(archive.home.os, "open", read_only)
    r = run(runner, seeded.home, "add", str(SEEDS))
    assert (r.exit_code, r.output) == (1, f"error: cannot write to {seeded.home} (Read-only file system); "
                                          "is the home read-only?\n")


def test_export_streams_in_constant_memory(runner, home, tmp_path):
    import tracemalloc

    from archive.model import Article

    arch = Archive(home)
    arch.add_articles([Article.from_record({"id": f"e{i}", "title": f"T{i}",
                                            "paragraphs": [f"Texte {i} " * 2000]}) for i in range(300)])

    class Sink:
        written = 0

        def write(self, s: str) -> int:
            self.written += len(s)
            return len(s)

    sink = Sink()
    tracemalloc.start()
    try:
        assert arch.export(sink) == 300
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert sink.written > 5_000_000
    assert peak < 1_000_000  # a few articles at a time, not the 5 MB written


def test_search_finding_little_suggests_a_spelling(runner, seeded):
    r = run(runner, seeded.home, "search", "Xiaomo")
    assert r.exit_code == 0
    assert r.output.splitlines()[:2] == ["0 articles · 0 paragraphs (page 1/1)", "did you mean: Xiaomi"]


def test_kwic_of_several_unquoted_words_hints_at_the_phrase(runner, seeded):
    r = runner.invoke(cli, ["--home", str(seeded.home), "kwic", "lei", "jun"])
    assert r.exit_code == 0
    assert r.stderr.splitlines()[0] == ("hint: the words are shown and counted each on its own; for the phrase, "
                                        "quote it inside the shell's quotes: archive kwic '\"lei jun\"'")
    for query in (['"lei jun"'], ["lei"], ["lei", "OR", "jun"], ["--", "lei", "-jun"], ["titre:lei", "jun"]):
        r = runner.invoke(cli, ["--home", str(seeded.home), "kwic", *query])
        assert r.exit_code == 0 and "hint" not in r.stderr, query


def test_help_texts_show_no_markup(runner):
    for command in ([], ["serve"], ["search"], ["kwic"], ["trend"], ["export"], ["add"]):
        r = runner.invoke(cli, [*command, "--help"])
        assert r.exit_code == 0 and "``" not in r.output, command


def test_make_run_takes_a_port():
    import shutil
    import subprocess

    from tests.support import ROOT

    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    out = subprocess.run(["make", "-n", "-s", "run", "PORT=5123", "BIN=/nowhere/bin", "VENV=/nowhere"],
                         cwd=ROOT, capture_output=True, text=True).stdout
    assert "--host 127.0.0.1 --port 5123" in out


def test_the_add_report_names_articles_without_a_date(runner, home, tmp_path):
    (tmp_path / "a.json").write_text('{"id": "a", "title": "Sans date", "paragraphs": ["Brest."]}', encoding="utf-8")
    (tmp_path / "b.json").write_text('{"id": "b", "title": "Daté", "date": "2025-01-02", "paragraphs": ["Brest."]}',
                                     encoding="utf-8")
    r = run(runner, home, "add", str(tmp_path))
    assert r.exit_code == 0
    assert ("note: 1 article without a date (a): listed by the day added, outside date filters; give one with --date"
            in r.stderr)
    assert json.loads(run(runner, home, "add", str(tmp_path / "a.json"), "--title", "Autre", "--json").stdout)[
        "undated"] == ["a"]
