"""A searchable full-text archive of French news articles.

The public API, by pipeline stage::

    from archive import Archive, SearchRequest, search
    arch = Archive("/path/to/home")              # store + index + write lock
    arch.add(["articles/", "more.jsonl"])        # ingest, store, index
    results = search(arch, "réforme des retraites", tag="politique")
    results.to_dict()                            # the JSON contract

Every error raised on purpose is an :class:`ArchiveError`.
"""

from .engines import search
from .errors import (
    ArchiveBusy,
    ArchiveError,
    ArticleNotFound,
    BadParameter,
    HomeMissing,
    HomeUnavailable,
    IndexDamaged,
    IndexMissing,
    IngestError,
    InvalidArticle,
    Overloaded,
    TooManyAttempts,
)
from .home import AddReport, Archive, CheckReport
from .ingest import SUFFIXES
from .model import Article, Block, valid_id
from .search import (
    READING_WINDOW,
    SORTS,
    ArticleView,
    Copy,
    Engine,
    FacetValue,
    Hit,
    Paragraph,
    SearchRequest,
    SearchResults,
    Spans,
    marked_html,
)

__all__ = [
    "Archive", "AddReport", "CheckReport", "Article", "Block", "valid_id", "SUFFIXES",
    "search", "SearchRequest", "SearchResults", "Hit", "Copy", "Paragraph", "FacetValue", "Engine",
    "Spans", "marked_html", "SORTS", "ArticleView", "READING_WINDOW",
    "ArchiveError", "ArchiveBusy", "ArticleNotFound", "BadParameter", "IndexMissing", "IndexDamaged",
    "HomeMissing", "HomeUnavailable", "IngestError", "InvalidArticle", "TooManyAttempts",
    "Overloaded",
]
