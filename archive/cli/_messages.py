"""The core's errors said on the terminal in the reader's language, from their codes and parameters.

The same codes and, where the words are the same, the same msgids as the web
UI's :mod:`webui.messages` (the core cannot import it): a French reader sees
the same sentence in both. A code not listed here keeps the core's English.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..dates import BOUND_EXAMPLES
from ..errors import ArchiveError, IngestError
from ._i18n import _, format_number, language, ngettext

__all__ = ["error_text", "reason_text", "date_hint"]


def date_hint() -> str:
    """Return the one hint on typing dates, as the web UI words it."""
    words = "5 December 2019" if language() == "en" else BOUND_EXAMPLES[3]
    return _("Year, month or day: %(year)s, %(month)s, %(day)s (day first) or %(words)s.",
             year=BOUND_EXAMPLES[0], month=BOUND_EXAMPLES[1], day=BOUND_EXAMPLES[2], words=words)


_LABELS = {"page": "page", "per_page": "articles per page", "from": "From", "to": "To"}

_MESSAGES: dict[str, Callable[[dict[str, Any]], str]] = {
    "article_not_found": lambda p: _("There is no article with the id “%(id)s”.", id=p["id"]),
    "home_missing": lambda p: _("no archive in %(home)s (add articles first, or pass --home)", home=p["home"]),
    "page_range": lambda p: _("The page must be a number from 1 to %(max)s.", max=format_number(p["max"])),
    "page_beyond": lambda p: _("Page %(page)s is past the last page (%(last)s).", page=p["page"], last=p["last"]),
    "per_page_range": lambda p: _("The number of articles per page must be from 1 to %(max)s.", max=p["max"]),
    "not_whole": lambda p: _("“%(param)s” must be a whole number.",
                             param=_(_LABELS[p["param"]]) if p["param"] in _LABELS else p["param"]),
    "bad_sort": lambda p: _("Unknown sort order “%(value)s”.", value=p["value"]),
    "bad_date": lambda p: _("“%(value)s” is not a date. %(hint)s", value=p["value"], hint=date_hint()),
    "too_many_filters": lambda p: ngettext("At most %(max)s filter at once.", "At most %(max)s filters at once.",
                                           p["max"], max=format_number(p["max"])),
    "query_too_long": lambda p: ngettext("The search is longer than %(max)s character.",
                                         "The search is longer than %(max)s characters.", p["max"],
                                         max=format_number(p["max"])),
    "busy": lambda p: _("The archive is being updated; try again in a moment."),
    "index_damaged": lambda p: _("The search index is damaged; it must be repaired (archive check --repair)."),
    "too_many_queries": lambda p: _("A trend compares at most %(max)s queries.", max=p["max"]),
    "engine_unavailable": lambda p: _("Search is unavailable right now: the search cluster cannot be reached. "
                                      "Try again in a moment."),
}

#: Why a source or an article could not be read (the core's InvalidArticle and IngestError).
_REASONS: dict[str, Callable[[dict[str, Any]], str]] = {
    "no_match": lambda p: _("no file matches this pattern"),
    "no_file": lambda p: _("no such file or folder"),
    "empty_file": lambda p: _("empty file"),
    "unsupported_type": lambda p: _("unsupported file type “%(suffix)s” (use %(suffixes)s)",
                                    suffix=p["suffix"], suffixes=p["suffixes"]),
    "unreadable": lambda p: _("the file could not be read"),
    "too_large": lambda p: _("file too large (over %(mib)s MiB for one article; split it or use JSON Lines)",
                             mib=p["mib"]),
    "binary": lambda p: _("binary file, not text"),
    "malformed_json": lambda p: _("malformed JSON at line %(line)s, column %(column)s",
                                  line=p["line"], column=p["column"]),
    "json_too_deep": lambda p: _("JSON nested too deeply"),
    "not_utf8": lambda p: _("not UTF-8 (JSON Lines must be UTF-8)"),
    "line_too_long": lambda p: _("a line longer than %(mib)s MiB", mib=p["mib"]),
    "malformed_metadata": lambda p: _("malformed metadata (front matter, TOML or YAML)"),
    "no_text_in_file": lambda p: _("no text in the file"),
    "bad_article_date": lambda p: _("unreadable date “%(value)s” (write 2025-03-05 or 5 mars 2025)",
                                    value=p["value"]),
    "impossible_date": lambda p: _("impossible date “%(value)s”", value=p["value"]),
    "invalid_id": lambda p: _("invalid id “%(id)s”: use 1 to 128 letters, digits, _ . : or -", id=p["id"]),
    "no_text": lambda p: _("the article “%(id)s” has no text", id=p["id"]),
    "no_title": lambda p: _("the article “%(id)s” has no title", id=p["id"]),
}


def _english(exc: ArchiveError) -> bool:
    # English is the core's own text: exactly what the command line always printed.
    return language() == "en"


def reason_text(exc: IngestError) -> str:
    """Return why a source failed, in the run's language (the core's reason for an unknown code)."""
    make = _REASONS.get(exc.code)
    if make is None or _english(exc):
        return exc.reason
    try:
        return make(exc.params)
    except KeyError:
        return exc.reason


def error_text(exc: ArchiveError) -> str:
    """Return an error's message in the run's language (its English text for an unknown code)."""
    if _english(exc):
        return str(exc)
    if isinstance(exc, IngestError):
        return _("%(source)s: %(reason)s", source=exc.source, reason=reason_text(exc))
    make = _REASONS.get(exc.code) or _MESSAGES.get(exc.code)
    try:
        return make(exc.params) if make else str(exc)
    except KeyError:  # a code raised without its parameters: better English than nothing
        return str(exc)
