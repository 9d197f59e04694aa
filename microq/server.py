"""Running nodes: one process serving every port, or N of them sharing the ports (SO_REUSEPORT)."""

from __future__ import annotations

import asyncio
import ctypes
import gc
import logging
import os
import signal
import socket
import struct
import subprocess
import sys
import time
from typing import Any, Callable

from aiohttp import web

from microq.app import create_app
from microq.connections import Limits, Pool, raise_fd_limit
from microq.embedded import EmbeddedRedis
from microq.listening import PortClaims, listening_sockets, url
from microq.settings import Settings

log = logging.getLogger(__name__)

BACKLOG = 1024  #: connections the kernel queues per listening socket before the node accepts them
#: allocations between two collections of the young generation. Each one walks every in-flight
#: request's coroutines and frames (3,000 young objects at 64 connections), so at CPython's 700 it
#: ran every ~40 requests and took 6-8% of the node's CPU; at 20,000 the garbage it waits to find
#: (a few cycles a second under load) is still bounded by that count.
GC_YOUNG_THRESHOLD = 20_000


def settle_collector() -> None:
    """Once the node has started: move what start-up made (modules, routes, the app: ~70,000
    objects) out of the collector's sight, so that a full collection walks only what serving made.
    One took ~90 ms of a blocked event loop before, 3-5 ms after. Collected first, so that no
    start-up garbage is frozen for good."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])


class _Site(web.SockSite):
    """A listening socket whose connections are `Connection`s, and whose stop() first accepts
    what the kernel already queued: those clients have sent their requests, and closing a
    listening socket resets every connection still in its queue."""

    def __init__(self, runner: web.AppRunner, sock: socket.socket, factory: Callable[[], Any]) -> None:
        super().__init__(runner, sock, backlog=BACKLOG)
        self._factory = factory

    async def start(self) -> None:
        await web.BaseSite.start(self)  # registers the site with its runner
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._factory, sock=self._sock, backlog=BACKLOG)

    async def stop(self) -> None:
        """The kernel completes handshakes on its own, so a connection can join the queue between
        the last accept() and close(), and close() resets it. So first new connections are
        refused their handshake (a SYN-dropping filter: their clients retry in about a second,
        find the port closed and get "connection refused"), then the queue, which can now only
        shrink, is accepted to the end, handshakes already under way included."""
        queued = self._sock.dup()  # keeps the socket listening while asyncio closes its own descriptor
        filtered = _drop_new_handshakes(queued)
        loop = asyncio.get_running_loop()
        # asyncio makes the transports of what it accepted in a task of their own, and a transport
        # made after its server closed is dropped: unread, so reset. So it accepts no more, and
        # what it accepted is made into connections first.
        loop.remove_reader(self._sock.fileno())
        for _ in range(2):
            await asyncio.sleep(0)
        await super().stop()
        try:
            while True:
                accepted = _accept_queued(queued)
                if not accepted and filtered:
                    await asyncio.sleep(HANDSHAKE_GRACE)  # an ACK on its way completes one more
                    accepted = _accept_queued(queued)
                if not accepted:
                    break
                for sock in accepted:
                    await loop.connect_accepted_socket(self._factory, sock)
        finally:
            queued.close()  # from here on, new connections are refused


HANDSHAKE_GRACE = 0.05  #: seconds a handshake answered before the filter has to complete (an RTT and more)
_SO_ATTACH_FILTER = 26  #: Linux, <asm-generic/socket.h>
#: classic BPF, run on each TCP segment from its header: drop it (0) when SYN is set, else keep it all
_DROP_SYN = [(0x30, 0, 0, 13),          # ldb [13]         the flags byte
             (0x45, 0, 1, 0x02),        # jset #SYN, 0, 1
             (0x06, 0, 0, 0),           # ret #0           drop
             (0x06, 0, 0, 0xFFFFFFFF)]  # ret #-1          keep


def _drop_new_handshakes(sock: socket.socket) -> bool:
    """Make `sock` ignore SYNs; False where the kernel has no socket filters (not Linux)."""
    program = ctypes.create_string_buffer(b"".join(struct.pack("HBBI", *op) for op in _DROP_SYN))
    try:
        sock.setsockopt(socket.SOL_SOCKET, _SO_ATTACH_FILTER,
                        struct.pack("HL", len(_DROP_SYN), ctypes.addressof(program)))
    except OSError as exc:
        log.debug("cannot hold new connections off while draining: %s", exc)
        return False
    return True


def _accept_queued(sock: socket.socket) -> list[socket.socket]:
    accepted = []
    while True:
        try:
            connection, _ = sock.accept()
        except OSError:  # BlockingIOError: the queue is empty
            return accepted
        accepted.append(connection)


async def run_node(settings: Settings, host: str, ports: list[int]) -> None:
    """Serve until SIGTERM or SIGINT, then drain (see README "Shutdown")."""
    raise_fd_limit()
    limits = Limits.from_settings(settings)
    pool = Pool(limits)
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(pool.loop_exception)
    app = create_app(settings)
    app.on_response_prepare.append(pool.mark_last)
    runner = web.AppRunner(app, access_log=None, handle_signals=False,
                           shutdown_timeout=settings.shutdown_timeout)
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await runner.setup()
    try:
        assert runner.server is not None
        factory = pool.factory(runner.server)
        urls = []
        for port in ports:
            for sock in listening_sockets(host, port):
                await _Site(runner, sock, factory).start()
                urls.append(url(sock.getsockname()[0], port))
        settle_collector()
        log.info("microq node %d listening on %s (at most %d connections)", os.getpid(), ", ".join(urls),
                 limits.max_connections)
        await stop.wait()
        log.info("draining: answering what has arrived, then closing")
        pool.draining = True
        for site in list(runner.sites):
            await site.stop()
        await pool.drain(settings.shutdown_timeout)
    finally:
        await runner.cleanup()  # long-polls answered, SSE ended, in-flight requests finished


def serve(settings: Settings, host: str, ports: list[int], workers: int) -> int:
    claims = PortClaims(settings, ports)  # before anything starts: another store's node fails us here
    try:
        if workers <= 1:
            asyncio.run(run_node(settings, host, ports))
            return 0
        return _supervise(settings, host, ports, workers)
    finally:
        claims.close()


def _supervise(settings: Settings, host: str, ports: list[int], workers: int) -> int:
    """Start the embedded Redis once, then N worker processes on it; restart any that die."""
    embedded = None
    env = dict(os.environ)
    if not settings.redis_url:
        embedded = EmbeddedRedis(settings.data_dir)
        env["REDIS_URL"] = embedded.attach()
    command = [sys.executable, "-m", "microq", "serve", "--host", host, "--workers", "1"]
    for port in ports:
        command += ["--port", str(port)]
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    children = [subprocess.Popen(command, env=env) for _ in range(workers)]
    try:
        while not stopping:
            for i, child in enumerate(children):
                if child.poll() is not None:
                    log.warning("worker %d exited with %s; starting another", child.pid, child.returncode)
                    children[i] = subprocess.Popen(command, env=env)
            time.sleep(0.2)
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(settings.shutdown_timeout + 5)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        if embedded is not None:
            embedded.release()
    return 0
