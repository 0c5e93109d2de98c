"""Languages: French by default, English on request; dates and numbers through Babel.

The language comes from ``?lang=``, then the ``lang`` cookie, then the
browser's Accept-Language header.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from babel.dates import format_date
from babel.numbers import format_decimal
from flask import Flask, Response, request
from flask_babel import Babel, get_locale

__all__ = ["init_app", "LANGUAGES", "compile_catalogs", "format_number", "count_text"]

LANGUAGES = ("fr", "en")
TRANSLATIONS = Path(__file__).resolve().parent / "translations"


def select_locale() -> str:
    """Pick the UI language for this request."""
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        return asked
    cookie = request.cookies.get("lang")
    if cookie in LANGUAGES:
        return cookie
    return request.accept_languages.best_match(LANGUAGES) or "fr"


def compile_catalogs() -> None:
    """Compile ``.po`` catalogs to ``.mo`` where missing or older (a fresh checkout has none)."""
    # The core compiles them: the command line reads the same catalogs without importing the web package.
    from archive.i18n import compile_catalogs as compile_all

    compile_all(TRANSLATIONS)


def _date(value: dt.date | None, form: str = "long") -> str:
    return format_date(value, format=form, locale=str(get_locale())) if value else ""


def _number(value: int) -> str:
    return format_decimal(value, locale=str(get_locale()))


def format_number(value: int) -> str:
    """Format a whole number for the page's language (``12 345`` in French)."""
    return _number(value)


def count_text(singular: str, plural: str, n: int) -> str:
    """Return ``ngettext(singular, plural, n)`` with ``%(num)s`` formatted for the page's language."""
    from flask_babel import get_translations

    text: str = get_translations().ngettext(singular, plural, n)
    return text % {"num": _number(n)}


def init_app(app: Flask) -> None:
    """Install Babel, the locale selector and the formatting filters."""
    compile_catalogs()
    Babel(app, locale_selector=select_locale, default_locale="fr",
          default_translation_directories=str(TRANSLATIONS))
    app.jinja_env.filters["date"] = _date
    app.jinja_env.filters["number"] = _number
    app.jinja_env.globals["LANGUAGES"] = LANGUAGES
    app.jinja_env.globals["get_locale"] = lambda: str(get_locale())

    @app.after_request
    def remember(response: Response) -> Response:
        asked = request.args.get("lang")
        if asked in LANGUAGES:
            response.set_cookie("lang", asked, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
        return response
