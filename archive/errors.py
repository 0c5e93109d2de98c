"""One small exception hierarchy for the whole archive.

Every error the library raises on purpose is an :class:`ArchiveError`; the edges
(the command line, the web app) translate them into messages, exit codes and
HTTP statuses. Nothing below the edges prints or exits.
"""

from __future__ import annotations

__all__ = [
    "ArchiveError",
    "IngestError",
    "ArticleNotFound",
    "InvalidArticle",
    "ArchiveBusy",
    "BadParameter",
    "IndexMissing",
    "IndexDamaged",
    "HomeUnavailable",
    "TooManyAttempts",
]


class ArchiveError(Exception):
    """Base class of every error the archive raises on purpose."""

    exit_code = 1
    http_status = 500


class IngestError(ArchiveError):
    """A source file (or one record in it) could not be read as an article."""

    http_status = 400

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class InvalidArticle(ArchiveError):
    """An article's fields do not make a valid article."""

    http_status = 400


class ArticleNotFound(ArchiveError):
    """No article with that id is in the archive."""

    http_status = 404

    def __init__(self, article_id: str) -> None:
        super().__init__(f"no article with id {article_id!r}")
        self.article_id = article_id


class ArchiveBusy(ArchiveError):
    """Another process holds the archive's write lock for longer than we may wait."""

    exit_code = 3
    http_status = 503


class BadParameter(ArchiveError):
    """A search or listing parameter is out of range or malformed."""

    exit_code = 2
    http_status = 400


class IndexMissing(ArchiveError):
    """The search index does not exist yet (run `archive rebuild`)."""

    http_status = 503


class IndexDamaged(ArchiveError):
    """A file of the search index is missing, truncated or corrupted (run `archive check --repair`)."""

    http_status = 503


class HomeUnavailable(ArchiveError):
    """The archive home cannot be opened or written (read-only, missing permissions, not a store)."""

    http_status = 503


class TooManyAttempts(ArchiveError):
    """A client gave a wrong admin token too many times in a short while."""

    http_status = 429
