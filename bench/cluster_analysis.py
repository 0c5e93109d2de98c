"""Compare the embedded French chain with the OpenSearch analyzers, token by token, on the corpus sample.

    .venv/bin/python bench/cluster_analysis.py --host http://127.0.0.1:9200 [--corpus FILE] [--json OUT]

Creates a scratch index with :func:`archive.engines.opensearch.settings.index_body`, runs
``_analyze`` with each analyzer on every title and paragraph, and compares, position by
position, the search terms (set), the exact term and the printed form with
:data:`archive.analysis.FRENCH`. Prints the agreement rates and the most frequent differences.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archive.analysis import FRENCH, WORD_RE
from archive.engines.opensearch.settings import index_body

SCRATCH = "archive-analysis-check"


def call(host: str, method: str, path: str, body: object = None) -> dict:
    """Send one JSON request and return the JSON answer (errors included)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(host + path, method=method, data=data,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return json.loads(error.read())


def cluster_tokens(host: str, analyzer: str, text: str) -> dict[int, set[str]]:
    """Return the cluster's terms of a text per position."""
    out: dict[int, set[str]] = {}
    for token in call(host, "POST", f"/{SCRATCH}/_analyze", {"analyzer": analyzer, "text": text})["tokens"]:
        out.setdefault(token["position"], set()).add(token["token"])
    return out


def chain_tokens(text: str) -> tuple[dict[int, set[str]], dict[int, set[str]], dict[int, set[str]]]:
    """Return the embedded chain's search terms, exact terms and forms of a text per position."""
    search: dict[int, set[str]] = {}
    exact: dict[int, set[str]] = {}
    forms: dict[int, set[str]] = {}
    for position, raw in enumerate(WORD_RE.findall(text)):
        analysis = FRENCH.word(raw)
        if analysis.search:
            search[position] = set(analysis.search)
        exact[position] = {analysis.exact}
        forms[position] = {analysis.form.replace("’", "'")}
    return search, exact, forms


def main() -> None:
    """Run the comparison and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="http://127.0.0.1:9200")
    sample = Path(__file__).resolve().parents[2] / "shared/corpus/news-fr-sample.jsonl"
    parser.add_argument("--corpus", default=str(sample))
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args()
    call(args.host, "DELETE", f"/{SCRATCH}")
    created = call(args.host, "PUT", f"/{SCRATCH}", index_body(1, 0))
    if not created.get("acknowledged"):
        raise SystemExit(f"could not create the scratch index: {created}")
    totals: Counter[str] = Counter()
    agree: Counter[str] = Counter()
    differences: dict[str, Counter[str]] = {k: Counter() for k in ("search", "exact", "forms")}
    texts = 0
    for line in Path(args.corpus).read_text(encoding="utf-8").splitlines():
        article = json.loads(line)
        for text in [article.get("title", ""), *article.get("paragraphs", [])]:
            if not text.strip():
                continue
            texts += 1
            mine = dict(zip(("search", "exact", "forms"), chain_tokens(text)))
            for kind, analyzer in (("search", "archive_search"), ("exact", "archive_exact"),
                                   ("forms", "archive_forms")):
                theirs = cluster_tokens(args.host, analyzer, text)
                for position in sorted(set(mine[kind]) | set(theirs)):
                    totals[kind] += 1
                    a, b = mine[kind].get(position, set()), theirs.get(position, set())
                    if a == b:
                        agree[kind] += 1
                    else:
                        differences[kind][f"{sorted(a)} vs {sorted(b)}"] += 1
    call(args.host, "DELETE", f"/{SCRATCH}")
    figures = {"texts": texts, **{kind: {"positions": totals[kind], "agree": agree[kind],
                                         "rate": round(agree[kind] / totals[kind], 5) if totals[kind] else 1.0,
                                         "top_differences": differences[kind].most_common(15)}
                                  for kind in ("search", "exact", "forms")}}
    for kind in ("search", "exact", "forms"):
        f = figures[kind]
        print(f"{kind:7} {f['agree']}/{f['positions']} positions agree ({100 * f['rate']:.3f} %)")
        for difference, count in f["top_differences"]:
            print(f"    {count:5}  chain {difference} cluster")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
