"""Split brain refused, workers of one serve sharing, IPv6 and localhost: real `microq serve` processes."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import aiohttp
import pytest

from tests.foundation.nodes import start_node, wait_ready
from tests.helpers import free_port, stop_process


def _wait_exit(process, timeout: float = 30.0) -> int:
    return process.wait(timeout)


async def test_a_node_of_another_redis_on_the_same_port_fails_with_address_in_use(redis_url, tmp_path: Path):
    port = free_port()
    first = start_node(tmp_path, [port], env={"REDIS_URL": redis_url})
    second = None
    try:
        await wait_ready(f"http://127.0.0.1:{port}", first)
        other_url = redis_url.rsplit("/", 1)[0] + "/1"  # the same server, another database: another store
        log = tmp_path / "second.log"
        second = start_node(tmp_path, [port], env={"REDIS_URL": other_url}, log=log)
        assert await asyncio.to_thread(_wait_exit, second) == 1
        assert "address in use" in log.read_text()
        assert first.poll() is None
    finally:
        if second is not None:
            stop_process(second)
        stop_process(first)


async def test_a_node_of_another_data_folder_on_the_same_port_fails(tmp_path: Path):
    port = free_port()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = start_node(tmp_path / "a", [port], env={"REDIS_URL": ""})
    second = None
    try:
        await wait_ready(f"http://127.0.0.1:{port}", first, timeout=60)
        log = tmp_path / "second.log"
        second = start_node(tmp_path / "b", [port], env={"REDIS_URL": ""}, log=log)
        assert await asyncio.to_thread(_wait_exit, second) == 1
        text = log.read_text()
        assert "address in use" in text
        assert not (tmp_path / "b" / "data").exists(), "refused before starting its embedded Redis"
    finally:
        if second is not None:
            stop_process(second)
        stop_process(first)


async def test_workers_of_one_serve_and_a_second_serve_of_the_same_store_share_the_port(redis_url, tmp_path: Path):
    port = free_port()
    workers = start_node(tmp_path, [port], env={"REDIS_URL": redis_url}, workers=2)
    same = None
    try:
        base = f"http://127.0.0.1:{port}"
        await wait_ready(base, workers)
        same = start_node(tmp_path, [port], env={"REDIS_URL": redis_url}, log=tmp_path / "same.log")
        await wait_ready(base, same)
        await asyncio.sleep(1)
        assert workers.poll() is None and same.poll() is None
    finally:
        if same is not None:
            stop_process(same)
        stop_process(workers)
    for log in ("node.log", "same.log"):
        assert "address in use" not in (tmp_path / log).read_text()


def _has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
            return True
    except OSError:
        return False


@pytest.mark.skipif(not _has_ipv6_loopback(), reason="no IPv6 loopback here")
@pytest.mark.parametrize("host", ["::1", "localhost"])
async def test_ipv6_and_localhost(redis_url, tmp_path: Path, host: str):
    port = free_port()
    node = start_node(tmp_path, [port], host=host, env={"REDIS_URL": redis_url})
    try:
        await wait_ready(f"http://[::1]:{port}", node)
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://[::1]:{port}/healthz") as response:
                assert response.status == 200
            if host == "localhost":  # both families
                async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                    assert response.status == 200
        assert f"http://[::1]:{port}" in (tmp_path / "node.log").read_text()
    finally:
        stop_process(node)
