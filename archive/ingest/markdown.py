"""Markdown: YAML front matter between ``---`` lines, then a body of paragraphs and ``#`` headings.

A small hand-written subset (ATX headings, emphasis, links, images, code, list
and quote markers dropped) rather than markdown-it-py: measured on the 200
articles of the corpus sample written as Markdown, markdown-it-py read them
about 25 % slower (bench/ingest.md), and issue 21 keeps what is faster or
equal. Every pattern is linear on hostile input (bench/abuse_ingest.py).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..errors import IngestError
from ..model import Article, Block, clean_block
from .files import load_yaml, record_from

__all__ = ["markdown_article", "md_heading", "md_inline"]

_FRONT_MATTER_RE = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
_BLANK_LINE_RE = re.compile(r"\n[ \t\u00a0]*\n")
_MD_HEADING_RE = re.compile(r"#{1,6}\s+")
# Every pattern below runs on untrusted text and must stay linear: each opener's scan
# stops at the next character that could start or end another one ([ ] ( ) * `),
# so no character is scanned by more than a bounded number of openers. An italics
# pattern that let `.+?` run to the end of the text made `"*a " * 20000` quadratic.
_URL = r"\(((?:[^()]|\([^()]*\))*)\)"  # one level of parentheses: wiki/Paris_(France)
_MD_INLINE = [
    (re.compile(r"!\[([^\[\]]*)\]" + _URL), r"\1"),
    (re.compile(r"\[([^\[\]]+)\]" + _URL), r"\1"),
    (re.compile(r"\*\*([^*]+)\*\*|__([^_]+)__"), r"\1\2"),
    (re.compile(r"(?<![\w*])\*(?!\s)([^*]+)(?<!\s)\*(?![\w*])"), r"\1"),
    (re.compile(r"`([^`]*)`"), r"\1"),
]


def markdown_article(text: str, path: Path) -> tuple[Article, bool]:
    """Return the article of a Markdown file and whether its id is derived."""
    meta: Any = {}
    if text.startswith("---"):
        m = _FRONT_MATTER_RE.match(text)
        if not m:
            raise IngestError(str(path), "malformed front matter (no closing '---' line)", code="malformed_metadata")
        meta = load_yaml(m.group(1), str(path)) or {}
        if not isinstance(meta, dict):
            raise IngestError(str(path), "malformed front matter (not a mapping of fields)", code="malformed_metadata")
        text = text[m.end():]
    blocks: list[Block] = []
    for chunk in _BLANK_LINE_RE.split(text.strip("\n")):
        lines = [ln for ln in chunk.split("\n") if ln.strip()]
        paragraph: list[str] = []
        for line in lines:
            heading = md_heading(line.strip())
            if heading is not None:
                if paragraph:
                    blocks.append(Block(md_inline(" ".join(paragraph)), False))
                    paragraph = []
                blocks.append(Block(md_inline(heading), True))
            else:
                paragraph.append(re.sub(r"^\s*(?:>\s?|[-*+]\s+)", "", line))
        if paragraph:
            blocks.append(Block(md_inline(" ".join(paragraph)), False))
    blocks = [b for b in blocks if b.text]
    if "title" not in meta:
        for block in blocks[:1]:
            if block.heading:
                meta = {**meta, "title": block.text}
                blocks = blocks[1:]
    return record_from(meta, blocks, path)


def md_heading(line: str) -> str | None:
    """Return the text of an ATX heading line (``## Titre ##``), or None for any other line."""
    m = _MD_HEADING_RE.match(line)
    if m is None:
        return None
    # String methods, not a `(.*?)\s*#*\s*$` pattern: that one backtracks quadratically
    # over a long run of spaces.
    return line[m.end():].rstrip().rstrip("#").rstrip()


def md_inline(text: str) -> str:
    """Return a paragraph with its inline markup (emphasis, links, images, code) dropped, its words kept."""
    for pattern, repl in _MD_INLINE:
        text = pattern.sub(repl, text)
    return clean_block(text)

