"""Live: what an engine searches now, replaced atomically, never locked for a search.

A search for ``covid`` takes the current :class:`Snapshot` (one reference more)
and :class:`Catalog`, runs on them without any lock, and gives the snapshot back.
When ``archive add`` has committed meanwhile, the next search to notice it
refreshes: it builds a new snapshot and catalog beside the current ones, then
publishes them by one assignment each. Only one thread refreshes at a time;
the others keep searching the current snapshot meanwhile, and the replaced one
closes its files when its last search gives it back.

The spelling vocabulary of each index generation is built off the request
path (:func:`.vocabulary.build_in_background`) once an engine has asked for
one (``warm()``, a fuzzy word): until a new generation's is ready, the previous
generation's serves, so no search waits for a rebuild's vocabulary.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, wait
from contextlib import contextmanager
from pathlib import Path

from ..errors import IndexDamaged
from ..failpoints import failpoint
from ..home import Archive
from ..integrity import noticing_damage, start_intact_check
from ..workers import in_thread
from .facets import Catalog
from .snapshot import Snapshot
from .vocabulary import Vocabulary, build_in_background

__all__ = ["Live"]


#: Checks of a generation before its damage is believed (a writer may replace it meanwhile).
_OPEN_ATTEMPTS = 3
#: Nanoseconds after which a file's modification time tells any later change apart: two
#: changes within one tick of the file system's clock (a few ms) may leave the same time.
SETTLED_NS = 2_000_000_000


def _load_catalog(archive: Archive) -> Catalog:
    """Read an archive's catalog (the first search's thread beside the snapshot's opening)."""
    failpoint("catalog-load")
    return Catalog(archive)


def _stamp(*paths: str) -> tuple[int, ...] | None:
    """Return what changes when any of some files (or folders) does, or None while a change could leave it the same.

    A replaced file has a new inode; a written one, or a folder a file was added to, a new
    modification time, unless the change comes within the same clock tick as the one
    before: a time less than :data:`SETTLED_NS` old proves nothing.
    """
    try:
        found = [os.stat(path) for path in paths]
    except OSError:
        return None
    if time.time_ns() - max(st.st_mtime_ns for st in found) < SETTLED_NS:
        return None
    return tuple(value for st in found for value in (st.st_ino, st.st_mtime_ns, st.st_size))


class _Stamped:
    """An answer that something has not changed, kept with the stamp (:func:`_stamp`) of the files it came from."""

    def __init__(self) -> None:
        self._seen: tuple[object, tuple[int, ...]] | None = None

    def holds(self, subject: object, paths: tuple[str, ...], check: Callable[[], bool]) -> bool:
        """Return ``check()`` for ``subject``, or True without asking while the files' stamp is the one it held at."""
        stamp = _stamp(*paths)
        seen = self._seen
        if stamp is not None and seen is not None and seen[0] is subject and seen[1] == stamp:
            return True
        holds = check()
        self._seen = (subject, stamp) if holds and stamp is not None else None
        return holds


def _nothing() -> None:
    """Wait for no check (an archive without an index: opening it says so)."""


class Live:
    """One home's current snapshot, catalog and vocabularies, for many threads at once."""

    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        self._snapshot: Snapshot | None = None
        self._catalog: Catalog | None = None
        self._refresh_lock = threading.Lock()
        self._vocab_lock = threading.Lock()
        # The newest generation's vocabulary build, and the newest one built (any generation).
        self._building: tuple[str | None, Future[Vocabulary]] | None = None
        self._ready: tuple[str | None, Vocabulary] | None = None
        #: The snapshot last found fresh and the catalog last found caught up, each with the stamp
        #: of the files it was found so from.
        self._index_seen, self._store_seen = _Stamped(), _Stamped()
        # (As strings, built once: a search asks for their stamps.) A commit appends to the store's
        # write-ahead log, a checkpoint writes the database itself.
        self._current_file, self._index_folder = str(archive.index_dir.current_file), str(archive.index_dir.path)
        self._store_files = (str(archive.store.path), f"{archive.store.path}-wal")

    def folder(self) -> Path:
        """Return the live index generation's folder."""
        return self.archive.index_dir.path / str(self.archive.index_dir.current_name())

    @contextmanager
    def pinned(self) -> Iterator[tuple[Snapshot, Catalog]]:
        """Lend a fresh snapshot and catalog for one operation; a damaged index raises IndexDamaged."""
        with noticing_damage(self.folder):  # (its CURRENT file is read only if an error comes)
            while True:
                snap, catalog = self._current()
                if snap.acquire():  # (fails only if a refresh closed it just now: take the new one)
                    break
            try:
                yield snap, catalog
            finally:
                snap.release(background=True)  # a replaced snapshot's files close off the request path

    def _current(self) -> tuple[Snapshot, Catalog]:
        snap, catalog = self._snapshot, self._catalog
        if snap is not None and catalog is not None:
            if self._fresh(snap) and self._caught_up(catalog):
                return snap, catalog
            # Another thread is refreshing: keep searching what is published meanwhile.
            if not self._refresh_lock.acquire(blocking=False):
                return snap, catalog
        else:
            self._refresh_lock.acquire()
        try:
            return self._refresh()
        finally:
            self._refresh_lock.release()

    def _fresh(self, snap: Snapshot) -> bool:
        # Two stats instead of reading CURRENT and listing the generation's commits: a
        # search at 3 ms spent 0.15 ms asking whether the index changed.
        index = self.archive.index_dir
        return self._index_seen.holds(snap, (self._current_file, os.path.join(self._index_folder, str(snap.name))),
                                      lambda: snap.name == index.current_name() and snap.up_to_date())

    def _caught_up(self, catalog: Catalog) -> bool:
        """Tell whether the store has not changed since the catalog was read (asked of SQLite when its files did)."""
        return self._store_seen.holds(catalog, self._store_files, lambda: catalog.is_current(self.archive))

    def _refresh(self) -> tuple[Snapshot, Catalog]:
        """Build and publish what changed (the caller holds the refresh lock)."""
        old = self._snapshot
        snap = old
        opening = snap is None or not self._fresh(snap)
        if self._catalog is None:
            # The first search reads both whole (0.2 s each at 32x the corpus): the catalog
            # loads in a thread while the snapshot opens, numpy and SQLite leaving it the lock.
            loading = in_thread(lambda: _load_catalog(self.archive), "catalog")
            if opening:
                try:
                    snap = self._opened(old)
                except BaseException:
                    # Nothing of a failed refresh runs on after it: numpy reads the catalog's
                    # headers with ast, which CPython 3.11 cannot run in two threads at once
                    # (gh-106905: a SystemError in the other one, a web app being created).
                    wait([loading])
                    raise
            try:
                catalog = loading.result()
            except BaseException:
                if snap is not old and snap is not None:
                    snap.close()
                raise
        else:
            catalog = self._catalog.updated(self.archive)
            if opening:
                snap = self._opened(old)
        assert snap is not None
        self._catalog = catalog
        if snap is not old:
            self._snapshot = snap
            if old is not None:
                old.close(background=True)  # closes when its last search ends
            if self._ready is not None or self._building is not None:
                self._start_vocabulary(snap)
        return snap, catalog

    def _opened(self, old: Snapshot | None) -> Snapshot:
        """Open the live generation once its files are found intact.

        A writer may publish a new generation (a rebuild) or new segments (an add's
        merge) and delete the old files between the check and the open: what then
        looks missing is looked at again, and only damage found three times is damage.
        """
        for attempt in range(_OPEN_ATTEMPTS):
            try:
                # The digests are read while the snapshot opens; it is lent only once they agree.
                checked = start_intact_check(self.folder()) if self.archive.index_dir.exists() else _nothing
                try:
                    snap = Snapshot(self.archive, old)
                except BaseException:
                    checked()  # damage found by digest says better why the opening failed
                    raise
                try:
                    checked()
                except BaseException:
                    snap.close()
                    raise
                return snap
            except IndexDamaged:
                if attempt == _OPEN_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        """Give back the current snapshot (closed once the searches on it end)."""
        with self._refresh_lock:
            if self._snapshot is not None:
                self._snapshot.close()
                self._snapshot = None

    def _start_vocabulary(self, snap: Snapshot) -> Future[Vocabulary] | None:
        """Start building a generation's vocabulary unless it is built or being built."""
        with self._vocab_lock:
            if self._ready is not None and self._ready[0] == snap.name:
                return None
            if self._building is not None and self._building[0] == snap.name:
                return self._building[1]
            future = build_in_background(self.folder_of(snap), snap.size)
            self._building = (snap.name, future)
        # Outside the lock: a build already done runs the callback here, and it takes the lock.
        future.add_done_callback(functools.partial(self._built, snap.name))
        return future

    def folder_of(self, snap: Snapshot) -> Path:
        """Return the folder of a snapshot's generation."""
        return self.archive.index_dir.path / str(snap.name)

    def _built(self, name: str | None, future: Future[Vocabulary]) -> None:
        if future.exception() is None:
            with self._vocab_lock:
                # An older generation's build finishing late does not replace a newer one's.
                if self._ready is None or (self._building is not None and self._building[0] == name):
                    self._ready = (name, future.result())

    def vocabulary(self, snap: Snapshot, wait: float | None = None, *, start: bool = True
                   ) -> Vocabulary | None:
        """Return the vocabulary for a snapshot: its generation's, else the newest built.

        With none built yet, wait up to ``wait`` seconds (None: until built) for the
        build (started here if ``start``); a failed background build is redone here.
        """
        ready = self._ready
        if ready is not None and ready[0] == snap.name:
            return ready[1]
        building = self._building
        future = self._start_vocabulary(snap) if start else building[1] if building else None
        if ready is not None:
            return ready[1]  # the previous generation's serves until this one's is built
        if future is None:
            return None
        try:
            return future.result(timeout=wait)
        except TimeoutError:
            return None
        except Exception:
            # The background build failed (a child process that could not start, say):
            # build it here, once, rather than lose suggestions and fuzzy words.
            vocabulary = Vocabulary.of_index(str(self.folder_of(snap)))
            with self._vocab_lock:
                self._ready = (snap.name, vocabulary)
            return vocabulary
