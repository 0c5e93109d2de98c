"""Serving on every core: ``archive serve --workers N`` pre-forks N processes (gunicorn).

Two readers search at the same moment, one for « réforme des retraites », the
other for « grève SNCF ». In one process the GIL (and the engine's lock) answer
them one after the other. Here a master process binds the port, imports the
code, and forks N workers; each new connection goes to a worker that is
waiting, so the two searches run on two cores at once.

Nothing the master opened crosses a fork: it never opens the archive (the
caller closes its store first) and starts no thread. Each worker builds its
own web app after the fork (``preload_app`` off): its own SQLite connection,
its own Whoosh index and numpy arrays, its spelling vocabulary built before it
takes its first request. The index files are shared through the OS page cache;
the arrays built from them are private to each worker (their memory is
measured in ``bench/load.py``). Each worker's engine refreshes on its own when
another process's ``archive add`` changes the index, exactly as the
one-process server does.

A worker dies with its master, even when the master is SIGKILLed
(``PR_SET_PDEATHSIG``, :func:`archive.workers.die_with_parent`); the master
restarts a worker that dies. SIGTERM or Ctrl-C stops the master and every worker.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from .workers import die_with_parent

__all__ = ["serve_prefork", "bind_address", "CANNOT_START"]

#: The exit code (gunicorn's "app failed to load") with which a worker that cannot open
#: the archive stops the master, instead of being restarted again and again.
CANNOT_START = 4

#: ``factory()`` builds one worker's WSGI app (after the fork); ``close(app)`` releases it.
Factory = Callable[[], Any]
Closer = Callable[[Any], None]


def bind_address(host: str, port: int) -> str:
    """Write ``host:port`` as gunicorn binds it (``[::1]:5000`` for an IPv6 address)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def serve_prefork(factory: Factory, close: Closer, *, host: str, port: int, workers: int,
                  threads: int) -> None:
    """Serve ``factory``'s app from ``workers`` forked processes of ``threads`` threads each, until stopped.

    A ``factory`` that cannot build its app says why and raises ``SystemExit(CANNOT_START)``:
    the server stops, and this function exits with code 1.
    """
    from gunicorn.app.base import BaseApplication

    def post_fork(arbiter: Any, worker: Any) -> None:
        die_with_parent(arbiter.pid)

    def worker_exit(arbiter: Any, worker: Any) -> None:
        app = getattr(worker, "wsgi", None)  # (absent when the app failed to load)
        if app is not None:
            close(app)

    options: dict[str, Any] = {
        "bind": [bind_address(host, port)],
        "workers": workers,
        # Threads let one worker's page rendering overlap; a sync worker would also be
        # killed by the master's timeout in a long export.
        "worker_class": "gthread",
        "threads": threads,
        # No keep-alive: a kept connection stays with the worker that accepted it, and
        # bench/load.py measured four busy clients all on one worker in two rounds of
        # three (the other idle). A new connection per request goes to a waiting worker.
        "keepalive": 0,
        "preload_app": False,
        "post_fork": post_fork,
        "worker_exit": worker_exit,
        # gunicorn's runtime control socket ($HOME/.gunicorn/gunicorn.ctl) would be shared
        # by every archive served by one user, and runs a thread in the master.
        "control_socket_disable": True,
        # As waitress: no proxy header is trusted (the token limiter keys on the peer's
        # address), and the app, not the server, refuses long queries with its own message.
        "forwarded_allow_ips": "",
        "secure_scheme_headers": {},
        "limit_request_line": 0,
        "loglevel": "warning",
        "errorlog": "-",
        "accesslog": None,
        "proc_name": "archive",
    }

    class Prefork(BaseApplication):
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return factory()

    master = os.getpid()
    try:
        Prefork().run()
    except SystemExit as exc:
        # A worker leaves through here too (gunicorn forks deep inside run()): only the
        # master's exit is translated.
        if exc.code == CANNOT_START and os.getpid() == master:
            raise SystemExit(1) from None
        raise
