"""Command line for serving: ``archive serve`` runs the web UI on waitress, or on N processes.

``archive serve --seed`` imports the bundled seed article into an empty archive,
warms the search engine (the index opened, the spelling vocabulary built) before
the first request, and says in one line why it cannot listen (a busy port, a
missing address) instead of a traceback. ``archive serve --workers 2`` answers
« retraites » and « grève » on two cores at once: a pre-forked gunicorn whose
workers each open the archive themselves (:mod:`.prefork`). ``archive serve
--fetch-every 15m`` also runs ``archive feeds fetch`` every 15 minutes, each
time in a child process (no fetch shares the server's memory, threads or
SQLite connections), its summary lines going to the server's log.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ..engines import reads_cluster_only
from ..errors import ArchiveError
from ..home import resolve_home
from ..seeds import seed_folder
from ..store import Store
from ._messages import error_text
from .common import _, edge, fail, open_archive

__all__ = ["serve"]


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=5000, show_default=True, help="Port.")
@click.option("--threads", type=click.IntRange(1, 64), default=4, show_default=True,
              help="Threads (in each worker process).")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Processes; over 1, a pre-forked gunicorn serves on that many cores.")
@click.option("--seed/--no-seed", default=False,
              help="Import the bundled seeds/ first when the archive is empty.")
@click.option("--fetch-every", help="Also run archive feeds fetch this often: 15m, 1h, 90s.")
@click.pass_context
@edge
def serve(ctx: click.Context, host: str, port: int, threads: int, workers: int, seed: bool,
          fetch_every: str | None) -> None:
    """Serve the web UI: waitress in this process, or gunicorn processes with --workers N."""
    store: Store | None = None
    if reads_cluster_only(ctx.obj["home"]):
        # A web server next to a cluster: it reads the cluster alone and makes no store.
        if seed or fetch_every is not None:
            raise click.UsageError(_("--seed and --fetch-every store articles: run them on the host that holds"
                                     " the store"))
        home = resolve_home(ctx.obj["home"])
    else:
        archive = open_archive(ctx)
        home, store = archive.home, archive.store
        if fetch_every is not None:
            fetching(archive.home, duration(fetch_every))
        if seed and len(archive.store) == 0:
            report = archive.add([str(seed_folder())])
            click.echo(_("seeded: %(added)s added", **report.counts()), err=True)
        elif not archive.index_dir.exists():
            archive.sync()
    from importlib.metadata import entry_points

    # The web package plugs in through an entry point: the core never imports it.
    found = entry_points(group="archive.apps", name="web")
    if not found:
        raise click.ClickException(_("no web app is installed (entry point archive.apps:web)"))
    create_app = next(iter(found)).load()
    # ARCHIVE_WARM: the app opens the index, builds the spelling vocabulary and renders
    # its pages once before it is returned, rather than during the first requests.
    config: dict[str, Any] = {"ARCHIVE_HOME": str(home), "ARCHIVE_WARM": True}
    if workers > 1:
        # Each worker opens the archive itself: no SQLite connection crosses a fork.
        if store is not None:
            store.close()
        _serve_workers(home, create_app, config, host, port, workers, threads)
        return
    import waitress

    app = create_app(config)
    try:
        _try_listen(host, port)  # a clean error before waitress half-builds its server
        server = waitress.create_server(app, host=host, port=port, threads=threads, ident="archive")
    except OSError as exc:
        app.extensions["archive"].close()
        fail(_serve_error(exc, host, port), 1)
    click.echo(_("serving %(home)s on %(url)s", home=home, url=f"http://{host}:{port}/"), err=True)
    try:
        server.run()
    finally:
        app.extensions["archive"].close()


def _serve_workers(home: Path, create_app: Callable[[dict[str, Any]], Any], config: dict[str, Any],
                   host: str, port: int, workers: int, threads: int) -> None:
    """Serve from pre-forked processes, each building and warming its own app."""
    from ..prefork import CANNOT_START, serve_prefork

    def factory() -> Any:
        try:
            app = create_app(config)
        except ArchiveError as exc:  # a damaged index, say: every worker would fail alike
            fail(error_text(exc), CANNOT_START)
        return app

    def close(app: Any) -> None:
        app.extensions["archive"].close()

    try:
        _try_listen(host, port)
    except OSError as exc:
        fail(_serve_error(exc, host, port), 1)
    # Session cookies (the add form's CSRF token) are signed with this key: every worker
    # must share it, or a form served by one is refused by another.
    os.environ.setdefault("ARCHIVE_SECRET_KEY", secrets.token_hex(32))
    click.echo(_("serving %(home)s on %(url)s with %(workers)s processes", home=home, url=f"http://{host}:{port}/",
                 workers=workers), err=True)
    serve_prefork(factory, close, host=host, port=port, workers=workers, threads=threads)


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
        return _("port %(port)s is already in use on %(host)s: stop the other server or choose another --port",
                 port=port, host=host)
    if exc.errno == errno.EACCES:
        return _("not allowed to listen on %(host)s:%(port)s: choose a port above 1023 with --port",
                 host=host, port=port)
    if exc.errno == errno.EADDRNOTAVAIL or isinstance(exc, socket.gaierror):
        return _("cannot listen on %(host)s:%(port)s: this machine has no such address (try --host 127.0.0.1)",
                 host=host, port=port)
    return _("cannot listen on %(host)s:%(port)s: %(reason)s", host=host, port=port, reason=exc.strerror or exc)


def duration(text: str) -> float:
    """Return the seconds of ``15m``, ``1h``, ``90s`` or ``90``; raise a usage error for anything else."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", text)
    if m is None or float(m[1]) == 0:
        raise click.BadParameter(_("not a duration: %(text)r (use 15m, 1h or 90s)", text=text),
                                 param_hint="--fetch-every")
    return float(m[1]) * {"": 1, "s": 1, "m": 60, "h": 3600}[m[2]]


def fetching(home: Path, seconds: float) -> tuple[threading.Event, threading.Thread]:
    """Run ``archive feeds fetch`` on ``home`` every ``seconds`` from a daemon thread; set the event to stop."""
    stop = threading.Event()
    command = [sys.executable, "-m", "archive.cli", "--home", str(home), "feeds", "fetch"]

    def loop() -> None:
        while not stop.wait(seconds):
            # Its lines (one a feed) go to the server's log; a failed feed is its exit code 1, not ours.
            subprocess.run(command, stdin=subprocess.DEVNULL, stdout=2, check=False)

    thread = threading.Thread(target=loop, name="feeds-fetch", daemon=True)
    thread.start()
    return stop, thread
