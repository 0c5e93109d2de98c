"""The core's errors and outcomes said in the reader's language, from their codes and parameters.

The core raises :class:`archive.ArchiveError` with a stable ``code`` and the
``params`` of its message; here each code has a Babel message, so the French
page never shows the core's English and no English text is ever parsed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from flask_babel import format_decimal, get_locale, lazy_gettext, ngettext
from flask_babel import gettext as _
from markupsafe import Markup

from archive import ArchiveError, IngestError
from archive.dates import BOUND_EXAMPLES
from archive.reasons import error_messages, reason_messages

__all__ = ["error_message", "failure_message", "http_message", "outcome_label", "add_summary", "PARAM_LABELS",
           "date_hint", "bound_text", "MESSAGES"]

#: URL parameters as named to the reader.
PARAM_LABELS = {"page": lazy_gettext("page"), "per_page": lazy_gettext("articles per page"),
                "from": lazy_gettext("From"), "to": lazy_gettext("To")}


def date_hint(plain: bool = False) -> Markup:
    """Return the one hint on typing dates (boxes, errors): every form the parser reads, each kept on one line."""
    # In English the month in words is an English one (both languages' names are read).
    forms = [*BOUND_EXAMPLES[:3], "5 December 2019" if str(get_locale()) == "en" else BOUND_EXAMPLES[3]]
    examples = [Markup.escape(e) if plain else Markup('<span class="nowrap">%s</span>') % e for e in forms]
    return Markup(_("Year, month or day: %(year)s, %(month)s, %(day)s (day first) or %(words)s.",
                    year=examples[0], month=examples[1], day=examples[2], words=examples[3]))


def bound_text(day: dt.date) -> str:
    """Return a date bound as the date boxes read it back: 05/12/2019 in French, 2019-12-05 in English."""
    return day.isoformat() if str(get_locale()) == "en" else day.strftime("%d/%m/%Y")


#: The message of each error code the core raises (ingest and article reasons: failure_message).
MESSAGES: dict[str, Callable[[dict[str, Any]], str]] = {
    **error_messages(_, ngettext, format_decimal, lambda name: str(PARAM_LABELS.get(name, name)),
                     lambda: date_hint(plain=True)),
    "index_missing": lambda p: _("The search index is not built yet."),
    "home_missing": lambda p: _("There is no archive here yet."),
    "home_unavailable": lambda p: _("The archive cannot be opened right now."),
    "q_twice": lambda p: _("The search box was given twice in the address."),
    "overloaded": lambda p: _("Too many exports and concordances are running; try again in a moment."),
    "too_many_attempts": lambda p: _("Too many wrong admin tokens from this address; try again in a minute."),
}

#: Why a source or an article could not be read, by code (the core's InvalidArticle and IngestError).
_REASONS = reason_messages(_)


def error_message(exc: ArchiveError) -> str:
    """Return an error's message in the current language (its English text for an unknown code)."""
    try:
        if isinstance(exc, IngestError):
            return failure_message(exc, exc.source)
        if exc.code in _REASONS:
            return _REASONS[exc.code](exc.params)
        make = MESSAGES.get(exc.code)
        return make(exc.params) if make else str(exc)
    except KeyError:  # a code raised without its parameters: better English than nothing
        return str(exc)


def failure_message(exc: IngestError, source: str | None = None) -> str:
    """Return why a source failed, in the current language: ``lot.jsonl:3 : date impossible…``."""
    make = _REASONS.get(exc.code)
    try:
        reason = make(exc.params) if make else exc.reason
    except KeyError:
        reason = exc.reason
    # An upload's temporary folder means nothing to the reader: its file name does.
    where = source if source is not None else exc.source.rsplit("/", 1)[-1]
    return _("%(source)s: %(reason)s", source=where, reason=reason)


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
