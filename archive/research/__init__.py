"""Research tools: counting and comparing over time, reading in context, exporting, citing.

Built on the search seam (:class:`~archive.engines.SearchEngine`,
:class:`~archive.search.SearchRequest`), one module per tool, each opening on
a French example:

1. :mod:`.periods` — day numbers cut into years, months or days, contiguous.
2. :mod:`.trends` — how many matching articles per period, for up to four
   queries, as counts and as shares of everything published then.
3. :mod:`.kwic` — a concordance: every occurrence with its left and right context,
   counted by the engine (the embedded one from its index:
   :mod:`archive.search.occurrences`) and found in a page's paragraphs without
   analysing every word (:mod:`archive.search.locate`).
4. :mod:`.exports` — the matching articles as CSV, JSON Lines or an IRaMuTeQ corpus.
5. :mod:`.feed` — the newest matching articles as an Atom feed.
6. :mod:`.cite` — one article as a French reference, RIS and Highwire meta tags.
"""

from .cite import cited_url, highwire, permalink, reference, ris
from .exports import EXPORT_FORMATS, MEDIA_TYPES, export, export_filename, export_lines
from .feed import atom
from .kwic import KWIC_SORTS, Concordance, Line, concordance
from .periods import BYS, By, as_by, choose_by, count_periods, key_of, period_bounds, period_label
from .trends import MAX_QUERIES, Point, Series, Trend, trend

__all__ = ["BYS", "By", "as_by", "choose_by", "period_label", "period_bounds", "count_periods", "key_of",
           "trend", "Trend", "Series", "Point", "MAX_QUERIES",
           "concordance", "Concordance", "Line", "KWIC_SORTS",
           "export", "export_lines", "export_filename", "EXPORT_FORMATS", "MEDIA_TYPES", "atom",
           "reference", "ris", "highwire", "permalink", "cited_url"]
