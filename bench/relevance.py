"""Relevance check: recall@10 and MRR@10 on the dev sets of ../shared/corpus.

Each question is run through the Python API (`archive.search.search`) with its words
ORed, as the peer harness does. The full French chain is measured, then each stage
switched off in turn (no stemming, no folding, no elision handling, no stop words), so
the table shows what each stage buys.

    .venv/bin/python bench/relevance.py [--corpus ../shared/corpus] [--sets piaf,knownitem]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archive.analysis import Chain  # noqa: E402
from archive.home import Archive  # noqa: E402
from archive.model import Article  # noqa: E402
from archive.search import Engine, SearchRequest  # noqa: E402

SETS = {
    "piaf": ("passages-fr-dev.jsonl", ["qrels-fr-dev.jsonl", "qrels-fr-dev-noaccent.jsonl"]),
    "knownitem": ("knownitem-dev-passages.jsonl",
                  ["knownitem-dev-qrels.jsonl", "knownitem-dev-qrels-noaccent.jsonl"]),
    "news-kw": ("news-dev-articles.jsonl", ["news-dev-kw-qrels.jsonl", "news-dev-kw-qrels-noaccent.jsonl"]),
    "news-lead": ("news-dev-lead-passages.jsonl",
                  ["news-dev-lead-qrels.jsonl", "news-dev-lead-qrels-noaccent.jsonl"]),
}
CHAINS = {
    "full chain": Chain(),
    "no stemming": Chain(stem=False),
    "no folding": Chain(fold=False),
    "no elision": Chain(elision=False),
    "no stop words": Chain(stop=False),
}
_WORD = re.compile(r"\w+")


def words(query: str) -> list[str]:
    """Split a question the way the peer harness does: NFC, lower case, words only."""
    return _WORD.findall(unicodedata.normalize("NFC", query).lower())


def evaluate(engine: Engine, qrels: list[dict], k: int = 10) -> tuple[float, float]:
    recall = mrr = 0.0
    for q in qrels:
        text = " OR ".join(words(q["query"]))
        # Qrels name one article: a relevant copy collapsed under its twin would count as missed.
        request = SearchRequest.build(text, per_page=k, show_copies=True)
        ranked = [h.id for h in engine.search(request, suggestion=False).hits]
        relevant = set(q["relevant"])
        hits = [i for i, d in enumerate(ranked) if d in relevant]
        recall += len(hits) / len(relevant)
        mrr += 1.0 / (hits[0] + 1) if hits else 0.0
    return recall / len(qrels), mrr / len(qrels)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    ap.add_argument("--sets", default=",".join(SETS))
    ap.add_argument("--chains", default=",".join(CHAINS))
    ap.add_argument("--json", type=Path, help="also write the figures as JSON")
    a = ap.parse_args()
    rows = []
    for set_name in a.sets.split(","):
        passages, qrel_files = SETS[set_name]
        with tempfile.TemporaryDirectory() as tmp:
            archive = Archive(tmp)
            with open(a.corpus / passages, encoding="utf-8") as f:
                archive.store.put(Article.from_record(json.loads(line)) for line in f if line.strip())
            for chain_name in a.chains.split(","):
                archive.rebuild(procs=2, chain=CHAINS[chain_name])
                engine = Engine(archive)
                for qfile in qrel_files:
                    with open(a.corpus / qfile, encoding="utf-8") as f:
                        qrels = [json.loads(line) for line in f if line.strip()]
                    t = time.perf_counter()
                    recall, mrr = evaluate(engine, qrels)
                    rows.append({"set": qfile.replace(".jsonl", ""), "chain": chain_name,
                                 "queries": len(qrels), "recall@10": round(recall, 3),
                                 "mrr@10": round(mrr, 3), "seconds": round(time.perf_counter() - t, 1)})
                    print("| {set} | {chain} | {queries} | {recall@10:.3f} | {mrr@10:.3f} |".format(**rows[-1]),
                          flush=True)
                engine.close()
    if a.json:
        a.json.write_text(json.dumps(rows, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    print("| set | chain | queries | recall@10 | MRR@10 |\n|---|---|---:|---:|---:|")
    main()
