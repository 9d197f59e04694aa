"""What every benchmark needs: Redis, MicroQ nodes and the bare-aiohttp ceiling as processes on
loopback, a bounded load generator, and a table printer. Run benches from the repository root:
`python -m bench.bench_topics` (or `python bench/bench_topics.py`)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Awaitable, Callable, Iterator

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.helpers import RedisProcess, free_port, stop_process, wait_for_port  # noqa: E402

try:  # a faster event loop for the load generator, when the bench extra is installed
    import uvloop

    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
except ImportError:
    pass


@contextlib.contextmanager
def start_redis() -> Iterator[RedisProcess]:
    with tempfile.TemporaryDirectory(prefix="microq-bench-") as directory:
        server = RedisProcess(Path(directory))
        server.appendonly = False
        server.start()
        try:
            yield server
        finally:
            server.stop()


def _wait_ready(url: str, process: subprocess.Popen, timeout: float = 20.0) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process for {url} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"{url} not ready")


@contextlib.contextmanager
def start_microq(redis_url: str, workers: int = 1, env: dict[str, str] | None = None) -> Iterator[str]:
    """A `microq serve` on a free loopback port; yields its base URL."""
    port = free_port()
    environment = {**os.environ, "REDIS_URL": redis_url, "MICROQ_LOG_LEVEL": "WARNING", **(env or {})}
    process = subprocess.Popen(
        [sys.executable, "-m", "microq", "serve", "--port", str(port), "--workers", str(workers)],
        env=environment, cwd=ROOT, stdin=subprocess.DEVNULL)
    try:
        _wait_ready(f"http://127.0.0.1:{port}/readyz", process)
        if workers > 1:
            time.sleep(0.5)  # let every worker bind before load starts
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(process)


@contextlib.contextmanager
def start_ceiling(workers: int = 1, limiter_redis: str | None = None) -> Iterator[str]:
    """The bare aiohttp app (GET and POST /ceiling, and /limited with limiter_redis); yields its base URL."""
    port = free_port()
    extra = ["--limiter-redis", limiter_redis] if limiter_redis else []
    process = subprocess.Popen([sys.executable, "-m", "bench.ceiling", "--port", str(port),
                                "--workers", str(workers), *extra], cwd=ROOT, stdin=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        _wait_ready(f"http://127.0.0.1:{port}/ceiling", process)
        if workers > 1:
            time.sleep(0.5)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(process)


@dataclass
class Result:
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int

    def row(self, **labels: object) -> dict[str, object]:
        return {**labels, "req/s": round(self.rps), "p50 ms": round(self.p50_ms, 2),
                "p99 ms": round(self.p99_ms, 2), "requests": self.requests, "errors": self.errors}


Request = Callable[[aiohttp.ClientSession, int], Awaitable[None]]


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


async def load(request: Request, connections: int = 64, duration: float = 5.0, warmup: float = 0.5) -> Result:
    """`connections` workers each repeating `request` for `duration` seconds, after a warm-up."""
    latencies: list[float] = []
    errors = 0
    connector = aiohttp.TCPConnector(limit=connections, force_close=False)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker(index: int, until: float, record: bool) -> None:
            nonlocal errors
            while True:
                started = time.perf_counter()
                if started >= until:
                    return
                try:
                    await request(session, index)
                except Exception:  # noqa: BLE001 - counted, reported in the table
                    if record:
                        errors += 1
                    continue
                if record:
                    latencies.append(time.perf_counter() - started)

        end = time.perf_counter() + warmup
        await asyncio.gather(*(worker(i, end, False) for i in range(connections)))
        started = time.perf_counter()
        await asyncio.gather(*(worker(i, started + duration, True) for i in range(connections)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return Result(len(latencies), len(latencies) / elapsed, percentile(latencies, 0.5) * 1000,
                  percentile(latencies, 0.99) * 1000, errors)


async def ok(response: aiohttp.ClientResponse) -> None:
    """Read the response; raise on a status >= 400 so load() counts it as an error."""
    await response.read()
    if response.status >= 400:
        raise RuntimeError(f"HTTP {response.status}")


def print_table(title: str, rows: list[dict[str, object]]) -> None:
    if not rows:
        return
    columns = list(dict.fromkeys(key for row in rows for key in row))
    cells = [[str(row.get(c, "")) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    print(f"\n## {title}\n")
    print("| " + " | ".join(c.ljust(w) for c, w in zip(columns, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells:
        print("| " + " | ".join(v.ljust(w) for v, w in zip(row, widths)) + " |")
    sys.stdout.flush()
