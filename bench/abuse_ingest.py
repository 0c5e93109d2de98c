"""Hostile files for ingest: how long each pathological 1 MB input takes to add.

    .venv/bin/python bench/abuse_ingest.py [--mib 1] [--reps 3] [--old]

Every regex that ingest runs on a file must stay linear in the file's size: a pattern
whose scan restarts from every opener (``*``, ``[``, ``(``) costs seconds per
kilobyte squared. Each case below is written to a temporary folder, then added to a
fresh archive home (store and index, as ``archive add`` does); the table shows the
seconds of the whole add and of the Markdown pass alone (inline markup, or the
heading parser for the two line cases), the best of --reps runs: the machine is
shared and noisy. The goal of issue 13 is under one second for each 1 MB file.
``--old`` also times the italics pattern used before the fix on a 60 KB sample.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archive.home import Archive  # noqa: E402
from archive.ingest.markdown import md_heading as _md_heading  # noqa: E402
from archive.ingest.markdown import md_inline as _md_inline  # noqa: E402

#: name -> (suffix, repeated unit); each unit is repeated up to the requested size.
CASES = {
    "italics  '*a '": (".md", "*a "),
    "bold     '**a '": (".md", "**a "),
    "link     '[a '": (".md", "[a "),
    "link     '[a](b '": (".md", "[a](b "),
    "image    '![a](('": (".md", "![a](("),
    "code     '`a '": (".md", "`a "),
    "mixed    '*[(`_'": (".md", "*[(`_ "),
    "heading  '# ' + spaces": (".md", None),
    "front matter never closed": (".md", "\n--- x"),
    "text     'a  ' lines": (".txt", "a \t \n"),
}
OLD_ITALICS = re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])")


def body(unit: str | None, size: int) -> str:
    """Return about ``size`` characters of the case's text."""
    if unit is None:
        return "# " + " " * (size - 4) + "x\n"
    if unit.startswith("\n---"):
        return "---\n" + unit * (size // len(unit))
    return "Titre\n\n" + unit * (size // len(unit))


def main() -> None:
    """Write each case, add it to a fresh home, print the timings."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mib", type=float, default=1.0, help="size of each file in MiB")
    parser.add_argument("--reps", type=int, default=3, help="runs per case; the best is shown")
    parser.add_argument("--old", action="store_true", help="also time the old italics pattern (60 KB)")
    args = parser.parse_args()
    size = int(args.mib * 1024 * 1024)
    print(f"{'case':<28} {'bytes':>9} {'add s':>7} {'inline s':>9}")
    with tempfile.TemporaryDirectory(prefix="abuse-ingest-") as tmp:
        # One ordinary add first: imports and the first index build are not the case's cost.
        warm = Path(tmp) / "warm.md"
        warm.write_text("Titre\n\nUn texte *ordinaire*.\n", encoding="utf-8")
        Archive(Path(tmp) / "warm").add([str(warm)])
        for i, (name, (suffix, unit)) in enumerate(CASES.items()):
            text = body(unit, size)
            path = Path(tmp) / f"case{i}{suffix}"
            path.write_text(text, encoding="utf-8")
            added = inline = float("inf")
            for rep in range(args.reps):
                archive = Archive(Path(tmp) / f"home{i}-{rep}")
                t0 = time.perf_counter()
                report = archive.add([str(path)])
                added = min(added, time.perf_counter() - t0)
                t0 = time.perf_counter()
                if unit is None or unit.startswith("\n---"):
                    _md_heading(text.strip())
                else:
                    _md_inline(text.replace("\n", " "))
                inline = min(inline, time.perf_counter() - t0)
            status = "" if not report.failures else f"  ({report.failures[0].reason})"
            print(f"{name:<28} {len(text.encode()):>9} {added:>7.2f} {inline:>9.3f}{status}")
    if args.old:
        sample = "*a " * 20000
        t0 = time.perf_counter()
        OLD_ITALICS.sub(r"\1", sample)
        print(f"old italics pattern on {len(sample)} chars: {time.perf_counter() - t0:.2f} s")


if __name__ == "__main__":
    main()
