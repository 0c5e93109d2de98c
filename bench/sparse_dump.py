"""Dump full results (ids, scores, spans, counts, facets, histogram, a selection) of 82 requests, for an exact diff.

    PYTHONPATH=ROOT .venv/bin/python bench/sparse_dump.py HOME OUT.json   (run from /, once per tree; then cmp)
"""
import json
import sys

from archive.search import engine_for
from archive.search.request import SearchRequest

home, out = sys.argv[1], sys.argv[2]
qs = [line.split(" | ")[0].strip() for line in open("/work/shared/peers/queries.txt")
      if line.strip() and not line.startswith("#")]
qs += ["lubrizol", "zzzqqq", "police -manifestants", "-police", "police OR grève", "\"état d'urgence\"",
       "manifestant NEAR/3 police", "\"grève SNCF\"~5", "gouvern*", "gouvernemant~1", "côte", "cote", "title:macron",
       "tag:politique", "source:\"le monde\"", "exact:élections", "élections -(macron OR fillon)",
       "(vaccin OR masque) hôpital",
       "pêche", "élection présidentielle 2017", ""]
reqs = []
for q in qs:
    reqs.append(SearchRequest.build(q, per_page=20))
for q in ["police", "vaccin", ""]:
    reqs.append(SearchRequest.build(q, date_from="2015-01-01", date_to="2016-12-31", per_page=20))
    reqs.append(SearchRequest.build(q, tag="politique", per_page=20))
    reqs.append(SearchRequest.build(q, sort="-date", per_page=20, page=2))
    reqs.append(SearchRequest.build(q, show_copies=True, per_page=20))
eng = engine_for(home)
res = []
for r in reqs:
    x = eng.search(r)
    res.append({"q": r.query, "total": x.total_articles, "paras": x.total_paragraphs, "pubs": x.total_publications,
                "trunc": x.truncated, "sugg": x.suggestion,
                "hits": [(h.id, h.score, [(p.n, p.spans) for p in h.paragraphs], h.more_paragraphs, h.title_spans,
                          [c.id for c in h.copies]) for h in x.hits],
                "facets": {k: [(v.value, v.count, v.selected) for v in vs] for k, vs in x.facets.items()},
                "hist": x.histogram, "days": [int(d) for d in x.days][:50], "ndays": len(x.days),
                "explain": [str(e) for e in x.explain]})
sel = eng.select(SearchRequest.build("police", per_page=20), blocks=True)
res.append({"select": [sel.ids[:50], sel.block_article[:200].tolist(), sel.block_n[:200].tolist(), len(sel.ids)]})
json.dump(res, open(out, "w"), ensure_ascii=False, indent=0, default=str)
