"""The commands on the search index: rebuild, check."""

from __future__ import annotations

import json
import os
import sys

import click

from .common import _, bar, edge, format_number, memory_option, ngettext, now, open_archive, seconds

__all__ = ["rebuild", "check"]


@click.command()
@click.option("--procs", type=click.IntRange(1, 16), default=min(2, os.cpu_count() or 1),
              show_default=True, help="Indexing processes.")
@click.option("--engine", type=click.Choice(["whoosh", "opensearch"]),
              help="Move the archive to this engine (its config is written once the new index is complete).")
@click.option("--hosts", help="With --engine opensearch: the cluster's URLs, comma-separated.")
@click.option("--index", "index_alias", default="", help="With --engine opensearch: the index alias to use.")
@memory_option
@click.pass_context
@edge
def rebuild(ctx: click.Context, procs: int, engine: str | None, hosts: str | None, index_alias: str,
            memory: int | None) -> None:
    """Rebuild the search index from the store (the live index answers until the new one is ready)."""
    start = now()
    archive = open_archive(ctx, memory=memory)
    blocks = archive.rebuild(procs=procs, progress=bar, engine=engine, index=index_alias,
                             hosts=[h.strip() for h in (hosts or "").split(",") if h.strip()])
    click.echo(_("index rebuilt: %(articles)s, %(paragraphs)s in %(seconds)s",
                 articles=ngettext("%(num)s article", "%(num)s articles", len(archive.store)),
                 paragraphs=ngettext("%(num)s paragraph", "%(num)s paragraphs", blocks), seconds=seconds(start)))


@click.command()
@click.option("--repair", is_flag=True, help="Re-index what differs; rebuild a damaged index.")
@click.option("--procs", type=click.IntRange(1, 16), default=min(2, os.cpu_count() or 1),
              show_default=True, help="Indexing processes, when the repair rebuilds.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@memory_option
@click.pass_context
@edge
def check(ctx: click.Context, repair: bool, procs: int, as_json: bool, memory: int | None) -> None:
    """Verify the index's files and compare it with the store (exit 1 on any problem not repaired)."""
    # Only a repair may write, and so make a home.
    report = open_archive(ctx, create=repair, memory=memory).check(repair=repair, procs=procs, progress=bar)
    if as_json:
        click.echo(json.dumps(report.to_dict()))
    else:
        if report.ok:
            click.echo(_("store and index agree"))
        labels = {"missing": _("missing: %(num)s (%(ids)s)"), "extra": _("extra: %(num)s (%(ids)s)"),
                  "stale": _("stale: %(num)s (%(ids)s)")}
        for name, label in labels.items():
            ids = getattr(report, name)
            if ids:
                click.echo(label % {"num": format_number(len(ids)),
                                    "ids": ", ".join(ids[:10]) + (" …" if len(ids) > 10 else "")})
        for line in report.damage:
            click.echo(_("damaged: %(what)s", what=line))
        if report.repaired:
            click.echo(_("repaired"))
    sys.exit(0 if report.ok or report.repaired else 1)
