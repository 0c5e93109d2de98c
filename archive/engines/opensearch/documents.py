"""Articles as cluster documents: one per article, with what a page shows of its copies and versions.

A web server that reads only the cluster must show an article, its wire copies and
its number of versions, so each document carries them: ``copy_group`` (the copy
cluster's id, or the article's own id: one value per document, for collapsing),
``copies`` (the other members' ids and sources, first stored first),
``representative`` (the member stored first, or an article without copies),
``revisions`` and ``versions`` (each version's number, date, source file and title,
and the earlier ones' whole records: the reading view's history and earlier versions,
kept as stored, never indexed). Adding an article to a cluster changes its mates' documents too:
:func:`copy_mates` finds them.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

from ...model import Article, derive_title, parse_stored
from ...store import Store

__all__ = ["article_document", "documents", "versions_of", "copy_mates", "CopyInfo"]

#: (copy group, other members as ``{"id", "source"}``, representative?)
CopyInfo = tuple[str, list[dict[str, str | None]], bool]


def article_document(article: Article, copies: CopyInfo | None = None, revisions: int = 1,
                     indexed_at: str | None = None, versions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Return the cluster document of one article (its ``_id`` is the article's id).

    ``versions`` are :func:`versions_of`'s entries, oldest first (the live one without a record).
    """
    group, mates, representative = copies or (article.id, [], True)
    return {
        "title": article.title,
        # A title derived from the first sentence repeats the text: ranking must not count it twice.
        "title_derived": article.title == derive_title(article.blocks),
        "paragraphs": [{"n": n, "text": block.text, **({"kind": "heading"} if block.heading else {})}
                       for n, block in enumerate(article.blocks)],
        "date": article.date.isoformat() if article.date else None,
        "year": article.year,
        "source": article.source,
        "author": list(article.authors),
        "tags": list(article.tags),
        "url": article.url,
        "lang": article.lang,
        "copy_group": group,
        "copies": mates,
        "representative": representative,
        "revisions": len(versions) if versions else revisions,
        "versions": versions or [],
        "content_hash": article.content_hash(),
        "id": article.id,
        "paragraph_count": len(article.blocks),
        "indexed_at": indexed_at or _now(),
    }


def documents(store: Store, articles: Iterable[Article]) -> list[tuple[str, dict[str, Any]]]:
    """Return ``(id, document)`` for a batch of stored articles, their copies and versions read in one go."""
    batch = list(articles)
    ids = [a.id for a in batch]
    groups = _groups(store, ids)
    members: dict[str, list[str]] = {}
    if groups:
        wanted = json.dumps(sorted(set(groups.values())))
        for member, group in store.db.execute(
                "SELECT c.id, c.cluster FROM copies c LEFT JOIN articles a ON a.id = c.id"
                " WHERE c.cluster IN (SELECT value FROM json_each(?)) ORDER BY c.cluster, a.aid, c.id", (wanted,)):
            members.setdefault(group, []).append(member)
    everyone = sorted({m for group in members.values() for m in group})
    sources = dict(store.db.execute("SELECT id, source FROM articles WHERE id IN (SELECT value FROM json_each(?))",
                                    (json.dumps(everyone),))) if everyone else {}
    versions = versions_of(store, ids)
    now = _now()
    out = []
    for article in batch:
        group = groups.get(article.id)
        info: CopyInfo | None = None
        if group is not None:
            # Members no longer stored (removed) are not shown; the first stored one that is represents.
            alive = [m for m in members.get(group, []) if m in sources]
            mates = [{"id": m, "source": sources[m]} for m in alive if m != article.id]
            info = (group, mates, bool(alive) and alive[0] == article.id)
        out.append((article.id, article_document(article, info, indexed_at=now,
                                                       versions=versions.get(article.id))))
    return out


def versions_of(store: Store, ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Return each article's versions, oldest first: number, date, source file, title, earlier records."""
    out: dict[str, list[dict[str, Any]]] = {}
    if not ids:
        return out
    for article_id, number, stored_at, origin, title, record in store.db.execute(
            "SELECT id, revision, stored_at, origin, title, record FROM revisions"
            " WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id, revision", (json.dumps(ids),)):
        # The live version's text is the document itself (its row holds no record).
        out.setdefault(article_id, []).append({"revision": number, "stored_at": stored_at, "source": origin,
                                               "title": title, "record": parse_stored(record) if record else None})
    return out


def copy_mates(store: Store, ids: Iterable[str]) -> set[str]:
    """Return the stored members of the copy clusters of ``ids`` (their documents show each other)."""
    groups = set(_groups(store, list(ids)).values())
    if not groups:
        return set()
    return {r[0] for r in store.db.execute(
        "SELECT c.id FROM copies c JOIN articles a ON a.id = c.id WHERE c.cluster IN (SELECT value FROM json_each(?))",
        (json.dumps(sorted(groups)),))}


def _groups(store: Store, ids: list[str]) -> dict[str, str]:
    if not ids:
        return {}
    return dict(store.db.execute("SELECT id, cluster FROM copies WHERE id IN (SELECT value FROM json_each(?))",
                                 (json.dumps(ids),)))


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
