"""Whoosh's internals: the one package that knows whoosh-reloaded 2.7.5 beyond its public API.

Nothing outside this package imports a private Whoosh name, subclasses a Whoosh
writer, or touches a Whoosh object's private attributes: the schema
(:mod:`.schema`), the fast writer (:class:`FastWriter`), the posting arrays it
builds (:mod:`.postings`) and the pickles it writes (:mod:`.packing`), the
readers, and the segment reading of ``archive check`` (:func:`open_segment`) are
all here, behind the version check below. Upgrading Whoosh means reading this
package, and only this one.

Whoosh's public API answers one posting at a time through Python method calls:
reading the 40,000 postings of ``gouvernement`` that way costs tens of
milliseconds, and writing the corpus' 143,000 paragraphs through its writer
takes minutes. This module goes under that API, in both directions:

* **Reading** (:func:`read_postings`, :func:`column`, :func:`length_codes`,
  :func:`deleted`): a term's W3 posting blocks (a pickled header, then pickled
  deltas, weights and values, optionally zlib-compressed) are read whole and
  decoded into numpy arrays; a numeric column or a field's length bytes are read
  as one ``numpy.frombuffer``.
* **Reading from many threads** (:func:`open_for_reading`): Whoosh reads its
  files with ``seek()`` then ``read()`` on one shared handle, so two searches in
  two threads would move each other's position; an index opened here reads at
  explicit offsets (``os.pread``), each thread keeping its own position.
* **Refreshing** (:func:`fresh_searcher`): a searcher on the latest commit that
  reuses the readers of unchanged segments.
* **Writing** (:class:`BulkSegmentWriter`, :class:`FastWriter`): a segment writer that writes a
  whole segment from sorted posting arrays (:mod:`.postings`), every
  block's statistics computed at once in numpy, in the blocks of Whoosh's W3
  codec (``tests/test_whoosh_internals.py`` checks that stock Whoosh reads the
  same postings, lengths and columns as from its own writer);
  :func:`commit_segments` commits segments built by worker processes.
* **Merging** (:class:`SegmentMerger`): segments merged into one without
  re-indexing, their postings read term by term and written a chunk at a time,
  so that merging a large archive's segments holds a bounded amount of memory.

All of it depends on the internals of exactly one release, so importing this
package checks that the installed whoosh-reloaded is that release, before any of
its modules imports Whoosh's internals.
"""

# ruff: noqa: E402 -- the version is checked before Whoosh's internals are imported.
from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from ..errors import ArchiveError

#: The whoosh-reloaded release whose private format this package reads and writes.
WHOOSH_VERSION = "2.7.5"


class IncompatibleWhoosh(ArchiveError):
    """The installed whoosh-reloaded is not the release this archive reads and writes."""


def check_version() -> None:
    """Raise IncompatibleWhoosh unless the installed whoosh-reloaded is WHOOSH_VERSION."""
    try:
        installed = version("whoosh-reloaded")
    except PackageNotFoundError:
        installed = "none"
    if installed != WHOOSH_VERSION:
        raise IncompatibleWhoosh(
            f"whoosh-reloaded {WHOOSH_VERSION} is required (the index format depends on it), "
            f"but {installed} is installed: pip install 'whoosh-reloaded=={WHOOSH_VERSION}'")


check_version()

from ._decoding import (
    EMPTY_IDS,
    EMPTY_WEIGHTS,
    PositionalFile,
    Segment,
    column,
    decoded_lengths,
    deleted,
    fresh_searcher,
    index_segments,
    length_codes,
    open_for_reading,
    open_segment,
    read_postings,
    read_toc,
    segment_count,
    segment_readers,
    segments,
)
from ._fastwriter import FastWriter
from ._merging import SegmentMerger
from ._writing import (
    BulkSegmentWriter,
    commit_segments,
    compressed_like_whoosh,
    create_index,
    finish_segment,
    open_index,
)
from .schema import PackedPositions, make_schema, schema_chain

__all__ = ["WHOOSH_VERSION", "IncompatibleWhoosh", "check_version", "PositionalFile", "read_toc",
           "compressed_like_whoosh", "Segment", "segments", "segment_count",
           "open_for_reading", "open_segment", "segment_readers", "read_postings", "column", "length_codes",
           "decoded_lengths", "deleted",
           "fresh_searcher", "BulkSegmentWriter", "FastWriter", "SegmentMerger", "finish_segment", "commit_segments",
           "open_index", "create_index",
           "index_segments", "EMPTY_IDS", "EMPTY_WEIGHTS", "PackedPositions", "make_schema", "schema_chain"]
