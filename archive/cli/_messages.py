"""The core's errors said on the terminal in the reader's language, from their codes and parameters.

The codes both edges say alike come from :func:`archive.reasons.error_messages`, the
table the web UI's :mod:`webui.messages` says too: a French reader sees the same
sentence in both. A code not listed here keeps the core's English.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..dates import BOUND_EXAMPLES
from ..errors import ArchiveError, IngestError
from ..reasons import error_messages, reason_messages
from ._i18n import _, format_number, language, ngettext

__all__ = ["error_text", "reason_text", "date_hint"]


def date_hint() -> str:
    """Return the one hint on typing dates, as the web UI words it."""
    words = "5 December 2019" if language() == "en" else BOUND_EXAMPLES[3]
    return _("Year, month or day: %(year)s, %(month)s, %(day)s (day first) or %(words)s.",
             year=BOUND_EXAMPLES[0], month=BOUND_EXAMPLES[1], day=BOUND_EXAMPLES[2], words=words)


_LABELS = {"page": "page", "per_page": "articles per page", "from": "From", "to": "To"}

_MESSAGES: dict[str, Callable[[dict[str, Any]], str]] = {
    **error_messages(_, ngettext, format_number, lambda name: _(_LABELS[name]) if name in _LABELS else name, date_hint),
    "home_missing": lambda p: _("no archive in %(home)s (add articles first, or pass --home)", home=p["home"]),
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
