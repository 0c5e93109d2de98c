"""One small exception hierarchy for the whole archive.

Every error the library raises on purpose is an :class:`ArchiveError`; the edges
(the command line, the web app) translate them into messages, exit codes and
HTTP statuses. Nothing below the edges prints or exits.

Each error carries a stable :attr:`~ArchiveError.code` and the
:attr:`~ArchiveError.params` its message is made of, so that an edge can say it
in the reader's language (``BadParameter("page must be from 1 to 500",
code="page_range", max=500)``) without matching English text; ``str(error)``
stays the English message for logs, the terminal and the JSON API.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ArchiveError",
    "IngestError",
    "ArticleNotFound",
    "InvalidArticle",
    "ArchiveBusy",
    "BadParameter",
    "IndexMissing",
    "HomeMissing",
    "IndexDamaged",
    "HomeUnavailable",
    "TooManyAttempts",
    "Overloaded",
    "EngineUnavailable",
]


class ArchiveError(Exception):
    """Base class of every error the archive raises on purpose."""

    exit_code = 1
    http_status = 500
    #: The default code of the class; an instance may carry a more precise one.
    code = "error"

    def __init__(self, message: str = "", *, code: str | None = None, **params: Any) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.params: dict[str, Any] = params


class IngestError(ArchiveError):
    """A source file (or one record in it) could not be read as an article."""

    http_status = 400
    code = "ingest"

    def __init__(self, source: str, reason: str, *, code: str | None = None, **params: Any) -> None:
        super().__init__(f"{source}: {reason}", code=code, source=source, reason=reason, **params)
        self.source = source
        self.reason = reason
        #: Articles of the same source read before this error and rolled back with it.
        self.discarded = 0


class InvalidArticle(ArchiveError):
    """An article's fields do not make a valid article."""

    http_status = 400
    code = "invalid_article"


class ArticleNotFound(ArchiveError):
    """No article with that id is in the archive."""

    http_status = 404
    code = "article_not_found"

    def __init__(self, article_id: str) -> None:
        super().__init__(f"no article with id {article_id!r}", id=article_id)
        self.article_id = article_id


class ArchiveBusy(ArchiveError):
    """Another process holds the archive's write lock for longer than we may wait."""

    exit_code = 3
    http_status = 503
    code = "busy"


class BadParameter(ArchiveError):
    """A search or listing parameter is out of range or malformed."""

    exit_code = 2
    http_status = 400
    code = "bad_parameter"


class IndexMissing(ArchiveError):
    """The search index does not exist yet (run `archive rebuild`)."""

    http_status = 503
    code = "index_missing"


class IndexDamaged(ArchiveError):
    """A file of the search index is missing, truncated or corrupted (run `archive check --repair`)."""

    http_status = 503
    code = "index_damaged"


class HomeUnavailable(ArchiveError):
    """The archive home cannot be opened or written (read-only, missing permissions, not a store)."""

    http_status = 503
    code = "home_unavailable"


class TooManyAttempts(ArchiveError):
    """A client gave a wrong admin token too many times in a short while."""

    http_status = 429
    code = "too_many_attempts"


class Overloaded(ArchiveError):
    """A costly research request (an export, a concordance) came while others already ran and waited."""

    http_status = 429
    code = "overloaded"


class HomeMissing(ArchiveError):
    """A read-only command was pointed at a folder that holds no archive."""

    code = "home_missing"

    def __init__(self, home: str) -> None:
        super().__init__(f"no archive in {home} (add articles first, or pass --home)", home=home)
        self.home = home


class EngineUnavailable(ArchiveError):
    """The search cluster cannot be reached (every host down, or no cluster manager elected)."""

    exit_code = 4
    http_status = 503
    code = "engine_unavailable"
