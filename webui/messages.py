"""The core's errors and outcomes said in the reader's language, from their codes and parameters.

The core raises :class:`archive.ArchiveError` with a stable ``code`` and the
``params`` of its message; here each code has a Babel message, so the French
page never shows the core's English and no English text is ever parsed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import format_decimal, lazy_gettext, ngettext
from flask_babel import gettext as _

from archive import ArchiveError

__all__ = ["error_message", "http_message", "outcome_label", "add_summary", "PARAM_LABELS"]

#: URL parameters as named to the reader.
PARAM_LABELS = {"page": lazy_gettext("page"), "per_page": lazy_gettext("articles per page"),
                "from": lazy_gettext("From"), "to": lazy_gettext("To")}

_MESSAGES: dict[str, Callable[[dict[str, Any]], str]] = {
    "article_not_found": lambda p: _("There is no article with the id “%(id)s”.", id=p["id"]),
    "page_range": lambda p: _("The page must be a number from 1 to %(max)s.", max=format_decimal(p["max"])),
    "page_beyond": lambda p: _("Page %(page)s is past the last page (%(last)s).",
                               page=p["page"], last=p["last"]),
    "per_page_range": lambda p: _("The number of articles per page must be from 1 to %(max)s.",
                                  max=p["max"]),
    "not_whole": lambda p: _("“%(param)s” must be a whole number.",
                             param=PARAM_LABELS.get(p["param"], p["param"])),
    "bad_sort": lambda p: _("Unknown sort order “%(value)s”.", value=p["value"]),
    "bad_date": lambda p: _("“%(value)s” is not a date: write 2019, 2019-03 or 2019-03-15.", value=p["value"]),
    "too_many_filters": lambda p: ngettext("At most %(max)s filter at once.", "At most %(max)s filters at once.",
                                           p["max"], max=format_decimal(p["max"])),
    "query_too_long": lambda p: ngettext("The search is longer than %(max)s character.",
                                         "The search is longer than %(max)s characters.", p["max"],
                                         max=format_decimal(p["max"])),
    "busy": lambda p: _("The archive is being updated; try again in a moment."),
    "index_missing": lambda p: _("The search index is not built yet."),
    "home_missing": lambda p: _("There is no archive here yet."),
    "ingest": lambda p: _("%(source)s: %(reason)s", source=p["source"], reason=p["reason"]),
}


def error_message(exc: ArchiveError) -> str:
    """Return an error's message in the current language (its English text for an unknown code)."""
    make = _MESSAGES.get(exc.code)
    try:
        return make(exc.params) if make else str(exc)
    except KeyError:  # a code raised without its parameters: better English than nothing
        return str(exc)


def http_message(status: int, fallback: str) -> str:
    """Return the message of an HTTP error status in the current language."""
    messages = {404: _("This page does not exist."), 405: _("This method is not allowed here."),
                413: _("The upload is too large.")}
    return messages.get(status, fallback)


def outcome_label(outcome: str) -> str:
    """Return what happened to one article (``added``, ``updated``, ``unchanged``) in the current language."""
    labels = {"added": _("added"), "updated": _("updated"), "unchanged": _("unchanged")}
    return labels.get(outcome, outcome)


def add_summary(counts: dict[str, int]) -> str:
    """Return one sentence counting an add's articles, each count with its plural."""
    parts = [ngettext("%(num)s article added", "%(num)s articles added", counts["added"]),
             ngettext("%(num)s updated", "%(num)s updated", counts["updated"]),
             ngettext("%(num)s unchanged", "%(num)s unchanged", counts["unchanged"])]
    if counts["failed"]:
        parts.append(ngettext("%(num)s source failed", "%(num)s sources failed", counts["failed"]))
    return ", ".join(parts)
