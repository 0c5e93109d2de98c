"""Command line for the research tools: ``archive trend`` and ``archive kwic``.

``archive trend grève télétravail --by month`` counts the articles matching
each query per month (count and share of the period's articles);
``archive kwic gouvernement --sort left`` prints every occurrence of a query in
its context, aligned, sorted by the word before. Both take the search filters
and print the JSON contracts of ``/api/trend`` and ``/api/kwic`` with ``--json``.
"""

from __future__ import annotations

import re
import sys

import click

from .common import _, edge, filters, ngettext, open_archive, terminal_safe, to_json

__all__ = ["trend", "kwic"]

#: What a query of several words written on purpose holds: quotes, operators, fields, signs.
_OPERATORS = re.compile(r'["():*~]|(?:^|\s)-|\b(?:OR|OU|AND|ET|NOT|SAUF|NEAR|PRES)\b')


@click.command()
@click.argument("queries", nargs=-1, required=True)
@click.option("--by", type=click.Choice(["year", "month", "day"]), default=None,
              help="Periods (default: chosen from the span).")
@filters
@click.option("--json", "as_json", is_flag=True, help="Print the JSON contract of /api/trend.")
@click.pass_context
@edge
def trend(ctx: click.Context, queries: tuple[str, ...], by: str | None, sources: tuple[str, ...],
          authors: tuple[str, ...], tags: tuple[str, ...], date_from: str | None, date_to: str | None,
          as_json: bool) -> None:
    """Count the articles matching each query (up to 4) per year, month or day."""
    from ..engines import engine_for
    from ..research import trend as compute
    from ..research.periods import as_by
    from ..search import SearchRequest

    requests = [SearchRequest.build(q, source=sources, author=authors, tag=tags, date_from=date_from,
                                    date_to=date_to) for q in queries]
    result = compute(engine_for(open_archive(ctx, create=False)), requests, as_by(by))
    if as_json:
        click.echo(to_json(result.to_dict()))
        return
    width = max([16] + [len(q) for q in queries])
    click.echo(f"{_('period'):<12}" + "".join(f"{q:>{width + 2}}" for q in queries))
    for i, point in enumerate(result.series[0].points if result.series else ()):
        cells = "".join(f"{f'{s.points[i].count} ({s.points[i].share:.1%})':>{width + 2}}"
                        for s in result.series)
        click.echo(f"{point.period:<12}{cells}")
    click.echo(_("total").ljust(12) + "".join(f"{s.total_articles:>{width + 2}}" for s in result.series))


@click.command()
@click.argument("query", nargs=-1, required=True)
@click.option("--width", type=click.IntRange(10, 300), default=50, show_default=True,
              help="Characters of context on each side.")
@click.option("--sort", type=click.Choice(["date", "left", "right"]), default="date", show_default=True,
              help="Order: by date, by the word before, or by the word after.")
@click.option("--page", type=click.IntRange(1), default=1, show_default=True, help="Page number.")
@click.option("--per-page", type=click.IntRange(1, 200), default=50, show_default=True, help="Lines per page.")
@filters
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV (id, n, date, title, left, match, right).")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON contract of /api/kwic.")
@click.pass_context
@edge
def kwic(ctx: click.Context, query: tuple[str, ...], width: int, sort: str, page: int, per_page: int,
         sources: tuple[str, ...], authors: tuple[str, ...], tags: tuple[str, ...], date_from: str | None,
         date_to: str | None, as_csv: bool, as_json: bool) -> None:
    """Show every occurrence of a query in its context (a concordance), aligned."""
    from ..csvfile import write_table
    from ..engines import engine_for
    from ..research import concordance
    from ..search import SearchRequest

    text = " ".join(query)
    if len(text.split()) > 1 and not _OPERATORS.search(text):
        # The shell ate the quotes of `archive kwic "gilets jaunes"`: each word is found on its own.
        click.echo(_("hint: the words are shown and counted each on its own; for the phrase, quote it "
                     "inside the shell's quotes: %(command)s",
                     command=f"archive kwic '\"{terminal_safe(text)}\"'"), err=True)
    request = SearchRequest.build(" ".join(query), source=sources, author=authors, tag=tags,
                                  date_from=date_from, date_to=date_to)
    result = concordance(engine_for(open_archive(ctx, create=False)), request, width=width, page=page,
                         per_page=per_page, sort=sort)
    if as_json:
        click.echo(to_json(result.to_dict()))
        return
    if as_csv:
        header, *rows = result.rows()
        write_table(sys.stdout, [str(h) for h in header], rows)
        return
    color = sys.stdout.isatty()
    click.echo(ngettext("%(num)s occurrence", "%(num)s occurrences", result.total) + " "
               + _("(page %(page)s/%(pages)s)", page=result.page, pages=result.pages), err=True)
    for line in result.lines:
        match = click.style(terminal_safe(line.match), bold=True) if color else terminal_safe(line.match)
        click.echo(f"{terminal_safe(line.left):>{width}} {match} {terminal_safe(line.right):<{width}}"
                   f"  {line.id}#p{line.n + 1}")
