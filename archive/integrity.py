"""Index integrity: a manifest of every index file, verified by ``check`` and by readers.

The index is derived data, so damage is never fatal, but it must be *noticed*: a
truncated column file silently drops a third of the results, a deleted postings
file turns every search into ``FileNotFoundError``. At every commit the writer
records, in ``MANIFEST.json`` inside the generation folder, the size and BLAKE2b
digest of each file of the generation (written to a temporary file and renamed,
so a reader sees the old manifest or the new one, never half of one). Whoosh
never rewrites a segment file once written, so each commit hashes only the files
that are new since the previous manifest.

Three levels of verification, from cheap to thorough:

* :func:`ensure_intact` — sizes only (one ``stat`` per file); the search stage
  calls it when it opens a generation and raises :class:`IndexDamaged`.
* :func:`noticing_damage` — a context manager the search stage wraps around reads, turning
  the low-level errors a damaged file provokes (short reads, bad pickles, zlib
  errors) into :class:`IndexDamaged`.
* :func:`verify_files` and :func:`verify_segments` — digests of every byte, then
  every segment opened and every document's stored fields and columns read;
  ``archive check`` runs both and reports one line per problem.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import pickle
import re
import struct
import warnings
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ArchiveError, IndexDamaged
from .whoosh_internals import index_segments, open_segment
from .workers import in_thread

__all__ = ["MANIFEST", "Problem", "write_manifest", "verify_files", "verify_segments", "ensure_intact",
           "start_intact_check", "noticing_damage", "damaged"]

MANIFEST = "MANIFEST.json"
_CHUNK = 1 << 20
_TOC_RE = re.compile(r"_\w+?_(\d+)\.toc")
#: Errors that reading a damaged index file provokes, deep inside Whoosh or numpy.
READ_ERRORS = (OSError, EOFError, struct.error, zlib.error, pickle.UnpicklingError, ValueError,
               IndexError, KeyError, TypeError, AttributeError, OverflowError, MemoryError)


def _indexed_files(folder: Path) -> list[str]:
    """Return the names of a generation's files that the manifest covers."""
    # Locks and temporary files come and go with writers; they are not the index.
    return sorted(p.name for p in folder.iterdir()
                  if p.is_file() and p.name != MANIFEST and not p.name.startswith(MANIFEST)
                  and not p.name.endswith(("LOCK", ".lock", ".tmp")))


def newest_toc(folder: Path) -> str | None:
    """Return the name of the newest Whoosh table of contents in the folder."""
    tocs = [(int(m[1]), name) for name in os.listdir(folder) if (m := _TOC_RE.fullmatch(name))]
    return max(tocs)[1] if tocs else None


def _digest(path: Path) -> str:
    h = hashlib.blake2b(digest_size=16)
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """Return a generation's manifest, None when it has none, ``{"files": None}`` when unreadable."""
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {"files": None}
    return data if isinstance(data, dict) else {"files": None}


def write_manifest(folder: Path) -> dict[str, Any]:
    """Record the size and digest of every file of a generation folder, atomically; return it."""
    folder = Path(folder)
    old = (read_manifest(folder) or {}).get("files") or {}
    # Whoosh never rewrites a file once written (new segments and tables of contents get
    # new names): keep what was recorded, which also keeps a file damaged since the last
    # commit from being recorded as sound.
    names = _indexed_files(folder)
    files: dict[str, dict[str, Any]] = {name: old[name] for name in names if isinstance(old.get(name), dict)}
    new = [name for name in names if name not in files]
    # Digested in threads (hashlib lets go of the GIL): the corpus's 250 MB index, 0.36 s in one.
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        digests = list(pool.map(lambda name: _digest(folder / name), new))
    for name, digest in zip(new, digests):
        files[name] = {"size": (folder / name).stat().st_size, "blake2b": digest}
    manifest = {"version": 1, "toc": newest_toc(folder), "files": files}
    tmp = folder / f"{MANIFEST}.{os.getpid()}.tmp"
    with tmp.open("w", encoding="utf-8") as f:
        json.dump(manifest, f, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, folder / MANIFEST)
    return manifest


@dataclass(frozen=True)
class Problem:
    """One damaged or unexpected index file: where, what kind, and details."""

    where: str
    kind: str  # missing, truncated, grown, corrupted, unrecorded, unmanifested, unreadable
    detail: str = ""

    @property
    def serious(self) -> bool:
        """Tell whether the file differs from what was committed (not just unrecorded)."""
        return self.kind not in ("unrecorded", "unmanifested")

    def __str__(self) -> str:
        return f"{self.where}: {self.kind}" + (f" ({self.detail})" if self.detail else "")


def verify_files(folder: Path, *, digests: bool = True) -> list[Problem]:
    """Return the files of the generation that are missing, resized, altered or unrecorded."""
    folder = Path(folder)
    problems: list[Problem] = []
    for _ in range(3):
        toc = newest_toc(folder)
        problems = verify_files_once(folder, digests)
        # A commit that landed meanwhile (a merge) deleted files it no longer needs:
        # they are gone, not damaged. Verify again against that commit.
        if not problems or newest_toc(folder) == toc:
            break
    return problems


def verify_files_once(folder: Path, digests: bool) -> list[Problem]:
    """Return the files found damaged in one pass (a commit landing meanwhile may explain them)."""
    label = f"index/{folder.name}"
    manifest = read_manifest(folder)
    if manifest is None:
        return [Problem(label, "unmanifested", f"no {MANIFEST}: written before checksums were recorded")]
    files = manifest.get("files")
    if not isinstance(files, dict):
        return [Problem(f"{label}/{MANIFEST}", "unreadable")]
    problems = []
    # A writer killed between its commit and its manifest leaves a newer table of
    # contents: the files that commit dropped are legitimately gone, the ones it
    # added unrecorded. Recorded files still present must match all the same.
    toc = newest_toc(folder)
    interrupted = toc != manifest.get("toc")
    if interrupted:
        problems.append(Problem(f"{label}/{MANIFEST}", "unrecorded",
                                f"describes {manifest.get('toc')}, the index is at {toc}: "
                                "an index write was interrupted"))
    for name, entry in sorted(files.items()):
        path = folder / name
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            if not interrupted:
                problems.append(Problem(f"{label}/{name}", "missing"))
            continue
        if size != entry.get("size"):
            how = "truncated" if size < entry.get("size", 0) else "grown"
            problems.append(Problem(f"{label}/{name}", how, f"{size} bytes, {entry.get('size')} recorded"))
        elif digests and _digest(path) != entry.get("blake2b"):
            problems.append(Problem(f"{label}/{name}", "corrupted", "checksum differs"))
    if not interrupted:
        # A writer killed before its commit (an upload's server SIGKILLed) leaves the files of a
        # segment no table of contents names: leftovers the next commit deletes, not damage.
        recorded = {_segment_of(name) for name in files}
        problems += [Problem(f"{label}/{name}", "unrecorded", "not in the manifest")
                     for name in _indexed_files(folder) if name not in files
                     and (_segment_of(name) is None or _segment_of(name) in recorded)]
    return problems


_SEGMENT_RE = re.compile(r"[A-Za-z]+_([a-z0-9]{16})\.")


def _segment_of(name: str) -> str | None:
    """Return the segment id a Whoosh segment file belongs to (None for other files)."""
    m = _SEGMENT_RE.match(name)
    return m[1] if m else None


def verify_segments(ix: Any) -> tuple[list[Problem], dict[str, int], dict[str, str], dict[str, set[int]]]:
    """Open every segment and read every document; return problems, blocks and hash per article, aids seen.

    The aid column is read beside the stored fields, so a damaged column shows as
    articles whose documents disagree on their store key.
    """
    problems: list[Problem] = []
    blocks: dict[str, int] = {}
    hashes: dict[str, str] = {}
    aids: dict[str, set[int]] = {}
    try:
        segments = index_segments(ix)
    except READ_ERRORS as exc:
        return [Problem("index: table of contents", "unreadable", _why(exc))], blocks, hashes, aids
    for segment in segments:
        name = f"index: segment {segment.segment_id()}"
        try:
            reader = open_segment(ix, segment)
        except READ_ERRORS as exc:
            problems.append(Problem(name, "unreadable", _why(exc)))
            _drop_half_open()
            continue
        try:
            column = reader.column_reader("aid")
            for docnum, fields in reader.iter_docs():
                article_id = fields["article"]
                blocks[article_id] = blocks.get(article_id, 0) + 1
                if "hash" in fields:
                    hashes[article_id] = fields["hash"]
                aids.setdefault(article_id, set()).add(int(column[docnum]))
            for fieldname in ("text", "exact"):
                # One term's postings of each big field: the terms index and the
                # postings file open and decode.
                for term in reader.lexicon(fieldname):
                    for _ in reader.postings(fieldname, term).all_ids():
                        pass
                    break
        except READ_ERRORS as exc:
            problems.append(Problem(name, "unreadable", _why(exc)))
        finally:
            reader.close()
    return problems, blocks, hashes, aids


def _drop_half_open() -> None:
    """Close the files a segment reader opened before failing (Whoosh leaves them to the GC)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


def ensure_intact(folder: Path) -> None:
    """Raise :class:`IndexDamaged` if a file of the generation is missing, not its recorded size, or altered.

    Every file is checked by size; the small ones (tables of contents, columns such as
    ``aid.col``: what a search reads whole and trusts) by digest too, each file once per
    process (Whoosh never rewrites one). The large postings and term files are checked
    by digest when reading them fails (:func:`noticing_damage`).
    """
    start_intact_check(folder)()


def start_intact_check(folder: Path) -> Callable[[], None]:
    """Check a generation as :func:`ensure_intact` does, its digests in a thread; return what waits for them.

    The sizes are checked now (raising :class:`IndexDamaged`); the returned function
    waits for the digests and raises if one differs. Meanwhile the caller may open
    the generation: at 32x the corpus the digests read 108 MB, which took as long
    as opening its snapshot, and hashing leaves the interpreter's lock to it.
    """
    # An index older than manifests (no MANIFEST.json) is trusted, as before.
    _raise_if([p for p in verify_files(Path(folder), digests=False) if p.serious])
    digests = in_thread(lambda: _small_digests(Path(folder)), "index-digests")
    return lambda: _raise_if(digests.result())


def _raise_if(problems: list[Problem]) -> None:
    if problems:
        raise damaged(str(problems[0]) + (f" and {len(problems) - 1} more" if len(problems) > 1 else ""))


#: Files up to this size are checked by digest whenever a snapshot opens them.
SMALL_FILE = 8 << 20
#: The small files already found sound in this process: (path, size, mtime, inode).
_SOUND: set[tuple[str, int, int, int]] = set()


def _small_digests(folder: Path) -> list[Problem]:
    """Return the small files of a generation whose digest differs from the manifest's."""
    manifest = read_manifest(folder)
    files = (manifest or {}).get("files")
    if not isinstance(files, dict):
        return []
    problems = []
    for name, entry in files.items():
        path = folder / name
        try:
            st = path.stat()
        except OSError:
            continue  # (sizes were checked just before: a file gone now went with a newer commit)
        key = (str(path), st.st_size, st.st_mtime_ns, st.st_ino)
        if st.st_size > SMALL_FILE or key in _SOUND or not isinstance(entry, dict):
            continue
        if _digest(path) != entry.get("blake2b"):
            problems.append(Problem(f"index/{folder.name}/{name}", "corrupted", "checksum differs"))
        else:
            _SOUND.add(key)
    return problems


def damaged(detail: str) -> IndexDamaged:
    """Return the error a search on a damaged index raises."""
    return IndexDamaged(f"the search index is damaged: {detail}; run `archive check --repair`")


@contextmanager
def noticing_damage(folder: Path | str | Callable[[], Path]) -> Iterator[None]:
    """Turn the errors a damaged index file provokes while reading into :class:`IndexDamaged`.

    ``folder`` may be a function giving it: a search then finds it only if an error comes.
    """
    try:
        yield
    except ArchiveError:
        raise
    except Exception as exc:
        # A programming error raises the same types: only call it damage when the
        # files really differ from the manifest (digests too: a flipped byte keeps the
        # size), else let the error through. Whoosh raises a bare Exception for a bad block.
        where = Path(folder() if callable(folder) else folder)
        problems = [p for p in verify_files(where, digests=True) if p.serious]
        if isinstance(exc, FileNotFoundError) or problems:
            raise damaged(str(problems[0]) if problems else _why(exc)) from exc
        raise


def _why(exc: BaseException) -> str:
    text = str(exc)
    if isinstance(exc, OSError) and exc.filename:
        text = f"{exc.strerror or 'error'}: {Path(str(exc.filename)).name}"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
