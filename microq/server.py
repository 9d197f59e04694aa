"""Running nodes: one process serving every port, or N of them sharing the ports (SO_REUSEPORT)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import subprocess
import sys
import time

from aiohttp import web

from microq.app import create_app
from microq.embedded import EmbeddedRedis
from microq.settings import Settings

log = logging.getLogger(__name__)


def listening_socket(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                          flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)  # every worker binds the same port
    sock.bind(address)
    sock.listen(1024)
    sock.setblocking(False)
    return sock


async def run_node(settings: Settings, host: str, ports: list[int]) -> None:
    """Serve until SIGTERM or SIGINT, then drain: in-flight requests finish, long-polls are answered."""
    app = create_app(settings)
    runner = web.AppRunner(app, access_log=None, handle_signals=False,
                           shutdown_timeout=settings.shutdown_timeout)
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        for port in ports:
            await web.SockSite(runner, listening_socket(host, port)).start()
        log.info("microq node %d listening on %s", os.getpid(),
                 ", ".join(f"http://{host}:{port}" for port in ports))
        await stop.wait()
        log.info("draining: finishing in-flight requests")
    finally:
        await runner.cleanup()


def serve(settings: Settings, host: str, ports: list[int], workers: int) -> int:
    if workers <= 1:
        asyncio.run(run_node(settings, host, ports))
        return 0
    return _supervise(settings, host, ports, workers)


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
