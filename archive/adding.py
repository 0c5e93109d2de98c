"""Adding: what an add reports, and the articles it reads on their way to the store.

:func:`readable` passes articles on and notes each item that failed (or raises
it, all or nothing); :func:`counting` counts what a source gave before it
failed (rolled back with it); :class:`Meter` advances the ``storing`` bar by
bytes read, so that the rest of a file is accounted for at its end.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

from .errors import IngestError
from .identity import Incoming
from .ingest import Item, Source
from .store import Outcome

__all__ = ["AddReport", "readable", "counting", "Meter", "size_of"]

T = TypeVar("T")


@dataclass
class AddReport:
    """What an add did: each article's outcome, and each source that failed with its reason."""

    outcomes: list[tuple[str, Outcome]] = field(default_factory=list)
    failures: list[IngestError] = field(default_factory=list)
    #: Things the user should know that are not failures (an id taken, so another chosen).
    notes: list[str] = field(default_factory=list)
    #: Paragraphs (and headings) of the articles added or updated.
    paragraphs: int = 0
    #: The articles added or updated without a date (listed by the day they were added).
    undated: list[str] = field(default_factory=list)
    #: Articles stored but not yet indexed (the search cluster could not be reached).
    pending: int = 0

    def counts(self) -> dict[str, int]:
        """Return how many articles were added, updated and unchanged, and how many sources failed."""
        c = Counter(outcome for _, outcome in self.outcomes)
        return {"added": c["added"], "updated": c["updated"], "unchanged": c["unchanged"],
                "failed": len(self.failures)}


def readable(items: Iterable[Item], report: AddReport, all_or_nothing: bool) -> Iterator[Incoming]:
    """Pass the articles on, and each item's failure to the report (or raise it: all or nothing)."""
    for item in items:
        if isinstance(item, IngestError):
            if all_or_nothing:
                raise item
            report.failures.append(item)
            continue
        report.notes.extend(item.notes)
        yield item


def counting(articles: Iterator[T], read: list[int]) -> Iterator[T]:
    """Pass articles on, counting them in ``read[0]``."""
    for article in articles:
        read[0] += 1
        yield article


class Meter:
    """Advances a progress bar, counting how far."""

    def __init__(self, advance: Callable[[int], None]) -> None:
        self.advance, self.done = advance, 0

    def __call__(self, n: int) -> None:
        self.done += n
        self.advance(n)


def size_of(source: Source) -> int:
    """Return a source file's size in bytes (0 for standard input or a file that cannot be read)."""
    try:
        if source.data is not None:
            return len(source.data)
        return 0 if source.is_stdin or source.is_url else os.path.getsize(source.path)
    except OSError:
        return 0
