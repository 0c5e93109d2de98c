"""A searchable full-text archive of French news articles.

The public API, by pipeline stage::

    from archive import Archive, search
    arch = Archive("/path/to/home")              # store + index + write lock
    arch.add(["articles/", "more.jsonl"])        # ingest, store, index
    results = search(arch, "réforme des retraites", tag="politique")
    results.to_dict()                            # the JSON contract

Every error raised on purpose is an :class:`ArchiveError`.
"""

from .errors import (
    ArchiveBusy,
    ArchiveError,
    ArticleNotFound,
    BadParameter,
    IndexMissing,
    IngestError,
    InvalidArticle,
)
from .home import AddReport, Archive, CheckReport
from .model import Article, Block
from .search import FacetValue, Hit, Paragraph, SearchResults, search

__all__ = [
    "Archive", "AddReport", "CheckReport", "Article", "Block", "search", "SearchResults", "Hit",
    "Paragraph", "FacetValue", "ArchiveError", "ArchiveBusy", "ArticleNotFound", "BadParameter",
    "IndexMissing", "IngestError", "InvalidArticle",
]
