"""The local OpenSearch cluster the `cluster` tests run against, driven through tools/cluster."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOL = ROOT / "tools" / "cluster"
NODES = 3
#: Seconds a start may take: the first one on a machine fetches OpenSearch through Maven.
START_SECONDS = 600


class ClusterFailed(Exception):
    """tools/cluster could not start the cluster (its message says why)."""


@dataclass
class LocalCluster:
    """A cluster of tools/cluster: its folder, HTTP hosts and node pids."""

    dir: Path
    base_port: int
    hosts: list[str] = field(default_factory=list)
    pids: list[int] = field(default_factory=list)

    def start(self) -> dict:
        """Start the cluster, or restart its dead nodes; wait for green; return the tool's JSON."""
        done = subprocess.run([sys.executable, str(TOOL), "start", "--nodes", str(NODES), "--base-port",
                               str(self.base_port), "--dir", str(self.dir), "--heap", "320m", "--quick"],
                              capture_output=True, text=True, timeout=START_SECONDS + 60)
        if done.returncode:
            raise ClusterFailed(done.stderr.strip()[-2000:])
        info = json.loads(done.stdout.strip().splitlines()[-1])
        self.hosts, self.pids = info["hosts"], info["pids"]
        return info

    def stop(self) -> None:
        """Stop every node and wait until they are gone."""
        subprocess.run([sys.executable, str(TOOL), "stop", "--dir", str(self.dir)], capture_output=True,
                       timeout=120, check=True)

    def kill(self, node: int) -> None:
        """Kill one node with SIGKILL, as a crash would."""
        os.kill(self.pids[node], signal.SIGKILL)

    def running(self) -> list[int]:
        """Return each node's pid, 0 for a dead one."""
        done = subprocess.run([sys.executable, str(TOOL), "status", "--dir", str(self.dir)], capture_output=True,
                              text=True, timeout=60, check=True)
        return list(json.loads(done.stdout)["pids"])

    @property
    def env_hosts(self) -> str:
        """Return the hosts as ARCHIVE_ENGINE_HOSTS spells them."""
        return ",".join(self.hosts)


def free_base_port() -> int:
    """Return a base port whose HTTP and transport ports (base+i, base+100+i) are all free."""
    for base in range(19200, 29000, 211):
        if all(_free(base + i) and _free(base + 100 + i) for i in range(NODES)):
            return base
    raise ClusterFailed("no free ports for a local cluster")


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def new_cluster() -> LocalCluster:
    """Start a 3-node cluster in a fresh folder the nodes' user can reach (pytest's tmp folders are private)."""
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise ClusterFailed("no Java on this machine")
    folder = Path(tempfile.mkdtemp(prefix="archive-cluster-"))
    os.chmod(folder, 0o755)
    cluster = LocalCluster(folder, free_base_port())
    try:
        cluster.start()
    except BaseException:
        remove_cluster(cluster)
        raise
    return cluster


def remove_cluster(cluster: LocalCluster) -> None:
    """Stop a cluster and delete its folder."""
    try:
        cluster.stop()
    finally:
        shutil.rmtree(cluster.dir, ignore_errors=True)
