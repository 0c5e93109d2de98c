"""The command line's language: French or English, from the same Babel catalogs as the web UI.

The catalogs are data, not code: the ``.po`` files live in
``webui/translations`` (where the web UI and its translators keep them), and
the package installs the same folder as ``archive/_catalogs`` (a symbolic link,
as ``archive/_seeds`` is for the seeds), so the core reads them without
importing the web package. :func:`compile_catalogs` turns each ``.po`` into the
``.mo`` that :mod:`gettext` reads; ``make install`` and the web app call it, and
so does the command line when a catalog changed since.

The language is ``$ARCHIVE_LANG`` (``fr`` or ``en``) when set, else the
locale's: the first of ``$LC_ALL``, ``$LC_MESSAGES``, ``$LANG`` that is set
(``fr_FR.UTF-8`` is French; ``C``, ``POSIX``, ``en_*`` and anything else
English, as is an unset locale).
"""

from __future__ import annotations

import functools
import gettext as _gettext
import os
from collections.abc import Mapping
from pathlib import Path

__all__ = ["CATALOGS", "LANGUAGES", "DOMAIN", "compile_catalogs", "language", "translations", "gettext", "ngettext",
           "format_number"]

LANGUAGES = ("fr", "en")
DOMAIN = "messages"


def _catalogs() -> Path:
    installed = Path(__file__).resolve().parent / "_catalogs"
    if installed.is_dir():
        return installed
    # A source tree whose file system dropped the link: the catalogs are beside the package.
    return Path(__file__).resolve().parent.parent / "webui" / "translations"


#: The folder of ``<lang>/LC_MESSAGES/messages.po`` (and ``.mo``) for every language.
CATALOGS = _catalogs()


def compile_catalogs(folder: Path | None = None) -> None:
    """Compile ``.po`` catalogs to ``.mo`` where missing or older (a fresh checkout has none)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in (folder or CATALOGS).glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as f:
            catalog = read_po(f)
        # One temporary file per process: the workers of `archive serve --workers N`
        # start together, and would otherwise write into one another's file.
        tmp = mo.with_name(f"{mo.name}.{os.getpid()}.tmp")
        try:
            with tmp.open("wb") as f:
                write_mo(f, catalog)
            tmp.replace(mo)
        except OSError:
            continue  # a read-only install ships its compiled catalogs


def _stale() -> bool:
    for po in CATALOGS.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            return True
    return False


def language(environ: Mapping[str, str] | None = None) -> str:
    """Return ``fr`` or ``en``: ``$ARCHIVE_LANG`` if it names one, else the locale's language."""
    env = os.environ if environ is None else environ
    asked = env.get("ARCHIVE_LANG", "").strip().lower()[:2]
    if asked in LANGUAGES:
        return asked
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "").strip()
        if value:
            # POSIX: the first one set decides, C and POSIX included.
            return "fr" if value.lower().startswith("fr") else "en"
    return "en"


@functools.cache
def translations(lang: str) -> _gettext.NullTranslations:
    """Return the compiled catalog of ``lang`` (untranslated English when it cannot be read)."""
    if _stale():
        compile_catalogs()
    try:
        return _gettext.translation(DOMAIN, str(CATALOGS), languages=[lang])
    except OSError:
        return _gettext.NullTranslations()


def gettext(message: str, /, *, lang: str | None = None, **params: object) -> str:
    """Return ``message`` in ``lang`` (default: :func:`language`), its ``%(name)s`` filled from ``params``."""
    text = translations(lang or language()).gettext(message)
    return text % params if params else text


def ngettext(singular: str, plural: str, n: int, /, *, lang: str | None = None, **params: object) -> str:
    """Return the form of ``singular``/``plural`` for ``n``, ``%(num)s`` written the language's way."""
    lang = lang or language()
    text = translations(lang).ngettext(singular, plural, n)
    return text % {"num": format_number(n, lang), **params}


def format_number(value: int, lang: str | None = None) -> str:
    """Format a whole number for the language: ``17 854`` in French as on the web UI's pages.

    English keeps the digits bare (``17854``), as the command line always printed them for scripts.
    """
    lang = lang or language()
    if lang == "en":
        return str(value)
    from babel.numbers import format_decimal

    return format_decimal(value, locale=lang)
