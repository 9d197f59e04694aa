"""The cost of a /metrics scrape as topics, lines and work queues grow, and what scraping does to
the other requests of the node, against GET /healthz on the same node without scrapes (the
anchor, same run).

Two nodes on one Redis: `shared` runs with the default MICROQ_METRICS_STATE_TTL (10 s: scrapes
serve the snapshot kept in Redis, renewed in the background once per TTL), `read-each` with
MICROQ_METRICS_STATE_TTL=0 (every scrape reads the whole state itself, as before the snapshot).
Scrape latency: 20 scrapes one after the other. Other requests: GET /healthz back to back for
12 s without scrapes (the anchor), then for 12 s while the node is scraped once a second (so
the shared node's window holds at least one background renewal).

`python -m bench.bench_metrics [max_topics]` (default 10000; lines and work queues: a tenth of
the topics each, one waiting person / one item apiece).
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp

from bench.common import percentile, print_table, start_microq, start_redis

ENV = {"MICROQ_WORK_AUTH": "off"}  # the bench fills work queues without keys or rate limits
WINDOW = 12.0  #: seconds of /healthz with and without scrapes once a second (> the shared node's 10 s TTL)


async def fill(base: str, have: int, want: int) -> None:
    """Topics bench.t<have>..t<want-1> (one message each), and a tenth as many lines (one person
    waiting each) and work queues (one item each), over HTTP, 16 requests at a time."""
    async with aiohttp.ClientSession() as session:
        requests = [("POST", f"/publish/bench.t{i}", {"data": b"x"}, 202) for i in range(have, want)]
        requests += [("POST", f"/api/bench/l{i}/join", {"json": {"name": "p"}}, 201)
                     for i in range(have // 10, want // 10)]
        requests += [("POST", "/api/queue", {"json": {"queue_name": f"bench.q{i}", "data": "d"}}, 201)
                     for i in range(have // 10, want // 10)]
        todo = iter(requests)

        async def sender() -> None:
            for method, path, body, status in todo:
                async with session.request(method, f"{base}{path}", **body) as answer:
                    assert answer.status == status, (path, answer.status, await answer.text())

        await asyncio.gather(*(sender() for _ in range(16)))


async def timed_gets(session: aiohttp.ClientSession, url: str, count: int, every: float = 0.0) -> tuple[list[float], bytes]:
    times, body = [], b""
    for _ in range(count):
        started = time.perf_counter()
        async with session.get(url) as answer:
            body = await answer.read()
            assert answer.status == 200
        times.append((time.perf_counter() - started) * 1000)
        if every:
            await asyncio.sleep(max(0.0, every - (time.perf_counter() - started)))
    return sorted(times), body


async def healthz_during(session: aiohttp.ClientSession, base: str, busy: asyncio.Task) -> list[float]:
    """GET /healthz back to back while `busy` runs."""
    times = []
    while not busy.done():
        started = time.perf_counter()
        async with session.get(f"{base}/healthz") as answer:
            await answer.read()
        times.append((time.perf_counter() - started) * 1000)
    return sorted(times)


def gauge(body: bytes, name: str) -> float | str:
    for line in body.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return ""


async def measure(base: str, node: str, topics: int) -> dict[str, object]:
    async with aiohttp.ClientSession() as session:
        anchor, _ = await timed_gets(session, f"{base}/healthz", 300)
        idle = await healthz_during(session, base, asyncio.create_task(asyncio.sleep(WINDOW)))
        await timed_gets(session, f"{base}/metrics", 1)  # the first snapshot
        scrape, body = await timed_gets(session, f"{base}/metrics", 20)
        busy = asyncio.create_task(timed_gets(session, f"{base}/metrics", round(WINDOW), every=1.0))
        during = await healthz_during(session, base, busy)
        _, last = await busy
    read_ms = gauge(last, "microq_metrics_state_read_duration_seconds")
    return {"topics": topics, "node": node,
            "healthz p50 ms (anchor)": round(percentile(anchor, 0.5), 2),
            "healthz p99 ms, 12 s without scrapes": round(percentile(idle, 0.99), 1),
            "healthz max ms, 12 s without scrapes": round(max(idle), 1),
            "scrape p50 ms": round(percentile(scrape, 0.5), 1), "scrape p99 ms": round(percentile(scrape, 0.99), 1),
            "scrape / healthz": round(percentile(scrape, 0.5) / percentile(anchor, 0.5), 1),
            "state read ms": round(read_ms * 1000) if read_ms != "" else "",
            "body KiB": round(len(body) / 1024, 1),
            "healthz p99 ms, 12 s scraped 1/s": round(percentile(during, 0.99), 1),
            "healthz max ms, 12 s scraped 1/s": round(max(during), 1)}


async def main(max_topics: int) -> None:
    sizes = [n for n in (0, 1000, 10000, 100000) if n <= max_topics]
    rows = []
    with start_redis() as redis, \
            start_microq(redis.url, env=ENV) as shared, \
            start_microq(redis.url, env={**ENV, "MICROQ_METRICS_STATE_TTL": "0"}) as read_each:
        have = 0
        for n in sizes:
            await fill(shared, have, n)
            have = n
            await asyncio.sleep(2)  # both nodes' registries have replayed the new topics
            rows.append(await measure(shared, "shared", n))
            rows.append(await measure(read_each, "read-each", n))
    print_table("/metrics scrape cost (MICROQ_METRICS_TOP_N=20, two nodes, one Redis; lines and work "
                "queues: topics / 10 each)", rows)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 10000))
