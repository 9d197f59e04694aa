"""`python -m microq serve` as a real subprocess on free ports, for the serving tests."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from tests.helpers import stop_process


def start_node(cwd: Path, ports: list[int], *, host: str = "127.0.0.1", workers: int = 1,
               env: dict[str, str] | None = None, log: Path | None = None) -> subprocess.Popen:
    command = [sys.executable, "-m", "microq", "serve", "--host", host, "--workers", str(workers)]
    for port in ports:
        command += ["--port", str(port)]
    full_env = {**os.environ, "MICROQ_LOG_LEVEL": "INFO", **(env or {})}
    if not full_env.get("REDIS_URL"):  # an empty REDIS_URL: the embedded Redis in cwd/data
        full_env.pop("REDIS_URL", None)
    out = open(log or cwd / "node.log", "ab")
    return subprocess.Popen(command, env=full_env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out,
                            stderr=subprocess.STDOUT)


async def wait_ready(base: str, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"node exited with {process.returncode}")
            try:
                async with session.get(f"{base}/readyz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError(f"{base} not ready in {timeout} s")


def stop_node(process: subprocess.Popen) -> int | None:
    return stop_process(process, 30.0)
