"""Relevance check: recall@10 and MRR@10 on every dev set of ../shared/corpus, peers beside.

Each query is run through the engine with its words ORed, as the peer harness does,
on four sets, each with its no-accent twin: PIAF questions over Wikipedia passages,
headlines of articles whose titles are blanked (known item), three rare title words
(titles kept), and lead paragraphs finding the rest of their article (titles kept).

Rows: the full ranking, then one ablation row per ranking component (each switched off
alone), then, with ``--chains``, one row per stage of the analysis chain switched off.
With ``--peers DIR``, the peers' figures from the peer harness's JSON files
(``DIR/peerset-<set>.json``, made by ``bench/peersets.sh``) are printed beside ours.

    .venv/bin/python bench/relevance.py [--sets piaf,knownitem,news-kw,news-lead]
        [--ablations] [--chains] [--peers /tmp] [--hosts http://127.0.0.1:9200] [--json out.json]

With ``--hosts``, each set is also indexed into that OpenSearch cluster (an index of
its own, dropped afterwards) and searched through the cluster engine: the row ``opensearch``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import sys
import tempfile
import unicodedata
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archive.analysis import Chain  # noqa: E402
from archive.engines import SearchEngine  # noqa: E402
from archive.home import Archive  # noqa: E402
from archive.model import Article  # noqa: E402
from archive.search import Engine, SearchRequest  # noqa: E402

matching = importlib.import_module("archive.search.matching")
bm25 = importlib.import_module("archive.search.bm25")
positions = importlib.import_module("archive.search.positions")
ranking = importlib.import_module("archive.search.ranking")
query = importlib.import_module("archive.query")

SETS = {
    "piaf": ("passages-fr-dev.jsonl", ["qrels-fr-dev.jsonl", "qrels-fr-dev-noaccent.jsonl"]),
    "knownitem": ("knownitem-dev-passages.jsonl",
                  ["knownitem-dev-qrels.jsonl", "knownitem-dev-qrels-noaccent.jsonl"]),
    "news-kw": ("news-dev-articles.jsonl", ["news-dev-kw-qrels.jsonl", "news-dev-kw-qrels-noaccent.jsonl"]),
    "news-lead": ("news-dev-lead-passages.jsonl",
                  ["news-dev-lead-qrels.jsonl", "news-dev-lead-qrels-noaccent.jsonl"]),
}
#: The peer harness's name of each set's JSON file (``peerset-<name>.json``).
PEER_FILES = {"piaf": "piaf", "knownitem": "knownitem", "news-kw": "kw", "news-lead": "lead"}
PEERS = ("tantivy-title", "tantivy-fold", "tantivy", "sqlite-fts5")
CHAINS = {
    "no stemming": Chain(stem=False),
    "no folding": Chain(fold=False),
    "no elision": Chain(elision=False),
    "no stop words": Chain(stop=False),
}


def _set(module: object, name: str, value: object) -> Callable[[], None]:
    """Set a ranking constant; return what restores it."""
    old = getattr(module, name)
    setattr(module, name, value)
    return lambda: setattr(module, name, old)


#: One ablation per ranking component: the component switched off alone.
ABLATIONS: dict[str, Callable[[], Callable[[], None]]] = {
    "no exact-form bonus": lambda: _set(matching, "EXACT_FORM_WEIGHT", 0.0),
    "no article coverage": lambda: _set(ranking, "COVERAGE_WEIGHT", 0.0),
    "no short-block floor": lambda: _set(bm25, "MIN_BLOCK_LENGTH", 0.0),
    "no other paragraphs' share": lambda: _set(ranking, "OTHER_PARAGRAPHS_WEIGHT", 0.0),
    "other paragraphs 0.05 (v1)": lambda: _set(ranking, "OTHER_PARAGRAPHS_WEIGHT", 0.05),
    "title weight 2 (v1)": lambda: _set(matching, "TITLE_BOOST", 2.0),
    "32 clauses (v1)": lambda: _set(query, "MAX_CLAUSES", 32),
    # Tried, not adopted: neighbouring query words within 8 positions, weight 1.
    "with proximity bonus (not adopted)": lambda: _set(positions, "PROXIMITY_WEIGHT", 1.0),
}
_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    """Split a question the way the peer harness does: NFC, lower case, words only."""
    return _WORD.findall(unicodedata.normalize("NFC", text).lower())


def evaluate(engine: SearchEngine, qrels: list[dict], k: int = 10, threads: int = 1) -> tuple[float, float]:
    """Return recall@k and MRR@k of ORed queries (``threads`` at once: a cluster answers several)."""
    def ranked_ids(q: dict) -> list[str]:
        text = " OR ".join(words(q["query"]))
        # Qrels name one article: a relevant copy collapsed under its twin would count as missed.
        request = SearchRequest.build(text, per_page=k, show_copies=True)
        return [h.id for h in engine.search(request, suggestion=False).hits]

    with ThreadPoolExecutor(threads) as pool:
        rankings = list(pool.map(ranked_ids, qrels))
    recall = mrr = 0.0
    for q, ranked in zip(qrels, rankings):
        relevant = set(q["relevant"])
        hits = [i for i, d in enumerate(ranked) if d in relevant]
        recall += len(hits) / len(relevant)
        mrr += 1.0 / (hits[0] + 1) if hits else 0.0
    return recall / len(qrels), mrr / len(qrels)


def cluster_rows(archive: Archive, hosts: tuple[str, ...], set_name: str, qrel_files: list[str],
                 qrels: dict[str, list[dict]], replicas: int = 1, threads: int = 1) -> list[dict]:
    """Index a set's store into the cluster (its own alias, dropped after) and evaluate the cluster engine."""
    from archive.engines.config import EngineConfig
    from archive.engines.opensearch.engine import OpenSearchEngine
    from archive.engines.opensearch.writing import ClusterWriter

    config = EngineConfig(home=archive.home, engine="opensearch", hosts=hosts, index=f"relevance-{set_name}")
    writer = ClusterWriter(config, archive.store, replicas=replicas)
    writer.rebuild(recluster=False)
    engine = OpenSearchEngine(config)
    rows = []
    try:
        for twin, qfile in zip(("", "-noaccent"), qrel_files):
            recall, mrr = evaluate(engine, qrels[qfile], threads=threads)
            rows.append({"set": set_name + twin, "engine": "opensearch", "recall@10": round(recall, 3),
                         "mrr@10": round(mrr, 3)})
    finally:
        writer.drop()
    return rows


def peer_rows(folder: Path, set_name: str) -> list[dict]:
    """Return the peers' figures for a set from the peer harness's JSON, if it is there."""
    path = folder / f"peerset-{PEER_FILES[set_name]}.json"
    if not path.exists():
        return []
    retrieval = json.loads(path.read_text(encoding="utf-8"))["retrieval"]
    rows = []
    for peer in PEERS:
        # The harness ran each set's qrels as "dev" and its no-accent twin as "heldout".
        for slot, twin in (("dev", ""), ("heldout", "-noaccent")):
            fig = retrieval.get(peer, {}).get(slot)
            if fig:
                rows.append({"set": set_name + twin, "engine": peer, "recall@10": round(fig["recall@10"], 3),
                             "mrr@10": round(fig["mrr@10"], 3)})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    ap.add_argument("--sets", default=",".join(SETS))
    ap.add_argument("--ablations", action="store_true", help="one row per ranking component switched off")
    ap.add_argument("--chains", action="store_true", help="one row per analysis stage switched off")
    ap.add_argument("--peers", type=Path, help="folder of the peer harness's peerset-<set>.json files")
    ap.add_argument("--hosts", help="an OpenSearch cluster's hosts (comma-separated): adds the row opensearch")
    ap.add_argument("--replicas", type=int, default=1, help="with --hosts: replicas (0 on a one-node cluster)")
    ap.add_argument("--threads", type=int, default=1, help="with --hosts: queries sent to the cluster at once")
    ap.add_argument("--json", type=Path, help="also write the figures as JSON")
    a = ap.parse_args()
    rows: list[dict] = []
    print("| set | engine | recall@10 | MRR@10 |\n|---|---|---:|---:|", flush=True)

    def emit(row: dict) -> None:
        rows.append(row)
        print("| {set} | {engine} | {recall@10:.3f} | {mrr@10:.3f} |".format(**row), flush=True)

    for set_name in a.sets.split(","):
        passages, qrel_files = SETS[set_name]
        qrels = {f: [json.loads(line) for line in (a.corpus / f).open(encoding="utf-8") if line.strip()]
                 for f in qrel_files}
        variants: list[tuple[str, Callable[[], Callable[[], None]] | None, Chain]] = [("project", None, Chain())]
        if a.ablations:
            variants += [(f"project, {name}", switch, Chain()) for name, switch in ABLATIONS.items()]
        if a.chains:
            variants += [(f"project, {name}", None, chain) for name, chain in CHAINS.items()]
        with tempfile.TemporaryDirectory() as tmp:
            archive = Archive(tmp)
            with open(a.corpus / passages, encoding="utf-8") as f:
                archive.store.put(Article.from_record(json.loads(line)) for line in f if line.strip())
            built: Chain | None = None
            for label, switch, chain in variants:
                if chain != built:
                    archive.rebuild(procs=2, chain=chain)
                    built = chain
                restore = switch() if switch else None
                engine = Engine(archive)
                for twin, qfile in zip(("", "-noaccent"), qrel_files):
                    recall, mrr = evaluate(engine, qrels[qfile])
                    emit({"set": set_name + twin, "engine": label, "recall@10": round(recall, 3),
                          "mrr@10": round(mrr, 3)})
                engine.close()
                if restore:
                    restore()
            if a.hosts:
                for row in cluster_rows(archive, tuple(a.hosts.split(",")), set_name, qrel_files, qrels, a.replicas,
                                        a.threads):
                    emit(row)
        if a.peers:
            for row in peer_rows(a.peers, set_name):
                emit(row)
    if a.json:
        a.json.write_text(json.dumps(rows, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
