"""The cost of a /metrics scrape as topics grow, beside GET /healthz on the same node (the anchor),
and what a scrape does to other requests' latency (the state is read in chunks that yield the
event loop). The longest /healthz without scrapes is the anchor for that: with many topics the
topics part's once-a-second sweep runs on the same loop. `python -m bench.bench_metrics [max_topics]`"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp

from bench.common import percentile, print_table, start_microq, start_redis


async def fill(base: str, have: int, want: int) -> None:
    """Topics t<have>..t<want-1>, one message each, published over HTTP (16 at a time)."""
    async with aiohttp.ClientSession() as session:
        names = iter(range(have, want))

        async def publisher() -> None:
            for i in names:
                async with session.post(f"{base}/publish/bench.t{i}", data=b"x") as answer:
                    assert answer.status == 202, answer.status

        await asyncio.gather(*(publisher() for _ in range(16)))


async def timed_gets(session: aiohttp.ClientSession, url: str, count: int) -> tuple[list[float], int]:
    times, size = [], 0
    for _ in range(count):
        started = time.perf_counter()
        async with session.get(url) as answer:
            body = await answer.read()
            assert answer.status == 200
        times.append((time.perf_counter() - started) * 1000)
        size = len(body)
    return sorted(times), size


async def healthz_during(session: aiohttp.ClientSession, base: str, busy: asyncio.Task) -> list[float]:
    """GET /healthz back to back while `busy` (scrapes) runs: how long the node's loop was held."""
    times = []
    while not busy.done():
        started = time.perf_counter()
        async with session.get(f"{base}/healthz") as answer:
            await answer.read()
        times.append((time.perf_counter() - started) * 1000)
    return sorted(times)


async def measure(base: str, topics: int, scrapes: int) -> dict[str, object]:
    async with aiohttp.ClientSession() as session:
        anchor, _ = await timed_gets(session, f"{base}/healthz", 200)
        idle = await healthz_during(session, base, asyncio.create_task(asyncio.sleep(3)))
        scrape, size = await timed_gets(session, f"{base}/metrics", scrapes)
        busy = asyncio.create_task(timed_gets(session, f"{base}/metrics", scrapes))
        during = await healthz_during(session, base, busy)
        await busy
    return {"topics": topics, "healthz p50 ms (anchor)": round(percentile(anchor, 0.5), 2),
            "scrape p50 ms": round(percentile(scrape, 0.5), 1), "scrape p99 ms": round(percentile(scrape, 0.99), 1),
            "scrape / healthz": round(percentile(scrape, 0.5) / percentile(anchor, 0.5)),
            "body KiB": round(size / 1024, 1),
            "healthz max ms, 3 s without scrapes": round(max(idle), 1) if idle else "",
            "healthz max ms while scraping": round(max(during), 1) if during else "",
            "healthz p50 ms while scraping": round(percentile(during, 0.5), 2) if during else ""}


async def main(max_topics: int) -> None:
    sizes = [n for n in (0, 1000, 10000, 100000) if n <= max_topics]
    rows = []
    with start_redis() as redis, start_microq(redis.url) as base:
        have = 0
        for n in sizes:
            await fill(base, have, n)
            have = n
            rows.append(await measure(base, n, scrapes=20 if n <= 10000 else 5))
    print_table("/metrics scrape cost (MICROQ_METRICS_TOP_N=20, one node, one Redis)", rows)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 10000))
