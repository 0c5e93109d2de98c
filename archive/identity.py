"""Identity: which id an incoming article is stored under, so that two articles never share one.

Take two files both named ``greve.txt``, one in ``nord/`` and one in ``sud/``,
neither giving an ``id``. Each gets an id *derived from its content*: a slug of
its title plus a short hash of everything it says, e.g.
``greve-a-la-sncf-lille-7c1e0a9b42`` and ``greve-a-la-sncf-marseille-0f93d2e611``.
Two different texts never share one, and adding ``nord/greve.txt`` again is
``unchanged``.

The store remembers which file each derived id came from (its *origin*, the
absolute path). When ``nord/greve.txt`` is edited and added again, its origin
leads back to the id it had, and the article is *updated* (the old version is
kept as a revision). A different file whose derived id is already taken by
other content is stored under a fresh id (``…-2``) with a note, never as an
update. An explicit ``id`` (JSON, JSON Lines, front matter, sidecar) is always
the identity, as before.

The other formats remember their items the same way (:mod:`archive.ingest`):
a fetched page by its address, a feed item by its link (else its guid), a
WARC page by its record id, a Europresse document by the address of its
original (else its document number), a line of JSON Lines by ``path:line``.
Adding a crawl or an export again therefore reports its pages ``unchanged``,
and a corrected page at the same address is an update of the same id.

Pasted text and API uploads have no lasting origin (their files live in a
temporary folder), so only their content names them.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from .model import Article

if TYPE_CHECKING:
    from .copies import Signed

__all__ = ["Incoming", "Revision", "resolve_id"]

Decision = Literal["new", "same", "update", "renamed"]


@dataclass(frozen=True)
class Revision:
    """One earlier version of an article carried by an export, to be stored back as history."""

    revision: int
    stored_at: str
    origin: str | None
    record: dict[str, Any]


@dataclass(frozen=True)
class Incoming:
    """An article on its way into the store, with where it came from and whether its id was given."""

    article: Article
    origin: str | None = None
    derived: bool = False
    #: Remember ``origin`` so that this file, edited, updates the same id (real files only).
    remember: bool = False
    history: tuple[Revision, ...] = ()
    #: The original store time and origin of the current version (export round trip).
    stored_at: str | None = None
    #: Only ``history`` is to be stored: the article was removed, its versions kept.
    removed: bool = False
    notes: list[str] = field(default_factory=list, compare=False)
    #: Its copy signature and band keys, when computed ahead (by a bulk reading process).
    signed: Signed | None = field(default=None, compare=False, repr=False)


def resolve_id(db: sqlite3.Connection, item: Incoming) -> tuple[str, Decision]:
    """Decide the id an incoming article is stored under, reading the store through ``db``.

    ``same`` means the text is already stored under that id (nothing to write),
    ``update`` that the article becomes the next version of that id (stored or
    removed with its history kept), ``new`` that the id is free, ``renamed``
    that its derived id belonged to other content and a fresh one was chosen.
    """
    article = item.article
    if not item.derived:
        state = _state(db, article.id, article.content_hash())
        return article.id, {"absent": "new", "same": "same"}.get(state, "update")  # type: ignore[return-value]
    if item.remember and item.origin:
        row = db.execute("SELECT id FROM origins WHERE origin = ?", (item.origin,)).fetchone()
        if row is not None:
            state = _state(db, row[0], _rehash(article, row[0]))
            return row[0], "same" if state == "same" else "update"
    n = 1
    while True:
        candidate = article.id if n == 1 else f"{article.id}-{n}"
        state = _state(db, candidate, _rehash(article, candidate))
        if state == "absent":
            return candidate, "new" if n == 1 else "renamed"
        if state == "same":
            return candidate, "same"
        if state == "gone-same":
            return candidate, "update"  # the same text, removed earlier, comes back
        n += 1  # taken by other content (say, an edited file's old id): never update it


def _rehash(article: Article, new_id: str) -> str:
    """Return the content hash the article will have once stored under ``new_id``."""
    return article.content_hash() if new_id == article.id else replace(article, id=new_id).content_hash()


def _state(db: sqlite3.Connection, article_id: str, digest: str) -> str:
    """Return ``absent``, ``same``, ``other``, ``gone-same`` or ``gone-other`` for an id and a content hash."""
    # One statement for both reads: it runs for every article an add reads.
    live, last = db.execute("SELECT (SELECT hash FROM articles WHERE id = ?1), (SELECT hash FROM revisions"
                            " WHERE id = ?1 ORDER BY revision DESC LIMIT 1)", (article_id,)).fetchone()
    if live is not None:
        return "same" if live == digest else "other"
    # A removed article keeps its history under its id: reusing the id for other text would mix two articles.
    if last is None:
        return "absent"
    return "gone-same" if last == digest else "gone-other"
