#!/usr/bin/env bash
# The peers' relevance on every dev set (each with its no-accent twin in the harness's
# "heldout" slot), for bench/relevance.py --peers OUT:
#   bench/peersets.sh OUT        (needs .venv-peers: see bench/README.md)
set -euo pipefail
out=${1:-/tmp}
corpus=../shared/corpus
for spec in "piaf passages-fr-dev.jsonl qrels-fr-dev" \
            "knownitem knownitem-dev-passages.jsonl knownitem-dev-qrels" \
            "kw news-dev-articles.jsonl news-dev-kw-qrels" \
            "lead news-dev-lead-passages.jsonl news-dev-lead-qrels"; do
  set -- $spec
  .venv-peers/bin/python ../shared/peers/bench.py --peers tantivy-title,tantivy-fold,tantivy,sqlite-fts5 \
    --skip build,latency --dev-passages "$corpus/$2" --dev-qrels "$corpus/$3.jsonl" \
    --heldout-passages "$corpus/$2" --heldout-qrels "$corpus/$3-noaccent.jsonl" \
    --workdir "$out/peerwork-$1" --json "$out/peerset-$1.json"
done
