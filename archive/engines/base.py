"""The seam: what the web UI, the API, the command line and the research tools ask of a search engine.

Two engines answer it: the embedded one (:class:`archive.search.Engine`, Whoosh
files and numpy arrays in the home, the default) and the OpenSearch one
(:mod:`archive.engines.opensearch`, a cluster shared by any number of web servers).
Everything above the seam holds a :class:`SearchEngine` and the data types below
(requests, results, article views, selections); none imports either engine.

Reading ``/?q=grève&tag=social`` goes through :meth:`SearchEngine.search`; the
reading view through :meth:`~SearchEngine.read` and :meth:`~SearchEngine.related`;
a trend through :meth:`~SearchEngine.select` (day numbers of every matching
article, no cap); a concordance through :meth:`~SearchEngine.select` with
``blocks=True, counts=True`` then :meth:`~SearchEngine.paragraphs`; an export through
:meth:`~SearchEngine.export_articles` (every matching article, in order, whole).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Sequence
from typing import Any, Protocol, runtime_checkable

from ..lru import LRU
from ..model import Article
from ..revisions import HistoryEntry
from ..search.reading import ArticleView
from ..search.request import SearchRequest
from ..search.results import Health, Hit, ParagraphText, SearchResults, Selection

__all__ = ["SearchEngine", "Health", "ParagraphText"]

@runtime_checkable
class SearchEngine(Protocol):
    """One archive's search, whichever engine answers it."""

    #: ``whoosh`` (embedded) or ``opensearch``.
    name: str
    #: What the research tools derive from this engine's answers (a concordance's counts), keyed by
    #: :meth:`generation`; emptied when the engine closes.
    derived: LRU[Hashable, Any]

    def search(self, request: SearchRequest, *, suggestion: bool = True) -> SearchResults:
        """Return a page of articles matching a request, with facets, histogram and a suggestion."""
        ...

    def export_articles(self, request: SearchRequest) -> Iterator[tuple[Hit, Article]]:
        """Yield every matching article in the request's order (copies too), with all matching paragraph numbers."""
        ...

    def select(self, request: SearchRequest, *, blocks: bool = False, counts: bool = False) -> Selection:
        """Return every article matching a request, oldest first (no cap), and, if asked, their matching paragraphs.

        With ``counts`` each paragraph's number of marked occurrences comes too
        (``block_values``; -1 where only reading its text can tell).
        """
        ...

    def paragraphs(self, wanted: Sequence[tuple[str, int]],
                   records: dict[str, list[str]] | None = None) -> list[ParagraphText | None]:
        """Return paragraph ``n`` of article ``id`` for each ``(id, n)`` with title and date (None if gone).

        ``records`` is the caller's per-request memo of articles decoded whole (an
        engine may keep long articles there so that a request reads each once).
        """
        ...

    def read(self, article_id: str, query: str = "", at: int | None = None) -> ArticleView:
        """Return the window of an article holding block ``at`` (or the first match), with the query's marks."""
        ...

    def related(self, article_id: str, limit: int = 5) -> list[Hit]:
        """Return up to ``limit`` articles close to one."""
        ...

    def article(self, article_id: str) -> Article:
        """Return an article whole; raise :class:`~archive.errors.ArticleNotFound` if there is none."""
        ...

    def history(self, article_id: str, *, removed: bool = False) -> list[HistoryEntry]:
        """Return every version of a live article, oldest first (empty when it has none, or is removed).

        With ``removed``, a removed article's versions too; raise :class:`~archive.errors.ArticleNotFound`
        when there are none.
        """
        ...

    def revision(self, article_id: str, number: int) -> Article:
        """Return version ``number`` of an article; raise :class:`~archive.errors.ArticleNotFound` if none."""
        ...

    def generation(self) -> Hashable:
        """Return a key that changes whenever what searches answer may have changed (for caches)."""
        ...

    def stats(self) -> dict[str, Any]:
        """Return what the engine holds: ``engine``, ``articles`` (documents searched) and engine details."""
        ...

    def health(self) -> Health:
        """Tell whether searches can be answered now."""
        ...

    def warm(self, *, postings: bool = True) -> None:
        """Build what the first searches would otherwise wait for (a server calls it before serving)."""
        ...

    def close(self) -> None:
        """Release what the engine holds open (once running searches end)."""
        ...
