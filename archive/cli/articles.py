"""The commands on the archive's articles: add, remove, list, show, stats, export, backup."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from ..search.facets import CATCH_UP, keep_catalog
from . import common
from ._messages import reason_text
from .common import (
    _,
    bar,
    edge,
    filters,
    format_number,
    memory_option,
    ngettext,
    now,
    open_archive,
    seconds,
    terminal_safe,
    to_json,
)

__all__ = ["add", "remove", "list_", "show", "stats", "export", "backup"]


@click.command()
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
@memory_option
@click.pass_context
@edge
def add(ctx: click.Context, paths: tuple[str, ...], title: str | None, date: str | None, source: str | None,
        authors: tuple[str, ...], tags: tuple[str, ...], url: str | None, procs: int, whole: bool,
        follow_symlinks: bool, as_json: bool, memory: int | None) -> None:
    """Add articles: files (.txt .md .jsonl .html .xml .warc…), folders, globs, https:// pages, or - (stdin)."""
    overrides = {"title": title, "date": date, "source": source, "authors": list(authors),
                 "tags": list(tags), "url": url}
    if any(overrides.values()) and (len(paths) != 1 or paths[0] == "-" or Path(paths[0]).is_dir()):
        raise click.UsageError(_("--title/--date/--source/--author/--tag/--url apply to one file only"))
    start = now()
    archive = open_archive(ctx, memory=memory)
    report = archive.add(list(paths), overrides=overrides, progress=bar, procs=procs,
                         all_or_nothing=whole, follow_symlinks=follow_symlinks)
    counts = report.counts()
    if counts["added"] + counts["updated"] > CATCH_UP:  # (fewer: the next opening catches up)
        keep_catalog(archive)
    if as_json:
        click.echo(to_json({**counts, "articles": [{"id": i, "outcome": o} for i, o in report.outcomes],
                          "failures": [{"source": f.source, "reason": f.reason} for f in report.failures],
                          "notes": report.notes, "undated": report.undated}))
    else:
        for note in report.notes:
            click.echo(terminal_safe(_("note: %(note)s", note=note)), err=True)
        for failure in report.failures:
            click.echo(terminal_safe(_("failed: %(source)s: %(reason)s", source=failure.source,
                                       reason=reason_text(failure))), err=True)
            if failure.discarded:
                # One transaction per file: say that its good lines were not kept either.
                click.echo(ngettext("  nothing from this file was stored: its %(num)s good article before the error "
                                    "was rolled back too; fix the line and add the file again",
                                    "  nothing from this file was stored: its %(num)s good articles before the error "
                                    "were rolled back too; fix the line and add the file again",
                                    failure.discarded), err=True)
        numbers = {name: format_number(n) for name, n in counts.items()}
        click.echo(_("%(added)s added, %(updated)s updated, %(unchanged)s unchanged, %(failed)s failed; "
                     "%(paragraphs)s in %(seconds)s", **numbers, seconds=seconds(start),
                     paragraphs=ngettext("%(num)s paragraph", "%(num)s paragraphs", report.paragraphs)))
        if report.undated:
            shown = ", ".join(report.undated[:5]) + (", …" if len(report.undated) > 5 else "")
            click.echo(terminal_safe(ngettext(
                "note: %(num)s article without a date (%(ids)s): listed by the day added, outside date filters; "
                "give one with --date",
                "note: %(num)s articles without a date (%(ids)s): listed by the day added, outside date filters; "
                "give one with --date", len(report.undated), ids=shown)), err=True)
    sys.exit(1 if report.failures else 0)


@click.command()
@click.argument("ids", nargs=-1, required=True)
@click.option("--purge", is_flag=True, help="Also delete every earlier version (the text is then lost).")
@click.option("--yes", "-y", is_flag=True, help="Do not ask before removing several articles.")
@click.pass_context
@edge
def remove(ctx: click.Context, ids: tuple[str, ...], purge: bool, yes: bool) -> None:
    """Remove articles by id (all or none); their history stays readable unless --purge."""
    ids = tuple(dict.fromkeys(ids))
    if len(ids) > 1 and not yes and common.interactive():
        question = (_("Purge %(num)s articles (their whole history is deleted)? Pass --yes to skip this question")
                    if purge else
                    _("Remove %(num)s articles (their history is kept)? Pass --yes to skip this question"))
        if not click.confirm(question % {"num": format_number(len(ids))}):
            click.echo(_("nothing removed"), err=True)
            sys.exit(1)
    removed = open_archive(ctx).remove(ids, purge=purge)
    done = _("%(num)s purged") if purge else _("%(num)s removed")
    click.echo(done % {"num": format_number(len(removed))})


@click.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON Lines (id, date, title).")
@click.pass_context
@edge
def list_(ctx: click.Context, as_json: bool) -> None:
    """List articles: id, date, title, newest first."""
    rows = sorted(open_archive(ctx, create=False).store.rows(), key=lambda r: (r.date or "", r.id), reverse=True)
    for r in rows:
        if as_json:
            click.echo(to_json({"id": r.id, "date": r.date, "title": r.title}))
        else:
            click.echo(f"{r.id}\t{r.date or '----------'}\t{terminal_safe(r.title)}")


@click.command()
@click.argument("article_id")
@click.option("--revision", type=click.IntRange(1), help="Show this earlier version (see the history command).")
@click.option("--json", "as_json", is_flag=True, help="Print the article as stored (JSON).")
@click.pass_context
@edge
def show(ctx: click.Context, article_id: str, revision: int | None, as_json: bool) -> None:
    """Show one article (or one of its versions)."""
    from ..engines import engine_for

    engine = engine_for(open_archive(ctx, create=False))
    article = engine.article(article_id) if revision is None else engine.revision(article_id, revision)
    if as_json:
        click.echo(to_json(article.to_record(), indent=2))
        return
    click.echo(click.style(terminal_safe(article.title), bold=True))
    meta = [article.date.isoformat() if article.date else None, article.source,
            ", ".join(article.authors) or None, ", ".join(article.tags) or None, article.url]
    click.echo(terminal_safe(" · ".join(m for m in meta if m)))
    for block in article.blocks:
        click.echo()
        text = terminal_safe(block.text)
        click.echo(click.style(text, bold=True) if block.heading else text)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@edge
def stats(ctx: click.Context, as_json: bool) -> None:
    """Show counts: articles, paragraphs, date range, sources, index state."""
    archive = open_archive(ctx, create=False)
    data = archive.store.stats()
    data["index"] = "ready" if archive.index_dir.exists() else "missing"
    data["pending"] = len(archive.store.pending())
    if as_json:
        click.echo(to_json(data))
        return
    labels = [_("articles:"), _("paragraphs:"), _("dates:"), _("index:")]
    width = max(len(label) for label in labels) + 1
    state = _("ready") if data["index"] == "ready" else _("missing")
    click.echo(f"{labels[0]:<{width}}{format_number(data['articles'])}")
    click.echo(f"{labels[1]:<{width}}{format_number(data['blocks'])}")
    click.echo(f"{labels[2]:<{width}}{data['first_date'] or '?'} .. {data['last_date'] or '?'}")
    click.echo(f"{labels[3]:<{width}}" + _("%(state)s (%(pending)s pending)", state=state,
                                          pending=format_number(data["pending"])))
    for source, count in data["sources"].items():
        click.echo(f"  {format_number(count):>7}  {terminal_safe(source or _('(no source)'))}")


@click.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of stdout.")
@click.option("--query", "-q", default=None, help="Export only the articles matching this query.")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv", "csv-excel", "iramuteq"]),
              default="jsonl", show_default=True, help="Output format.")
@click.option("--sort", default="-date", show_default=True, help="Order: relevance, -date or date.")
@click.option("--with-history", is_flag=True,
              help="Include every earlier version (add reads it back); whole archive as JSON Lines only.")
@filters
@click.pass_context
@edge
def export(ctx: click.Context, output: Path | None, query: str | None, fmt: str, sort: str,
           with_history: bool, sources: tuple[str, ...], authors: tuple[str, ...], tags: tuple[str, ...],
           date_from: str | None, date_to: str | None) -> None:
    """Export articles: every one as JSON Lines (the format add reads), or a search's in a research format."""
    archive = open_archive(ctx, create=False)
    whole = query is None and fmt == "jsonl" and not (sources or authors or tags or date_from or date_to)
    if with_history and not whole:
        # A search's export is a research extract; history round-trips only with the whole archive.
        raise click.UsageError(_("--with-history exports the whole archive as JSON Lines: "
                                 "drop --query, --format and the filters"))

    def write(out: Any) -> int:
        if whole:
            return archive.export(out, with_history=with_history)
        from ..engines import engine_for
        from ..research import export as research_export
        from ..search import SearchRequest

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
    click.echo(ngettext("%(num)s article written to %(path)s", "%(num)s articles written to %(path)s", count,
                        path=output), err=True)


@click.command()
@click.argument("dest", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
@edge
def backup(ctx: click.Context, dest: Path) -> None:
    """Copy the store consistently to DEST, even while the server runs."""
    open_archive(ctx, create=False).store.backup(dest)
    click.echo(_("store backed up to %(path)s", path=dest))
