"""The connection to the cluster: every host known, another tried when one fails, one error when all do.

:func:`connect` returns an ``opensearchpy.OpenSearch`` that knows every host of the
archive's config. A request whose node dies under it (connection refused or reset,
timeout) is retried on another host, so a node killed mid-request never surfaces; no
sniffing: the configured hosts are the cluster's addresses (a node's published
address may not be reachable from here). :func:`reaching` turns what is left, every
host down or no cluster manager elected, into one :class:`~archive.errors.EngineUnavailable`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from opensearchpy import OpenSearch
from opensearchpy.exceptions import ConnectionError as OSConnectionError
from opensearchpy.exceptions import TransportError

from ...errors import EngineUnavailable

__all__ = ["connect", "close_clients", "reaching", "unavailable", "is_unavailable", "TIMEOUT", "BULK_TIMEOUT"]

#: Seconds a request may take before another host is tried.
TIMEOUT = 30.0
#: Seconds a bulk request may take (a node lost mid-write delays it while a replica is promoted).
BULK_TIMEOUT = 120.0
#: Statuses that mean "this node cannot answer now": retried on another host.
RETRY_STATUSES = (502, 503, 504)

_CLIENTS: dict[tuple[tuple[str, ...], float], OpenSearch] = {}
_LOCK = threading.Lock()


def connect(hosts: Sequence[str], *, timeout: float = TIMEOUT) -> OpenSearch:
    """Return a client for these hosts (one per process and host list: it pools connections)."""
    key = (tuple(hosts), timeout)
    with _LOCK:
        client = _CLIENTS.get(key)
        if client is None:
            client = _CLIENTS[key] = OpenSearch(
                hosts=list(hosts), timeout=timeout, max_retries=2 * len(hosts) + 1, retry_on_timeout=True,
                retry_on_status=RETRY_STATUSES, sniff_on_start=False, sniff_on_connection_fail=False,
                http_compress=False)
        return client


def close_clients() -> None:
    """Close every pooled client (tests, forked workers)."""
    with _LOCK:
        for client in _CLIENTS.values():
            client.close()
        _CLIENTS.clear()


def unavailable(hosts: Sequence[str], exc: BaseException) -> EngineUnavailable:
    """Return the archive's error for a cluster that cannot answer."""
    reason = getattr(exc, "error", None) or type(exc).__name__
    return EngineUnavailable(f"the search cluster ({', '.join(hosts)}) cannot be reached ({reason})",
                             hosts=list(hosts), reason=str(reason))


def is_unavailable(exc: BaseException) -> bool:
    """Tell whether an error means the cluster cannot answer (rather than a wrong request)."""
    if isinstance(exc, OSConnectionError):
        return True
    if isinstance(exc, TransportError):
        return exc.status_code in (*RETRY_STATUSES, 429, "N/A") or "cluster_block_exception" in str(exc.error)
    return False


@contextmanager
def reaching(hosts: Sequence[str]) -> Iterator[None]:
    """Turn the client's errors for an unreachable cluster into :class:`EngineUnavailable`."""
    try:
        yield
    except (OSConnectionError, TransportError) as exc:
        if is_unavailable(exc):
            raise unavailable(hosts, exc) from exc
        raise
