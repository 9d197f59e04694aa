"""A real redis-server stalled (SIGSTOP), killed, full, read-only or busy: every request answers
503 with Retry-After in time, nothing is resent, and an answer that did not come back was
applied at most once."""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import signal
import time
from pathlib import Path

import pytest
from redis.asyncio import Redis

from microq.app import create_app
from microq.errors import Unavailable
from microq.redis_client import connect
from microq.scripts import Scripts, load_scripts
from microq.settings import Settings
from tests.foundation.test_scripts import ECHO
from tests.helpers import RedisProcess


@pytest.fixture
def own_redis(tmp_path: Path):
    server = RedisProcess(tmp_path / "redis").start()
    yield server
    if server.process and server.process.poll() is None:
        os.kill(server.process.pid, signal.SIGCONT)
    server.stop()


def echo_scripts(tmp_path: Path) -> dict:
    (tmp_path / "lua" / "includes").mkdir(parents=True)
    (tmp_path / "lua" / "test_echo-1.lua").write_text(ECHO)
    return load_scripts(tmp_path / "lua")


async def test_a_stalled_redis_answers_503_in_time_and_the_call_applies_at_most_once(own_redis, tmp_path):
    client = connect(own_redis.url, socket_timeout=1.0)
    scripts = Scripts(client, echo_scripts(tmp_path))
    await scripts.preload()
    os.kill(own_redis.process.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        results = await asyncio.gather(*(scripts.call("test_echo", [f"c{i}"], ["ok"]) for i in range(10)),
                                       return_exceptions=True)
        waited = time.monotonic() - started
        assert all(isinstance(r, Unavailable) and r.headers["Retry-After"] for r in results), results
        assert waited < 3.0  # the 1 s deadline, not a retry after it
    finally:
        os.kill(own_redis.process.pid, signal.SIGCONT)
    check = Redis.from_url(own_redis.url)
    try:
        await asyncio.sleep(0.2)
        counts = [int(v or 0) for v in await check.mget([f"c{i}" for i in range(10)])]
        assert all(c <= 1 for c in counts), counts  # reached Redis once at most: never resent
        assert await scripts.call("test_echo", ["after"], ["ok"]) == 1  # and the runner works again
    finally:
        await check.aclose()
        await client.aclose()


async def test_plain_redis_py_client_never_resends_either(own_redis):
    """connect()'s client is also what the CLI and tests use: its own command path must not retry."""
    client = connect(own_redis.url, socket_timeout=1.0)
    await client.set("n", 0)
    os.kill(own_redis.process.pid, signal.SIGSTOP)
    try:
        with pytest.raises(Exception):
            await client.incr("n")
    finally:
        os.kill(own_redis.process.pid, signal.SIGCONT)
    await asyncio.sleep(0.2)
    assert int(await client.get("n")) == 1
    await client.aclose()


async def test_http_request_on_a_stalled_redis_is_503_within_the_socket_timeout(own_redis, aiohttp_client, tmp_path):
    """The default 5 s socket timeout: a publish answers 503 in about 5 s, and after SIGCONT
    the message is stored once at most."""
    client = await aiohttp_client(create_app(Settings(redis_url=own_redis.url, data_dir=tmp_path / "d")))
    assert (await client.get("/readyz")).status == 200
    os.kill(own_redis.process.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        response = await client.post("/publish/stalled", data=b"once")
        waited = time.monotonic() - started
        assert response.status == 503 and response.headers["Retry-After"] == "1"
        assert "redis unavailable" in (await response.json())["error"]
        assert 4.0 < waited < 7.5
    finally:
        os.kill(own_redis.process.pid, signal.SIGCONT)
    for _ in range(50):
        if (await client.get("/readyz")).status == 200:
            break
        await asyncio.sleep(0.1)
    got = []
    while True:
        response = await client.get("/consume/stalled?timeout=100ms")
        if response.status != 200:
            break
        got.append(base64.b64decode((await response.json())["payload"]))
    assert got in ([], [b"once"])


async def test_killed_redis_is_503_with_retry_after_and_not_a_500(own_redis, aiohttp_client, tmp_path, caplog):
    client = await aiohttp_client(create_app(Settings(redis_url=own_redis.url, data_dir=tmp_path / "d")))
    own_redis.stop()
    caplog.set_level(logging.WARNING)
    for method, path in (("post", "/publish/t"), ("get", "/consume/t?timeout=0"), ("get", "/readyz"),
                         ("get", "/api/stats")):
        response = await getattr(client, method)(path, data=b"x") if method == "post" else await client.get(path)
        assert response.status == 503, (path, await response.text())
        assert response.headers.get("Retry-After") == "1"
        error = (await response.json())["error"]
        # the client hears what kind of failure; which server, and what it said, is for the log
        assert error.startswith("redis unavailable, try again shortly (") and str(own_redis.port) not in error
    assert "internal error" not in caplog.text and "Traceback" not in caplog.text
    assert f"127.0.0.1:{own_redis.port}" in caplog.text
    own_redis.start()  # the node shuts down against a live Redis, as the other tests do


async def test_out_of_memory_and_read_only_and_busy_are_503(own_redis, aiohttp_client, tmp_path):
    client = await aiohttp_client(create_app(Settings(redis_url=own_redis.url, data_dir=tmp_path / "d")))
    admin = Redis.from_url(own_redis.url)
    try:
        assert (await client.post("/publish/full", data=b"x")).status == 202
        await admin.config_set("maxmemory", 1)  # OOM command not allowed when used memory > 'maxmemory'
        response = await client.post("/publish/full", data=b"y")
        assert response.status == 503 and "OOM" in (await response.json())["error"]
        await admin.config_set("maxmemory", 0)

        other = RedisProcess(tmp_path / "primary").start()
        try:
            await admin.replicaof("127.0.0.1", other.port)  # READONLY You can't write against a read only replica
            for _ in range(50):
                response = await client.post("/publish/ro", data=b"x")
                if response.status != 202:
                    break
                await asyncio.sleep(0.1)
            assert response.status == 503 and "READONLY" in (await response.json())["error"]
            await admin.replicaof("no", "one")
        finally:
            other.stop()

        await admin.config_set("lua-time-limit", 50)
        busy = Redis.from_url(own_redis.url)
        spin = asyncio.ensure_future(busy.eval("local t = redis.call('TIME')[1] while redis.call('TIME')[1] - t < 2 do end", 0))
        for _ in range(40):  # until the script runs (it was only scheduled): BUSY Redis is busy running a script
            response = await client.post("/publish/busy", data=b"x")
            if response.status != 202:
                break
            await asyncio.sleep(0.02)
        assert response.status == 503 and "BUSY" in (await response.json())["error"]
        await asyncio.wait_for(spin, 5)
        await busy.aclose()
    finally:
        await admin.aclose()
