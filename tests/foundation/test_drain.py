"""SIGTERM drains: a waiting long-poll is answered, then the node exits cleanly."""

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from tests.helpers import free_port


async def test_sigterm_answers_waiting_long_polls_and_exits_cleanly(redis_url: str, tmp_path: Path):
    port = free_port()
    env = {**os.environ, "REDIS_URL": redis_url, "MICROQ_LOG_LEVEL": "WARNING",
           "MICROQ_SHUTDOWN_TIMEOUT": "20s"}
    process = subprocess.Popen([sys.executable, "-m", "microq", "serve", "--port", str(port)],
                               env=env, cwd=tmp_path, stdin=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as session:
            for _ in range(300):
                try:
                    async with session.get(f"{base}/readyz") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)
            poll = asyncio.create_task(session.get(f"{base}/consume/drain-test?timeout=60s"))
            await asyncio.sleep(0.5)  # let the long-poll start waiting
            assert not poll.done()
            os.kill(process.pid, signal.SIGTERM)
            response = await asyncio.wait_for(poll, 30)
            assert response.status == 404  # the seed's answer for "no message"
            assert "error" in await response.json()
        assert await asyncio.to_thread(process.wait, 30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


async def _keep_alive_loop(base: str, topic: str, outcomes: dict[str, list], stop_at: list[float]) -> None:
    """Requests back to back on one keep-alive connection until the node refuses a new one."""
    connector = aiohttp.TCPConnector(limit=1)
    async with aiohttp.ClientSession(connector=connector) as session:
        n = 0
        previous = ""
        while True:
            n += 1
            sent_at = asyncio.get_running_loop().time()
            try:
                if n % 2:
                    request = session.post(f"{base}/publish/{topic}", data=f"m{n}".encode())
                else:
                    request = session.get(f"{base}/healthz")
                async with request as response:
                    await response.read()
                    previous = response.headers.get("Connection", "")
                    outcomes["answered"].append((n, response.status, previous))
                    if n % 2 and response.status == 202:
                        outcomes["published"].append(f"m{n}")
            except aiohttp.ClientConnectorError as exc:  # connect() refused: the listening socket is closed
                outcomes["refused"].append((n, str(exc)))
                return
            except (aiohttp.ClientError, OSError) as exc:  # a reset or a dropped connection: a lost request
                outcomes["lost"].append((n, sent_at - stop_at[0] if stop_at else None, repr(exc),
                                         "on a new connection" if previous.lower() == "close" else "on a kept one"))
                return
            if len(outcomes["answered"]) > 200000:
                return


async def test_sigterm_under_keep_alive_load_answers_every_request(redis_url: str, redis, tmp_path: Path):
    """Four clients loop on keep-alive connections while SIGTERM arrives: every request is answered
    (the last one on each connection with Connection: close) or, once the node stopped listening,
    its new connection is refused; none is reset or dropped, and every accepted publish is stored."""
    from tests.foundation.nodes import start_node, wait_ready

    port = free_port()
    process = start_node(tmp_path, [port], env={"REDIS_URL": redis_url, "MICROQ_SHUTDOWN_TIMEOUT": "20s"})
    try:
        base = f"http://127.0.0.1:{port}"
        await wait_ready(base, process)
        outcomes: dict[str, list] = {"answered": [], "published": [], "refused": [], "lost": []}
        stop_at: list[float] = []
        loops = [asyncio.create_task(_keep_alive_loop(base, "drain-load", outcomes, stop_at)) for _ in range(4)]
        await asyncio.sleep(1.5)
        stop_at.append(asyncio.get_running_loop().time())
        os.kill(process.pid, signal.SIGTERM)
        await asyncio.wait_for(asyncio.gather(*loops), 60)
        assert await asyncio.to_thread(process.wait, 30) == 0
        assert not outcomes["lost"], outcomes["lost"][:5]
        assert len(outcomes["refused"]) == 4  # each loop ends at a refused connect, after its last answer
        closes = [a for a in outcomes["answered"] if a[2].lower() == "close"]
        assert len(closes) >= 4, "each keep-alive connection's last answer says Connection: close"
        assert len(outcomes["answered"]) > 50
        assert await redis.hlen("mq:t:{drain-load}:msgs") == len(outcomes["published"])
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


async def _new_connection_loop(base: str, outcomes: dict[str, list]) -> None:
    """A new connection per request (Connection: close from the client) until one is refused."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as session:
        while True:
            try:
                async with session.post(f"{base}/publish/drain-fresh", data=b"m") as response:
                    await response.read()
                    outcomes["answered"].append(response.status)
                    if response.status == 202:
                        outcomes["published"].append(1)
            except aiohttp.ClientConnectorError as exc:
                outcomes["refused"].append(str(exc))
                return
            except (aiohttp.ClientError, OSError) as exc:
                outcomes["lost"].append((repr(exc), time.time()))
                return


async def test_sigterm_answers_connections_already_queued_and_refuses_later_ones(redis_url: str, redis,
                                                                                tmp_path: Path):
    """Connections the kernel accepted before the listening socket closed are answered; after it
    closed, connecting is refused. None is reset."""
    from tests.foundation.nodes import start_node, wait_ready

    port = free_port()
    process = start_node(tmp_path, [port], env={"REDIS_URL": redis_url, "MICROQ_SHUTDOWN_TIMEOUT": "20s"})
    try:
        base = f"http://127.0.0.1:{port}"
        await wait_ready(base, process)
        outcomes: dict[str, list] = {"answered": [], "published": [], "refused": [], "lost": []}
        loops = [asyncio.create_task(_new_connection_loop(base, outcomes)) for _ in range(8)]
        await asyncio.sleep(1.0)
        os.kill(process.pid, signal.SIGTERM)
        await asyncio.wait_for(asyncio.gather(*loops), 60)
        assert await asyncio.to_thread(process.wait, 30) == 0
        assert not outcomes["lost"], outcomes["lost"][:5]
        assert len(outcomes["refused"]) == 8
        assert set(outcomes["answered"]) == {202}
        assert await redis.hlen("mq:t:{drain-fresh}:msgs") == len(outcomes["published"])
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
