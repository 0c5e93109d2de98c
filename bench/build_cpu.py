"""Build a home's index in one process, in segments of N articles; print the build's CPU and each segment's files.

    PYTHONPATH=ROOT .venv/bin/python bench/build_cpu.py HOME N OUT [LIMIT]   (run from /, once per tree)

The worker's build (``_index_part``) runs with its flush rule replaced by "every N
articles", so that two trees cut the same segments: their files (md5, by segment and
extension, in the JSON printed) must be equal, and the CPU seconds of the build alone
compare the trees. OUT is the index folder written (removed first).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import archive.indexing as indexing
from archive.store import Store
from archive.whoosh_internals import commit_segments


def main() -> None:
    """Build and print one JSON object: ``cpu`` and ``segments`` (each a dict of extension → md5)."""
    home, per, out = Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    limit = int(sys.argv[4]) if len(sys.argv) > 4 else None

    def every(articles: Iterator[Any], writer: Any, share: int, base: int,
              full: Callable[[], None] = lambda: None) -> Iterator[Any]:
        yield from itertools.islice(articles, per)

    indexing.until_full = every
    store = Store(home / "archive.sqlite3")
    ids = store.ids()[:limit]
    folder = indexing.IndexDir(out)
    shutil.rmtree(out, ignore_errors=True)
    name, ix = folder.create()
    path = out / name
    start = time.process_time()
    segments = indexing._index_part(str(path), str(store.path), ids, 1 << 40, lambda *a: None)
    cpu = time.process_time() - start
    commit_segments(ix, path, segments)
    folder.publish(name)
    files = [{f.name.split(".", 1)[1]: hashlib.md5(f.read_bytes()).hexdigest()
              for f in sorted(path.glob(f"{ix.indexname}_{s.segid}*"))} for s in segments]
    print(json.dumps({"cpu": round(cpu, 2), "segments": files}, indent=1))


if __name__ == "__main__":
    main()
