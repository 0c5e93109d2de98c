"""The command line: parse, call the library, echo.

Exit codes: 0 when everything went in, 1 when some input failed (the rest
stays stored) or ``check`` found differences, 2 for usage errors, 3 when
another writer held the archive for too long.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

import click

from .errors import ArchiveError
from .home import Archive, resolve_home

__all__ = ["main", "cli"]

F = TypeVar("F", bound=Callable[..., Any])


def _edge(func: F) -> F:
    """Turn library errors into a message on stderr and the error's exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ArchiveError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)

    return wrapper  # type: ignore[return-value]


@contextmanager
def _bar(label: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """Show a progress bar on stderr for work that takes over a second (terminals only)."""
    from tqdm import tqdm

    with tqdm(total=total, desc=label, unit=" art", file=sys.stderr, delay=1.0,
              disable=None, leave=False, mininterval=0.5) as bar:
        yield bar.update


def _archive(ctx: click.Context) -> Archive:
    return Archive(ctx.obj["home"], lock_wait=ctx.obj["wait"])


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--home", type=click.Path(file_okay=False, path_type=Path), envvar="ARCHIVE_HOME",
              help="Archive home folder (store + index). Default: $ARCHIVE_HOME, else the current directory.")
@click.option("--wait", type=click.FloatRange(0), default=60.0, show_default=True,
              help="Seconds to wait for another process that is writing to the archive.")
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
              show_default=True, help="Processes for a first full index build.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
@_edge
def add(ctx: click.Context, paths: tuple[str, ...], title: str | None, date: str | None,
        source: str | None, authors: tuple[str, ...], tags: tuple[str, ...], url: str | None,
        procs: int, as_json: bool) -> None:
    """Add articles: files (.txt .md .json .jsonl), folders, globs, or - for JSON Lines on stdin."""
    overrides = {"title": title, "date": date, "source": source, "authors": list(authors),
                 "tags": list(tags), "url": url}
    if any(overrides.values()) and (len(paths) != 1 or paths[0] == "-" or Path(paths[0]).is_dir()):
        raise click.UsageError("--title/--date/--source/--author/--tag/--url apply to one file only")
    report = _archive(ctx).add(list(paths), overrides=overrides, progress=_bar, procs=procs)
    counts = report.counts()
    if as_json:
        click.echo(json.dumps({**counts, "articles": [{"id": i, "outcome": o} for i, o in report.outcomes],
                               "failures": [{"source": f.source, "reason": f.reason}
                                            for f in report.failures],
                               "notes": report.notes}, ensure_ascii=False))
    else:
        for note in report.notes:
            click.echo(f"note: {note}", err=True)
        for failure in report.failures:
            click.echo(f"failed: {failure.source}: {failure.reason}", err=True)
        click.echo("{added} added, {updated} updated, {unchanged} unchanged, {failed} failed".format(**counts))
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
    rows = sorted(_archive(ctx).store.rows(), key=lambda r: (r.date or "", r.id), reverse=True)
    for r in rows:
        if as_json:
            click.echo(json.dumps({"id": r.id, "date": r.date, "title": r.title}, ensure_ascii=False))
        else:
            click.echo(f"{r.id}\t{r.date or '----------'}\t{r.title}")


@cli.command()
@click.argument("article_id")
@click.option("--revision", type=click.IntRange(1), help="Show this earlier version (see `history`).")
@click.option("--json", "as_json", is_flag=True, help="Print the article as stored (JSON).")
@click.pass_context
@_edge
def show(ctx: click.Context, article_id: str, revision: int | None, as_json: bool) -> None:
    """Show one article (or one of its versions)."""
    store = _archive(ctx).store
    article = store.get(article_id) if revision is None else store.revision(article_id, revision)
    if as_json:
        click.echo(json.dumps(article.to_record(), ensure_ascii=False, indent=2))
        return
    click.echo(click.style(article.title, bold=True))
    meta = [article.date.isoformat() if article.date else None, article.source,
            ", ".join(article.authors) or None, ", ".join(article.tags) or None, article.url]
    click.echo(" · ".join(m for m in meta if m))
    for block in article.blocks:
        click.echo()
        click.echo(click.style(block.text, bold=True) if block.heading else block.text)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@_edge
def stats(ctx: click.Context, as_json: bool) -> None:
    """Show counts: articles, paragraphs, date range, sources, index state."""
    archive = _archive(ctx)
    data = archive.store.stats()
    data["index"] = "ready" if archive.index_dir.exists() else "missing"
    data["pending"] = len(archive.store.pending())
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    click.echo(f"articles:   {data['articles']}")
    click.echo(f"paragraphs: {data['blocks']}")
    click.echo(f"dates:      {data['first_date'] or '?'} .. {data['last_date'] or '?'}")
    click.echo(f"index:      {data['index']} ({data['pending']} pending)")
    for source, count in data["sources"].items():  # type: ignore[union-attr]
        click.echo(f"  {count:>7}  {source or '(no source)'}")


@cli.command()
@click.option("--procs", type=click.IntRange(1, 16), default=min(2, os.cpu_count() or 1),
              show_default=True, help="Indexing processes.")
@click.pass_context
@_edge
def rebuild(ctx: click.Context, procs: int) -> None:
    """Rebuild the search index from the store (the live index answers until the new one is ready)."""
    blocks = _archive(ctx).rebuild(procs=procs, progress=_bar)
    click.echo(f"index rebuilt: {blocks} paragraphs")


@cli.command()
@click.option("--repair", is_flag=True, help="Re-index the articles that differ.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@_edge
def check(ctx: click.Context, repair: bool, as_json: bool) -> None:
    """Compare the store with the index (exit 1 when they differ and were not repaired)."""
    report = _archive(ctx).check(repair=repair)
    if as_json:
        click.echo(json.dumps(report.to_dict()))
    else:
        if report.ok:
            click.echo("store and index agree")
        for name in ("missing", "extra", "stale"):
            ids = getattr(report, name)
            if ids:
                click.echo(f"{name}: {len(ids)} ({', '.join(ids[:10])}{' …' if len(ids) > 10 else ''})")
        if report.repaired:
            click.echo("repaired")
    sys.exit(0 if report.ok or report.repaired else 1)


@cli.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of stdout.")
@click.option("--with-history", is_flag=True, help="Include every earlier version (`add` reads it back).")
@click.pass_context
@_edge
def export(ctx: click.Context, output: Path | None, with_history: bool) -> None:
    """Export every article as JSON Lines (the format `add` reads)."""
    archive = _archive(ctx)
    if output is None:
        archive.export(sys.stdout, with_history=with_history)
        return
    tmp = output.with_name(output.name + ".partial")
    with tmp.open("w", encoding="utf-8") as f:
        count = archive.export(f, with_history=with_history)
    tmp.replace(output)
    click.echo(f"{count} articles written to {output}", err=True)


@cli.command()
@click.argument("dest", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
@_edge
def backup(ctx: click.Context, dest: Path) -> None:
    """Copy the store consistently to DEST, even while the server runs."""
    _archive(ctx).store.backup(dest)
    click.echo(f"store backed up to {dest}")


@cli.command(name="search")
@click.argument("query", nargs=-1)
@click.option("--source", "sources", multiple=True, help="Only this source (repeatable, ORed).")
@click.option("--author", "authors", multiple=True, help="Only this author (repeatable, ORed).")
@click.option("--tag", "tags", multiple=True, help="Only this tag (repeatable, ORed).")
@click.option("--from", "date_from", help="From date: YYYY, YYYY-MM or YYYY-MM-DD.")
@click.option("--to", "date_to", help="To date: YYYY, YYYY-MM or YYYY-MM-DD.")
@click.option("--sort", type=click.Choice(["relevance", "date", "-date"]), default="relevance",
              show_default=True, help="Order of the articles.")
@click.option("--page", type=click.IntRange(1), default=1, show_default=True, help="Page number.")
@click.option("--per-page", type=click.IntRange(1, 100), default=10, show_default=True,
              help="Articles per page.")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON contract.")
@click.pass_context
@_edge
def search_cmd(ctx: click.Context, query: tuple[str, ...], sources: tuple[str, ...],
               authors: tuple[str, ...], tags: tuple[str, ...], date_from: str | None,
               date_to: str | None, sort: str, page: int, per_page: int, as_json: bool) -> None:
    """Search the archive (words ANDed, OR, -word, "phrases", title: author: tag: date:)."""
    from .search import search

    results = search(_archive(ctx), " ".join(query), source=list(sources), author=list(authors),
                     tag=list(tags), date_from=date_from, date_to=date_to, sort=sort, page=page,
                     per_page=per_page)
    if as_json:
        click.echo(json.dumps(results.to_dict(), ensure_ascii=False))
        return
    color = sys.stdout.isatty()
    click.echo(f"{results.total_articles} articles · {results.total_paragraphs} paragraphs"
               f" (page {results.page}/{results.pages})")
    if results.suggestion:
        click.echo(f"did you mean: {results.suggestion}")
    for hit in results.hits:
        click.echo()
        click.echo(click.style(hit.title, bold=True) if color else hit.title)
        meta = [hit.date.isoformat() if hit.date else None, hit.source, hit.author, hit.id]
        click.echo("  " + " · ".join(m for m in meta if m))
        for p in hit.paragraphs:
            click.echo(f"  ¶{p.n}: " + _terminal_text(p.html, color))
        if hit.more_paragraphs:
            click.echo(f"  + {hit.more_paragraphs} more paragraphs")
    for name, values in results.facets.items():
        if values:
            click.echo()
            click.echo(f"{name}: " + ", ".join(f"{v.value} ({v.count})" for v in values[:10]))


def _terminal_text(fragment: str, color: bool) -> str:
    import html as html_module

    on, off = ("\x1b[1m", "\x1b[0m") if color else ("", "")
    return html_module.unescape(fragment.replace("<mark>", on).replace("</mark>", off))


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=5000, show_default=True, help="Port.")
@click.option("--threads", type=click.IntRange(1, 64), default=4, show_default=True,
              help="Worker threads.")
@click.option("--seed/--no-seed", default=False,
              help="Import the bundled seeds/ first when the archive is empty.")
@click.pass_context
@_edge
def serve(ctx: click.Context, host: str, port: int, threads: int, seed: bool) -> None:
    """Serve the web UI with waitress."""
    import waitress

    archive = _archive(ctx)
    if seed and len(archive.store) == 0:
        seeds = Path(__file__).resolve().parent.parent / "seeds"
        report = archive.add([str(seeds)])
        click.echo("seeded: {added} added".format(**report.counts()), err=True)
    elif not archive.index_dir.exists():
        archive.sync()
    from importlib.metadata import entry_points

    # The web package plugs in through an entry point: the core never imports it.
    found = entry_points(group="archive.apps", name="web")
    if not found:
        raise click.ClickException("no web app is installed (entry point archive.apps:web)")
    create_app = next(iter(found)).load()
    app = create_app({"ARCHIVE_HOME": str(archive.home)})
    click.echo(f"serving {archive.home} on http://{host}:{port}/", err=True)
    waitress.serve(app, host=host, port=port, threads=threads, ident="archive")


# The history and copy commands live in their own module; importing it registers them.
from . import cli_versions  # noqa: E402,F401


def main() -> None:
    """Run the command line."""
    cli(prog_name="archive")


if __name__ == "__main__":
    main()
