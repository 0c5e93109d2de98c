"""Import the corpus into a fresh home with one `archive` executable; print its CPU seconds and peak memory.

    python bench/import_cpu.py LABEL PATH/TO/.venv/bin/archive HOME [archive add options...]
    python bench/import_cpu.py LABEL PATH/TO/.venv/bin/archive HOME --rebuild [archive rebuild options...]

With ``--rebuild`` the home is kept (an earlier run's import) and ``archive rebuild`` is timed.

CPU is user + sys of all its processes (``os.wait4``, workers included); the peak is
the summed RSS of its process tree, sampled every 0.25 s. Comparing two checkouts
on a shared machine: run them interleaved, and compare CPU, not wall time.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from scale import tree_rss_mb

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "news-fr.jsonl"


def main() -> None:
    """Run one import and print one JSON line."""
    label, exe, home, extra = sys.argv[1], sys.argv[2], Path(sys.argv[3]), sys.argv[4:]
    if extra[:1] == ["--rebuild"]:
        command = [exe, "--home", str(home), "rebuild", *extra[1:]]
    else:
        shutil.rmtree(home, ignore_errors=True)
        command = [exe, "--home", str(home), "add", str(CORPUS), *extra]
    start = time.perf_counter()
    proc = subprocess.Popen(command,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = [0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.25):
            peak[0] = max(peak[0], tree_rss_mb(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    done.set()
    sampler.join()
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    print(json.dumps({"label": label, "op": command[3], "status": status,
                      "wall_s": round(time.perf_counter() - start, 1),
                      "cpu_s": round(usage.ru_utime + usage.ru_stime, 1), "user_s": round(usage.ru_utime, 1),
                      "peak_tree_mb": round(peak[0]), "segments": len(list((home / "index").rglob("*.trm"))),
                      "err": err.strip()[-200:]}), flush=True)


if __name__ == "__main__":
    main()
