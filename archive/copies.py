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
values, and each band's hash is a row of ``bands`` (inserted, sorted, when the
transaction's articles are all placed: :class:`Placer`). Articles sharing a band
are *candidates* (one indexed SQL lookup); only those are compared, and a
candidate at :data:`THRESHOLD` or more joins the new article's cluster
(clusters merge when an article links two). Everything lives in SQLite
(``signatures``, ``bands``, ``copies``) and is written in the store's
transaction, so adding one article never needs a pass over the archive;
``archive rebuild`` recomputes it all.
"""

from __future__ import annotations

import hashlib
import sqlite3
import string
import unicodedata
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .model import Article, parse_stored

__all__ = ["SCHEMA", "Cluster", "Signed", "folded_words", "signature", "similarity", "prepare", "prepare_many",
           "Placer", "forget", "rebuild", "clusters", "THRESHOLD"]

#: Estimated Jaccard similarity of 5-word shingles from which two articles are copies
#: (calibrated on the shared corpus: bench/copies.py, bench/README.md).
THRESHOLD = 0.5
NUM_PERM = 128
BANDS, ROWS = 32, 4  # candidates at ≥ 0.5 are found with probability 0.87, at ≥ 0.6 with 0.99
SHINGLE = 5
#: Bodies shorter than this (in words) are too short to call copies: briefs share boilerplate.
MIN_WORDS = 40
#: Articles whose band rows a transaction holds at most before inserting them.
HELD = 4096
#: Bits of a transaction's filter of the band keys it inserted (16 MiB): of the keys absent
#: from the table, 0.4% pass it after the corpus's 571,328 keys, 13% after 32 times as many.
_FILTER_BITS = 1 << 27

#: Keeps the bytes of [a-z0-9], turns every other into a space.
_WORD_BYTES = bytes(c if chr(c) in string.ascii_lowercase + string.digits else 32 for c in range(256))
_BASE = 1_000_003  # shingle polynomial base: odd, < 2^31 so products stay below 2^63
#: An article's MinHash signature (None: too short to compare) and its band keys.
Signed = tuple[np.ndarray | None, list[int]]

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


def _mixed(shingles: np.ndarray) -> np.ndarray:
    """Return a copy of 32-bit shingle hashes passed through MurmurHash3's finaliser (spreads their bits)."""
    h = shingles.copy()
    h ^= h >> np.uint32(16)
    h *= np.uint32(0x85EBCA6B)
    h ^= h >> np.uint32(13)
    h *= np.uint32(0xC2B2AE35)
    h ^= h >> np.uint32(16)
    return h


@lru_cache(maxsize=1)
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    """Return the 128 affine permutations ``a·h + b`` (mod 2^32, ``a`` odd) the stored signatures depend on.

    They are datasketch 2.0.0's (``MinHash(num_perm=128, seed=1, scheme="affine32")``),
    drawn the way it draws them: numpy's legacy generator, whose stream numpy keeps
    stable, seeded 1. (Importing datasketch cost two seconds of scipy for two arrays.)
    """
    gen = np.random.RandomState(1)
    a = gen.randint(0, 1 << 31, NUM_PERM, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, NUM_PERM, dtype=np.uint32)
    return a, b


def folded_words(article: Article) -> list[str]:
    """Return the body's words folded the way the index folds them: ``Été`` → ``ete``, ``œuvre`` → ``oeuvre``."""
    return [w.decode() for w in _folded_bytes(article)]


def _folded_bytes(article: Article) -> list[bytes]:
    # str.replace beats a translate table here (translate with a dict is slow on long text).
    text = "\n".join(article.paragraphs).lower().replace("œ", "oe").replace("æ", "ae").replace("ß", "ss")
    # One NFKD pass over the whole text, then dropping non-ASCII, is the fold at C speed;
    # every byte but [a-z0-9] then becomes a space, and the words are what split() leaves.
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore")
    return folded.translate(_WORD_BYTES).split()


def signature(article: Article) -> np.ndarray | None:
    """Return the MinHash signature of an article's folded body, or None when it is too short."""
    return _signatures([article])[0]


def prepare(article: Article) -> Signed:
    """Return an article's signature and band keys (a reading process computes them ahead: ``Incoming.signed``)."""
    return prepare_many([article])[0]


def prepare_many(articles: list[Article]) -> list[Signed]:
    """Return what :func:`prepare` returns for each article, computed for all of them at once in numpy."""
    return [(sig, []) if sig is None else (sig, _band_keys(sig)) for sig in _signatures(articles)]


def _signatures(articles: list[Article]) -> list[np.ndarray | None]:
    """Return each article's signature (None for one too short), computed for all of them at once.

    A reading process signs a chunk of a few hundred articles: one word-hash pass, one
    shingle pass and one MinHash pass over all their shingles (a shingle never spans two
    articles), instead of some thirty numpy calls per article.
    """
    words = [_folded_bytes(a) for a in articles]
    signing = [i for i, w in enumerate(words) if len(w) >= MIN_WORDS]
    out: list[np.ndarray | None] = [None] * len(articles)
    if not signing:
        return out
    tokens = [t for i in signing for t in words[i]]
    # Combine SHINGLE consecutive word hashes as a polynomial, vectorised: no string per shingle.
    # Each word's crc32 (stable across processes, unlike hash()): a call per word cost half
    # of looking each up in a dict of those already computed.
    words_hv = np.fromiter(map(zlib.crc32, tokens), dtype=np.uint64, count=len(tokens))
    n = len(tokens) - SHINGLE + 1
    hv = np.zeros(n, dtype=np.uint64)
    for j in range(SHINGLE):
        hv = (hv * np.uint64(_BASE) + words_hv[j:j + n]) & np.uint64(0xFFFFFFFF)
    # Keep the shingles that start and end in one article: its first len - SHINGLE + 1 positions.
    lengths = np.array([len(words[i]) for i in signing], dtype=np.int64)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    counts = lengths - SHINGLE + 1
    owner = np.repeat(np.arange(len(signing)), counts)
    keep = np.repeat(starts - np.concatenate(([0], np.cumsum(counts)[:-1])), counts) + np.arange(len(owner))
    sigs = _minhash_segments(hv[keep].astype(np.uint32), owner, len(signing))
    for row, i in enumerate(signing):
        out[i] = sigs[row]
    return out


def _minhash_segments(shingles: np.ndarray, owner: np.ndarray, count: int) -> np.ndarray:
    """Return the MinHash of each run of ``shingles`` with the same ``owner`` (0..count-1, ascending).

    Datasketch's affine32 MinHash, in numpy (its own ``update_batch`` gives the same values at
    half the speed: it calls a hash function per shingle; bench/copies.md). Each hash is mixed
    by MurmurHash3's finalizer, then permuted by ``a·h + b`` modulo 2^32; a signature is the
    128 minimums, duplicates need no removal.
    """
    a, b = _permutations()
    a, b = a[:, None], b[:, None]
    out = np.full((NUM_PERM, count), 0xFFFFFFFF, dtype=np.uint32)  # one row per permutation: see below
    # Bounded memory: 4 MiB of permuted values at a time, in one buffer written in place. Fresh
    # temporaries that size are fresh pages from the kernel each time: 5x slower.
    permuted = np.empty((NUM_PERM, min(8192, len(shingles))), dtype=np.uint32)
    for start in range(0, len(shingles), 8192):
        h = _mixed(shingles[start:start + 8192])
        block = owner[start:start + 8192]
        firsts = np.flatnonzero(np.concatenate(([True], block[1:] != block[:-1])))
        values = permuted[:, :len(h)]
        np.multiply(a, h, out=values)
        values += b
        # Reduced along contiguous rows (permutation × shingle), reduceat is 7x faster than down columns.
        mins = np.minimum.reduceat(values, firsts, axis=1)
        cols = block[firsts]
        out[:, cols] = np.minimum(out[:, cols], mins)
    return np.ascontiguousarray(out.T)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimate the Jaccard similarity of two signatures."""
    return float(np.mean(a == b))


_BAND_TAGS = [bytes([i]) for i in range(BANDS)]
_BAND_BYTES = ROWS * 4


def _band_keys(sig: np.ndarray) -> list[int]:
    raw = sig.tobytes()
    # Each key is its 8-byte digest read as a little-endian signed integer: all 32 read at once.
    digests = b"".join(hashlib.blake2b(tag + raw[i * _BAND_BYTES:(i + 1) * _BAND_BYTES], digest_size=8).digest()
                       for i, tag in enumerate(_BAND_TAGS))
    keys: list[int] = np.frombuffer(digests, dtype="<i8").tolist()
    return keys


class Placer:
    """Places the articles of one transaction among their copies; their band rows go in at :meth:`flush`.

    Inserting each article's 32 band rows as it comes means 32 random B-tree
    insertions; held until the transaction ends and inserted sorted, they cost a
    fraction of that. Candidates are looked up in the table and among the rows held.
    """

    def __init__(self, db: sqlite3.Connection, threshold: float = THRESHOLD) -> None:
        self.db, self.threshold = db, threshold
        self.held: dict[int, str] = {}  # band key → the last id placed under it since the last flush
        self.shared: dict[int, list[str]] = {}  # band key → every id held under it, for keys held twice
        self.sigs: dict[str, bytes] = {}  # id → its held signature row
        # A table of bands empty as the transaction begins (a first import, a rebuild) holds only
        # the keys this placer flushes into it: a filter of those spares most lookups their probe.
        # (Not filtering: the table held rows already, and every lookup probes it. The filter stays
        # empty until the first flush.)
        self.filtering = db.execute("SELECT 1 FROM bands LIMIT 1").fetchone() is None
        self.filter = bytearray()

    def place(self, article: Article, signed: Signed | None = None) -> list[str]:
        """Index an article's signature and join it to the cluster of its copies; return the copies found.

        ``signed``: what :func:`prepare` returned for it, if computed ahead (it is computed otherwise).
        """
        return self.place_signed(article.id, *(signed or prepare(article)))

    def place_signed(self, article_id: str, sig: np.ndarray | None, keys: list[int]) -> list[str]:
        """Place an article by its id, signature and band keys (see :meth:`place`)."""
        if sig is None:
            return []
        db = self.db
        probed = self._maybe_flushed(keys) if self.filtering else keys
        found: set[str] = set()
        if probed:
            found = {r[0] for r in db.execute(
                f"SELECT DISTINCT id FROM bands WHERE key IN ({','.join('?' * len(probed))})", probed)}
        held, shared = self.held, self.shared
        for key in held.keys() & keys:  # (rare: a copy, or a band two texts share by chance)
            ids = shared.get(key) or [held[key]]
            found.update(ids)
            shared[key] = [*ids, article_id]
        held.update(dict.fromkeys(keys, article_id))
        found.discard(article_id)
        sigs = self.sigs
        sigs[article_id] = sig.tobytes()
        rows = [(i, sigs[i]) for i in found if i in sigs]
        candidates = sorted(i for i in found if i not in sigs)
        if candidates:
            rows += db.execute(f"SELECT id, sig FROM signatures WHERE id IN ({','.join('?' * len(candidates))})",
                               candidates).fetchall()
        if len(sigs) >= HELD:
            self.flush()  # a large transaction must not hold every article's rows
        if not rows:
            return []
        other = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.uint32).reshape(len(rows), NUM_PERM)
        scores = (other == sig).mean(axis=1)
        matches = {rows[i][0]: float(scores[i]) for i in np.flatnonzero(scores >= self.threshold)}
        if matches:
            _link(db, article_id, matches)
        return sorted(matches)

    def _maybe_flushed(self, keys: list[int]) -> list[int]:
        """Return the keys the filter of flushed keys does not rule out (all those flushed, a few others)."""
        flushed, mask = self.filter, _FILTER_BITS - 1
        if not flushed:  # nothing flushed yet
            return []
        # (Python's & of a negative key is the two's complement's, as numpy's on its uint64 view;
        # 32 lookups in Python beat the four numpy calls that would do them.)
        return [key for key in keys if flushed[(key & mask) >> 3] >> (key & 7) & 1]

    def forget(self, article_id: str) -> None:
        """Take an article out of the copy index and its cluster, held band rows included."""
        if article_id in self.sigs:
            self.flush()  # its signature row must be there for forget() to read
        forget(self.db, article_id)

    def flush(self) -> None:
        """Insert the held signature and band rows, sorted by key."""
        self.db.executemany("INSERT OR REPLACE INTO signatures VALUES (?, ?)", sorted(self.sigs.items()))
        held = self.held
        keys = np.fromiter(held, dtype=np.int64, count=len(held))
        # Sorted by key (the B-tree's order), numpy sorting the integers; then the rare keys held
        # by several ids, each with all of them (the last one again, which OR IGNORE skips).
        order = np.argsort(keys)
        ids = list(held.values())
        self.db.executemany("INSERT OR IGNORE INTO bands VALUES (?, ?)",
                            zip(keys[order].tolist(), map(ids.__getitem__, order.tolist())))
        self.db.executemany("INSERT OR IGNORE INTO bands VALUES (?, ?)",
                            sorted((key, i) for key, every in self.shared.items() for i in every))
        if self.filtering and len(keys):
            if not self.filter:
                self.filter = bytearray(_FILTER_BITS // 8)
            bits = keys.view(np.uint64) & np.uint64(_FILTER_BITS - 1)
            np.bitwise_or.at(np.frombuffer(self.filter, np.uint8), bits >> np.uint64(3),
                             np.left_shift(1, bits & np.uint64(7)).astype(np.uint8))
        held.clear()
        self.shared.clear()
        self.sigs.clear()


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
    # Members already in a cluster keep their row (now in ``target``): only the others are inserted,
    # so that joining a cluster of 31 copies is one statement, not 31.
    db.executemany("INSERT OR IGNORE INTO copies VALUES (?, ?, ?)",
                   ((member, target, score) for member, score in matches.items() if member not in known))
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


def signed(db: sqlite3.Connection, report: Callable[[str, int], None] | None = None
           ) -> list[tuple[str, np.ndarray | None, list[int]]]:
    """Return each stored article's id, signature and band keys, in storing order (only reads).

    A signature the store holds is read, not computed again from the text (it was computed
    from the same text when the article was written); an article without one is read whole.
    """
    out: list[tuple[str, np.ndarray | None, list[int]]] = []
    for article_id, sig, record in db.execute(
            "SELECT a.id, s.sig, CASE WHEN s.sig IS NULL THEN a.record END FROM articles a"
            " LEFT JOIN signatures s ON s.id = a.id ORDER BY a.aid"):
        if sig is not None:
            stored = np.frombuffer(sig, dtype=np.uint32)
            out.append((article_id, stored, _band_keys(stored)))
        else:
            out.append((article_id, *prepare(Article.from_stored(parse_stored(record)))))
        if report:
            report("copies", 1)
    if report:
        report("copies", 0)  # the phase is over: a worker process sends its last counts now
    return out


def rebuild(db: sqlite3.Connection, signed: Iterable[tuple[str, np.ndarray | None, list[int]]],
            threshold: float = THRESHOLD) -> int:
    """Recompute every cluster from the articles' signatures (:func:`signed`); return the clusters formed."""
    db.execute("DELETE FROM copies")
    db.execute("DELETE FROM bands")
    db.execute("DELETE FROM signatures")
    placer = Placer(db, threshold)
    for article_id, sig, keys in signed:
        placer.place_signed(article_id, sig, keys)
    placer.flush()
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
