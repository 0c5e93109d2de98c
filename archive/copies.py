"""Copies: group the same agency dispatch printed by several titles, as articles are added.

Take an AFP dispatch, « Quatre ans après la mort d'Adama Traoré, les avocats
ont livré jeudi deux versions contradictoires… », printed by Orange Actu and,
with a sentence cut and a paragraph added, by another site. Each article's
body (headings and paragraphs, not the title, which papers rewrite) is
*folded* the way the index folds words (``après`` → ``apres``), cut into
overlapping 5-word shingles (``quatre ans apres la mort``, ``ans apres la mort
d'adama``…), and summarised by a 128-value MinHash signature: the share of
equal values between two signatures estimates the Jaccard similarity of their
shingle sets (0.8 for the two copies above, under 0.05 for another article on
the same affair).

Finding the few similar articles without comparing with all of them is the
job of locality-sensitive hashing: the signature is cut into 32 bands of 4
values, and each band's hash is a row of ``bands``. Articles sharing a band are
*candidates* (one indexed SQL lookup); only those are compared, and a
candidate at :data:`THRESHOLD` or more joins the new article's cluster
(clusters merge when an article links two). Everything lives in SQLite
(``signatures``, ``bands``, ``copies``) and is written in the store's
transaction, so adding one article never needs a pass over the archive;
``archive rebuild`` recomputes it all.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import unicodedata
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from datasketch import MinHash

from .model import Article

__all__ = ["SCHEMA", "Cluster", "folded_words", "signature", "similarity", "place", "forget", "rebuild", "clusters",
           "THRESHOLD"]

#: Estimated Jaccard similarity of 5-word shingles from which two articles are copies
#: (calibrated on the shared corpus: bench/copies.py, bench/README.md).
THRESHOLD = 0.5
NUM_PERM = 128
BANDS, ROWS = 32, 4  # candidates at ≥ 0.5 are found with probability 0.87, at ≥ 0.6 with 0.99
SHINGLE = 5
#: Bodies shorter than this (in words) are too short to call copies: briefs share boilerplate.
MIN_WORDS = 40

_ASCII_WORD = re.compile(r"[a-z0-9]+")
_BASE = 1_000_003  # shingle polynomial base: odd, < 2^31 so products stay below 2^63

SCHEMA = """
CREATE TABLE IF NOT EXISTS signatures (id TEXT PRIMARY KEY, sig BLOB NOT NULL) WITHOUT ROWID;
-- One B-tree keyed by band hash (no separate index to maintain on every insert).
CREATE TABLE IF NOT EXISTS bands (key INTEGER NOT NULL, id TEXT NOT NULL, PRIMARY KEY (key, id)) WITHOUT ROWID;
-- Only articles that have a copy; `cluster` is the id of the member stored first.
CREATE TABLE IF NOT EXISTS copies (
    id TEXT PRIMARY KEY, cluster TEXT NOT NULL, similarity REAL NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS copies_cluster ON copies(cluster);
"""


@dataclass(frozen=True)
class Cluster:
    """A group of copies: member ids (first stored first) and the weakest link's similarity."""

    ids: tuple[str, ...]
    similarity: float

    def to_dict(self) -> dict[str, object]:
        """Return the cluster as ``archive duplicates --json`` prints it."""
        return {"ids": list(self.ids), "similarity": round(self.similarity, 3)}


@lru_cache(maxsize=1)
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    # Drawn once: datasketch would otherwise draw them again for every article.
    return MinHash(num_perm=NUM_PERM, seed=1, scheme="affine32").permutations


def _identity(value: int) -> int:
    return value  # shingles arrive already hashed (see signature)


def folded_words(article: Article) -> list[str]:
    """Return the body's words folded the way the index folds them: ``Été`` → ``ete``, ``œuvre`` → ``oeuvre``."""
    # str.replace beats a translate table here (translate with a dict is slow on long text).
    text = "\n".join(article.paragraphs).lower().replace("œ", "oe").replace("æ", "ae").replace("ß", "ss")
    # One NFKD pass over the whole text, then dropping non-ASCII, is the fold at C speed.
    return _ASCII_WORD.findall(unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode())


def signature(article: Article) -> np.ndarray | None:
    """Return the MinHash signature of an article's folded body, or None when it is too short."""
    tokens = folded_words(article)
    if len(tokens) < MIN_WORDS:
        return None
    # Hash each word once (crc32: stable across processes, unlike hash()), then combine
    # SHINGLE consecutive hashes as a polynomial, vectorised: no string per shingle.
    vocab = {w: zlib.crc32(w.encode()) for w in set(tokens)}
    words_hv = np.fromiter(map(vocab.__getitem__, tokens), dtype=np.uint64, count=len(tokens))
    n = len(tokens) - SHINGLE + 1
    hv = np.zeros(n, dtype=np.uint64)
    for j in range(SHINGLE):
        hv = (hv * np.uint64(_BASE) + words_hv[j:j + n]) & np.uint64(0xFFFFFFFF)
    m = MinHash(num_perm=NUM_PERM, hashfunc=_identity, permutations=_permutations(), scheme="affine32")
    m.update_batch(np.unique(hv).tolist())
    return m.hashvalues.astype(np.uint32)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimate the Jaccard similarity of two signatures."""
    return float(np.mean(a == b))


def _band_keys(sig: np.ndarray) -> list[int]:
    return [int.from_bytes(hashlib.blake2b(bytes([i]) + sig[i * ROWS:(i + 1) * ROWS].tobytes(),
                                           digest_size=8).digest(), "little", signed=True)
            for i in range(BANDS)]


def place(db: sqlite3.Connection, article: Article, threshold: float = THRESHOLD) -> list[str]:
    """Index an article's signature and join it to the cluster of its copies; return the copies found."""
    sig = signature(article)
    if sig is None:
        return []
    keys = _band_keys(sig)
    marks = ",".join("?" * len(keys))
    candidates = [r[0] for r in db.execute(f"SELECT DISTINCT id FROM bands WHERE key IN ({marks})", keys)
                  if r[0] != article.id]
    db.execute("INSERT OR REPLACE INTO signatures VALUES (?, ?)", (article.id, sig.tobytes()))
    db.executemany("INSERT OR IGNORE INTO bands VALUES (?, ?)", ((k, article.id) for k in keys))
    if not candidates:
        return []
    rows = db.execute(f"SELECT id, sig FROM signatures WHERE id IN ({','.join('?' * len(candidates))})",
                      candidates).fetchall()
    other = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.uint32).reshape(len(rows), NUM_PERM)
    scores = (other == sig).mean(axis=1)
    matches = {rows[i][0]: float(scores[i]) for i in np.flatnonzero(scores >= threshold)}
    if matches:
        _link(db, article.id, matches)
    return sorted(matches)


def _link(db: sqlite3.Connection, article_id: str, matches: dict[str, float]) -> None:
    """Put an article and its matches in one cluster, merging the clusters they were in."""
    marks = ",".join("?" * len(matches))
    known = dict(db.execute(f"SELECT id, cluster FROM copies WHERE id IN ({marks})", list(matches)))
    if known:
        # Keep the cluster of the earliest stored member as the label: labels stay stable.
        target = min(set(known.values()), key=lambda c: _rank(db, c))
        for cluster in set(known.values()) - {target}:
            db.execute("UPDATE copies SET cluster = ? WHERE cluster = ?", (target, cluster))
    else:
        target = min(matches, key=lambda i: _rank(db, i))
    for member, score in matches.items():
        db.execute("INSERT OR IGNORE INTO copies VALUES (?, ?, ?)", (member, target, score))
    db.execute("INSERT OR REPLACE INTO copies VALUES (?, ?, ?)", (article_id, target, max(matches.values())))


def _rank(db: sqlite3.Connection, article_id: str) -> tuple[int, str]:
    row = db.execute("SELECT aid FROM articles WHERE id = ?", (article_id,)).fetchone()
    return (row[0] if row else 1 << 62, article_id)


def forget(db: sqlite3.Connection, article_id: str) -> None:
    """Take an article out of the copy index and its cluster (before an update or a removal)."""
    row = db.execute("SELECT sig FROM signatures WHERE id = ?", (article_id,)).fetchone()
    if row is None:
        return
    keys = _band_keys(np.frombuffer(row[0], dtype=np.uint32))
    db.executemany("DELETE FROM bands WHERE key = ? AND id = ?", ((k, article_id) for k in keys))
    db.execute("DELETE FROM signatures WHERE id = ?", (article_id,))
    found = db.execute("SELECT cluster FROM copies WHERE id = ?", (article_id,)).fetchone()
    if found is None:
        return
    db.execute("DELETE FROM copies WHERE id = ?", (article_id,))
    rest = [r[0] for r in db.execute("SELECT id FROM copies WHERE cluster = ?", (found[0],))]
    if len(rest) < 2:
        db.execute("DELETE FROM copies WHERE cluster = ?", (found[0],))
    elif found[0] == article_id:
        # A chain broken by the removal stays grouped until `archive rebuild`; only the label moves.
        db.execute("UPDATE copies SET cluster = ? WHERE cluster = ?",
                   (min(rest, key=lambda i: _rank(db, i)), article_id))


def rebuild(db: sqlite3.Connection, threshold: float = THRESHOLD) -> int:
    """Recompute every signature and cluster from the stored articles; return the clusters formed."""
    db.execute("DELETE FROM copies")
    db.execute("DELETE FROM bands")
    db.execute("DELETE FROM signatures")
    # Reading articles while writing the copy tables on one connection is safe: different tables.
    for (record,) in db.execute("SELECT record FROM articles ORDER BY aid").fetchall():
        place(db, Article.from_stored(json.loads(record)), threshold)
    return int(db.execute("SELECT count(DISTINCT cluster) FROM copies").fetchone()[0])


def clusters(db: sqlite3.Connection, ids: Iterable[str] | None = None) -> list[Cluster]:
    """Return the clusters (all, or those holding one of ``ids``), largest first."""
    rows = db.execute("SELECT c.cluster, c.id, c.similarity FROM copies c LEFT JOIN articles a"
                      " ON a.id = c.id ORDER BY c.cluster, a.aid, c.id").fetchall()
    groups: dict[str, list[tuple[str, float]]] = {}
    for cluster, member, score in rows:
        groups.setdefault(cluster, []).append((member, score))
    wanted = None if ids is None else set(ids)
    out = [Cluster(tuple(m for m, _ in members), min(s for _, s in members))
           for members in groups.values()
           if wanted is None or wanted.intersection(m for m, _ in members)]
    return sorted(out, key=lambda c: (-len(c.ids), -c.similarity, c.ids))
