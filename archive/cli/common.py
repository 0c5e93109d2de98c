"""What every command of the command line shares: errors at the edge, the archive, bars, filters, output.

Exit codes: 0 when everything went in, 1 when some input failed (the rest
stays stored) or ``check`` found differences, 2 for usage errors, 3 when
another writer held the archive for too long.
"""

from __future__ import annotations

import functools
import os
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from click.core import ParameterSource

from ..budget import ENV, parse_memory
from ..errors import ArchiveError
from ..home import Archive, resolve_home
from ..terminal import styled, terminal_safe, to_json
from ._i18n import N_, Context, _, format_number, language, localized, ngettext, walk
from ._messages import error_text

__all__ = ["edge", "open_archive", "memory_option", "bar", "now", "seconds", "filters", "Group", "styled",
           "terminal_safe", "to_json", "_", "N_", "ngettext", "format_number", "language", "fail",
           "interactive", "clock", "BAR_DELAY", "FROM_HELP", "TO_HELP", "HOME_HELP",
           "WAIT_HELP", "walk"]

F = TypeVar("F", bound=Callable[..., Any])


def edge(func: F) -> F:
    """Turn library errors into a message on stderr and the error's exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ArchiveError as exc:
            fail(error_text(exc), exc.exit_code)
        except BrokenPipeError:
            # The reader went away (`archive list | head`): nothing left to say to it.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(1)
        except (OSError, sqlite3.Error) as exc:
            # The home's files themselves failed (read-only, full disk, permissions):
            # one line, not a traceback.
            fail(str(exc), 1)

    return wrapper  # type: ignore[return-value]


def fail(message: str, code: int) -> NoReturn:
    """Say ``error: message`` on stderr in one line, in the run's language, and exit with ``code``."""
    click.echo(_("error: %(message)s", message=terminal_safe(message)), err=True)
    sys.exit(code)


#: The clock of the summary lines (a test sets it), and the seconds before a bar shows.
clock = time.monotonic
BAR_DELAY = 1.0


@contextmanager
def bar(phase: str, total: int | None, unit: str) -> Iterator[Callable[[int], None]]:
    """Show one phase's progress bar on stderr once it has lasted a second (terminals only)."""
    # advance(0) redraws it (elapsed time, rate): the library does so every second while it waits.
    from tqdm import tqdm

    # The phase and unit are the core's English words (" articles"): the bar says them in the run's language.
    label = _(phase)
    shown_unit = unit if unit == "B" else " " + _(unit.strip())
    with tqdm(total=total, desc=f"{label:<9}", unit=shown_unit, unit_scale=unit == "B", unit_divisor=1024,
              file=sys.stderr, delay=BAR_DELAY, disable=None, leave=False, mininterval=0.25, dynamic_ncols=True) as bar:
        yield lambda n: bar.update(n) if n else bar.refresh()


def now() -> float:
    """Return the clock's time (a summary line's start)."""
    return clock()


def seconds(start: float) -> str:
    """Return the seconds since ``start``, for a summary line."""
    text = f"{clock() - start:.1f} s"
    return text if language() == "en" else text.replace(".", ",")


def interactive() -> bool:
    """Tell whether a person at a terminal runs this command (scripts are never asked)."""
    return sys.stdin.isatty() and sys.stdout.isatty()


def open_archive(ctx: click.Context, *, create: bool = True, memory: int | None = None) -> Archive:
    """Open the archive; read-only commands pass ``create=False`` and never make a home."""
    return Archive(ctx.obj["home"], lock_wait=ctx.obj["wait"], create=create, memory=memory)


def memory_option(func: F) -> F:
    """Add ``--memory`` (or ``$ARCHIVE_MEMORY``): the write's memory budget; a bad value is one line, exit 2."""

    def parse(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
        if value is None:
            return None
        try:
            return parse_memory(value)
        except ValueError as exc:
            named = ENV if ctx.get_parameter_source("memory") == ParameterSource.ENVIRONMENT else "--memory"
            fail(f"{named}: {exc}", 2)

    return click.option("--memory", envvar=ENV, callback=parse, metavar="SIZE",
                        help=N_("Memory budget of all the write's processes (1GiB, 512M…). "
                                "Default: $ARCHIVE_MEMORY, else 1GiB."))(func)


HOME_HELP = N_("Archive home folder (store + index). Default: $ARCHIVE_HOME, else the current directory.")
WAIT_HELP = N_("Seconds to wait for another process that is writing to the archive.")


def _set_global(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    """Let ``--home``/``--wait`` given after the subcommand override those given before it."""
    if value is None:
        return
    obj = ctx.find_object(dict)
    if obj is not None and param.name is not None:
        obj[param.name] = resolve_home(value) if param.name == "home" else value


class Group(click.Group):
    """The command group: every subcommand also takes the global options, and speaks the reader's language."""

    context_class = Context

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        """Register a subcommand, giving it ``--home`` and ``--wait``."""
        cmd.context_class = Context
        if cmd.callback is not None:
            cmd.params += [
                click.Option(["--home"], type=click.Path(file_okay=False, path_type=Path), expose_value=False,
                             callback=_set_global, help=HOME_HELP),
                click.Option(["--wait"], type=click.FloatRange(0), expose_value=False, callback=_set_global,
                             help=WAIT_HELP)]
        super().add_command(cmd, name)

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """Run the command line in the reader's language (the root group's run)."""
        with localized(self):
            return super().main(*args, **kwargs)


FROM_HELP = N_("From this year, month or day: 2019, 2019-12, 05/12/2019 (day first), '5 décembre 2019'.")
TO_HELP = N_("To this year, month or day (the same forms as --from).")


def filters(func: F) -> F:
    """Add the search filters (--source, --author, --tag, --from, --to) to a command."""
    for option in reversed([
            click.option("--source", "sources", multiple=True, help=N_("Only this source (repeatable, ORed).")),
            click.option("--author", "authors", multiple=True, help=N_("Only this author (repeatable, ORed).")),
            click.option("--tag", "tags", multiple=True, help=N_("Only this tag (repeatable, ORed).")),
            click.option("--from", "date_from", help=FROM_HELP),
            click.option("--to", "date_to", help=TO_HELP)]):
        func = option(func)
    return func
