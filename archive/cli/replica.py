"""Command line for read replicas: ``archive replicate DEST``.

``archive --home /srv/archive replicate /srv/replica`` copies the archive to
``/srv/replica`` at one instant (the store by SQLite's online backup, then the
index generation, then an atomic switch), while ``/srv/archive`` keeps taking
``archive add`` and a server on ``/srv/replica`` keeps answering; run it again
(from cron, after each nightly add) to bring the replica up to date: files it
already holds are linked, not copied. See :mod:`archive.replica`.
"""

from __future__ import annotations

from pathlib import Path

import click

from ..home import Archive
from ..replica import replicate
from .common import _, edge, format_number, language, open_archive, to_json

__all__ = ["replicate_cmd"]


@click.command(name="replicate")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print JSON: {generation, articles, pending, copied, linked, "
              "copied_bytes}.")
@click.pass_context
@edge
def replicate_cmd(ctx: click.Context, dest: Path, as_json: bool) -> None:
    """Copy this archive to DEST as a read replica, consistently, while it keeps serving and adding."""
    source = open_archive(ctx, create=False)
    done = replicate(source, Archive(dest, lock_wait=ctx.obj["wait"]))
    if as_json:
        click.echo(to_json(done.to_dict()))
        return
    megabytes = f"{done.copied_bytes / 2**20:.1f}"
    click.echo(_("%(dest)s: a replica of %(home)s at store generation %(generation)s (%(articles)s articles, "
                 "%(pending)s pending); index files: %(copied)s copied (%(mb)s MB), %(linked)s already there",
                 dest=dest, home=source.home, generation=done.generation, articles=format_number(done.articles),
                 pending=format_number(done.pending), copied=format_number(done.copied),
                 mb=megabytes if language() == "en" else megabytes.replace(".", ","),
                 linked=format_number(done.linked)))
