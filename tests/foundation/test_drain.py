"""SIGTERM drains: a waiting long-poll is answered, then the node exits cleanly."""

import asyncio
import os
import signal
import subprocess
import sys
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
