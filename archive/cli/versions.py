"""Command line for versions and copies: ``archive history`` and ``archive duplicates``.

``archive history greve-a-lille-7c1e0a9b42`` lists the versions of an article,
oldest first (revision 1 is « La grève continue », revision 2 « La grève est
levée »); ``archive show greve-a-lille-7c1e0a9b42 --revision 1`` prints the
first again. ``archive duplicates`` lists the groups of wire copies the store
formed at add time (the same AFP dispatch in Orange Actu and 20 Minutes).
"""

from __future__ import annotations

import click

from .common import _, edge, format_number, language, open_archive, terminal_safe, to_json

__all__ = ["history", "duplicates"]


@click.command()
@click.argument("article_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: [{revision, stored_at, source, title}].")
@click.pass_context
@edge
def history(ctx: click.Context, article_id: str, as_json: bool) -> None:
    """List every stored version of an article, oldest first (removed articles too)."""
    store = open_archive(ctx, create=False).store
    entries = store.history(article_id)
    if as_json:
        click.echo(to_json([e.to_dict() for e in entries]))
        return
    live = article_id in store
    for e in entries:
        mark = " " + _("(current)") if live and e is entries[-1] else ""
        # Titles and paths come from the files added: shown, never obeyed by the terminal.
        click.echo(terminal_safe(f"{e.revision}\t{e.stored_at}\t{e.source or '-'}\t{e.title}{mark}"))
    if not live:
        click.echo(_("(removed: `archive remove --purge` deletes this history)"))


@click.command()
@click.option("--json", "as_json", is_flag=True, help='Print JSON: [{"ids": [...], "similarity": float}].')
@click.pass_context
@edge
def duplicates(ctx: click.Context, as_json: bool) -> None:
    """List the clusters of wire copies (largest first), with their weakest similarity."""
    store = open_archive(ctx, create=False).store
    found = store.duplicates()
    if as_json:
        click.echo(to_json([c.to_dict() for c in found]))
        return
    rows = {r.id: r for r in store.rows()}
    for cluster in found:
        similarity = f"{cluster.similarity:.2f}"
        click.echo(_("%(num)s copies, similarity %(similarity)s", num=format_number(len(cluster.ids)),
                     similarity=similarity if language() == "en" else similarity.replace(".", ",")))
        for member in cluster.ids:
            row = rows.get(member)
            if row is not None:
                click.echo(terminal_safe(f"  {member}\t{row.date or '----------'}\t{row.source or '-'}\t{row.title}"))
    click.echo(_("%(clusters)s clusters, %(articles)s articles", clusters=format_number(len(found)),
                 articles=format_number(sum(len(c.ids) for c in found))))
