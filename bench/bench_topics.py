"""Topics: publish and consume+ack against the bare-aiohttp ceiling, batched end-to-end
throughput, and publish-to-wake latency across two nodes. `python bench/bench_topics.py`"""

from __future__ import annotations

import asyncio
import base64
import json
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp

from bench.common import load, ok, percentile, print_table, start_ceiling, start_microq, start_redis

CONNECTIONS = 64
DURATION = 5.0
BATCH = 100


async def ceiling(base: str) -> dict[str, object]:
    async def request(session, _):
        async with session.post(base + "/ceiling", data=b'{"user_id": 42}') as response:
            await ok(response)

    return (await load(request, CONNECTIONS, DURATION)).row(scenario="ceiling: bare aiohttp POST")


async def publish_one(base: str) -> dict[str, object]:
    async def request(session, worker):
        async with session.post(f"{base}/publish/bench.p{worker % 8}", data=b'{"user_id": 42}',
                                headers={"Content-Type": "application/json"}) as response:
            await ok(response)

    return (await load(request, CONNECTIONS, DURATION)).row(scenario="publish, 1 message per request")


async def fill(base: str, topic: str, count: int) -> None:
    # encoded once: the load generator shares the cores with the node, so it should not re-encode
    body = json.dumps([{"payload": base64.b64encode(b'{"user_id": 42}').decode()}] * BATCH).encode()
    headers = {"Content-Type": "application/json"}
    async with aiohttp.ClientSession() as session:
        async def producer(n: int) -> None:
            for _ in range(n):
                async with session.post(f"{base}/publish/{topic}/batch", data=body, headers=headers) as response:
                    await ok(response)
        await asyncio.gather(*(producer(count // BATCH // 8) for _ in range(8)))


async def consume_ack(base: str) -> dict[str, object]:
    await fill(base, "bench.c", 90_000)  # under the 100k limit; more than 5 s can consume

    async def request(session, _):
        async with session.get(f"{base}/consume/bench.c") as response:
            await ok(response)
            message = await response.json()
        async with session.post(f"{base}/ack/bench.c/{message['id']}") as response:
            await ok(response)

    result = await load(request, CONNECTIONS, DURATION)
    row = result.row(scenario="consume + ack (2 requests per message)")
    row["msgs/s"] = round(result.rps)
    return row


async def end_to_end(base: str, seconds: float = DURATION) -> dict[str, object]:
    """Producers publish batches of 100; consumers take 100 at a time and ack them in one request."""
    # encoded once: the load generator shares the cores with the node, so it should not re-encode
    body = json.dumps([{"payload": base64.b64encode(b'{"user_id": 42}').decode()}] * BATCH).encode()
    headers = {"Content-Type": "application/json"}
    consumed = 0
    stop = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=32)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def producer() -> None:
            while time.perf_counter() < stop:
                async with session.post(f"{base}/publish/bench.e2e/batch", data=body, headers=headers) as response:
                    if response.status == 429:
                        await asyncio.sleep(0.01)
                    await response.read()

        async def consumer() -> None:
            nonlocal consumed
            while time.perf_counter() < stop:
                async with session.get(f"{base}/consume/bench.e2e?limit={BATCH}&timeout=1s") as response:
                    if response.status == 404:
                        continue
                    await ok(response)
                    messages = await response.json()
                async with session.post(f"{base}/ack/bench.e2e", json=[m["id"] for m in messages]) as response:
                    await ok(response)
                consumed += len(messages)

        started = time.perf_counter()
        await asyncio.gather(*(producer() for _ in range(3)), *(consumer() for _ in range(9)))
        elapsed = time.perf_counter() - started
    return {"scenario": f"end to end, batches of {BATCH} (publish, consume, ack)", "msgs/s": round(consumed / elapsed),
            "requests": consumed // BATCH * 3}


async def wake_latency(publisher: str, waiter: str, rounds: int = 400) -> dict[str, object]:
    """A long-poll on node B, a publish on node A: time from sending the publish to B's answer."""
    latencies = []
    async with aiohttp.ClientSession() as session:
        for i in range(rounds):
            poll = asyncio.create_task(session.get(f"{waiter}/consume/bench.wake?timeout=10s&auto_ack=true"))
            await asyncio.sleep(0.01)  # the long-poll is waiting on B
            sent = time.perf_counter()
            async with session.post(f"{publisher}/publish/bench.wake", data=b"tick") as response:
                await ok(response)
            response = await poll
            await ok(response)
            latencies.append(time.perf_counter() - sent)
    latencies.sort()
    return {"scenario": "publish on node A -> long-poll answered on node B", "requests": rounds,
            "p50 ms": round(percentile(latencies, 0.5) * 1000, 2), "p99 ms": round(percentile(latencies, 0.99) * 1000, 2)}


async def main() -> None:
    rows = []
    with start_ceiling(workers=1) as base:
        rows.append(await ceiling(base))
    with start_redis() as redis:
        with start_microq(redis.url, workers=1) as base:
            rows.append(await publish_one(base))
            rows.append(await consume_ack(base))
            rows.append(await end_to_end(base))
        with start_microq(redis.url) as node_a, start_microq(redis.url) as node_b:
            rows.append(await wake_latency(node_a, node_b))
    top = rows[0]["req/s"]
    for row in rows[1:]:
        if "req/s" in row:
            row["% of ceiling"] = f"{100 * row['req/s'] / top:.0f}%"
    print_table("topics (1 process per node, 64 connections, 2-core machine)", rows)


if __name__ == "__main__":
    asyncio.run(main())
