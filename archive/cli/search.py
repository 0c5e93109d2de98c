"""The search command: a page of results on the terminal, matches in bold."""

from __future__ import annotations

import sys

import click

from .common import (
    FROM_HELP,
    N_,
    TO_HELP,
    _,
    edge,
    format_number,
    ngettext,
    open_archive,
    styled,
    terminal_safe,
    to_json,
)

__all__ = ["search_cmd"]

#: The facets' names (the results' keys), marked for the catalogs.
_FACETS = {"source": N_("source"), "author": N_("author"), "tags": N_("tags"), "year": N_("year")}


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
                _("%(error)s. To search for a word starting with '-', put '--' before the query: "
                  "archive search -- %(word)s", error=exc.format_message().rstrip("."), word=word), ctx) from None


@click.command(name="search", cls=_SearchCommand)
@click.argument("query", nargs=-1)
@click.option("--source", "sources", multiple=True, help="Only this source (repeatable, ORed).")
@click.option("--author", "authors", multiple=True, help="Only this author (repeatable, ORed).")
@click.option("--tag", "tags", multiple=True, help="Only this tag (repeatable, ORed).")
@click.option("--from", "date_from", help=FROM_HELP)
@click.option("--to", "date_to", help=TO_HELP)
@click.option("--sort", default="relevance", show_default=True,
              help="Order of the articles: relevance, -date (newest first) or date.")
@click.option("--page", default="1", show_default=True, help="Page number.")
@click.option("--per-page", default="10", show_default=True, help="Articles per page (1-100).")
@click.option("--explain", is_flag=True, help="Say how each piece of the query was read.")
@click.option("--show-copies", is_flag=True, help="List wire copies as hits of their own (default: under the best).")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON contract.")
@click.pass_context
@edge
def search_cmd(ctx: click.Context, query: tuple[str, ...], sources: tuple[str, ...],
               authors: tuple[str, ...], tags: tuple[str, ...], date_from: str | None,
               date_to: str | None, sort: str, page: str, per_page: str, explain: bool,
               show_copies: bool, as_json: bool) -> None:
    """Search the archive (words ANDed, OR, -word, "phrases", title: author: tag: date:)."""
    from ..engines import engine_for
    from ..search import SearchRequest

    # The request validates every option, with the same messages as the web UI.
    request = SearchRequest.build(" ".join(query), source=sources, author=authors, tag=tags,
                                  date_from=date_from, date_to=date_to, sort=sort, page=page,
                                  per_page=per_page, show_copies=show_copies)
    engine = engine_for(open_archive(ctx, create=False))
    results = engine.search(request)
    if results.total_articles < 3 and results.suggestion is None and request.parsed.root is not None:
        # A one-shot command pays for the spelling vocabulary only when it may suggest.
        engine.warm(postings=False)
        results = engine.search(request)
    if as_json:
        click.echo(to_json(results.to_dict()))
        return
    color = sys.stdout.isatty()
    if explain:
        for piece in results.explain:
            terms = ", ".join(piece.terms) if piece.terms else "-"
            click.echo(f"{piece.text}\t{piece.role}\t{terms}")  # a table for scripts: kept as is
        click.echo()
    grouped = (" (" + ngettext("%(num)s publication, wire copies grouped", "%(num)s publications, wire copies grouped",
                               results.publications) + ")"
               if results.publications > results.total_articles else "")
    click.echo(ngettext("%(num)s article", "%(num)s articles", results.total_articles) + grouped + " · "
               + ngettext("%(num)s paragraph", "%(num)s paragraphs", results.total_paragraphs) + " "
               + _("(page %(page)s/%(pages)s)", page=results.page, pages=results.pages))
    if results.suggestion:
        click.echo(_("did you mean: %(suggestion)s", suggestion=terminal_safe(results.suggestion)))
    for hit in results.hits:
        click.echo()
        title = terminal_safe(hit.title)
        click.echo(click.style(title, bold=True) if color else title)
        meta = [hit.date.isoformat() if hit.date else None, hit.source, hit.author, hit.id]
        click.echo("  " + terminal_safe(" · ".join(m for m in meta if m)))
        for p in hit.paragraphs:
            text = styled(p.text, p.spans, color)
            click.echo(f"  ¶{p.n + 1}: " + ("…" if p.clipped_start else "") + text
                       + ("…" if p.clipped_end else ""))
        if hit.more_paragraphs:
            click.echo("  + " + ngettext("%(num)s more paragraph", "%(num)s more paragraphs", hit.more_paragraphs))
        if hit.copies:
            copies = ", ".join(f"{c.source or c.title} ({c.id})" for c in hit.copies)
            click.echo(terminal_safe("  + " + ngettext("%(num)s copy: %(copies)s", "%(num)s copies: %(copies)s",
                                                       len(hit.copies), copies=copies)))
    for name, values in results.facets.items():
        if values:
            click.echo()
            shown = ", ".join(f"{v.value} ({format_number(v.count)})" for v in values[:10])
            click.echo(_(_FACETS.get(name, name)) + ": " + terminal_safe(shown))
