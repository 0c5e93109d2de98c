"""The ceiling of one machine: import, sizes, memory and latency at N times the corpus.

    .venv/bin/python bench/scale.py --times 1,2,4,8,16,32 [--reps 5] [--workdir DIR] [--json OUT]
                                    [--issue-json bench/scale.json] [--max-import-minutes 60] [--keep]
                                    [--no-queries] [--memory 1GiB] [--limit-mb 2048 [--limit-at 32]]
    .venv/bin/python bench/scale.py --times 1,2,4,8,16,32 --serve DIR [--json OUT] [--issue-json OUT]
    .venv/bin/python bench/scale.py --table OUT     # the tables of an earlier run

For each N, a synthetic archive of N copies of ../shared/corpus/news-fr.jsonl is written
as JSON Lines into a temporary folder (never in the project). Copy k (k = 0 … N-1) keeps
every text as it is, so that term statistics grow as in a bigger archive of the same
paper; its ids get the suffix ``-x<k>`` and its dates move k × 10 years back (the corpus
spans 2011–2020; 29 February becomes the 28th where needed). Then:

* **import**: `archive add FILE` into a fresh home, in a child process: wall and CPU
  seconds (os.wait4), the peak RSS of its largest process (what the peer harness
  reports) and of its whole process tree, overall and per phase (store, build, merge:
  sampled every 0.25 s by a sampler process of its own, see :func:`sample`), the
  paragraphs, index and store sizes;
* **serving**: the peer harness's query mix in a fresh child (bench/querymix.py): p50,
  p95, the first query (index opened cold), RSS after the queries and after `warm()`.

Import now and measure later: ``--keep --workdir DIR --no-queries`` leaves ``DIR/home-xN``
and its import figures ``DIR/import-xN.json``; ``--serve DIR`` imports nothing and measures
serving on those homes (when the machine is quiet), writing the whole rows. ``--issue-json``
writes issue 25's fields only (``bench/scale.json``: times, articles, paragraphs, import_s,
import_cpu_s, import_peak_mb, index_mb, store_mb, serving_rss_mb, first_query_ms, p50_ms,
p95_ms). ``--limit-mb`` runs the imports (those of ``--limit-at`` only, if given) in a
memory cgroup of that size created under this process's own (root; cgroup v1:
``memory.limit_in_bytes`` and ``memory.memsw.limit_in_bytes``, v2: ``memory.max`` and
``memory.swap.max`` 0); the row records the cgroup's files, its peak (page cache
included), failcnt and oom_kill. ``--drop-caches`` empties the page cache (root) before
each size's serving is measured: its first query then reads every file from the disk.

The texts are identical between copies, so the wire-copy detector groups the N copies
of each article as copies of one another (search collapses them into one hit): every
article joins a cluster of N, and every result page lists copies.

Before each size the script checks that the memory available now (MemAvailable, less a
2 GiB margin for the machine's other users) holds 1.5 × the import's budget (``--memory``,
else ``$ARCHIVE_MEMORY``, else 1 GiB: the budget bounds the import whatever the size) and
that the free disk holds the size's disk use (linear from the smaller sizes), and stops,
saying why, when not. An import running longer than --max-import-minutes is stopped and
reported. The table and the growth per doubling (each figure divided by the same figure
at half the size) are printed as Markdown.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from querymix import PEERS, measure_in_child  # noqa: E402

from archive.budget import Budget, parse_memory  # noqa: E402
from archive.home import Archive  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "news-fr.jsonl"
YEARS_PER_COPY = 10
MARGIN_MB = 2048


def shifted(date: str | None, years: int) -> str | None:
    """Return an ISO date (``YYYY-MM-DD…``) moved back by whole years."""
    if not date:
        return date
    day = dt.date.fromisoformat(date[:10])
    try:
        moved = day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year without one
        moved = day.replace(year=day.year - years, day=28)
    return moved.isoformat() + date[10:]


def write_synthetic(corpus: Path, times: int, out: Path) -> int:
    """Write ``times`` copies of the corpus to ``out`` (new ids, shifted dates); return the articles."""
    count = 0
    with corpus.open(encoding="utf-8") as src, out.open("w", encoding="utf-8") as dst:
        records = [json.loads(line) for line in src if line.strip()]
        for k in range(times):
            for rec in records:
                copy = dict(rec)
                if k:
                    copy["id"] = f"{rec['id']}-x{k}"
                    copy["date"] = shifted(rec.get("date"), k * YEARS_PER_COPY)
                dst.write(json.dumps(copy, ensure_ascii=False) + "\n")
                count += 1
    return count


def meminfo_mb(field: str) -> float:
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def tree_rss_mb(root: int) -> float:
    """Return the summed RSS of a process and all its descendants, in MB."""
    return sum(tree_rss_by_pid(root).values()) / 1024


def tree_rss_by_pid(root: int) -> dict[int, int]:
    """Return the RSS of a process and of each of its descendants, in KiB."""
    sizes = {}
    for pid in tree_pids(root):
        try:
            with open(f"/proc/{pid}/status") as f:
                sizes[pid] = next((int(line.split()[1]) for line in f if line.startswith("VmRSS:")), 0)
        except OSError:
            continue
    return sizes


def phase_of(home: Path) -> str:
    """Return the phase of a fresh home's import from its files: store, build (index folder made), merge (built)."""
    folders = [g for g in (home / "index").glob("g*") if g.is_dir()]
    if not folders:
        return "store"
    # The build commits its segments as the index's first table of contents after the empty one.
    built = any(int(toc.stem.rpartition("_")[2]) >= 1 for g in folders for toc in g.glob("_MAIN_*.toc")
                if toc.stem.rpartition("_")[2].isdigit())
    return "merge" if built else "build"


def tree_cpu_s(root: int) -> float:
    """Return the CPU seconds of a process (its reaped children included) and of its live descendants."""
    total, tick = 0.0, os.sysconf("SC_CLK_TCK")
    for pid in tree_pids(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        # utime, stime (fields 14, 15), and for the root cutime, cstime (16, 17): reaped workers.
        total += sum(int(x) for x in fields[11:15 if pid == root else 13]) / tick
    return total


def tree_pids(root: int) -> set[int]:
    """Return a process and all its descendants."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parents[int(entry)] = int(stat.rpartition(")")[2].split()[1])
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [p for p, pp in parents.items() if pp == parent and p not in tree]
        tree.update(children)
        frontier.extend(children)
    return tree


def sample(pid: int, home: Path, out: Path, every: float = 0.25) -> None:
    """Sample an import's process tree until it exits: the peak RSS of all its processes per phase, into ``out``.

    Run as a process of its own session (``--sample``), like the import: when the bench's
    parent is killed with its process group (its shell's job ended: the 32x run of
    2026-12-06 lost its parent and its sampler at 05:39 while the import, in its own
    session, went on), the sampler goes on and its file holds every phase. The file is
    rewritten (atomically) at each new phase and every few seconds.
    """
    state: dict[str, Any] = {"pid": pid, "peak_tree_rss_mb": 0, "phases": {}, "cpu_s_sampled": 0.0, "done": False}
    last_write = 0.0
    while True:
        alive = Path(f"/proc/{pid}").exists() and "zombie" not in _status(pid)
        if not alive:
            break
        sizes = tree_rss_by_pid(pid)
        rss_mb = round(sum(sizes.values()) / 1024)
        # Phases only advance: the merge's folder (thousands of files) is not listed again.
        phase = "merge" if "merge" in state["phases"] else phase_of(home)
        row = state["phases"].setdefault(phase, {"peak_tree_rss_mb": 0, "started": time.time(), "samples": 0})
        if rss_mb > row["peak_tree_rss_mb"]:
            # Who held what at the phase's peak: the import's own process first, then its workers.
            row["peak_processes_mb"] = [round(sizes.get(pid, 0) / 1024),
                                        *sorted((round(v / 1024) for p, v in sizes.items() if p != pid), reverse=True)]
        row["peak_tree_rss_mb"] = max(row["peak_tree_rss_mb"], rss_mb)
        row["samples"] += 1
        row["ended"] = time.time()
        state["peak_tree_rss_mb"] = max(state["peak_tree_rss_mb"], rss_mb)
        state["cpu_s_sampled"] = max(state["cpu_s_sampled"], round(tree_cpu_s(pid), 1))
        if row["samples"] == 1 or time.time() - last_write > 5:
            _write_json(out, state)
            last_write = time.time()
        time.sleep(every)
    state["done"] = True
    _write_json(out, state)


def _status(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().lower()
    except OSError:
        return "zombie"


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def limited_cgroup(limit_mb: int) -> Path:
    """Create a memory cgroup under this process's own, limited to ``limit_mb`` (v2 ``memory.max`` or v1)."""
    lines = Path("/proc/self/cgroup").read_text().splitlines()
    v2 = next((line.split(":", 2)[2] for line in lines if line.startswith("0::")), None)
    v1 = next((line.split(":", 2)[2] for line in lines if ":memory:" in line), None)
    if v1 is not None and Path("/sys/fs/cgroup/memory").is_dir():
        group = Path("/sys/fs/cgroup/memory") / v1.lstrip("/") / f"archive-bench-{os.getpid()}"
        group.mkdir()
        (group / "memory.limit_in_bytes").write_text(str(limit_mb << 20))
        with contextlib.suppress(OSError):  # no swap accounting: then swap is not limited
            (group / "memory.memsw.limit_in_bytes").write_text(str(limit_mb << 20))
        return group
    group = Path("/sys/fs/cgroup") / (v2 or "/").lstrip("/") / f"archive-bench-{os.getpid()}"
    group.mkdir()
    (group / "memory.max").write_text(str(limit_mb << 20))
    with contextlib.suppress(OSError):
        (group / "memory.swap.max").write_text("0")
    return group


def cgroup_how(group: Path) -> dict[str, Any]:
    """Return how a cgroup limited its processes (files and values) and whether the kernel had to act."""
    how: dict[str, Any] = {"cgroup": str(group)}
    for name in ("memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "memory.max", "memory.swap.max",
                 "memory.failcnt", "memory.memsw.failcnt", "memory.memsw.max_usage_in_bytes"):
        if (group / name).exists():
            how[name] = (group / name).read_text().strip()
    for name in ("memory.oom_control", "memory.events"):
        if (group / name).exists():
            fields = dict(line.split() for line in (group / name).read_text().splitlines() if line.strip())
            how["oom_kill"] = int(fields.get("oom_kill", 0))
    return how


def cgroup_peak_mb(group: Path) -> float:
    """Return a cgroup's peak memory (page cache included), in MB."""
    for name in ("memory.max_usage_in_bytes", "memory.peak"):
        if (group / name).exists():
            return round(int((group / name).read_text()) / 2**20)
    return float("nan")


def import_home(jsonl: Path, home: Path, max_minutes: float, procs: int | None,
                limit_mb: int | None = None, memory: str | None = None) -> dict[str, Any]:
    """Run `archive add` of the file into a fresh home; return time, CPU and peak memory, or why it stopped.

    With ``limit_mb``, the import runs in a new memory cgroup limited to that (the kernel
    kills it beyond); its peak as the cgroup counts it (page cache included) is reported too.
    """
    args = [sys.executable, "-m", "archive.cli", "--home", str(home), "add", str(jsonl)]
    if procs:
        args += ["--procs", str(procs)]
    if memory:
        args += ["--memory", memory]
    group = limited_cgroup(limit_mb) if limit_mb else None
    if group is not None:
        # The shell enters the cgroup, then becomes the import: every process it starts is inside.
        args = ["sh", "-c", f'echo $$ > {group / "cgroup.procs"} && exec "$@"', "sh", *args]
    t = time.perf_counter()
    # The import's messages go to a file, not a pipe: a pipe would break with this process.
    errfile = home.parent / f"{home.name}.stderr"
    with errfile.open("wb") as err_out:
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=err_out, start_new_session=True)
    samples = home.parent / f"{home.name}.samples.json"
    sampler = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--sample", str(proc.pid),
                                "--sample-home", str(home), "--sample-out", str(samples)],
                               stdout=subprocess.DEVNULL, start_new_session=True)

    def stop() -> None:
        os.killpg(proc.pid, signal.SIGTERM)

    timer = threading.Timer(max_minutes * 60, stop)
    timer.daemon = True
    timer.start()
    _, status, usage = os.wait4(proc.pid, 0)
    timer.cancel()
    sampler.wait()
    sampled = json.loads(samples.read_text(encoding="utf-8")) if samples.exists() else {}
    peak = [float(sampled.get("peak_tree_rss_mb", 0))]
    wall = time.perf_counter() - t
    err = errfile.read_text(encoding="utf-8", errors="replace")
    limited: dict[str, Any] = {}
    if group is not None:
        limited = {"limit_mb": limit_mb, "cgroup_peak_mb": cgroup_peak_mb(group), **cgroup_how(group)}
        group.rmdir()
    if status:
        why = (f"stopped after {max_minutes:g} min" if wall > max_minutes * 60
               else f"`archive add` failed (status {status}): {err.strip()[-300:]}")
        return {"stopped": why, **limited}
    return {"import_wall_s": round(wall, 1), "import_cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
            "import_peak_rss_mb": round(usage.ru_maxrss / 1024), "import_peak_tree_rss_mb": round(peak[0]),
            "import_phases": {name: {"peak_tree_rss_mb": p["peak_tree_rss_mb"],
                                     "wall_s": round(p["ended"] - p["started"], 1), "samples": p["samples"],
                                     "peak_processes_mb": p.get("peak_processes_mb", [])}
                              for name, p in sampled.get("phases", {}).items()},
            "import_budget_mb": round(budget_mb(memory)), **limited}


def budget_mb(memory: str | None) -> float:
    """Return the import's memory budget in MB: ``--memory``, else ``$ARCHIVE_MEMORY``, else the default."""
    return Budget.from_env(parse_memory(memory) if memory else None).total / 2**20


def dir_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def predict(rows: list[dict[str, Any]], key: str, times: int, guess: float) -> float:
    """Predict a figure at ``times`` copies, linearly from the measured rows (a line through the last two)."""
    done = [(r["times"], r[key]) for r in rows if key in r]
    if not done:
        return guess * times
    if len(done) == 1:
        return done[0][1] / done[0][0] * times
    (x0, y0), (x1, y1) = done[-2], done[-1]
    slope = (y1 - y0) / (x1 - x0)
    return y1 + slope * (times - x1)


def home_sizes(home: Path) -> dict[str, Any]:
    """Return the paragraphs (blocks), index and store sizes of an imported home."""
    return {"blocks": Archive(home).store.stats()["blocks"], "index_mb": round(dir_mb(home / "index"), 1),
            "store_mb": round(sum(p.stat().st_size for p in home.glob("archive.sqlite3*")) / 2**20, 1)}


def serve(home: Path, row: dict[str, Any], a: argparse.Namespace) -> None:
    """Measure serving on an imported home into its row: first query, p50/p95, serving RSS."""
    row["load_before_queries"] = [round(x, 2) for x in os.getloadavg()]
    if a.drop_caches:  # the first query then reads every file it needs from the disk
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("1\n")
        row["page_cache_dropped"] = True
    print(f"x{row['times']}: querying {home}", file=sys.stderr, flush=True)
    row.update(measure_in_child(home, a.reps, a.peers))
    row["load_after"] = [round(x, 2) for x in os.getloadavg()]


def measure(times: int, workdir: Path, rows: list[dict[str, Any]], a: argparse.Namespace) -> dict[str, Any]:
    """Build and measure the archive of ``times`` copies; return its row (with ``stopped`` if it could not)."""
    row: dict[str, Any] = {"times": times}
    # The import's memory is bounded by its budget, whatever the size: predict from the budget
    # (the all-process peak may pass it by half, the issue's ceiling), not from smaller sizes.
    need_mem = budget_mb(a.memory) * 1.5
    available = meminfo_mb("MemAvailable")
    if need_mem > available - MARGIN_MB:
        row["stopped"] = (f"not run: the import may hold about {need_mem:,.0f} MB at its peak (1.5 × its budget), "
                          f"{available:,.0f} MB are available now, less {MARGIN_MB} MB for others")
        return row
    need_disk = predict(rows, "disk_mb", times, 350)
    free = shutil.disk_usage(workdir).free / 2**20
    if need_disk > free - 1024:
        row["stopped"] = f"not run: about {need_disk:,.0f} MB of disk needed, {free:,.0f} MB free in {workdir}"
        return row
    jsonl, home = workdir / f"corpus-x{times}.jsonl", workdir / f"home-x{times}"
    if home.exists():
        row["stopped"] = f"not run: {home} exists (an earlier run's home: measure it with --serve, or remove it)"
        return row
    row["articles"] = write_synthetic(a.corpus, times, jsonl)
    row["load_before"] = [round(x, 2) for x in os.getloadavg()]
    row["started"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    print(f"x{times}: importing {row['articles']:,} articles (load {row['load_before']})", file=sys.stderr, flush=True)
    limit = a.limit_mb if a.limit_at is None or times in a.limit_at else None
    row.update(import_home(jsonl, home, a.max_import_minutes, a.procs, limit, a.memory))
    row["load_after_import"] = [round(x, 2) for x in os.getloadavg()]
    if "stopped" not in row:
        row.update(home_sizes(home))
        row["disk_mb"] = round(row["index_mb"] + row["store_mb"] + jsonl.stat().st_size / 2**20, 1)
        print(f"x{times}: imported in {row['import_wall_s']} s", file=sys.stderr, flush=True)
        if not a.no_queries:
            serve(home, row, a)
    jsonl.unlink()
    if a.keep:  # the import's figures beside the home, for a later --serve
        (workdir / f"import-x{times}.json").write_text(json.dumps(row, indent=1), encoding="utf-8")
    else:
        shutil.rmtree(home, ignore_errors=True)
    return with_issue_names(row)


def with_issue_names(row: dict[str, Any]) -> dict[str, Any]:
    """Return the row with issue 25's names added beside the historic ones."""
    for name, key in ISSUE_FIELDS.items():
        if key in row:
            row[name] = row[key]
    return row


def serve_kept(workdir: Path, sizes: list[int], a: argparse.Namespace) -> list[dict[str, Any]]:
    """Measure serving on the homes an earlier ``--keep`` run left in ``workdir``; return the rows."""
    rows = []
    for times in sizes:
        home, saved = workdir / f"home-x{times}", workdir / f"import-x{times}.json"
        if not saved.exists():
            rows.append({"times": times, "stopped": f"no {saved} (import it first with --keep --workdir)"})
            continue
        row = json.loads(saved.read_text(encoding="utf-8"))
        if isinstance(row, list):  # the --json file of an import run: its row of this size
            row = next(r for r in row if r.get("times") == times)
        if "stopped" not in row:
            for key in ("p50_ms", "p95_ms", "first_ms", "rss_after_queries_mb", "unseen_p95_ms"):  # an earlier one's
                row.pop(key, None)
            serve(home, row, a)
        rows.append(with_issue_names(row))
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    return rows


#: bench/scale.json's fields (issue 25), in order.
ISSUE_JSON = ["times", "articles", "paragraphs", "import_s", "import_cpu_s", "import_peak_mb", "index_mb",
              "store_mb", "serving_rss_mb", "first_query_ms", "p50_ms", "p95_ms"]


def issue_json(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the rows with exactly issue 25's fields (sizes that did not complete left out)."""
    return [{k: r.get(k) for k in ISSUE_JSON} for r in rows if "stopped" not in r]


COLUMNS = [("times", "N", "{}"), ("articles", "articles", "{:,}"), ("blocks", "blocks", "{:,}"),
           ("import_wall_s", "import s", "{:.0f}"), ("import_cpu_s", "import CPU s", "{:.0f}"),
           ("import_peak_rss_mb", "import peak RSS MB (largest process)", "{:,}"),
           ("import_peak_tree_rss_mb", "import peak RSS MB (all processes)", "{:,}"),
           ("index_mb", "index MB", "{:,.0f}"), ("store_mb", "store MB", "{:,.0f}"),
           ("rss_after_queries_mb", "serving RSS MB", "{:,}"), ("rss_after_warm_mb", "after warm() MB", "{:,}"),
           ("first_ms", "first query ms", "{:,.0f}"), ("p50_ms", "p50 ms", "{:.1f}"), ("p95_ms", "p95 ms", "{:.1f}"),
           ("cpu_p50_ms", "CPU p50 ms", "{:.1f}"), ("cpu_p95_ms", "CPU p95 ms", "{:.1f}"),
           ("unseen_p95_ms", "p95 ms, each query new", "{:.1f}")]


#: The issue's field names (bench/scale.json) → this script's.
ISSUE_FIELDS = {"paragraphs": "blocks", "import_s": "import_wall_s", "import_peak_mb": "import_peak_tree_rss_mb",
                "serving_rss_mb": "rss_after_queries_mb", "first_query_ms": "first_ms"}


def markdown(rows: list[dict[str, Any]]) -> str:
    """Return the results table and the growth per doubling, as Markdown."""
    lines = ["| " + " | ".join(title for _, title, _ in COLUMNS) + " |",
             "|" + "---:|" * len(COLUMNS)]
    for r in rows:
        if "stopped" in r:
            lines.append(f"| {r['times']} | {r['stopped']} |" + " |" * (len(COLUMNS) - 2))
            continue
        lines.append("| " + " | ".join(fmt.format(r[key]) if key in r else "-" for key, _, fmt in COLUMNS) + " |")
    by_times = {r["times"]: r for r in rows if "stopped" not in r}
    growth = [(n, by_times[n // 2], r) for n, r in by_times.items() if n % 2 == 0 and n // 2 in by_times]
    if growth:
        lines += ["", "Growth per doubling (figure at N / figure at N/2):", "",
                  "| N/2 → N | " + " | ".join(title for _, title, _ in COLUMNS[3:]) + " |",
                  "|---|" + "---:|" * (len(COLUMNS) - 3)]
        for n, half, full in growth:
            ratios = [f"{full[k] / half[k]:.2f}×" if half.get(k) else "-" for k, _, _ in COLUMNS[3:]]
            lines.append(f"| {n // 2} → {n} | " + " | ".join(ratios) + " |")
    loads = [f"x{r['times']}: {r.get('load_before')} → {r.get('load_after')}" for r in rows if "load_before" in r]
    if loads:
        lines += ["", "Load average (1, 5, 15 min) before → after each size: " + "; ".join(loads) + "."]
    return "\n".join(lines)


def run(sizes: list[int], a: argparse.Namespace) -> list[dict[str, Any]]:
    """Import (and unless --no-queries measure) each size in turn; return the rows."""
    rows: list[dict[str, Any]] = []
    if a.keep and a.workdir:  # homes kept where the caller said, for a later --serve
        tmp = a.workdir
        tmp.mkdir(parents=True, exist_ok=True)
    else:
        tmp = Path(tempfile.mkdtemp(prefix="scale-", dir=a.workdir))
    try:
        for times in sizes:
            rows.append(measure(times, tmp, rows, a))
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
            if a.json:
                a.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")
            if "stopped" in rows[-1]:
                print(f"x{times}: {rows[-1]['stopped']}; larger sizes not tried", file=sys.stderr)
                break
    finally:
        if a.keep:
            print(f"homes kept in {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--times", default="1,2,4,8", help="comma-separated copies of the corpus, smallest first")
    ap.add_argument("--reps", type=int, default=5, help="timed passes over the query mix")
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--peers", type=Path, default=PEERS, help="the peer harness's folder (its queries)")
    ap.add_argument("--workdir", type=Path, help="where synthetic files and homes go (default: a temporary folder)")
    ap.add_argument("--max-import-minutes", type=float, default=60.0)
    ap.add_argument("--procs", type=int, help="`archive add --procs` (default: the command's)")
    ap.add_argument("--keep", action="store_true", help="keep each home after measuring it")
    ap.add_argument("--limit-mb", type=int, help="run each import in a memory cgroup limited to this (root only)")
    ap.add_argument("--limit-at", type=lambda t: {int(x) for x in t.split(",")},
                    help="the sizes whose import runs in the limited cgroup (default: every size)")
    ap.add_argument("--memory", help="`archive add --memory` (default: $ARCHIVE_MEMORY, else the command's 1 GiB)")
    ap.add_argument("--no-queries", action="store_true", help="measure the import only")
    ap.add_argument("--json", type=Path, help="also write the figures here (every field)")
    ap.add_argument("--issue-json", type=Path, help="also write issue 25's fields only here (bench/scale.json)")
    ap.add_argument("--serve", type=Path, metavar="WORKDIR",
                    help="import nothing: measure serving on the homes a --keep --workdir run left there")
    ap.add_argument("--drop-caches", action="store_true",
                    help="empty the page cache before measuring each size's serving (root only): the first "
                         "query reads its files from the disk")
    ap.add_argument("--table", type=Path, help="print the tables of a --json file of an earlier run, and stop")
    ap.add_argument("--sample", type=int, metavar="PID", help=argparse.SUPPRESS)  # the sampler process
    ap.add_argument("--sample-home", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--sample-out", type=Path, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.sample:
        sample(a.sample, a.sample_home, a.sample_out)
        return
    if a.table:
        print(markdown(json.loads(a.table.read_text(encoding="utf-8"))))
        return
    sizes = sorted(int(x) for x in a.times.split(","))
    if a.serve:
        rows = serve_kept(a.serve, sizes, a)
    else:
        rows = run(sizes, a)
    if a.json:
        a.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    if a.issue_json:
        a.issue_json.write_text(json.dumps(issue_json(rows), indent=1) + "\n", encoding="utf-8")
    print(markdown(rows))


if __name__ == "__main__":
    main()
