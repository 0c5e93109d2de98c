"""The command line in the reader's language: help texts, click's own words, and what commands print.

Help texts are written in English in the decorators (they are the msgids of
the web UI's catalogs); :func:`localized` puts every command's and option's
help into the chosen language just before a run, keeping the English to start
again from, so one process can run in both (the tests do). click says its own
words (``Usage:``, ``Options``, ``Error:``…) through :mod:`gettext`'s default
domain: it is bound to the same catalogs, in the same language, for the run.
"""

from __future__ import annotations

import gettext as stdlib_gettext
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from ..i18n import CATALOGS, DOMAIN, format_number, gettext, language, ngettext, translations

__all__ = ["_", "N_", "ngettext", "format_number", "language", "localized", "walk", "Context"]


def _(message: str, /, **params: Any) -> str:
    """Return ``message`` in the run's language, its ``%(name)s`` filled from ``params``."""
    return gettext(message, **params)


def N_(message: str) -> str:
    """Mark ``message`` for translation where it is written; it is translated where it is shown."""
    return message


class _Formatter(click.HelpFormatter):
    """click's help formatter, its headings punctuated in the run's language (« Options : »)."""

    def write_heading(self, heading: str) -> None:
        """Write a heading into the buffer."""
        self.write(f"{'':>{self.current_indent}}" + _("%(heading)s:", heading=heading) + "\n")


class Context(click.Context):
    """click's context, formatting help with :class:`_Formatter`."""

    formatter_class = _Formatter


def walk(command: click.Command) -> Iterator[click.Command]:
    """Yield ``command`` and every subcommand under it."""
    yield command
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            yield from walk(sub)


def _translate(obj: Any, names: tuple[str, ...], lang: str) -> None:
    msgids: dict[str, str | None] = obj.__dict__.setdefault("_msgids", {})
    for name in names:
        if name not in msgids:
            msgids[name] = getattr(obj, name, None)
        msgid = msgids[name]
        if msgid:
            setattr(obj, name, gettext(msgid, lang=lang))


@contextmanager
def localized(root: click.Command) -> Iterator[str]:
    """Run the command line in the chosen language (:func:`archive.i18n.language`); yield it."""
    lang = language()
    translations(lang)  # compiles a catalog changed since install, before gettext reads it
    for command in walk(root):
        _translate(command, ("help", "short_help", "epilog"), lang)
        for param in command.params:
            _translate(param, ("help",), lang)
        # click makes its --help option once, in the language of the first run: make it again.
        command._help_option = None
    stdlib_gettext.bindtextdomain(DOMAIN, str(CATALOGS))
    # gettext's default domain follows $LANGUAGE first: click's words follow our choice,
    # $ARCHIVE_LANG included. Restored after the run (tests run several in one process).
    saved = os.environ.get("LANGUAGE")
    os.environ["LANGUAGE"] = lang
    try:
        yield lang
    finally:
        if saved is None:
            os.environ.pop("LANGUAGE", None)
        else:
            os.environ["LANGUAGE"] = saved
