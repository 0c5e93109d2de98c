"""Articles in: extraction speed of saved pages, a 1,000-page WARC import, and Markdown before/after.

    .venv/bin/python bench/ingest.py [--pages 1000] [--reps 3] [--json bench/ingest.json]

1. **Extraction** (one core, this process): corpus articles (``news-fr.jsonl``)
   are rendered into simple news pages (a menu, the article with its title,
   byline and date, a sidebar of links, a footer: about 6 KB each) and read by
   :func:`archive.ingest.html.page_article`; pages per CPU second (what one core
   gives, whatever else the machine runs) and the wall time, best of --reps.
2. **WARC import**: the same pages are written as a gzipped WARC (a request and
   a response record each, as wget or Heritrix write them) and added to a fresh
   archive home with ``Archive.add`` (extraction, store, copy detection, index)
   in a child process: its wall and CPU seconds, pages per CPU second, peak memory.
3. **Markdown**: the 200 articles of ``news-fr-sample.jsonl`` written as
   Markdown files (front matter, headings, emphasis) and read by the hand-written
   parser and, if markdown-it-py is installed, by a markdown-it-py version of it
   (issue 21 asked to measure both and keep the faster or equal).

The machine is shared: run it when it is quiet and read the best of the runs.
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import subprocess
import sys
import tempfile
import time
from html import escape
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archive.ingest.html import page_article  # noqa: E402
from archive.ingest.markdown import markdown_article  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus"


def render(record: dict) -> bytes:
    """Return a simple news page holding one corpus article among a site's boilerplate."""
    paragraphs = "".join(f"<p>{escape(p)}</p>" for p in record["paragraphs"])
    links = "".join(f'<li><a href="/a/{i}">Les titres du jour, épisode {i}</a></li>' for i in range(12))
    return (f'<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>{escape(record["title"])} - '
            f'Orange Actu</title><meta property="og:site_name" content="Orange Actu">'
            f'<meta name="author" content="{escape(record.get("author") or "")}">'
            f'<meta property="article:published_time" content="{record["date"]}">'
            f'<link rel="canonical" href="{escape(record["url"])}"></head><body>'
            f'<header><nav><a href="/">Accueil</a> <a href="/politique">Politique</a> <a href="/monde">Monde</a>'
            f'</nav></header><main><article><h1>{escape(record["title"])}</h1>{paragraphs}</article>'
            f'<aside><h2>À lire aussi</h2><ul>{links}</ul></aside></main>'
            f"<footer><p>© Orange. Tous droits réservés. Mentions légales. Cookies.</p></footer>"
            f"</body></html>").encode()


def records(n: int) -> list[dict]:
    """Return the first ``n`` corpus articles."""
    out = []
    with (CORPUS / "news-fr.jsonl").open(encoding="utf-8") as f:
        for line in f:
            out.append(json.loads(line))
            if len(out) == n:
                break
    return out


def extraction(pages: list[bytes], reps: int) -> dict:
    """Time the extraction of every page, best of ``reps``: CPU seconds (what one core gives) and wall seconds."""
    best_cpu = best_wall = float("inf")
    for _ in range(reps):
        cpu, wall = time.process_time(), time.perf_counter()
        for i, page in enumerate(pages):
            page_article(page, f"page {i}")
        best_cpu = min(best_cpu, time.process_time() - cpu)
        best_wall = min(best_wall, time.perf_counter() - wall)
    size = sum(len(p) for p in pages)
    return {"pages": len(pages), "mib": round(size / 2**20, 2), "cpu_seconds": round(best_cpu, 2),
            "wall_seconds": round(best_wall, 2), "pages_per_cpu_second": round(len(pages) / best_cpu, 1)}


def write_warc(path: Path, pages: list[tuple[str, bytes]]) -> None:
    """Write a gzipped WARC of one request and one response record a page."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        for url, page in pages:
            for record in (writer.create_warc_record(url, "request", payload=io.BytesIO(b"GET / HTTP/1.1\r\n\r\n")),
                           writer.create_warc_record(url, "response", payload=io.BytesIO(page),
                                                     http_headers=StatusAndHeaders(
                                                         "200 OK", [("Content-Type", "text/html; charset=utf-8")],
                                                         protocol="HTTP/1.1"))):
                writer.write_record(record)
                record.raw_stream.close()


def warc_import(warc: Path, reps: int) -> dict:
    """Add the WARC to a fresh home in a child process, ``reps`` times; the best time and its memory."""
    code = ("import sys, time, resource; sys.path.insert(0, sys.argv[3]); from archive import Archive; "
            "t = time.perf_counter(); c = time.process_time(); r = Archive(sys.argv[2]).add([sys.argv[1]]); "
            "print(time.perf_counter() - t, r.counts()['added'], r.counts()['failed'], "
            "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, time.process_time() - c)")
    best: dict = {}
    for _ in range(reps):
        with tempfile.TemporaryDirectory(prefix="bench-warc-home-") as home:
            out = subprocess.run([sys.executable, "-c", code, str(warc), home, str(ROOT)], check=True,
                                 capture_output=True, text=True).stdout.split()
        seconds, added, failed, rss, cpu = float(out[0]), int(out[1]), int(out[2]), int(out[3]), float(out[4])
        if not best or cpu < best["cpu_seconds"]:
            best = {"wall_seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2), "added": added,
                    "failed": failed, "pages_per_cpu_second": round(added / cpu, 1),
                    "peak_rss_mib": round(rss / 1024)}
    return {"warc_mib": round(warc.stat().st_size / 2**20, 2), **best}


def markdown(reps: int) -> dict:
    """Time the Markdown reader (and a markdown-it-py one, if installed) on the sample as Markdown files."""
    sample = [json.loads(line) for line in (CORPUS / "news-fr-sample.jsonl").read_text("utf-8").splitlines()]
    docs = ["---\ntitle: %s\n---\n" % json.dumps(r["title"], ensure_ascii=False) + "\n\n".join(
        ("## " if i % 5 == 4 else "") + p.replace("AFP", "**AFP**").replace(" le ", " *le* ", 1)
        for i, p in enumerate(r["paragraphs"])) + "\n" for r in sample]
    readers = {"hand-written": markdown_article}
    try:
        readers["markdown-it-py"] = _markdown_it_reader()
    except ImportError:
        pass
    out: dict = {"files": len(docs), "mib": round(sum(len(d.encode()) for d in docs) / 2**20, 2)}
    for _ in range(reps):  # alternated, so that the machine's load falls on both alike
        for name, read in readers.items():
            start = time.process_time()
            for doc in docs:
                read(doc, Path("x.md"))
            spent = time.process_time() - start
            if spent < out.get(name, {}).get("cpu_seconds", float("inf")):
                out[name] = {"cpu_seconds": round(spent, 3), "files_per_cpu_second": round(len(docs) / spent)}
    return out


def _markdown_it_reader():  # type: ignore[no-untyped-def]
    """Return the same reader with markdown-it-py parsing the body (what issue 21 proposed)."""
    from markdown_it import MarkdownIt

    from archive.ingest import markdown as md
    from archive.model import Block, clean_block

    parser = MarkdownIt("commonmark", {"html": False})

    def text_of(children) -> str:  # type: ignore[no-untyped-def]
        parts = []
        for child in children:
            if child.type in ("text", "code_inline"):
                parts.append(child.content)
            elif child.type in ("softbreak", "hardbreak"):
                parts.append(" ")
            elif child.type == "image":
                parts.append(text_of(child.children or []))
        return "".join(parts)

    def read(text: str, path: Path):  # type: ignore[no-untyped-def]
        meta = {}
        m = md._FRONT_MATTER_RE.match(text)
        if m:
            meta = md.load_yaml(m.group(1), str(path)) or {}
            text = text[m.end():]
        blocks, heading = [], False
        for token in parser.parse(text):
            if token.type in ("heading_open", "heading_close"):
                heading = token.type == "heading_open"
            elif token.type == "inline" and (block := clean_block(text_of(token.children or []))):
                blocks.append(Block(block, heading))
        return md.record_from(meta, blocks, path)

    return read


def main() -> None:
    """Run the three measures and print (and optionally write) them as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=1000, help="pages in the WARC (and extracted)")
    parser.add_argument("--reps", type=int, default=3, help="runs of each measure; the best is kept")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    chosen = records(args.pages)
    pages = [render(r) for r in chosen]
    figures = {"extraction_one_core": extraction(pages, args.reps)}
    with tempfile.TemporaryDirectory(prefix="bench-warc-") as tmp:
        warc = Path(tmp) / "crawl.warc.gz"
        write_warc(warc, [(r["url"], page) for r, page in zip(chosen, pages)])
        figures["warc_import"] = warc_import(warc, args.reps)
    figures["markdown"] = markdown(args.reps)
    figures["machine"] = {"cpus": __import__("os").cpu_count(), "load_1min": __import__("os").getloadavg()[0],
                          "max_rss_self_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
    text = json.dumps(figures, indent=2, ensure_ascii=False)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
