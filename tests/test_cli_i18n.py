"""The command line in French when the locale is French, in English otherwise: help, messages, errors."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import click
import pytest
from babel.messages.pofile import read_po

from archive.cli import cli
from archive.cli.common import walk
from archive.i18n import CATALOGS, language, translations
from tests.support import SEEDS

FR = {"ARCHIVE_LANG": "fr"}
EN = {"ARCHIVE_LANG": "en"}
CLI_SOURCES = [*sorted((Path(__file__).resolve().parent.parent / "archive" / "cli").glob("*.py")),
               Path(__file__).resolve().parent.parent / "archive" / "reasons.py"]


def run(runner, args, env=None):
    """Run the command line as ``archive`` (its name in usage lines)."""
    return runner.invoke(cli, args, prog_name="archive", env=env)


def _squeezed(text: str) -> str:
    return "".join(text.split())


def _paths() -> list[list[str]]:
    """Every command's path under the group: [], ["add"], ["feeds"], ["feeds", "add"]…"""
    paths: list[list[str]] = [[]]

    def visit(group: click.Group, prefix: list[str]) -> None:
        for name, command in group.commands.items():
            paths.append([*prefix, name])
            if isinstance(command, click.Group):
                visit(command, [*prefix, name])

    visit(cli, [])
    return paths


def _help_msgids() -> set[str]:
    """Every help text of every command and option, in the English it is written in."""
    found = set()
    for command in walk(cli):
        for thing in (command, *command.params):
            msgids = thing.__dict__.get("_msgids", {})
            for name in ("help", "short_help", "epilog"):
                text = msgids.get(name, getattr(thing, name, None))
                if text:
                    found.add(text)
    return found


def _source_msgids() -> set[str]:
    """Every msgid the command line's modules pass to ``_``, ``N_`` and ``ngettext`` (singular and plural)."""
    found = set()
    for path in CLI_SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("_", "N_",
                                                                                                  "ngettext"):
                literals = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
                found.update(literals[:2] if node.func.id == "ngettext" else literals[:1])
    return found


@pytest.mark.parametrize(("environ", "expected"), [
    ({}, "en"),
    ({"LANG": "fr_FR.UTF-8"}, "fr"),
    ({"LANG": "fr_CA.UTF-8"}, "fr"),
    ({"LANG": "C.UTF-8"}, "en"),
    ({"LANG": "POSIX"}, "en"),
    ({"LANG": "en_GB.UTF-8"}, "en"),
    ({"LANG": "de_DE.UTF-8"}, "en"),
    ({"LC_ALL": "C", "LANG": "fr_FR.UTF-8"}, "en"),
    ({"LC_MESSAGES": "fr_FR.UTF-8", "LANG": "en_US.UTF-8"}, "fr"),
    ({"LC_ALL": "fr_FR.UTF-8", "LC_MESSAGES": "en_US.UTF-8"}, "fr"),
    ({"ARCHIVE_LANG": "fr", "LANG": "C"}, "fr"),
    ({"ARCHIVE_LANG": "en", "LANG": "fr_FR.UTF-8"}, "en"),
    ({"ARCHIVE_LANG": "klingon", "LANG": "fr_FR.UTF-8"}, "fr"),
])
def test_the_language_follows_archive_lang_then_the_locale(environ, expected):
    assert language(environ) == expected


def _french() -> dict[str, str]:
    """The French catalog: each msgid (a plural's two forms too) and its translation (its plural's last form)."""
    with (CATALOGS / "fr" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f)
    found = {}
    for message in catalog:
        if message.id and not message.context:
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            found.update({ids[0]: strings[0], ids[-1]: strings[-1]})
    return found


def test_every_message_of_the_command_line_has_a_french_translation():
    french = _french()
    msgids = _help_msgids() | _source_msgids()
    assert len(msgids) > 150  # the walk and the scan found the command line's texts
    assert sorted(m for m in msgids if m not in french) == []
    assert sorted(m for m in msgids if french[m] == m and m not in _SAME_IN_FRENCH) == []


#: Texts French writes as English does.
_SAME_IN_FRENCH = {"Port.", "source", "total", "(page %(page)s/%(pages)s)", "%(num)s article", "%(num)s articles",
                   "%(num)s occurrence", "%(num)s occurrences"}


def test_the_catalogs_are_found_by_the_core_without_the_web_package():
    assert (CATALOGS / "fr" / "LC_MESSAGES" / "messages.po").is_file()
    assert translations("fr").gettext("Print JSON.") == "Écrire en JSON."


@pytest.mark.parametrize("path", _paths(), ids=lambda p: " ".join(p) or "archive")
def test_every_help_is_french_in_french_english_in_english_and_clean(runner, path):
    french = run(runner, [*path, "--help"], env=FR)
    english = run(runner, [*path, "--help"], env=EN)
    assert (french.exit_code, english.exit_code) == (0, 0)
    assert french.output.startswith("Utilisation : archive")
    assert english.output.startswith("Usage: archive")
    assert "Afficher ce message et quitter." in french.output and "Show this message and exit." in english.output
    assert "Options :" in french.output and "Options:" in english.output
    # Each help text is in its own language's output, the English one nowhere in the French (wrapping aside).
    command = cli
    for name in path:
        command = command.commands[name]  # type: ignore[attr-defined]
    french_text, english_text = _squeezed(french.output), _squeezed(english.output)
    for thing in (command, *command.params):
        msgid = thing.__dict__.get("_msgids", {}).get("help")
        if msgid:
            translated = translations("fr").gettext(msgid)
            assert _squeezed(translated) in french_text and _squeezed(msgid) in english_text
            assert translated == msgid or _squeezed(msgid) not in french_text, msgid
    for out in (french.output, english.output):
        assert "``" not in out and "`" not in out


def test_group_and_add_help_in_french(runner):
    top = run(runner, ["--help"], env=FR).output
    assert "  Une archive d’articles de presse français où chercher.\n" in top
    assert "Commandes :\n" in top
    assert "  feeds       Suivre des flux RSS et Atom : add, list, remove, fetch.\n" in top
    add = run(runner, ["add", "--help"], env=FR).output
    assert "  --title TEXT           Titre (un seul fichier).\n" in add
    assert "  --json                 Écrire le compte rendu en JSON.\n" in add


def test_the_locale_decides_when_archive_lang_is_unset(runner):
    unset = {"ARCHIVE_LANG": None, "LC_ALL": None, "LC_MESSAGES": None}
    french = run(runner, ["--help"], env={**unset, "LANG": "fr_FR.UTF-8"})
    english = run(runner, ["--help"], env={**unset, "LANG": "C"})
    assert french.output.startswith("Utilisation : archive [OPTIONS] COMMAND [ARGS]...\n")
    assert english.output.startswith("Usage: archive [OPTIONS] COMMAND [ARGS]...\n")


def test_an_error_in_both_languages_exits_non_zero(runner, tmp_path):
    missing = tmp_path / "nowhere"
    french = run(runner, ["--home", str(missing), "search", "grève"], env=FR)
    english = run(runner, ["--home", str(missing), "search", "grève"], env=EN)
    assert french.exit_code == english.exit_code == 1
    assert french.output == (f"erreur : pas d’archive dans {missing} "
                             "(ajoutez d’abord des articles, ou indiquez --home)\n")
    assert english.output == f"error: no archive in {missing} (add articles first, or pass --home)\n"


def test_click_usage_errors_in_french(runner):
    r = run(runner, ["kwic", "--width", "3", "x"], env=FR)
    assert r.exit_code == 2
    assert r.output.splitlines()[-1] == ("Erreur : Valeur invalide pour '--width' : "
                                        "3 n’est pas dans l’intervalle 10<=x<=300.")
    r = run(runner, ["search", "--bogus"], env=FR)
    assert r.exit_code == 2
    assert r.output.splitlines()[-1].startswith("Erreur : Option inconnue : '--bogus'. Pour chercher un mot")


def test_add_report_and_stats_in_french_numbers_included(runner, home):
    r = run(runner, ["--home", str(home), "add", str(SEEDS)], env=FR)
    assert r.exit_code == 0
    assert r.output == ("ajoutés : 1, mis à jour : 0, inchangés : 0, en échec : 0 ; 5 paragraphes en 1,5 s\n")
    stats = run(runner, ["--home", str(home), "stats"], env=FR).output.splitlines()
    assert stats[:2] == ["articles :    1", "paragraphes : 5"]
    assert stats[3] == "index :       prêt (0 en attente)"
    # Machine outputs stay as they are.
    fr_json = run(runner, ["--home", str(home), "stats", "--json"], env=FR).output
    assert fr_json == run(runner, ["--home", str(home), "stats", "--json"], env=EN).output
    assert json.loads(fr_json)["index"] == "ready"


def test_search_labels_and_kwic_hint_in_french(runner, home):
    assert run(runner, ["--home", str(home), "add", str(SEEDS)]).exit_code == 0
    out = run(runner, ["--home", str(home), "search", "investir"], env=FR).output
    assert out.splitlines()[0] == "1 article · 1 paragraphe (page 1/1)"
    kwic = run(runner, ["--home", str(home), "kwic", "investir", "Xiaomi"], env=FR)
    assert kwic.exit_code == 0
    assert ("conseil : chaque mot est affiché et compté séparément ; pour l’expression, mettez-la entre guillemets "
            "à l’intérieur des guillemets du shell : archive kwic '\"investir Xiaomi\"'") in kwic.output


def test_a_large_count_is_written_the_french_way():
    from archive.i18n import format_number, ngettext

    assert ngettext("%(num)s article", "%(num)s articles", 17854, lang="fr") == "17\u202f854 articles"
    assert ngettext("%(num)s article", "%(num)s articles", 17854, lang="en") == "17854 articles"
    assert format_number(1, lang="fr") == "1"
