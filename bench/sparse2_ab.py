"""In-process CPU ms (median) of 11 queries, frequent to rare, for the tree on PYTHONPATH.

    PYTHONPATH=ROOT .venv/bin/python bench/sparse2_ab.py HOME REPS   (run from /, alternating trees)
"""

import json
import sys
import time

from archive.search import engine_for
from archive.search.request import SearchRequest

QUERIES: list[tuple[str, dict[str, str]]] = [
    ("president de la republique", {}), ("etat d urgence", {}), ("Macron retraites", {}), ("de", {}),
    ("France", {}), ("France", {"tag": "politique", "date_from": "2020-01-01", "date_to": "2020-12-31"}),
    ("manifestation", {"author": "AFP"}), ("coronavirus", {}), ('"gilets jaunes"', {}), ("kangourou", {}),
    ("lubrizol", {})]

engine = engine_for(sys.argv[1])
requests = [SearchRequest.build(q, per_page=10, **kw) for q, kw in QUERIES]
for request in requests * 2:  # warm-up
    engine.search(request)
times: dict[int, list[float]] = {i: [] for i in range(len(requests))}
for _ in range(int(sys.argv[2])):
    for i, request in enumerate(requests):
        c = time.process_time()
        engine.search(request)
        times[i].append((time.process_time() - c) * 1000)
print(json.dumps({f"{QUERIES[i][0]} {QUERIES[i][1] or ''}": round(sorted(v)[len(v) // 2], 2)
                  for i, v in times.items()}))
