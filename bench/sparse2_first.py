"""Cold first query: a new process imports, opens HOME (catalog, snapshot) and searches « élection ».

    PYTHONPATH=ROOT .venv/bin/python bench/sparse2_first.py HOME   (run from /)
"""

import importlib
import sys
import time

t0, c0 = time.perf_counter(), time.process_time()
search = importlib.import_module("archive.search")  # (imports are part of a cold start)
request = importlib.import_module("archive.search.request").SearchRequest.build("élection", per_page=10)
results = search.engine_for(sys.argv[1]).search(request)
wall, cpu = (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000
print(f"first query wall {wall:.0f} ms cpu {cpu:.0f} ms (imports included) hits {results.total_articles}")
