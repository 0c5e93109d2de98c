"""Command line for serving: ``archive serve`` runs the web UI on waitress.

``archive serve --seed`` imports the bundled seed article into an empty archive,
warms the search engine (the index opened, the spelling vocabulary built) before
the first request, and says in one line why it cannot listen (a busy port, a
missing address) instead of a traceback.
"""

from __future__ import annotations

import socket
import sys

import click

from .cli import _archive, _edge, cli
from .seeds import seed_folder

__all__ = ["serve"]


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
        report = archive.add([str(seed_folder())])
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
    # Built before the first request rather than during it: the index, the catalog and
    # the spelling vocabulary, and the compiled page templates.
    app.extensions["archive"].warm()
    for name in app.jinja_env.list_templates():
        app.jinja_env.get_template(name)
    try:
        _try_listen(host, port)  # a clean error before waitress half-builds its server
        server = waitress.create_server(app, host=host, port=port, threads=threads, ident="archive")
    except OSError as exc:
        app.extensions["archive"].close()
        click.echo(f"error: {_serve_error(exc, host, port)}", err=True)
        sys.exit(1)
    click.echo(f"serving {archive.home} on http://{host}:{port}/", err=True)
    try:
        server.run()
    finally:
        app.extensions["archive"].close()


def _try_listen(host: str, port: int) -> None:
    """Bind the address once, as waitress will, and raise its :class:`OSError` if that fails."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(address)


def _serve_error(exc: OSError, host: str, port: int) -> str:
    """Say in one line why the server could not listen."""
    import errno

    if exc.errno == errno.EADDRINUSE:
        return f"port {port} is already in use on {host}: stop the other server or choose another --port"
    if exc.errno == errno.EACCES:
        return f"not allowed to listen on {host}:{port}: choose a port above 1023 with --port"
    if exc.errno == errno.EADDRNOTAVAIL or isinstance(exc, socket.gaierror):
        return f"cannot listen on {host}:{port}: this machine has no such address (try --host 127.0.0.1)"
    return f"cannot listen on {host}:{port}: {exc.strerror or exc}"
