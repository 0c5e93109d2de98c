"""Indexing: the Whoosh index derived from the store, one document per block.

Each paragraph or heading of an article becomes one Whoosh document:

==========  ==================================================================
field       content
==========  ==================================================================
article     the article's id (stored; deleting an article deletes by this term)
aid         the store's integer key of the article (a column only, read
            whole into numpy by the search stage)
n           the block number (a column only)
text        the block, through the French search chain (no positions)
exact       the block, through the exact chain, with positions (phrases)
title       the article's title, search chain (boosted at query time)
source,     metadata, through the exact chain, for ``source:``, ``author:``
author, tag and ``tag:`` queries
hash        the article's content hash (``check``)
==========  ==================================================================

The article-level fields (title, source, author, tag, hash) are indexed on
block 0 only; the search stage lifts a match on them to every block of the
article through the ``aid`` column. Indexing them on every block made
indexing several times slower for no gain.

==========  ==================================================================
==========  ==================================================================

Segments are written as separate files, not Whoosh's compound ``.seg`` files:
Whoosh opens each part of a compound segment through ``BytesIO(memoryview)``,
which copies the whole part into memory for every searcher opened (hundreds of
MB on the corpus); separate files are read through the page cache instead.

The index lives in ``HOME/index/``: each full build goes into a new folder
``g<time>`` beside the live one, and the file ``CURRENT`` names the live one.
A rebuild swaps ``CURRENT`` (an atomic rename) only once its folder is
complete, so readers keep the old index until then and an interrupted rebuild
leaves it untouched. Incremental updates (``add``/``remove``) replace an
article's documents in one Whoosh commit.
"""

from __future__ import annotations

import multiprocessing
from collections import Counter, defaultdict
import os
import pickle
import shutil
import zlib
import struct
import time
from array import array
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from whoosh import index as whoosh_index
from whoosh.columns import NumericColumn
from whoosh.fields import COLUMN, ID, TEXT, Schema
from whoosh.formats import Positions
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3TermInfo
from whoosh.system import pack_uint as _pack_uint, pack_ushort
from whoosh.util.numeric import length_to_byte
from whoosh.writing import SegmentWriter

from .analysis import analyze_block, exact_analyzer, french_analyzer
from .errors import IndexMissing
from .model import Article, derive_title
from .workers import die_with_parent

__all__ = ["FORMAT", "make_schema", "IndexDir", "article_documents", "write_articles", "FastWriter",
           "analyze_block", "build_segments"]

#: Bumped whenever the schema or an analyzer changes meaning; an older index is rebuilt.
FORMAT = "fr-6"
Progress = Callable[[int], None]


_PACK_ONE = struct.Struct("<I").pack
_UINTS = [_pack_uint(i) for i in range(256)]


class PackedPositions(Positions):
    """Positions as packed little-endian uint32, so that search decodes them with numpy.

    Whoosh's own Positions format pickles each posting's position list; decoding
    thousands of them for one phrase query cost tens of milliseconds in pickle.
    """

    def encode(self, poslist: list[int]) -> bytes:
        if len(poslist) == 1:
            return _PACK_ONE(poslist[0])
        return struct.pack("<%dI" % len(poslist), *poslist)

    def decode_positions(self, valuestring: bytes) -> list[int]:
        return list(struct.unpack("<%dI" % (len(valuestring) // 4), valuestring))

    def decode_frequency(self, valuestring: bytes) -> int:
        return len(valuestring) // 4

    def decode_weight(self, valuestring: bytes) -> float:
        return self.decode_frequency(valuestring) * self.field_boost


def make_schema(**chain: bool) -> Schema:
    """Return the index schema; ``chain`` switches stages of the search chain off (benchmarks)."""
    french = french_analyzer(**chain)
    exact = exact_analyzer()
    schema = Schema(
        article=ID(stored=True),
        aid=COLUMN(NumericColumn("I", default=0)),
        n=COLUMN(NumericColumn("I", default=0)),
        text=TEXT(analyzer=french, phrase=False),
        exact=TEXT(analyzer=exact, phrase=True),  # format replaced below
        title=TEXT(analyzer=french, phrase=False),
        source=TEXT(analyzer=exact, phrase=False),
        author=TEXT(analyzer=exact, phrase=False),
        tag=TEXT(analyzer=exact, phrase=False),
        hash=ID(stored=True),
    )
    schema["exact"].format = PackedPositions()
    return schema


def article_documents(aid: int, article: Article) -> Iterator[dict[str, object]]:
    """Yield the Whoosh documents of one article: one per block."""
    for n, block in enumerate(article.blocks):
        doc: dict[str, object] = {"article": article.id, "aid": aid, "n": n,
                                  "text": block.text, "exact": block.text}
        if n == 0:
            # Article-level fields go on block 0 only; search lifts them to the whole
            # article through the aid column (indexing them on every block cost 8x).
            # A title derived from the first sentence repeats the text: indexing it
            # again as a boosted title would count the same words twice.
            title = "" if article.title == derive_title(article.blocks) else article.title
            doc.update(title=title, source=article.source or "",
                       author=" ; ".join(article.authors), tag=" ; ".join(article.tags),
                       hash=article.content_hash())
        yield doc


def write_articles(writer: SegmentWriter, items: Iterable[tuple[int, Article]],
                   progress: Progress | None = None) -> int:
    """Add articles' documents to an open writer (Whoosh's or the fast one); return blocks written."""
    blocks = 0
    for aid, article in items:
        if isinstance(writer, FastWriter):
            blocks += writer.add_article(aid, article)
        else:
            for doc in article_documents(aid, article):
                writer.add_document(**doc)
                blocks += 1
        if progress:
            progress(1)
    return blocks


class IndexDir:
    """The folder ``HOME/index`` and the live index generation named by its ``CURRENT`` file."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @property
    def current_file(self) -> Path:
        return self.path / "CURRENT"

    def current_name(self) -> str | None:
        """Return the live generation's folder name, or None when there is no index."""
        try:
            name = self.current_file.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        if not name.startswith("g") or "/" in name or not (self.path / name).is_dir():
            return None
        return name

    def exists(self) -> bool:
        """Tell whether a live index exists and is of the current format."""
        name = self.current_name()
        if name is None:
            return False
        try:
            marker = (self.path / name / "FORMAT").read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return False
        return marker == FORMAT and whoosh_index.exists_in(str(self.path / name))

    def open(self) -> whoosh_index.Index:
        """Open the live index; raise :class:`IndexMissing` when there is none."""
        if not self.exists():
            raise IndexMissing("the search index is missing or out of date; run `archive rebuild`")
        return whoosh_index.open_dir(str(self.path / str(self.current_name())))

    def create(self, **chain: bool) -> tuple[str, whoosh_index.Index]:
        """Create a new, empty, not yet live generation; return its name and index."""
        self.path.mkdir(parents=True, exist_ok=True)
        name = "g%d-%d" % (time.time_ns() // 1000, os.getpid())
        folder = self.path / name
        folder.mkdir()
        ix = whoosh_index.create_in(str(folder), make_schema(**chain))
        (folder / "FORMAT").write_text(FORMAT + "\n", encoding="utf-8")
        return name, ix

    def publish(self, name: str) -> None:
        """Make generation ``name`` live (atomic rename) and remove the others."""
        tmp = self.path / f"CURRENT.{os.getpid()}.tmp"
        tmp.write_text(name + "\n", encoding="utf-8")
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, self.current_file)
        self.clean(keep=name)

    def clean(self, keep: str | None = None) -> None:
        """Delete generations other than ``keep`` (readers holding them open keep their files)."""
        keep = keep or self.current_name()
        if not self.path.is_dir():
            return
        for child in self.path.iterdir():
            if child.is_dir() and child.name.startswith("g") and child.name != keep:
                shutil.rmtree(child, ignore_errors=True)
            elif child.name.startswith("CURRENT.") and child.name.endswith(".tmp"):
                child.unlink(missing_ok=True)


# ---------------------------------------------------------------------------- the fast path
#
# Whoosh's own writer analyzes each field through a chain of generators and pushes
# every posting through a sorting pool and a per-posting Python call; on the whole
# corpus that is minutes. The fast writer below produces the same segment files
# (same codec, same terms, same posting blocks) with one regex pass per block, a
# per-word cache of the analysis, and whole posting blocks handed to the codec at
# once. tests/test_indexing.py checks that both writers yield identical terms.

_BLOCK = 128  # postings per block, as W3Codec writes them


class FastWriter(SegmentWriter):
    """A Whoosh segment writer fed whole articles through the fast analysis path."""

    def __init__(self, ix: whoosh_index.Index, **kwargs: Any) -> None:
        super().__init__(ix, **kwargs)
        self._postings: dict[str, dict[bytes, list[tuple[int, float, bytes, int]]]] = {}
        self._text_terms: defaultdict[str, list[tuple[int, float, bytes, int]]] = defaultdict(list)
        self._exact_terms: defaultdict[str, list[tuple[int, float, bytes, int]]] = defaultdict(list)
        self._positions = self.schema["exact"].format
        # The fast analysis reproduces the default chains only; an index built with
        # another chain (benchmark ablations) analyzes its text through Whoosh.
        self._fast = (self.schema["text"].analyzer == french_analyzer()
                      and self.schema["exact"].analyzer == exact_analyzer())

    def _post(self, fieldname: str, tbytes: bytes, docnum: int, weight: float, vbytes: bytes,
              length: int) -> None:
        terms = self._postings.setdefault(fieldname, {})
        lst = terms.get(tbytes)
        if lst is None:
            terms[tbytes] = [(docnum, weight, vbytes, length)]
        else:
            lst.append((docnum, weight, vbytes, length))

    def add_article(self, aid: int, article: Article) -> int:
        """Add one article's blocks; return how many."""
        schema = self.schema
        pdw = self.perdocwriter
        encode = self._positions.encode
        # The two big fields are keyed by str here and encoded once at flush time.
        text_terms = self._text_terms
        exact_terms = self._exact_terms
        for doc in article_documents(aid, article):
            docnum = self.docnum
            pdw.start_doc(docnum)
            text = str(doc.pop("text"))
            doc.pop("exact")
            if self._fast:
                exact, search = analyze_block(text)
            else:
                exact = [t.text for t in schema["exact"].analyzer(text)]
                search = [t.text for t in schema["text"].analyzer(text)]
            n_search = len(search)
            for term, f in Counter(search).items():
                text_terms[term].append((docnum, float(f), _UINTS[f] if f < 256 else _pack_uint(f),
                                         n_search))
            positions: defaultdict[str, list[int]] = defaultdict(list)
            for pos, term in enumerate(exact):
                positions[term].append(pos)
            n_exact = len(exact)
            for term, plist in positions.items():
                exact_terms[term].append((docnum, float(len(plist)), encode(plist), n_exact))
            pdw.add_field("text", schema["text"], None, n_search)
            pdw.add_field("exact", schema["exact"], None, n_exact)
            for fieldname in sorted(doc):
                value = doc[fieldname]
                field = schema[fieldname]
                length = 0
                if field.indexed:
                    items = list(field.index(value))
                    if field.scorable:
                        length = sum(freq for _, freq, _, _ in items)
                    for tbytes, _, weight, vbytes in items:
                        self._post(fieldname, tbytes, docnum, weight, vbytes, length)
                pdw.add_field(fieldname, field, value if field.stored else None, length)
                if field.column_type is not None:
                    pdw.add_column_value(fieldname, field.column_type, field.to_column_value(value))
            pdw.finish_doc()
            self.docnum += 1
        self._added = True
        return len(article.blocks)

    def _flush_segment(self) -> None:
        self.perdocwriter.close()
        for fieldname, terms in (("text", self._text_terms), ("exact", self._exact_terms)):
            if terms:
                self._postings[fieldname] = {t.encode("utf-8"): p for t, p in terms.items()}
            terms.clear()
        fw = self.fieldwriter
        for fieldname in sorted(self._postings):
            fw.start_field(fieldname, self.schema[fieldname])
            terms = self._postings[fieldname]
            fixed = self.schema[fieldname].format.fixed_value_size()
            prefix = pack_ushort(fw._fieldid)
            for tbytes in sorted(terms):
                info = _write_postings(fw._postfile, terms[tbytes], fixed, self.codec._compression)
                fw._tindex.add(prefix + tbytes, info.to_bytes())
            fw.finish_field()
        fw.close()
        self._postings.clear()


def _write_postings(postfile: Any, postings: list[tuple[int, float, bytes, int]],
                    fixed: int | None, compression: int) -> W3TermInfo:
    """Write one term's posting list in W3 blocks, as W3PostingsWriter would; return its info.

    Byte for byte the codec's format (tests/test_indexing.py compares both writers), in
    one function call per term instead of a dozen method calls per block.
    """
    info = W3TermInfo()
    start = postfile.tell()
    postfile.write(WHOOSH3_HEADER_MAGIC)
    total = len(postings)
    for first in range(0, total, _BLOCK):
        chunk = postings[first:first + _BLOCK]
        ids = [p[0] for p in chunk]
        weights = array("f", [p[1] for p in chunk])
        nonzero = [p[3] for p in chunk if p[3]]
        minlength = min(nonzero) if nonzero else None
        maxlength = max(nonzero) if nonzero else 0
        maxweight = max(weights)
        deltas = tuple(b - a for a, b in zip([0] + ids[:-1], ids))
        if all(w == 1.0 for w in weights):
            mini_weights: Any = None
        elif all(w == weights[0] for w in weights):
            mini_weights = weights[0]
        else:
            mini_weights = tuple(weights)
        values = [p[2] for p in chunk if p[2]]
        if fixed is None or fixed < 0:
            mini_values: Any = tuple(values)
        elif fixed == 0:
            mini_values = None
        else:
            mini_values = b"".join(values)
        data = pickle.dumps((deltas, mini_weights, mini_values), 2)
        if compression:
            data = zlib.compress(data, compression)
        head = pickle.dumps((len(ids), ids[-1], maxweight, compression, length_to_byte(minlength),
                             length_to_byte(maxlength)), 2)
        size = len(head) + len(data)
        postfile.write_int(-size if first + _BLOCK >= total else size)
        postfile.write(head)
        postfile.write(data)
        # The same bookkeeping as W3TermInfo.add_block().
        info._weight += sum(weights)
        info._df += len(ids)
        if info._minlength is None:
            info._minlength = minlength
        elif minlength is not None:
            info._minlength = min(info._minlength, minlength)
        info._maxlength = max(info._maxlength, maxlength)
        info._maxweight = max(info._maxweight, maxweight)
        if info._minid is None:
            info._minid = ids[0]
        info._maxid = ids[-1]
    info.set_extent(start, postfile.tell() - start)
    return info


def _index_part(job: tuple[str, str, list[str]]) -> Any:
    """Index some of the store's articles into a new segment of an index (a worker process)."""
    index_path, store_path, ids = job
    from .store import Store

    ix = whoosh_index.open_dir(index_path)
    writer = FastWriter(ix, _lk=False, compound=False)
    write_articles(writer, Store(Path(store_path)).iter_keyed(ids))
    segment = writer._finalize_segment()
    # No writer._finish(): it would delete the temporary folder the other workers
    # share; build_segments removes it once all are done.
    return segment, len(ids)


def build_segments(ix: whoosh_index.Index, index_path: Path, store_path: Path, ids: list[str],
                   procs: int, progress: Progress | None = None) -> None:
    """Index ``ids`` into new segments of a fresh index, in ``procs`` processes, and commit them."""
    parts = max(1, min(procs, len(ids) // 200 or 1))
    size = -(-len(ids) // parts) if ids else 0
    jobs = [(str(index_path), str(store_path), ids[i:i + size]) for i in range(0, len(ids), size or 1)]
    # The new generation's folder is private to this rebuild (the caller holds the
    # archive's write lock), so the segments are committed by writing the TOC directly.
    segments = list(ix._segments())
    if parts == 1:
        for job in jobs:
            segment, count = _index_part(job)
            segments.append(segment)
            if progress:
                progress(count)
    else:
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(parts, initializer=die_with_parent, initargs=(os.getpid(),)) as pool:
            for segment, count in pool.imap_unordered(_index_part, jobs):
                segments.append(segment)
                if progress:
                    progress(count)
    generation = ix.latest_generation() + 1
    whoosh_index.TOC(ix.schema, segments, generation).write(ix.storage, ix.indexname)
    whoosh_index.clean_files(ix.storage, ix.indexname, generation, segments)
    shutil.rmtree(index_path / f"{ix.indexname}.tmp", ignore_errors=True)


