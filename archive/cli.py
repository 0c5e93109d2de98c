"""The command line: parse, call the library, echo.

Exit codes: 0 when everything went in, 1 when some input failed (the rest
stays stored) or ``check`` found differences, 2 for usage errors, 3 when
another writer held the archive for too long.
"""

from __future__ import annotations

import functools
import json
import os
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
from click.core import ParameterSource

from .budget import ENV, parse_memory
from .errors import ArchiveError
from .home import Archive, resolve_home
from .terminal import plural as _plural
from .terminal import styled as _styled
from .terminal import terminal_safe
from .terminal import to_json as _json

__all__ = ["main", "cli", "terminal_safe"]

F = TypeVar("F", bound=Callable[..., Any])


def _edge(func: F) -> F:
    """Turn library errors into a message on stderr and the error's exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ArchiveError as exc:
            click.echo(f"error: {terminal_safe(str(exc))}", err=True)
            sys.exit(exc.exit_code)
        except BrokenPipeError:
            # The reader went away (`archive list | head`): nothing left to say to it.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(1)
        except (OSError, sqlite3.Error) as exc:
            # The home's files themselves failed (read-only, full disk, permissions):
            # one line, not a traceback.
            click.echo(f"error: {terminal_safe(str(exc))}", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


#: The clock of the summary lines (a test sets it), and the seconds before a bar shows.
_clock = time.monotonic
BAR_DELAY = 1.0


@contextmanager
def _bar(phase: str, total: int | None, unit: str) -> Iterator[Callable[[int], None]]:
    """Show one phase's progress bar on stderr once it has lasted a second (terminals only)."""
    # advance(0) redraws it (elapsed time, rate): the library does so every second while it waits.
    from tqdm import tqdm

    with tqdm(total=total, desc=f"{phase:<9}", unit=unit, unit_scale=unit == "B", unit_divisor=1024,
              file=sys.stderr, delay=BAR_DELAY, disable=None, leave=False, mininterval=0.25, dynamic_ncols=True) as bar:
        yield lambda n: bar.update(n) if n else bar.refresh()


def _seconds(start: float) -> str:
    return f"{_clock() - start:.1f} s"


def _archive(ctx: click.Context, *, create: bool = True, memory: int | None = None) -> Archive:
    """Open the archive; read-only commands pass ``create=False`` and never make a home."""
    return Archive(ctx.obj["home"], lock_wait=ctx.obj["wait"], create=create, memory=memory)


def _memory_option(func: F) -> F:
    """Add ``--memory`` (or ``$ARCHIVE_MEMORY``): the write's memory budget; a bad value is one line, exit 2."""

    def parse(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
        if value is None:
            return None
        try:
            return parse_memory(value)
        except ValueError as exc:
            named = ENV if ctx.get_parameter_source("memory") == ParameterSource.ENVIRONMENT else "--memory"
            click.echo(f"error: {named}: {terminal_safe(str(exc))}", err=True)
            ctx.exit(2)

    return click.option("--memory", envvar=ENV, callback=parse, metavar="SIZE",
                        help="Memory budget of all the write's processes (1GiB, 512M…). "
                             f"Default: ${ENV}, else 1GiB.")(func)


_HOME_HELP = "Archive home folder (store + index). Default: $ARCHIVE_HOME, else the current directory."
_WAIT_HELP = "Seconds to wait for another process that is writing to the archive."


def _set_global(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    """Let ``--home``/``--wait`` given after the subcommand override those given before it."""
    if value is None:
        return
    obj = ctx.find_object(dict)
    if obj is not None and param.name is not None:
        obj[param.name] = resolve_home(value) if param.name == "home" else value


class _Group(click.Group):
    """The command group: every subcommand also takes the global options."""

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        """Register a subcommand, giving it ``--home`` and ``--wait``."""
        if cmd.callback is not None:
            cmd.params += [
                click.Option(["--home"], type=click.Path(file_okay=False, path_type=Path), expose_value=False,
                             callback=_set_global, help=_HOME_HELP),
                click.Option(["--wait"], type=click.FloatRange(0), expose_value=False, callback=_set_global,
                             help=_WAIT_HELP)]
        super().add_command(cmd, name)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--home", type=click.Path(file_okay=False, path_type=Path), envvar="ARCHIVE_HOME",
              help=_HOME_HELP)
@click.option("--wait", type=click.FloatRange(0), default=60.0, show_default=True, help=_WAIT_HELP)
@click.pass_context
def cli(ctx: click.Context, home: Path | None, wait: float) -> None:
    """A searchable archive of French news articles."""
    ctx.obj = {"home": resolve_home(home), "wait": wait}


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--title", help="Title (single file only).")
@click.option("--date", help="Date, ISO or French: 2025-03-05, 5 mars 2025 (single file only).")
@click.option("--source", help="Source or publication (single file only).")
@click.option("--author", "authors", multiple=True, help="Author; repeat for several (single file only).")
@click.option("--tag", "tags", multiple=True, help="Tag; repeat for several (single file only).")
@click.option("--url", help="URL of the original (single file only).")
@click.option("--procs", type=click.IntRange(1, 16), default=min(2, os.cpu_count() or 1),
              show_default=True, help="Processes reading a large JSON Lines file, and building a first index.")
@click.option("--all-or-nothing", "whole", is_flag=True, help="One bad item (a JSON Lines line…) fails its whole file.")
@click.option("--follow-symlinks", is_flag=True, help="Read symbolic links that lead out of an added folder.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@_memory_option
@click.pass_context
@_edge
def add(ctx: click.Context, paths: tuple[str, ...], title: str | None, date: str | None, source: str | None,
        authors: tuple[str, ...], tags: tuple[str, ...], url: str | None, procs: int, whole: bool,
        follow_symlinks: bool, as_json: bool, memory: int | None) -> None:
    """Add articles: files (.txt .md .jsonl .html .xml .warc…), folders, globs, https:// pages, or - (stdin)."""
    overrides = {"title": title, "date": date, "source": source, "authors": list(authors),
                 "tags": list(tags), "url": url}
    if any(overrides.values()) and (len(paths) != 1 or paths[0] == "-" or Path(paths[0]).is_dir()):
        raise click.UsageError("--title/--date/--source/--author/--tag/--url apply to one file only")
    start = _clock()
    report = _archive(ctx, memory=memory).add(list(paths), overrides=overrides, progress=_bar, procs=procs,
                                              all_or_nothing=whole, follow_symlinks=follow_symlinks)
    counts = report.counts()
    if as_json:
        click.echo(_json({**counts, "articles": [{"id": i, "outcome": o} for i, o in report.outcomes],
                          "failures": [{"source": f.source, "reason": f.reason} for f in report.failures],
                          "notes": report.notes, "undated": report.undated}))
    else:
        for note in report.notes:
            click.echo(terminal_safe(f"note: {note}"), err=True)
        for failure in report.failures:
            click.echo(terminal_safe(f"failed: {failure.source}: {failure.reason}"), err=True)
            if failure.discarded:
                # One transaction per file: say that its good lines were not kept either.
                click.echo(f"  nothing from this file was stored: its {_plural(failure.discarded, 'good article')} "
                           "before the error were rolled back too; fix the line and add the file again",
                           err=True)
        click.echo("{added} added, {updated} updated, {unchanged} unchanged, {failed} failed".format(**counts)
                   + f"; {_plural(report.paragraphs, 'paragraph')} in {_seconds(start)}")
        if report.undated:
            shown = ", ".join(report.undated[:5]) + (", …" if len(report.undated) > 5 else "")
            click.echo(terminal_safe(f"note: {_plural(len(report.undated), 'article')} without a date ({shown}): "
                                     "listed by the day added, outside date filters; give one with --date"), err=True)
    sys.exit(1 if report.failures else 0)


def _interactive() -> bool:
    """Tell whether a person at a terminal runs this command (scripts are never asked)."""
    return sys.stdin.isatty() and sys.stdout.isatty()


@cli.command()
@click.argument("ids", nargs=-1, required=True)
@click.option("--purge", is_flag=True, help="Also delete every earlier version (the text is then lost).")
@click.option("--yes", "-y", is_flag=True, help="Do not ask before removing several articles.")
@click.pass_context
@_edge
def remove(ctx: click.Context, ids: tuple[str, ...], purge: bool, yes: bool) -> None:
    """Remove articles by id (all or none); their history stays readable unless --purge."""
    ids = tuple(dict.fromkeys(ids))
    if len(ids) > 1 and not yes and _interactive():
        what = "Purge" if purge else "Remove"
        kept = "their whole history is deleted" if purge else "their history is kept"
        if not click.confirm(f"{what} {len(ids)} articles ({kept})? Pass --yes to skip this question"):
            click.echo("nothing removed", err=True)
            sys.exit(1)
    removed = _archive(ctx).remove(ids, purge=purge)
    click.echo(f"{len(removed)} {'purged' if purge else 'removed'}")


@cli.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON Lines (id, date, title).")
@click.pass_context
@_edge
def list_(ctx: click.Context, as_json: bool) -> None:
    """List articles: id, date, title, newest first."""
    rows = sorted(_archive(ctx, create=False).store.rows(), key=lambda r: (r.date or "", r.id), reverse=True)
    for r in rows:
        if as_json:
            click.echo(_json({"id": r.id, "date": r.date, "title": r.title}))
        else:
            click.echo(f"{r.id}\t{r.date or '----------'}\t{terminal_safe(r.title)}")


@cli.command()
@click.argument("article_id")
@click.option("--revision", type=click.IntRange(1), help="Show this earlier version (see `history`).")
@click.option("--json", "as_json", is_flag=True, help="Print the article as stored (JSON).")
@click.pass_context
@_edge
def show(ctx: click.Context, article_id: str, revision: int | None, as_json: bool) -> None:
    """Show one article (or one of its versions)."""
    from .engines import engine_for

    engine = engine_for(_archive(ctx, create=False))
    article = engine.article(article_id) if revision is None else engine.revision(article_id, revision)
    if as_json:
        click.echo(_json(article.to_record(), indent=2))
        return
    click.echo(click.style(terminal_safe(article.title), bold=True))
    meta = [article.date.isoformat() if article.date else None, article.source,
            ", ".join(article.authors) or None, ", ".join(article.tags) or None, article.url]
    click.echo(terminal_safe(" · ".join(m for m in meta if m)))
    for block in article.blocks:
        click.echo()
        text = terminal_safe(block.text)
        click.echo(click.style(text, bold=True) if block.heading else text)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@_edge
def stats(ctx: click.Context, as_json: bool) -> None:
    """Show counts: articles, paragraphs, date range, sources, index state."""
    archive = _archive(ctx, create=False)
    data = archive.store.stats()
    data["index"] = "ready" if archive.index_dir.exists() else "missing"
    data["pending"] = len(archive.store.pending())
    if as_json:
        click.echo(_json(data))
        return
    click.echo(f"articles:   {data['articles']}")
    click.echo(f"paragraphs: {data['blocks']}")
    click.echo(f"dates:      {data['first_date'] or '?'} .. {data['last_date'] or '?'}")
    click.echo(f"index:      {data['index']} ({data['pending']} pending)")
    for source, count in data["sources"].items():
        click.echo(f"  {count:>7}  {terminal_safe(source or '(no source)')}")


@cli.command()
@click.option("--procs", type=click.IntRange(1, 16), default=min(2, os.cpu_count() or 1),
              show_default=True, help="Indexing processes.")
@click.option("--engine", type=click.Choice(["whoosh", "opensearch"]),
              help="Move the archive to this engine (its config is written once the new index is complete).")
@click.option("--hosts", help="With --engine opensearch: the cluster's URLs, comma-separated.")
@click.option("--index", "index_alias", default="", help="With --engine opensearch: the index alias to use.")
@_memory_option
@click.pass_context
@_edge
def rebuild(ctx: click.Context, procs: int, engine: str | None, hosts: str | None, index_alias: str,
            memory: int | None) -> None:
    """Rebuild the search index from the store (the live index answers until the new one is ready)."""
    start = _clock()
    archive = _archive(ctx, memory=memory)
    blocks = archive.rebuild(procs=procs, progress=_bar, engine=engine, index=index_alias,
                             hosts=[h.strip() for h in (hosts or "").split(",") if h.strip()])
    click.echo(f"index rebuilt: {_plural(len(archive.store), 'article')}, {_plural(blocks, 'paragraph')}"
               f" in {_seconds(start)}")


@cli.command()
@click.option("--repair", is_flag=True, help="Re-index what differs; rebuild a damaged index.")
@click.option("--procs", type=click.IntRange(1, 16), default=min(2, os.cpu_count() or 1),
              show_default=True, help="Indexing processes, when the repair rebuilds.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_memory_option
@click.pass_context
@_edge
def check(ctx: click.Context, repair: bool, procs: int, as_json: bool, memory: int | None) -> None:
    """Verify the index's files and compare it with the store (exit 1 on any problem not repaired)."""
    # Only a repair may write, and so make a home.
    report = _archive(ctx, create=repair, memory=memory).check(repair=repair, procs=procs, progress=_bar)
    if as_json:
        click.echo(json.dumps(report.to_dict()))
    else:
        if report.ok:
            click.echo("store and index agree")
        for name in ("missing", "extra", "stale"):
            ids = getattr(report, name)
            if ids:
                click.echo(f"{name}: {len(ids)} ({', '.join(ids[:10])}{' …' if len(ids) > 10 else ''})")
        for line in report.damage:
            click.echo(f"damaged: {line}")
        if report.repaired:
            click.echo("repaired")
    sys.exit(0 if report.ok or report.repaired else 1)


_FROM_HELP = "From this year, month or day: 2019, 2019-12, 05/12/2019 (day first), '5 décembre 2019'."
_TO_HELP = "To this year, month or day (the same forms as --from)."


def _filters(func: F) -> F:
    """Add the search filters (--source, --author, --tag, --from, --to) to a command."""
    for option in reversed([
            click.option("--source", "sources", multiple=True, help="Only this source (repeatable, ORed)."),
            click.option("--author", "authors", multiple=True, help="Only this author (repeatable, ORed)."),
            click.option("--tag", "tags", multiple=True, help="Only this tag (repeatable, ORed)."),
            click.option("--from", "date_from", help=_FROM_HELP),
            click.option("--to", "date_to", help=_TO_HELP)]):
        func = option(func)
    return func


@cli.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of stdout.")
@click.option("--query", "-q", default=None, help="Export only the articles matching this query.")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv", "csv-excel", "iramuteq"]),
              default="jsonl", show_default=True, help="Output format.")
@click.option("--sort", default="-date", show_default=True, help="Order: relevance, -date or date.")
@click.option("--with-history", is_flag=True,
              help="Include every earlier version (`add` reads it back); whole archive as JSON Lines only.")
@_filters
@click.pass_context
@_edge
def export(ctx: click.Context, output: Path | None, query: str | None, fmt: str, sort: str,
           with_history: bool, sources: tuple[str, ...], authors: tuple[str, ...], tags: tuple[str, ...],
           date_from: str | None, date_to: str | None) -> None:
    """Export articles: every one as JSON Lines (the format `add` reads), or a search's in a research format."""
    archive = _archive(ctx, create=False)
    whole = query is None and fmt == "jsonl" and not (sources or authors or tags or date_from or date_to)
    if with_history and not whole:
        # A search's export is a research extract; history round-trips only with the whole archive.
        raise click.UsageError("--with-history exports the whole archive as JSON Lines: "
                               "drop --query, --format and the filters")

    def write(out: Any) -> int:
        if whole:
            return archive.export(out, with_history=with_history)
        from .engines import engine_for
        from .research import export as research_export
        from .search import SearchRequest

        request = SearchRequest.build(query or "", source=sources, author=authors, tag=tags,
                                      date_from=date_from, date_to=date_to, sort=sort)
        return research_export(engine_for(archive), request, fmt, out)

    if output is None:
        write(sys.stdout)
        return
    tmp = output.with_name(output.name + ".partial")
    # newline="": the CSV writer chooses its own line ends (CRLF for csv-excel).
    with tmp.open("w", encoding="utf-8", newline="") as f:
        count = write(f)
    tmp.replace(output)
    click.echo(f"{_plural(count, 'article')} written to {output}", err=True)


@cli.command()
@click.argument("dest", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
@_edge
def backup(ctx: click.Context, dest: Path) -> None:
    """Copy the store consistently to DEST, even while the server runs."""
    _archive(ctx, create=False).store.backup(dest)
    click.echo(f"store backed up to {dest}")


class _SearchCommand(click.Command):
    """The search command: a query word starting with ``-`` gets a hint instead of a bare usage error."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Parse the arguments, pointing at ``--`` when a query word looks like an option."""
        given = list(args)  # (the parser consumes the list)
        try:
            return super().parse_args(ctx, args)
        except click.NoSuchOption as exc:
            word = next((a for a in given if a.startswith(exc.option_name)), exc.option_name)
            raise click.UsageError(
                f"{exc.format_message().rstrip('.')}. To search for a word starting with '-', put '--' before "
                f"the query: archive search -- {word}", ctx) from None


@cli.command(name="search", cls=_SearchCommand)
@click.argument("query", nargs=-1)
@click.option("--source", "sources", multiple=True, help="Only this source (repeatable, ORed).")
@click.option("--author", "authors", multiple=True, help="Only this author (repeatable, ORed).")
@click.option("--tag", "tags", multiple=True, help="Only this tag (repeatable, ORed).")
@click.option("--from", "date_from", help=_FROM_HELP)
@click.option("--to", "date_to", help=_TO_HELP)
@click.option("--sort", default="relevance", show_default=True,
              help="Order of the articles: relevance, -date (newest first) or date.")
@click.option("--page", default="1", show_default=True, help="Page number.")
@click.option("--per-page", default="10", show_default=True, help="Articles per page (1-100).")
@click.option("--explain", is_flag=True, help="Say how each piece of the query was read.")
@click.option("--show-copies", is_flag=True, help="List wire copies as hits of their own (default: under the best).")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON contract.")
@click.pass_context
@_edge
def search_cmd(ctx: click.Context, query: tuple[str, ...], sources: tuple[str, ...],
               authors: tuple[str, ...], tags: tuple[str, ...], date_from: str | None,
               date_to: str | None, sort: str, page: str, per_page: str, explain: bool,
               show_copies: bool, as_json: bool) -> None:
    """Search the archive (words ANDed, OR, -word, "phrases", title: author: tag: date:)."""
    from .engines import engine_for
    from .search import SearchRequest

    # The request validates every option, with the same messages as the web UI.
    request = SearchRequest.build(" ".join(query), source=sources, author=authors, tag=tags,
                                  date_from=date_from, date_to=date_to, sort=sort, page=page,
                                  per_page=per_page, show_copies=show_copies)
    engine = engine_for(_archive(ctx, create=False))
    results = engine.search(request)
    if results.total_articles < 3 and results.suggestion is None and request.parsed.root is not None:
        # A one-shot command pays for the spelling vocabulary only when it may suggest.
        engine.warm(postings=False)
        results = engine.search(request)
    if as_json:
        click.echo(_json(results.to_dict()))
        return
    color = sys.stdout.isatty()
    if explain:
        for reading in results.explain:
            terms = ", ".join(reading.terms) if reading.terms else "-"
            click.echo(f"{reading.text}\t{reading.role}\t{terms}")
        click.echo()
    grouped = (f" ({_plural(results.publications, 'publication')}, wire copies grouped)"
               if results.publications > results.total_articles else "")
    click.echo(f"{_plural(results.total_articles, 'article')}{grouped} · "
               f"{_plural(results.total_paragraphs, 'paragraph')} (page {results.page}/{results.pages})")
    if results.suggestion:
        click.echo(f"did you mean: {terminal_safe(results.suggestion)}")
    for hit in results.hits:
        click.echo()
        title = terminal_safe(hit.title)
        click.echo(click.style(title, bold=True) if color else title)
        meta = [hit.date.isoformat() if hit.date else None, hit.source, hit.author, hit.id]
        click.echo("  " + terminal_safe(" · ".join(m for m in meta if m)))
        for p in hit.paragraphs:
            text = _styled(p.text, p.spans, color)
            click.echo(f"  ¶{p.n + 1}: " + ("…" if p.clipped_start else "") + text
                       + ("…" if p.clipped_end else ""))
        if hit.more_paragraphs:
            click.echo(f"  + {_plural(hit.more_paragraphs, 'more paragraph')}")
        if hit.copies:
            copies = ", ".join(f"{c.source or c.title} ({c.id})" for c in hit.copies)
            click.echo(terminal_safe(f"  + {_plural(len(hit.copies), 'copy', 'copies')}: {copies}"))
    for name, values in results.facets.items():
        if values:
            click.echo()
            click.echo(f"{name}: " + terminal_safe(", ".join(f"{v.value} ({v.count})" for v in values[:10])))


# The history, copy, research and serve commands live in their own modules; importing
# them registers them.
from . import cli_feeds, cli_replica, cli_research, cli_serve, cli_versions  # noqa: E402,F401


def main() -> None:
    """Run the command line."""
    cli(prog_name="archive")


if __name__ == "__main__":
    # `python -m archive.cli` runs this file as __main__, a second copy of the module: the
    # commands of cli_replica, cli_research, cli_serve… registered on archive.cli's group.
    from archive.cli import main as _main

    _main()
