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
from ..reasons import reason_messages
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
_REASONS = reason_messages(_)


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
