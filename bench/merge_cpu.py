"""Merge a copy of an index's segments into one in this process; print the merge's CPU and its files' md5.

    PYTHONPATH=ROOT .venv/bin/python bench/merge_cpu.py INDEX COPY   (run from /, once per tree)

INDEX is an index folder (``CURRENT`` and its generation, e.g. what ``bench/build_cpu.py``
wrote); COPY is removed, then written. Two trees' merged files must be equal.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import time
from pathlib import Path

from whoosh import index as whoosh_index

from archive.merging import merge_new


def main() -> None:
    """Merge and print one JSON object: segments ``left``, ``cpu`` seconds, ``md5`` of the files (names aside)."""
    source, copy = Path(sys.argv[1]), Path(sys.argv[2])
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(source, copy)
    folder = copy / (copy / "CURRENT").read_text(encoding="utf-8").strip()
    ix = whoosh_index.open_dir(str(folder))
    start = time.process_time()
    left = merge_new(ix, folder, everything=True)
    cpu = time.process_time() - start
    files = sorted((f.name.split(".", 1)[1], hashlib.md5(f.read_bytes()).hexdigest())
                   for f in folder.glob(f"{ix.indexname}_*") if not f.name.endswith(".toc"))
    print(json.dumps({"left": left, "cpu": round(cpu, 2), "files": len(files),
                      "md5": hashlib.md5(json.dumps(files).encode()).hexdigest()}))


if __name__ == "__main__":
    main()
