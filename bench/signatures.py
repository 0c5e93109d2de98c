"""MinHash signatures of a corpus: CPU time of ``archive.copies.signature``, and datasketch's own API beside it.

    .venv/bin/python bench/signatures.py [--corpus ../shared/corpus/news-fr.jsonl] [--datasketch]

``--datasketch`` (needs ``pip install datasketch==2.0.0``, no longer a dependency) also
signs the same shingle hashes with datasketch's vectorised ``MinHash.update_batch`` and
says whether every signature is identical. Figures: bench/copies.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archive import copies  # noqa: E402
from archive.model import Article  # noqa: E402


def best(run: Callable[[], object], reps: int) -> list[float]:
    """Return the best and the median CPU seconds of ``reps`` runs."""
    spent = []
    for _ in range(reps):
        start = time.process_time()
        run()
        spent.append(time.process_time() - start)
    return [round(min(spent), 3), round(sorted(spent)[len(spent) // 2], 3)]


def datasketch_signature(article: Article) -> np.ndarray | None:
    """Return the signature datasketch's ``update_batch`` gives for the article's shingle hashes."""
    from datasketch import MinHash

    tokens = copies._folded_bytes(article)
    if len(tokens) < copies.MIN_WORDS:
        return None
    words = np.fromiter(map(zlib.crc32, tokens), dtype=np.uint64, count=len(tokens))
    n = len(tokens) - copies.SHINGLE + 1
    hv = np.zeros(n, dtype=np.uint64)
    for j in range(copies.SHINGLE):
        hv = (hv * np.uint64(copies._BASE) + words[j:j + n]) & np.uint64(0xFFFFFFFF)
    m = MinHash(num_perm=copies.NUM_PERM, seed=1, scheme="affine32", hashfunc=int)
    m.update_batch(hv.astype(np.uint32).tolist())
    return np.asarray(m.hashvalues)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus" / "news-fr.jsonl"))
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--datasketch", action="store_true")
    args = ap.parse_args()
    with open(args.corpus, encoding="utf-8") as f:
        articles = [Article.from_record(json.loads(line)) for line in f]
    ours = [copies.signature(a) for a in articles]
    out: dict[str, object] = {"articles": len(articles), "signed": sum(s is not None for s in ours),
                              "signature cpu s (best, median)": best(lambda: [copies.signature(a) for a in articles],
                                                                     args.reps)}
    if args.datasketch:
        theirs = [datasketch_signature(a) for a in articles]
        out["datasketch identical"] = all((a is None and b is None) or (a is not None and b is not None
                                                                        and np.array_equal(a, b))
                                          for a, b in zip(ours, theirs))
        out["datasketch update_batch cpu s (best, median)"] = best(
            lambda: [datasketch_signature(a) for a in articles], max(1, args.reps // 2))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
