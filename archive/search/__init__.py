"""Search: a query in, articles out, with facets, highlights and a histogram.

Follow one query, ``/?q=investir&tag=économie``, from the URL to the ``<mark>``
by reading the modules in this order:

1. :mod:`.request` — the URL (or the command line's options, or keyword
   arguments) becomes one validated :class:`SearchRequest`, its query text
   parsed once by :mod:`archive.query` through the chain of
   :mod:`archive.analysis` (``investir`` → search term ``invest``).
2. :mod:`.engine` — :class:`Engine` runs the stages below on the current
   :mod:`.snapshot` of the index (blocks laid out as numpy arrays, read through
   :mod:`archive.whoosh_format`).
3. :mod:`.matching` — the tree is evaluated over every block at once and scored
   with BM25 (phrases through :mod:`.positions`); :mod:`.ranking` groups blocks
   into articles.
4. :mod:`.facets` — the date range and facet selections filter articles;
   facets count them.
5. :mod:`.marking` — the shown blocks' spans that the query matched (one plan per
   query, :mod:`.highlight` judging, :mod:`.locate` reading only the words that may be
   marked), cut to a window;
   :func:`.highlight.marked_html` is the one place they become HTML.
6. :mod:`.results` — the page as data (:class:`SearchResults`) and its JSON
   contract (``to_dict()``); :mod:`.suggest` adds "did you mean" when few match.
"""

from .engine import Engine, close_engines, engine_for, search
from .highlight import Spans, marked_html
from .marking import MarkPlan
from .reading import WINDOW as READING_WINDOW
from .reading import ArticleView
from .request import SORTS, SearchRequest, Sort
from .results import Copy, FacetValue, Hit, Paragraph, SearchResults

__all__ = ["search", "SearchRequest", "SearchResults", "Hit", "Copy", "Paragraph", "FacetValue", "Engine",
           "engine_for", "close_engines", "marked_html", "Spans", "Sort", "SORTS", "ArticleView",
           "READING_WINDOW", "MarkPlan"]
