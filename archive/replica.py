"""Read replicas: a second home answering the same searches, copied while the first keeps adding.

The newsroom adds the day's dispatches to ``/srv/archive`` every night; readers are
served from ``/srv/replica`` (or from several replicas). Each run of
``archive --home /srv/archive replicate /srv/replica`` brings the replica to one
instant of the source, in three steps:

1. **Stage, under the source's write lock** (writers wait a moment; readers never
   wait): the store is copied by SQLite's online backup into a staging folder inside
   the source home (``HOME/.replica-<pid>/``), and every file of the live index
   generation that its manifest names is hard-linked beside it. Every write holds
   that lock, so the staged store and index describe the same instant, the index
   having every article of the store (unless a write was interrupted, which then
   shows in the replica's pending queue exactly as in the source's).
2. **Publish, under the replica's write lock**: the staged store is written *into*
   the replica's store through SQLite's backup API, one transaction, so the
   replica's readers see the previous copy or this one (never a store file renamed
   under an open SQLite connection, which its write-ahead log would corrupt). Then
   the staged generation becomes a new generation folder of the replica: files the
   replica's live generation already holds (same name, size and digest: Whoosh never
   rewrites a file) are hard-linked from it, the others copied; every file is
   verified against the manifest; and ``CURRENT`` is switched by an atomic rename.
   Store first, index second, the order of every write: a reader of the replica
   never meets an indexed article its store lacks.
3. The staging folder is removed (a killed run's is removed by the next).

A replica carries ``HOME/REPLICA`` (JSON: the source, the store generation copied,
when; during a copy also the generation being copied). Replicating into a home that
holds articles and is not a replica, or into a replica written to since its last
copy, is refused: it would overwrite articles stored nowhere else.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ArchiveError
from .home import Archive
from .integrity import MANIFEST, verify_files
from .workers import alive

__all__ = ["ReplicaRefused", "Replication", "replicate", "publish_index", "MARKER"]

MARKER = "REPLICA"
_STAGE = ".replica-"


class ReplicaRefused(ArchiveError):
    """The destination cannot be made a replica without losing what it holds."""

    code = "replica_refused"


@dataclass(frozen=True)
class Replication:
    """What one replication copied: the store generation, the index files copied and linked."""

    generation: int
    articles: int
    pending: int
    copied: int
    linked: int
    copied_bytes: int

    def to_dict(self) -> dict[str, int]:
        """Return the figures as JSON-ready data."""
        return {"generation": self.generation, "articles": self.articles, "pending": self.pending,
                "copied": self.copied, "linked": self.linked, "copied_bytes": self.copied_bytes}


def replicate(source: Archive, dest: Archive) -> Replication:
    """Make ``dest`` a copy of ``source`` at one instant, without stopping its readers; see the module."""
    if dest.home.resolve() == source.home.resolve():
        raise ReplicaRefused("the replica must be another home than the source")
    _check_destination(dest)
    stage = source.home / f"{_STAGE}{os.getpid()}"
    try:
        generation, pending = _stage(source, stage)
        with dest.writing():
            _check_destination(dest)
            # Either generation is the replica's own until the copy is complete: a run
            # killed half-way leaves a replica that the next run accepts.
            _write_marker(dest, source, dest.store.generation(), copying=generation)
            # Store first, as every write: the replica's readers never see the index ahead of it.
            staged = sqlite3.connect(stage / "archive.sqlite3")
            try:
                _match_pages(staged, dest.store.db)
                staged.backup(dest.store.db)
            finally:
                staged.close()
            # The copy went through the write-ahead log: move it into the store file now
            # rather than at some later write, which a replica never has.
            dest.store.checkpoint()
            copied, linked, size = publish_index(stage / "index", dest)
            articles = len(dest.store)
            _write_marker(dest, source, dest.store.generation())
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return Replication(generation, articles, pending, copied, linked, size)


def _match_pages(staged: sqlite3.Connection, dest: sqlite3.Connection) -> None:
    """Give the staged store the replica's page size: SQLite copies into a WAL database only page for page.

    A store keeps the page size it was made with (16 KiB for a store made now, 4 KiB for
    an older one), and the replica's readers keep it in WAL mode: the private staged copy changes.
    """
    size = int(dest.execute("PRAGMA page_size").fetchone()[0])
    if staged.execute("PRAGMA page_size").fetchone()[0] != size:
        staged.execute("PRAGMA journal_mode=DELETE")  # (a WAL database keeps its page size through VACUUM)
        staged.execute(f"PRAGMA page_size={size}")
        staged.execute("VACUUM")


def _check_destination(dest: Archive) -> None:
    """Refuse a destination whose store holds articles that no replication put there."""
    store_generation = dest.store.generation()
    try:
        marker = json.loads((dest.home / MARKER).read_text(encoding="utf-8"))
    except FileNotFoundError:
        if len(dest.store) or dest.store.removed_with_history():
            raise ReplicaRefused(f"{dest.home} holds an archive ({len(dest.store)} articles) that is not a "
                                 "replica: replicate into an empty folder or an existing replica") from None
        return
    except (OSError, ValueError):
        raise ReplicaRefused(f"{dest.home / MARKER} cannot be read; remove the replica and copy again") from None
    if store_generation not in (marker.get("generation"), marker.get("copying")):
        raise ReplicaRefused(f"the replica {dest.home} was written to since it was copied (store generation "
                             f"{store_generation}, {marker.get('generation')} copied): its articles would be "
                             "lost; replicate into a new folder")


def _stage(source: Archive, stage: Path) -> tuple[int, int]:
    """Stage the store and the live generation under the source's lock; return its generation and pending count."""
    with source.writing():
        _remove_dead_stages(source.home)
        name = source.index_dir.current_name()
        if name is None or not source.index_dir.exists():
            raise ReplicaRefused(f"{source.home} has no search index to copy; run `archive rebuild` there")
        folder = source.index_dir.path / name
        # Files a killed writer left unnamed by any commit do not matter; anything else does.
        problems = [p for p in verify_files(folder, digests=False) if p.serious or p.where.endswith(MANIFEST)]
        if problems:
            raise ReplicaRefused(f"the source index needs a repair first ({problems[0]}); run "
                                 "`archive check --repair` there")
        shutil.rmtree(stage, ignore_errors=True)
        (stage / "index").mkdir(parents=True)
        source.store.backup(stage / "archive.sqlite3")
        for file in [*_manifest(folder)["files"], MANIFEST]:
            _link_or_copy(folder / file, stage / "index" / file)
        return source.store.generation(), len(source.store.pending())


def publish_index(staged: Path, dest: Archive) -> tuple[int, int, int]:
    """Make the staged generation the replica's live one; return files copied, files linked, bytes copied."""
    manifest = _manifest(staged)
    live = dest.index_dir.current_name()
    have = _manifest(dest.index_dir.path / live)["files"] if live else {}
    name = dest.index_dir.fresh_name()
    folder = dest.index_dir.path / name
    folder.mkdir(parents=True)
    copied = linked = size = 0
    for file, entry in manifest["files"].items():
        if live and have.get(file) == entry and _link(dest.index_dir.path / live / file, folder / file):
            linked += 1
            continue
        shutil.copyfile(staged / file, folder / file)
        copied += 1
        size += int(entry["size"])
    shutil.copyfile(staged / MANIFEST, folder / MANIFEST)
    problems = verify_files(folder)
    if problems:
        shutil.rmtree(folder, ignore_errors=True)
        raise ReplicaRefused(f"the copied index differs from its manifest ({problems[0]}); nothing was switched")
    dest.index_dir.publish(name)
    return copied, linked, size


def _manifest(folder: Path) -> dict[str, Any]:
    data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
        raise ReplicaRefused(f"{folder / MANIFEST} is unreadable; run `archive check --repair` on the source")
    return data


def _link(src: Path, dst: Path) -> bool:
    """Hard-link ``src`` as ``dst``; False when the file system cannot."""
    try:
        os.link(src, dst)
    except OSError:
        return False
    return True


def _link_or_copy(src: Path, dst: Path) -> None:
    if not _link(src, dst):
        shutil.copyfile(src, dst)


def _remove_dead_stages(home: Path) -> None:
    """Remove staging folders that a killed replication left behind (another live one keeps its own)."""
    for child in home.glob(f"{_STAGE}*"):
        pid = child.name[len(_STAGE):]
        if pid.isdigit() and not alive(int(pid)):
            shutil.rmtree(child, ignore_errors=True)


def _write_marker(dest: Archive, source: Archive, generation: int, copying: int | None = None) -> None:
    """Record (atomically) which store generation of the source the replica holds, or is receiving."""
    data: dict[str, Any] = {"source": str(source.home), "generation": generation,
                            "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    if copying is not None:
        data["copying"] = copying
    tmp = dest.home / f"{MARKER}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, dest.home / MARKER)
