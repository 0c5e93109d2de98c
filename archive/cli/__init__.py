"""The command line: parse, call the library, echo.

The group and :func:`main` are here; each family of commands lives in its own
module (:mod:`.articles`: add, remove, list, show, stats, export, backup;
:mod:`.index`: rebuild, check; :mod:`.search`; :mod:`.research`: trend, kwic;
:mod:`.versions`: history, duplicates; :mod:`.replica`; :mod:`.feeds`;
:mod:`.serve`), sharing the helpers of :mod:`.common`. Registering them here,
rather than each decorating the group, keeps the modules free of import cycles.
"""

from __future__ import annotations

from pathlib import Path

import click

from ..home import resolve_home
from ..terminal import terminal_safe
from . import articles, feeds, index, replica, research, search, serve, versions
from .common import HOME_HELP, WAIT_HELP, Group

__all__ = ["main", "cli", "terminal_safe"]


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--home", type=click.Path(file_okay=False, path_type=Path), envvar="ARCHIVE_HOME",
              help=HOME_HELP)
@click.option("--wait", type=click.FloatRange(0), default=60.0, show_default=True, help=WAIT_HELP)
@click.pass_context
def cli(ctx: click.Context, home: Path | None, wait: float) -> None:
    """A searchable archive of French news articles."""
    ctx.obj = {"home": resolve_home(home), "wait": wait}



for _command in (articles.add, articles.remove, articles.list_, articles.show, articles.stats, articles.export,
                 articles.backup, index.rebuild, index.check, search.search_cmd, research.trend, research.kwic,
                 versions.history, versions.duplicates, replica.replicate_cmd, feeds.feeds, serve.serve):
    cli.add_command(_command)


def main() -> None:
    """Run the command line."""
    cli(prog_name="archive")
