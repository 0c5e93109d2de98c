"""Indexing: the Whoosh index derived from the store, one document per block.

Each paragraph or heading of an article becomes one Whoosh document:

==========  ==================================================================
field       content
==========  ==================================================================
article     the article's id (stored; deleting an article deletes by this term)
aid         the store's integer key of the article (a numeric column, read
            whole into numpy by the search stage)
n           the block number (a numeric column)
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

The index lives in ``HOME/index/``: each full build goes into a new folder
``g<time>`` beside the live one, and the file ``CURRENT`` names the live one.
A rebuild swaps ``CURRENT`` (an atomic rename) only once its folder is
complete, so readers keep the old index until then and an interrupted rebuild
leaves it untouched. Incremental updates (``add``/``remove``) replace an
article's documents in one Whoosh commit.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Callable, Iterable, Iterator

from whoosh import index as whoosh_index
from whoosh.fields import ID, NUMERIC, TEXT, Schema
from whoosh.writing import SegmentWriter

from .analysis import exact_analyzer, french_analyzer
from .errors import IndexMissing
from .model import Article

__all__ = ["FORMAT", "make_schema", "IndexDir", "article_documents", "write_articles"]

#: Bumped whenever the schema or an analyzer changes meaning; an older index is rebuilt.
FORMAT = "fr-1"
Progress = Callable[[int], None]


def make_schema(**chain: bool) -> Schema:
    """Return the index schema; ``chain`` switches stages of the search chain off (benchmarks)."""
    french = french_analyzer(**chain)
    exact = exact_analyzer()
    return Schema(
        article=ID(stored=True),
        aid=NUMERIC(int, bits=32, signed=False, sortable=True),
        n=NUMERIC(int, bits=32, signed=False, sortable=True),
        text=TEXT(analyzer=french, phrase=False),
        exact=TEXT(analyzer=exact, phrase=True),
        title=TEXT(analyzer=french, phrase=False),
        source=TEXT(analyzer=exact, phrase=False),
        author=TEXT(analyzer=exact, phrase=False),
        tag=TEXT(analyzer=exact, phrase=False),
        hash=ID(stored=True),
    )


def article_documents(aid: int, article: Article) -> Iterator[dict[str, object]]:
    """Yield the Whoosh documents of one article: one per block."""
    for n, block in enumerate(article.blocks):
        doc: dict[str, object] = {"article": article.id, "aid": aid, "n": n,
                                  "text": block.text, "exact": block.text}
        if n == 0:
            # Article-level fields go on block 0 only; search lifts them to the whole
            # article through the aid column (indexing them on every block cost 8x).
            doc.update(title=article.title, source=article.source or "",
                       author=" ; ".join(article.authors), tag=" ; ".join(article.tags),
                       hash=article.content_hash())
        yield doc


def write_articles(writer: SegmentWriter, items: Iterable[tuple[int, Article]],
                   progress: Progress | None = None) -> int:
    """Add articles' documents to an open writer; return the number of blocks written."""
    blocks = 0
    for aid, article in items:
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
