"""The fast writer: whole articles in, one segment written in bulk out."""

from __future__ import annotations

from typing import Any

from ..model import Article
from ..workers import Tally
from ..workers import report as report_progress
from ._writing import BulkSegmentWriter
from .postings import SegmentBuilder, SegmentData, Vocabulary
from .schema import schema_chain

__all__ = ["FastWriter"]


class FastWriter(BulkSegmentWriter):
    """A segment writer fed whole articles, written in bulk (:mod:`.postings`).

    ``report(phase, n)`` hears its progress: ``writing`` counts paragraphs, each
    segment's share of posting blocks written turned into its share of paragraphs.
    """

    def __init__(self, ix: Any, report: Tally = report_progress, vocabulary: Vocabulary | None = None,
                 **kwargs: Any) -> None:
        super().__init__(ix, **kwargs)
        self.builder = SegmentBuilder(schema_chain(self.schema), vocabulary)
        self.report = report
        self._share, self._reported = 0.0, 0

    def add_article(self, aid: int, article: Article) -> int:
        """Add one article's blocks; return how many."""
        count = self.builder.add_article(aid, article)
        self.docnum += count
        self._added = True
        return count

    def segment_data(self) -> SegmentData:
        """Return the articles added, as postings."""
        return self.builder.build()

    def written(self, share: float) -> None:
        """Report the paragraphs whose share of posting blocks is now written."""
        self._share += share
        self._report_writing(min(self.docnum, round(self._share * self.docnum)))

    def _flush_segment(self) -> None:
        super()._flush_segment()
        self._report_writing(self.docnum)

    @classmethod
    def in_worker(cls, ix: Any, report: Tally = report_progress, vocabulary: Vocabulary | None = None) -> FastWriter:
        """Return a writer for a worker process: no lock (the rebuild holds the archive's), separate files.

        ``vocabulary`` is the one the worker kept from its previous segment (:meth:`kept`).
        """
        return cls(ix, report, vocabulary, _lk=False, compound=False)

    def kept(self) -> Vocabulary | None:
        """Return this writer's vocabulary for the worker's next segment (None: start afresh)."""
        return self.builder.vocabulary.kept()

    def discard(self) -> None:
        """Close the segment begun but never written (a worker whose articles all went in earlier)."""
        self._close_segment()

    def _report_writing(self, done: int) -> None:
        if done > self._reported:
            self.report("writing", done - self._reported)
            self._reported = done
