"""Command line for feeds: ``archive feeds add|list|remove|fetch``.

``archive feeds add https://www.lavoix.example/rss.xml --source "La Voix" --tag lille``
follows a feed; ``archive feeds fetch`` (from cron or a systemd timer: see
docs/ingest.md) stores every followed feed's new items and prints one line a
feed; it exits 1 when a feed or an item failed, after doing all the others.
"""

from __future__ import annotations

import sys

import click

from ..feeds import Feeds
from ._messages import reason_text
from .common import Group, _, edge, open_archive, terminal_safe, to_json

__all__ = ["feeds"]


@click.group(cls=Group)
def feeds() -> None:
    """Follow RSS and Atom feeds: add, list, remove, fetch."""


@feeds.command(name="add")
@click.argument("url")
@click.option("--source", help="Source name for its articles (default: the page's site name, else the feed's title).")
@click.option("--tag", "tags", multiple=True, help="Tag for its articles; repeat for several.")
@click.pass_context
@edge
def add_feed(ctx: click.Context, url: str, source: str | None, tags: tuple[str, ...]) -> None:
    """Follow a feed (RSS or Atom) by its address."""
    subscription = Feeds(open_archive(ctx)).add(url, source=source, tags=tags)
    click.echo(terminal_safe(_("following %(url)s", url=subscription.url)))


@feeds.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: [{url, source, tags, added, checked, status}].")
@click.pass_context
@edge
def list_feeds(ctx: click.Context, as_json: bool) -> None:
    """List the followed feeds with their last fetch."""
    subscriptions = Feeds(open_archive(ctx, create=False)).list()
    if as_json:
        click.echo(to_json([s.to_dict() for s in subscriptions]))
        return
    for s in subscriptions:
        tags = ",".join(s.tags) or "-"
        click.echo(terminal_safe(f"{s.url}\t{s.source or '-'}\t{tags}\t{s.checked or _('never fetched')}"))


@feeds.command(name="remove")
@click.argument("url")
@click.pass_context
@edge
def remove_feed(ctx: click.Context, url: str) -> None:
    """Stop following a feed (the articles it brought stay)."""
    Feeds(open_archive(ctx)).remove(url)
    click.echo(terminal_safe(_("no longer following %(url)s", url=url)))


@feeds.command(name="fetch")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: one report a feed.")
@click.pass_context
@edge
def fetch(ctx: click.Context, as_json: bool) -> None:
    """Fetch every followed feed once and store its new items; one summary line a feed."""
    reports = []
    for report in Feeds(open_archive(ctx)).fetch_all():
        reports.append(report)
        if not as_json:
            for note in report.notes:
                click.echo(terminal_safe(_("note: %(note)s", note=note)), err=True)
            for failure in report.failures:
                click.echo(terminal_safe(_("failed: %(source)s: %(reason)s", source=failure.source,
                                           reason=reason_text(failure))), err=True)
            click.echo(terminal_safe(report.line()))
    if as_json:
        click.echo(to_json([r.to_dict() for r in reports]))
    sys.exit(1 if any(r.status == "failed" or r.failures for r in reports) else 0)
