"""Parity: the embedded engine and the OpenSearch engine on the peer harness's queries, side by side.

    .venv/bin/python bench/parity.py --home /tmp/parity-home --hosts http://127.0.0.1:9200 \
        --json bench/parity.json          # writes bench/parity.md beside it

The home is built once from the corpus (``archive add``, the embedded index) and
the same store is indexed into the cluster under its own alias (the cluster writer's
rebuild); the home's config is not changed. Each query of ``../shared/peers/queries.txt``
goes to both engines through the seam exactly as the harness's ``project`` peer sends
it (its query building and filters are imported from the harness, not copied): per
query, ``total_articles`` and the top-10 ids on each, and every difference listed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PEERS = ROOT.parent / "shared" / "peers"
CORPUS = ROOT.parent / "shared" / "corpus" / "news-fr.jsonl"


def request_of(line: tuple[str, dict[str, Any]]) -> Any:
    """Return the project's request for a harness query, built as the harness's ``project`` peer builds it."""
    from common import clauses_to_text, parse_query

    from archive import SearchRequest

    query, filters = line
    text = clauses_to_text(parse_query(query, allow_phrases=True))
    kw: dict[str, Any] = {"per_page": 10}
    if filters.get("tags"):
        kw["tag"] = list(filters["tags"])
    if filters.get("author"):
        kw["author"] = [filters["author"]]
    if filters.get("year"):
        kw["date_from"], kw["date_to"] = f"{filters['year']}-01-01", f"{filters['year']}-12-31"
    return SearchRequest.build(text, **kw)


def build(home: Path, corpus: Path, hosts: tuple[str, ...], alias: str, replicas: int = 1) -> Any:
    """Import the corpus into the home (if empty) and index its store into the cluster under ``alias``."""
    from archive import Archive
    from archive.engines.config import EngineConfig
    from archive.engines.opensearch.writing import ClusterWriter

    archive = Archive(home)
    if len(archive.store) == 0:
        start = time.monotonic()
        archive.add([str(corpus)])
        print(f"embedded import: {time.monotonic() - start:.0f} s", file=sys.stderr)
    config = EngineConfig(home=home, engine="opensearch", hosts=hosts, index=alias)
    writer = ClusterWriter(config, archive.store, replicas=replicas)
    if not writer.exists():
        start = time.monotonic()
        writer.rebuild(recluster=False)
        print(f"cluster import: {time.monotonic() - start:.0f} s", file=sys.stderr)
    return archive, config


def compare(home: Path, config: Any, queries: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Return, per query, both engines' totals and top-10 ids."""
    from archive import Archive
    from archive.engines.opensearch.engine import OpenSearchEngine
    from archive.search import Engine

    embedded = Engine(home)
    cluster = OpenSearchEngine(config, Archive(home))
    rows = []
    for line in queries:
        request = request_of(line)
        a, b = embedded.search(request, suggestion=False), cluster.search(request, suggestion=False)
        ia, ib = [h.id for h in a.hits], [h.id for h in b.hits]
        rows.append({"query": line[0], "filters": line[1], "text": request.query,
                     "embedded": {"total": a.total_articles, "top10": ia},
                     "opensearch": {"total": b.total_articles, "top10": ib},
                     "same_total": a.total_articles == b.total_articles, "same_top10": ia == ib,
                     "top10_overlap": len(set(ia) & set(ib))})
    return rows


def markdown(rows: list[dict[str, Any]]) -> str:
    """Return the report: a summary, then one row per query and the differences."""
    same = sum(r["same_total"] for r in rows)
    order = sum(r["same_top10"] for r in rows)
    out = ["# Parity: embedded engine vs OpenSearch engine", "",
           f"{len(rows)} queries of `../shared/peers/queries.txt`, full corpus (`news-fr.jsonl`).", "",
           f"- `total_articles` equal on **{same} / {len(rows)}** queries",
           f"- top-10 ids identical (same order) on **{order} / {len(rows)}**; mean top-10 overlap "
           f"{sum(r['top10_overlap'] for r in rows) / max(1, len(rows)):.1f} / 10", "",
           "| query | filters | embedded | opensearch | top-10 overlap |", "|---|---|---:|---:|---:|"]
    for r in rows:
        mark = "" if r["same_total"] else " **≠**"
        out.append(f"| {r['query']} | {json.dumps(r['filters'], ensure_ascii=False) if r['filters'] else ''} "
                   f"| {r['embedded']['total']} | {r['opensearch']['total']}{mark} | {r['top10_overlap']} |")
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", required=True, type=Path, help="archive home (built from the corpus if empty)")
    parser.add_argument("--hosts", required=True, help="the cluster's hosts, comma-separated")
    parser.add_argument("--alias", default="parity", help="the cluster index alias")
    parser.add_argument("--replicas", type=int, default=1, help="replicas of the index (0 on a one-node cluster)")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--queries", type=Path, default=PEERS / "queries.txt")
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "parity.json")
    args = parser.parse_args()
    sys.path.insert(0, str(PEERS))
    from common import load_queries

    _, config = build(args.home, args.corpus, tuple(h.strip() for h in args.hosts.split(",")), args.alias,
                      args.replicas)
    rows = compare(args.home, config, load_queries(args.queries))
    args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    args.json.with_suffix(".md").write_text(markdown(rows), encoding="utf-8")
    print(markdown(rows).split("\n\n")[2])


if __name__ == "__main__":
    main()
