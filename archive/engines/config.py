"""Which engine an archive's home uses: ``HOME/archive.toml``, overridden by the environment.

    # HOME/archive.toml
    engine = "opensearch"
    hosts = ["http://127.0.0.1:9200", "http://127.0.0.1:9201"]
    index = "archive-news"          # optional: the alias; by default derived from the home's path

Without the file the embedded engine (``whoosh``) is used. ``ARCHIVE_ENGINE``,
``ARCHIVE_ENGINE_HOSTS`` (comma-separated) and ``ARCHIVE_ENGINE_INDEX`` override the
file, so one command can point any archive at a cluster.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..errors import BadParameter

__all__ = ["EngineConfig", "load_config", "save_config", "CONFIG_FILE", "ENGINES", "EMBEDDED", "OPENSEARCH",
           "DEFAULT_HOSTS"]

CONFIG_FILE = "archive.toml"
EMBEDDED = "whoosh"
OPENSEARCH = "opensearch"
ENGINES = (EMBEDDED, OPENSEARCH)
DEFAULT_HOSTS = ("http://127.0.0.1:9200",)


@dataclass(frozen=True)
class EngineConfig:
    """An archive's engine: its name, the cluster's hosts and the index alias (cluster engines only)."""

    home: Path
    engine: str = EMBEDDED
    hosts: tuple[str, ...] = field(default=())
    #: The alias readers and writers use; empty: derived from the home (see :attr:`alias`).
    index: str = ""

    @property
    def alias(self) -> str:
        """Return the index alias: the configured one, else ``archive-<hash of the home's path>``."""
        if self.index:
            return self.index
        from .opensearch.settings import alias_name

        return alias_name(self.home)

    @property
    def cluster(self) -> bool:
        """Tell whether the articles are indexed in a cluster rather than in the home."""
        return self.engine != EMBEDDED

    def with_engine(self, engine: str, hosts: tuple[str, ...] = (), index: str = "") -> EngineConfig:
        """Return this config moved to another engine (hosts default to the cluster's local default)."""
        _check_engine(engine)
        if engine == EMBEDDED:
            return replace(self, engine=engine, hosts=(), index="")
        return replace(self, engine=engine, hosts=_check_hosts(hosts or self.hosts or DEFAULT_HOSTS),
                       index=index or self.index)


def load_config(home: str | os.PathLike[str]) -> EngineConfig:
    """Return a home's engine config: ``archive.toml`` if present, then the environment's overrides."""
    home = Path(home)
    path = home / CONFIG_FILE
    data: dict[str, object] = {}
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        pass
    except (tomllib.TOMLDecodeError, OSError) as exc:
        raise BadParameter(f"{path}: cannot be read ({exc})", code="engine_config", path=str(path)) from None
    engine = os.environ.get("ARCHIVE_ENGINE") or str(data.get("engine") or EMBEDDED)
    _check_engine(engine)
    raw_hosts = os.environ.get("ARCHIVE_ENGINE_HOSTS")
    hosts: tuple[str, ...]
    if raw_hosts:
        hosts = tuple(h.strip() for h in raw_hosts.split(",") if h.strip())
    else:
        listed = data.get("hosts") or ()
        if isinstance(listed, str):
            listed = [listed]
        if not isinstance(listed, list | tuple):
            raise BadParameter(f"{path}: hosts must be a list of URLs", code="engine_config", path=str(path))
        hosts = tuple(str(h) for h in listed)
    index = os.environ.get("ARCHIVE_ENGINE_INDEX") or str(data.get("index") or "")
    if engine == EMBEDDED:
        return EngineConfig(home=home)
    return EngineConfig(home=home, engine=engine, hosts=_check_hosts(hosts or DEFAULT_HOSTS), index=index)


def save_config(config: EngineConfig) -> None:
    """Write ``archive.toml`` atomically (the embedded engine needs no file: it is removed)."""
    path = config.home / CONFIG_FILE
    if not config.cluster:
        path.unlink(missing_ok=True)
        return
    lines = [f"engine = {json.dumps(config.engine)}",
             f"hosts = [{', '.join(json.dumps(h) for h in config.hosts)}]"]
    if config.index:
        lines.append(f"index = {json.dumps(config.index)}")
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _check_engine(engine: str) -> None:
    if engine not in ENGINES:
        raise BadParameter(f"unknown engine {engine!r}: use {' or '.join(ENGINES)}", code="engine_name",
                           engine=engine)


def _check_hosts(hosts: tuple[str, ...]) -> tuple[str, ...]:
    for host in hosts:
        if not host.startswith(("http://", "https://")):
            raise BadParameter(f"host {host!r} must be a URL (http://HOST:PORT)", code="engine_hosts", host=host)
    return tuple(h.rstrip("/") for h in hosts)
