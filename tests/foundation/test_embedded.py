"""`microq serve` as a process with the embedded redis-server: start, restart, sharing, workers."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator

import redis as redis_sync

from tests.helpers import free_port, stop_process as stop


def _ready(port: int, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"microq exited with {process.returncode}"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError("microq did not become ready")


@contextlib.contextmanager
def microq_serve(data_dir: Path, *args: str) -> Iterator[tuple[subprocess.Popen, int]]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(MICROQ_DATA_DIR=str(data_dir), MICROQ_LOG_LEVEL="WARNING")
    process = subprocess.Popen([sys.executable, "-m", "microq", "serve", "--port", str(port), *args],
                               env=env, cwd=data_dir.parent, stdin=subprocess.DEVNULL)
    try:
        _ready(port, process)
        yield process, port
    finally:
        stop(process)


def redis_pid(data_dir: Path) -> int:
    return int((data_dir / "redis.pid").read_text())


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not Path(f"/proc/{pid}/status").read_text().count("State:\tZ")


def wait_dead(pid: int, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return False


def test_embedded_start_restart_keeps_data(tmp_path: Path):
    data = tmp_path / "data"
    with microq_serve(data) as (process, _):
        client = redis_sync.Redis(unix_socket_path=str(data / "redis.sock"))
        client.set("kept", "across restarts")
        assert client.config_get("appendonly")["appendonly"] == "yes"
        assert client.config_get("appendfsync")["appendfsync"] == "everysec"
        client.close()
        pid = redis_pid(data)
        assert stop(process) == 0
    assert wait_dead(pid), "the last node stops its embedded redis-server"
    assert (data / "appendonly.aof").exists()
    with microq_serve(data):
        client = redis_sync.Redis(unix_socket_path=str(data / "redis.sock"))
        assert client.get("kept") == b"across restarts"
        client.close()


def test_two_nodes_on_one_data_folder_share_one_redis(tmp_path: Path):
    data = tmp_path / "data"
    with microq_serve(data) as (first, _):
        pid = redis_pid(data)
        with microq_serve(data) as (second, _):
            assert redis_pid(data) == pid
            assert stop(first) == 0
            time.sleep(0.3)
            assert alive(pid), "still in use by the second node"
            client = redis_sync.Redis(unix_socket_path=str(data / "redis.sock"))
            assert client.ping()
            client.close()
        assert wait_dead(pid), "the last node to leave stops it"


def test_workers_share_the_port_and_the_redis(tmp_path: Path):
    data = tmp_path / "data"
    with microq_serve(data, "--workers", "2") as (process, port):
        children = [pid for pid in Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
                    if b"microq" in Path(f"/proc/{pid}/cmdline").read_bytes()]
        assert len(children) == 2
        pid = redis_pid(data)
        for _ in range(20):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as response:
                assert response.status == 200
        assert stop(process) == 0
    assert wait_dead(pid)
    assert all(wait_dead(int(child)) for child in children)


async def test_embedded_redis_serves_pub_sub_wake_ups_over_its_unix_socket(aiohttp_client, tmp_path: Path, caplog):
    """Long-polls and live streams subscribe on their own connection: it must work on the socket too."""
    import asyncio

    from microq.app import create_app
    from microq.settings import Settings

    settings = Settings(redis_url="", data_dir=tmp_path / "data")
    consumer = await aiohttp_client(create_app(settings))
    publisher = await aiohttp_client(create_app(settings))
    poll = asyncio.create_task(consumer.get("/consume/wake.test?timeout=20s"))
    await asyncio.sleep(0.3)
    assert (await publisher.post("/publish/wake.test", data=b"hello")).status == 202
    response = await asyncio.wait_for(poll, 5)
    assert response.status == 200 and (await response.json())["payload"] == "aGVsbG8="
    assert "not subscribed" not in caplog.text and "reconnecting" not in caplog.text
