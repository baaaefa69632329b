"""Replicated services of a test's own: a three-node RabbitMQ cluster, and a Redis master with a
replica watched by three Sentinels — the shapes deploy/overlays/prod runs, on this machine.

Each is started and stopped by a fixture (tests/chaos/conftest.py), whatever the test does.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import redis

from tests.conftest import free_port
from tests.support import PrivateRabbit


class RabbitCluster:
    """Three private RabbitMQ nodes joined into one cluster (own names, ports, directories)."""

    def __init__(self, directory: Path, name: str, size: int = 3) -> None:
        self.nodes = [PrivateRabbit(directory / f"node{i}", f"{name}{i}") for i in range(size)]

    @property
    def urls(self) -> list[str]:
        return [node.url for node in self.nodes]

    def start(self) -> None:
        with ThreadPoolExecutor(len(self.nodes)) as pool:  # each boots in ~5 s: in parallel
            list(pool.map(lambda node: node.start(), self.nodes))
        first = self.nodes[0].node
        for node in self.nodes[1:]:
            for command in (["stop_app"], ["join_cluster", first], ["start_app"]):
                subprocess.run(["rabbitmqctl", "-n", node.node, *command], env=node.env,
                               check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               timeout=120)

    def by_name(self, node_name: str) -> PrivateRabbit:
        return next(node for node in self.nodes if node.node == node_name)

    def queue_leader(self, queue: str) -> PrivateRabbit:
        """The node that leads `queue` (its quorum's leader), as a surviving node reports it."""
        for node in self.nodes:
            if node.pid() is None:
                continue
            result = subprocess.run(
                ["rabbitmqctl", "-n", node.node, "-q", "list_queues", "name", "leader",
                 "members", "--no-table-headers"], env=node.env, capture_output=True,
                text=True, timeout=60)
            for line in result.stdout.splitlines():
                fields = line.split("\t")
                if fields and fields[0] == queue:
                    return self.by_name(fields[1].strip())
        raise AssertionError(f"no node reports a leader for {queue}")

    def members(self, queue: str) -> str:
        node = next(n for n in self.nodes if n.pid() is not None)
        result = subprocess.run(
            ["rabbitmqctl", "-n", node.node, "-q", "list_queues", "name", "members",
             "--no-table-headers"], env=node.env, capture_output=True, text=True, timeout=60)
        return next((line.split("\t", 1)[1] for line in result.stdout.splitlines()
                     if line.startswith(queue + "\t")), "")

    def stop(self) -> None:
        with ThreadPoolExecutor(len(self.nodes)) as pool:
            list(pool.map(lambda node: node.stop(), self.nodes))


class RedisServer:
    """One redis-server (a master or a replica) as a subprocess, its files in its directory."""

    def __init__(self, directory: Path, port: int, replica_of: int | None = None) -> None:
        self.directory = directory
        self.port = port
        self.replica_of = replica_of
        self.proc: subprocess.Popen[bytes] | None = None
        directory.mkdir(parents=True, exist_ok=True)

    def start(self) -> None:
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", str(self.directory), "--save", "", "--appendonly", "no"]
        if self.replica_of is not None:
            args += ["--replicaof", "127.0.0.1", str(self.replica_of)]
        log = (self.directory / "redis.log").open("ab")
        self.proc = subprocess.Popen(args, stdout=log, stderr=log, start_new_session=True)
        _wait_for(lambda: self.client().ping(), f"redis {self.port}")

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=5, socket_connect_timeout=1)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


class SentinelSet:
    """A master, two replicas and three Sentinels (quorum 2) on private ports, as
    deploy/overlays/prod runs them. Two replicas, because an alert is acknowledged only once
    its writes are on one (`--redis-min-replicas 1`): after a failover the promoted replica
    needs a replica of its own for processing to go on.

    `down_after_ms` is how long the master must be silent before a Sentinel calls it down;
    the failover then takes a few hundred milliseconds more (TESTING notes: 2.2 s in all with
    1,000 ms).
    """

    SERVICE = "chaosmaster"

    def __init__(self, directory: Path, down_after_ms: int = 1000) -> None:
        self.directory = directory
        self.master = RedisServer(directory / "master", free_port())
        self.replicas = [RedisServer(directory / f"replica{i}", free_port(), self.master.port)
                         for i in range(2)]
        self.sentinel_ports = [free_port() for _ in range(3)]
        self.down_after_ms = down_after_ms
        self.sentinels: list[subprocess.Popen[bytes]] = []

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{port}" for port in self.sentinel_ports)
        return f"redis+sentinel://{hosts}/{self.SERVICE}/0"

    def start(self) -> None:
        self.master.start()
        for replica in self.replicas:
            replica.start()
            _wait_for(lambda r=replica: r.client().info("replication")["master_link_status"]
                      == "up", "the replica's link to the master")
        for number, port in enumerate(self.sentinel_ports):
            folder = self.directory / f"sentinel{number}"
            folder.mkdir(parents=True, exist_ok=True)
            config = folder / "sentinel.conf"
            config.write_text(
                f"port {port}\nbind 127.0.0.1\ndir {folder}\n"
                f"sentinel monitor {self.SERVICE} 127.0.0.1 {self.master.port} 2\n"
                f"sentinel down-after-milliseconds {self.SERVICE} {self.down_after_ms}\n"
                f"sentinel failover-timeout {self.SERVICE} 10000\n"
                f"sentinel parallel-syncs {self.SERVICE} 1\n")
            log = (folder / "sentinel.log").open("ab")
            self.sentinels.append(subprocess.Popen(
                ["redis-server", str(config), "--sentinel"], stdout=log, stderr=log,
                start_new_session=True))
        # Every Sentinel knows the replica and the other Sentinels before anything is killed.
        for port in self.sentinel_ports:
            client = redis.Redis(port=port, socket_timeout=2)

            def ready(c: redis.Redis = client) -> bool:
                state = c.sentinel_master(self.SERVICE)
                return bool(state["num-slaves"] >= 2 and state["num-other-sentinels"] >= 2)

            _wait_for(ready, f"sentinel {port} to see the replica and its peers", timeout=30)

    async def failover_again(self, timeout: float = 15) -> None:
        """`SENTINEL FAILOVER`: promote another replica although the master is alive, as a
        false failover does. Asked of each Sentinel in turn until one starts it: right after a
        promotion they refuse for a moment (the last one still in progress, or the replica not
        yet known as the new master's)."""
        deadline = time.monotonic() + timeout
        while True:
            for port in self.sentinel_ports:
                client = redis.Redis(port=port, socket_timeout=2)
                try:
                    client.execute_command("SENTINEL", "FAILOVER", self.SERVICE)
                    return
                except (redis.RedisError, OSError) as exc:
                    refusal = str(exc)
                finally:
                    client.close()
            if time.monotonic() > deadline:
                raise AssertionError(f"no Sentinel would fail over again: {refusal}")
            await asyncio.sleep(0.1)

    def master_port(self) -> int:
        """The port the Sentinels name as master now."""
        client = redis.Redis(port=self.sentinel_ports[0], socket_timeout=2)
        _host, port = client.sentinel_get_master_addr_by_name(self.SERVICE)
        return int(port)

    def stop(self) -> None:
        for proc in self.sentinels:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
        for server in (self.master, *self.replicas):
            server.kill()


def _wait_for(check: Callable[[], object], what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(redis.RedisError, OSError, KeyError):
            if check():
                return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
