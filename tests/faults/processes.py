"""`python -m microq serve` nodes as real processes, and the signals the fault tests send.

Every process is started here and stopped by its PID (SIGCONT first, in case a test left it
stopped), also when a test fails half-way: `Processes` is used as a context manager.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from redis.crc import key_slot

from tests.helpers import RedisClusterProcesses, RedisProcess, free_port, stop_process

FORBIDDEN_PORTS = {5000, 7800}  # the defaults: SO_REUSEPORT would share them with other people's nodes


def _api_key() -> str:
    """A work API key whose security slot (`{k:<SHA-256>}`) is in the last third of the Cluster's
    slots, like this client's address (`{a:127.0.0.1}`, slot 13121), never in the middle third
    that holds today's single `{work}` slot: so the Cluster test that kills `{work}`'s primary
    does not also kill this client's own key and address, once security state is split by them."""
    for n in range(1000):
        key = f"fault-suite-key-{n:04d}-0123456789"
        if key_slot(f"{{k:{hashlib.sha256(key.encode()).hexdigest()}}}".encode()) >= 10923:
            return key
    raise AssertionError("no key found")


API_KEY = _api_key()
NODE_READY_S = 30.0  # a node answers /readyz within this (2 cores shared by many test runs)


def _node_port() -> int:
    while (port := free_port()) in FORBIDDEN_PORTS:
        pass
    return port


class Node:
    """One `python -m microq serve` process on a free loopback port, its log in a file."""

    def __init__(self, directory: Path, env: dict[str, str]) -> None:
        self.port = _node_port()
        self.directory = directory
        self.log_path = directory / f"node-{self.port}.log"
        self.env = env
        self.process: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Node:
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "microq", "serve", "--port", str(self.port)],
                env=self.env, cwd=self.directory, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        return self

    def wait_ready(self, timeout: float = NODE_READY_S) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None and self.process.poll() is None, \
                f"node exited with {self.process.returncode if self.process else None}: {self.log_tail()}"
            try:
                with urllib.request.urlopen(f"{self.base}/readyz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"node on {self.port} not ready: {self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL: no drain, no goodbye, requests in flight are cut."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, 15)

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def tracebacks(self) -> list[str]:
        text = self.log_tail(1_000_000)
        return [chunk for chunk in text.split("Traceback (most recent call last)")[1:]]


def pause(process: subprocess.Popen) -> None:
    os.kill(process.pid, signal.SIGSTOP)


def resume(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGCONT)


def kill_redis(server: RedisProcess) -> None:
    """SIGKILL a redis-server: whatever it had not written to its AOF is gone."""
    if server.process is not None and server.process.poll() is None:
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait(10)


class Processes:
    """Everything one scenario starts: Redis servers, Cluster nodes, MicroQ nodes; all stopped on exit."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.nodes: list[Node] = []
        self.servers: list[RedisProcess] = []

    def __enter__(self) -> Processes:
        return self

    def __exit__(self, *exc) -> None:
        for node in self.nodes:
            if node.process is not None:
                resume(node.process)
            node.stop()
        for server in self.servers:
            if server.process is not None:
                resume(server.process)
            server.stop()

    def redis(self, appendonly: bool = True) -> RedisProcess:
        server = RedisProcess(self.directory / "redis", appendonly=appendonly)
        self.servers.append(server)
        return server.start()

    def cluster(self, appendonly: bool = True) -> RedisClusterProcesses:
        cluster = RedisClusterProcesses(self.directory / "cluster", appendonly=appendonly,
                                        extra=("--cluster-require-full-coverage", "no"))
        self.servers.extend(cluster.nodes)
        return cluster.start()

    def node(self, redis_url: str, cluster: bool = False, **env: str) -> Node:
        """Start a node (not waiting for it: call wait_ready, or `ready_nodes`)."""
        base = {k: v for k, v in os.environ.items() if not k.startswith(("MICROQ_", "REDIS_URL"))}
        base.update(REDIS_URL=redis_url, MICROQ_REDIS_CLUSTER="true" if cluster else "false",
                    MICROQ_API_KEYS=API_KEY, MICROQ_LOG_LEVEL="WARNING",
                    MICROQ_DATA_DIR=str(self.directory / "data"),
                    MICROQ_RATE_LIMIT_QUEUE="1000000/minute",  # the load is not a client to throttle
                    MICROQ_VISIBILITY_TIMEOUT="2s",  # an unacked consume comes back quickly
                    MICROQ_MAX_ATTEMPTS="1000",  # redeliveries after faults must not dead-letter
                    MICROQ_SHUTDOWN_TIMEOUT="2s")
        base.update(env)
        node = Node(self.directory / "nodes", base)
        self.nodes.append(node)
        return node.start()

    def ready_nodes(self, count: int, redis_url: str, cluster: bool = False, **env: str) -> list[Node]:
        nodes = [self.node(redis_url, cluster, **env) for _ in range(count)]
        for node in nodes:
            node.wait_ready()
        return nodes
