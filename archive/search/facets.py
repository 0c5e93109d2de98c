"""Facets: filtering and counting matching *articles* by source, author, tag and year.

The index matches paragraphs; a reader filters and counts articles. The
:class:`Catalog` holds, per article (indexed by the store's integer key
``aid``), its date as a day number and, per facet, parallel arrays of
``(aid, value code)`` pairs, built from the store with a few SQL queries and
kept per store generation (a new article only re-reads what it changed).

For ``investir`` with ``tag=économie&tag=chine``: the matching articles are a
sorted array of aids; :meth:`Catalog.having` tells which of them have a
selected tag, reading only their entries, and :meth:`Catalog.counts` counts
them per value from the value codes of their entries only (found by bisection).
:mod:`.filtering` applies a request's selections and counts every facet.

Values that differ only by case or accents (``6Medias``, ``6Médias``,
``6medias``) are one value to the reader: they are counted together (each
article once) under the archive's most frequent spelling, the others listed as
its ``variants``, and selecting any spelling selects them all.
The catalog also holds each article's copy cluster as a code (:attr:`Catalog.cluster`),
so that the engine collapses wire copies with array operations; facet counts
ignore it: each copy is a real publication in its source.

A catalog never changes once built: searches in other threads read it without
a lock. Catching up with the store (:meth:`Catalog.updated`) makes a new one
(copy on write) that the engine then publishes.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..analysis import fold
from ..home import Archive
from . import catalog_file

__all__ = ["FACETS", "CATCH_UP", "keep_catalog", "Catalog", "facet_key", "MAX_FACET_VALUES"]

FACETS = ("source", "author", "tags", "year")
#: When one article in this many (or more) matches, a facet reads a mask over every article rather
#: than bisecting for the matching articles' entries: bisection costs ~0.8 µs an article, the mask
#: ~6 ns an article of the archive (1x home, 4 counts and a filter: 1.9 ms by bisection, 0.2 ms by
#: mask at 1 in 8; 0.25 and 0.10 ms at 1 in 128; 0.17 and 0.10 ms at 1 in 512).
MASK_DENSITY = 128
MAX_FACET_VALUES = 100
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
_EMPTY = np.zeros(0, dtype=np.int64)


def facet_key(value: str) -> str:
    """Return the key under which spellings of one facet value are grouped (no case, no accents)."""
    return fold(value).casefold()


@dataclass(frozen=True)
class _Groups:
    """A facet's values grouped by :func:`facet_key`: each code's group, each group's spellings."""

    size: int  # values grouped (the facet's value list only grows)
    generation: int
    of_code: np.ndarray
    keys: list[str]
    spellings: list[list[str]]  # most frequent in the archive first
    #: Each (article, value) entry's group, and whether it repeats a group its article already has
    #: (two spellings of one value): such an entry is not counted again.
    of_entry: np.ndarray
    repeated: np.ndarray
    #: Per aid, its group (-1: none) when no article has two (a source, a year), else None: the
    #: matching articles are then counted from their own codes, not through every entry.
    single: np.ndarray | None
    #: The entries in order of their aid, and those aids: an article's entries found by bisection.
    by_aid: np.ndarray
    sorted_aids: np.ndarray
    #: Each key's group, and each group's place in the keys' order (a count's ties are listed by key).
    index: dict[str, int]
    key_rank: np.ndarray

    def entries(self, aids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return the entries of some articles (aids), touching only theirs, and how many each has."""
        low = np.searchsorted(self.sorted_aids, aids, "left")
        counts = np.searchsorted(self.sorted_aids, aids, "right") - low
        total = int(counts.sum())
        if not total:
            return _EMPTY, counts
        starts = np.repeat(low - np.concatenate(([0], np.cumsum(counts)[:-1])), counts)
        return np.asarray(self.by_aid[starts + np.arange(total)]), counts


CATCH_UP = 5000  # a catalog catches up with at most this many changed articles; more, and it is read again whole.


def keep_catalog(archive: Archive) -> None:
    """Read the catalog from the store and save it (``catalog.npz``) unless saved: the next opening reads it."""
    Catalog(archive)  # (after a large add: 0.8 s instead of 7 s for a first query at 32 copies of the corpus)


class Catalog:
    """Per-article arrays from the store, indexed by ``aid``: dates and facet codes."""

    def __init__(self, archive: Archive) -> None:
        self.generation = archive.store.generation()
        self.size = 1
        self.valid = np.zeros(1, dtype=bool)
        self.days = np.full(1, -1, dtype=np.int64)  # date.toordinal(), -1 when unknown
        #: The day an article is listed at by date: its date, or the day it was added (an
        #: undated article added today heads « Derniers articles »; date filters never find it).
        self.listed = np.full(1, -1, dtype=np.int64)
        self.ids: list[str | None] = [None]
        #: Per aid, a code shared by the members of one copy cluster (negative), or the
        #: aid itself for an article without copies: one key per hit once collapsed.
        self.cluster = np.zeros(1, dtype=np.int64)
        self._by_id: dict[str, int] | None = {}
        self.codes: dict[str, dict[str, int]] = {name: {} for name in FACETS}
        self.facets: dict[str, tuple[np.ndarray, np.ndarray, list[str]]] = {
            name: (_EMPTY, _EMPTY, []) for name in FACETS}
        self._groups: dict[str, _Groups] = {}
        path = archive.home / catalog_file.NAME
        top = archive.store.db.execute("SELECT coalesce(max(aid), 0) FROM articles").fetchone()[0]
        key = (self.generation, int(top))
        saved = catalog_file.load(path, key)
        if saved is not None:
            self._restore(*saved)
        else:
            self._apply(*archive.store.facet_values(), changed=None)
            self._load_clusters(archive)
            catalog_file.save(path, key, *self._saved())
        self._group_all()

    def _saved(self) -> tuple[dict[str, np.ndarray], dict[str, object]]:
        """Return what :mod:`.catalog_file` keeps of this catalog: its arrays and its strings."""
        arrays = {"valid": self.valid, "days": self.days, "listed": self.listed, "cluster": self.cluster}
        texts: dict[str, object] = {"ids": self.ids}
        for name in FACETS:
            aids, codes, values = self.facets[name]
            arrays[f"aids:{name}"], arrays[f"codes:{name}"], texts[f"values:{name}"] = aids, codes, values
        return arrays, texts

    def _restore(self, arrays: dict[str, np.ndarray], texts: dict[str, Any]) -> None:
        """Take the arrays and strings of a catalog saved by :meth:`_saved` (same store generation)."""
        self.valid, self.days, self.listed = arrays["valid"], arrays["days"], arrays["listed"]
        self.cluster, self.size = arrays["cluster"], len(arrays["valid"])
        self.ids = texts["ids"]
        self._by_id = None  # (built when first asked: a search never asks)
        for name in FACETS:
            values = texts[f"values:{name}"]
            self.codes[name] = {value: code for code, value in enumerate(values)}
            self.facets[name] = (arrays[f"aids:{name}"], arrays[f"codes:{name}"], values)

    def aid_of(self, article_id: str) -> int | None:
        """Return an article's integer key, None when the catalog does not know it."""
        return self._aids.get(article_id)

    @property
    def _aids(self) -> dict[str, int]:
        if self._by_id is None:  # (the aids of no article left out)
            self._by_id = {article_id: aid for aid, article_id in enumerate(self.ids) if article_id is not None}
        return self._by_id

    def is_current(self, archive: Archive) -> bool:
        """Tell whether the store has not changed since this catalog was read."""
        return bool(archive.store.generation() == self.generation)

    def updated(self, archive: Archive) -> Catalog:
        """Return a catalog caught up with the store: this one, a copy with the changes, or a new one."""
        generation = archive.store.generation()
        if generation == self.generation:
            return self
        changed = archive.store.changed_since(self.generation)
        if changed is None or len(changed) > CATCH_UP:
            return Catalog(archive)
        new = copy.copy(self)
        # Copies of what _apply changes in place; arrays it replaces are shared until then.
        new.valid, new.days, new.ids = self.valid.copy(), self.days.copy(), list(self.ids)
        new.listed = self.listed.copy()
        new._by_id, new.facets = dict(self._aids), dict(self.facets)
        new.codes = {name: dict(table) for name, table in self.codes.items()}
        new.generation = generation
        new._apply(*archive.store.facet_values(changed), changed=np.array(changed, dtype=np.int64))
        # An added article can join (or merge) clusters of articles it did not change.
        new._load_clusters(archive)
        new._group_all()
        return new

    def _load_clusters(self, archive: Archive) -> None:
        """Read every article's copy cluster from the store into :attr:`cluster`."""
        cluster = np.arange(self.size, dtype=np.int64)
        codes: dict[str, int] = {}
        # Only articles that have copies are listed (a few per thousand on the corpus).
        for article_id, cluster_id in archive.store.clusters().items():
            aid = self._aids.get(article_id)
            if aid is not None:
                cluster[aid] = -1 - codes.setdefault(cluster_id, len(codes))
        self.cluster = cluster

    def _apply(self, articles: list[tuple[int, str, str | None, str]],
               pairs: dict[str, list[tuple[int, str]]], changed: np.ndarray | None) -> None:
        # An article added then removed since the last catch-up is changed but no longer stored:
        # its aid may lie past every article read, and the arrays must reach it too.
        changed_top = int(changed.max()) if changed is not None and len(changed) else 0
        top = max([a for a, _, _, _ in articles] + [changed_top]) + 1
        if top > self.size:
            grow = top - self.size
            self.valid = np.concatenate([self.valid, np.zeros(grow, dtype=bool)])
            self.days = np.concatenate([self.days, np.full(grow, -1, dtype=np.int64)])
            self.listed = np.concatenate([self.listed, np.full(grow, -1, dtype=np.int64)])
            self.ids += [None] * grow
            self.size = top
        if changed is not None and len(changed):
            self.valid[changed] = False
        aids = np.array([a for a, _, _, _ in articles], dtype=np.int64)
        self.valid[aids] = True
        for aid, article_id, _, _ in articles:
            self.ids[aid] = article_id
            self._aids[article_id] = aid
        dates = np.array([d or "NaT" for _, _, d, _ in articles], dtype="datetime64[D]")
        known = ~np.isnat(dates)
        self.days[aids] = -1
        self.days[aids[known]] = dates[known].astype(np.int64) + _EPOCH_ORDINAL
        added = np.array([a or "NaT" for _, _, _, a in articles], dtype="datetime64[D]")
        self.listed[aids] = np.where(known, dates.astype(np.int64), added.astype(np.int64)) + _EPOCH_ORDINAL
        # Years as arrays: one string per year, not per article (a large archive opens sooner).
        years, of_year = np.unique(dates[known].astype("datetime64[Y]"), return_inverse=True)
        for name in FACETS:
            old_aids, old_codes, values = self.facets[name]
            if changed is not None and len(changed):
                keep = ~np.isin(old_aids, changed)
                old_aids, old_codes = old_aids[keep], old_codes[keep]
            table = self.codes[name]
            if name == "year":
                new_aids = aids[known]
                new_codes = np.array([table.setdefault(str(y), len(table)) for y in years],
                                     dtype=np.int64)[of_year.reshape(-1)]
            else:
                new_aids = np.array([a for a, _ in pairs[name]], dtype=np.int64)
                new_codes = np.array([table.setdefault(v, len(table)) for _, v in pairs[name]], dtype=np.int64)
            values = values + list(table)[len(values):]
            self.facets[name] = (np.concatenate([old_aids, new_aids]), np.concatenate([old_codes, new_codes]),
                                 values)

    def _group_all(self) -> None:
        """Group every facet's spellings (and list the articles) now, before the catalog is published."""
        self._groups = {name: self._group(name) for name in FACETS}
        self._masks: dict[str, tuple[tuple[str, tuple[str, ...]], np.ndarray]] = {}
        #: Every stored article's aid, sorted (a query without words lists them).
        self.valid_aids = np.flatnonzero(self.valid)

    def groups(self, name: str) -> _Groups:
        """Return facet ``name``'s values grouped by spelling, named by the archive's most frequent."""
        return self._groups[name]

    def _group(self, name: str) -> _Groups:
        aids, codes, values = self.facets[name]
        table: dict[str, int] = {}
        of_code = np.array([table.setdefault(facet_key(v), len(table)) for v in values], dtype=np.int64)
        overall = np.bincount(codes[self.valid[aids]], minlength=len(values))
        spellings: list[list[str]] = [[] for _ in table]
        for code in sorted(range(len(values)), key=lambda c: (-overall[c], values[c])):
            spellings[of_code[code]].append(values[code])
        of_entry = of_code[codes]
        # Only a group of several spellings can hold one article twice: those entries alone are checked.
        several = (np.bincount(of_code, minlength=len(table)) > 1)[of_entry]
        pairs = aids[several] * max(1, len(table)) + of_entry[several]
        _, first = np.unique(pairs, return_index=True)
        repeated = several.copy()
        repeated[np.flatnonzero(several)[first]] = False
        # (A catalog read from the store lists each facet in aid order already; one caught up does not.)
        by_aid = np.arange(len(aids)) if (aids[1:] >= aids[:-1]).all() else np.argsort(aids, kind="stable")
        kept = aids[~repeated]
        single = None
        if not len(kept) or np.bincount(kept).max() == 1:
            single = np.full(self.size, -1, dtype=np.int32)
            single[kept] = of_entry[~repeated]
        key_rank = np.empty(len(table), dtype=np.int64)
        key_rank[np.argsort(np.array(list(table), dtype=object), kind="stable")] = np.arange(len(table))
        return _Groups(len(values), self.generation, of_code, list(table), spellings, of_entry, repeated, single,
                       by_aid, aids[by_aid], table, key_rank)

    def mask(self, name: str, selected: Sequence[str]) -> np.ndarray:
        """Return, per aid, whether the article has any of ``selected`` (in any spelling) for facet
        ``name``, kept for the last selection of each facet (a mask over every article)."""
        key = (name, tuple(sorted({facet_key(v) for v in selected})))
        kept = self._masks.get(name)
        if kept is not None and kept[0] == key:
            return kept[1]
        aids, _, _ = self.facets[name]
        groups = self.groups(name)
        wanted = [g for g, k in enumerate(groups.keys) if k in key[1]]
        out = np.zeros(self.size, dtype=bool)
        out[aids[np.isin(groups.of_entry, wanted)]] = True
        out.flags.writeable = False
        self._masks[name] = (key, out)
        return out

    def having(self, name: str, selected: Sequence[str], articles: np.ndarray) -> np.ndarray:
        """Tell, for some articles (aids), whether each has any of ``selected`` (in any spelling) for
        facet ``name`` (only their entries are read)."""
        groups = self.groups(name)
        chosen = {facet_key(v) for v in selected}
        wanted = [g for g, key in enumerate(groups.keys) if key in chosen]
        if len(articles) * MASK_DENSITY >= self.size:  # many articles: a mask over all is cheaper than bisection
            return np.asarray(self.mask(name, selected)[articles])
        entries, counts = groups.entries(articles)
        hit = np.isin(groups.of_entry[entries], wanted)
        out = np.zeros(len(articles), dtype=bool)
        out[np.repeat(np.arange(len(articles)), counts)[hit]] = True
        return out

    def counts(self, name: str, articles: np.ndarray, top: int | None = None,
               also: Sequence[str] = ()) -> list[tuple[str, str, int, tuple[str, ...]]]:
        """Count the articles ``articles`` (sorted aids) per value of facet ``name``, spellings grouped: return
        ``(key, spelling, count, other spellings)`` for each value with a count (only their entries are read);
        with ``top``, only for the ``top`` most frequent (ties by key) and those of ``also``."""
        aids, _, _ = self.facets[name]
        groups = self.groups(name)
        if groups.single is not None:  # one value per article at most: its own code (-1: none)
            # Counted one bin up, the articles without a value in bin 0: no pass to leave them out.
            counts = np.bincount(groups.single.take(articles) + 1, minlength=len(groups.keys) + 1)[1:]
        else:
            if len(articles) * MASK_DENSITY >= self.size:  # many articles: a mask over all is cheaper than bisection
                chosen = np.zeros(self.size, dtype=bool)
                chosen[articles] = True
                entries = np.flatnonzero(chosen[aids])
            else:
                entries, _ = groups.entries(articles)
            # An article tagged both "Économie" and "économie" counts once (its first entry of the group).
            of_group = groups.of_entry[entries[~groups.repeated[entries]]]
            counts = np.bincount(of_group, minlength=len(groups.keys))
        found = np.flatnonzero(counts)
        if top is not None and len(found) > top:
            # Only the values shown are listed: 20,000 bylines cost their counts, not 20,000 entries sorted.
            shown = found[np.lexsort((groups.key_rank[found], -counts[found]))[:top]]
            extra = [g for g in (groups.index.get(facet_key(v)) for v in also) if g is not None and counts[g]]
            found = np.union1d(shown, np.array(extra, dtype=np.int64))
        counts = counts[found]
        return [(groups.keys[g], groups.spellings[g][0], c, tuple(groups.spellings[g][1:]))
                for g, c in zip(found.tolist(), counts.tolist())]
