"""Why a source or an article could not be read: one sentence per reason code, in the caller's language.

The core's :class:`~archive.errors.IngestError` and ``InvalidArticle`` carry a
stable ``code`` and the ``params`` of their message (``bad_article_date`` with
``{"value": "31/02/2020"}``). The command line and the web UI each pass their
own ``gettext`` (the terminal's locale, or the request's) and get the same
sentences from the same catalogs: « date impossible “31/02/2020” ».
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["reason_messages", "error_messages"]

Reason = Callable[[dict[str, Any]], str]


def reason_messages(_: Callable[..., str]) -> dict[str, Reason]:
    """Return the sentence of each reason code, said through ``_`` (a gettext taking %-style keywords)."""
    return {
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


def error_messages(_: Callable[..., str], ngettext: Callable[..., str], number: Callable[[int], str],
                   label: Callable[[str], str], hint: Callable[[], str]) -> dict[str, Reason]:
    """Return the sentence of each error code the command line and the web UI say alike.

    Said through the caller's ``_`` and ``ngettext``, its ``number`` format (« 2 000 »), its
    ``label`` of a request parameter and its ``hint`` on typing dates.
    """
    return {
        "article_not_found": lambda p: _("There is no article with the id “%(id)s”.", id=p["id"]),
        "page_range": lambda p: _("The page must be a number from 1 to %(max)s.", max=number(p["max"])),
        "page_beyond": lambda p: _("Page %(page)s is past the last page (%(last)s).", page=p["page"], last=p["last"]),
        "per_page_range": lambda p: _("The number of articles per page must be from 1 to %(max)s.", max=p["max"]),
        "not_whole": lambda p: _("“%(param)s” must be a whole number.", param=label(p["param"])),
        "bad_sort": lambda p: _("Unknown sort order “%(value)s”.", value=p["value"]),
        "bad_date": lambda p: _("“%(value)s” is not a date. %(hint)s", value=p["value"], hint=hint()),
        "too_many_filters": lambda p: ngettext("At most %(max)s filter at once.", "At most %(max)s filters at once.",
                                               p["max"], max=number(p["max"])),
        "query_too_long": lambda p: ngettext("The search is longer than %(max)s character.",
                                             "The search is longer than %(max)s characters.", p["max"],
                                             max=number(p["max"])),
        "busy": lambda p: _("The archive is being updated; try again in a moment."),
        "index_damaged": lambda p: _("The search index is damaged; it must be repaired (archive check --repair)."),
        "too_many_queries": lambda p: _("A trend compares at most %(max)s queries.", max=p["max"]),
        "engine_unavailable": lambda p: _("Search is unavailable right now: the search cluster cannot be reached. "
                                          "Try again in a moment."),
    }
