"""Lines: join and status beside the bare-aiohttp ceiling; status p99 with 1,000 and with
1,000,000 people waiting; Redis memory per waiting person. `python bench/bench_lines.py`"""

from __future__ import annotations

import asyncio
import random
import sys
import time
import uuid
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import msgpack
import redis as sync_redis

from bench.common import load, ok, print_table, start_ceiling, start_microq, start_redis
from microq.keys import Keyspace
from microq.lines.keys import LineKeys

CONNECTIONS = 64
DURATION = 5.0


def fill(redis_url: str, tenant: str, queue: str, people: int) -> list[str]:
    """`people` waiting in one line, written directly in the layout lines_join writes
    (zset member = user id scored by sequence, hash field = msgpack {name, joined_ms, type id})."""
    keys = LineKeys.of(Keyspace("mq:"), tenant, queue)
    client = sync_redis.Redis.from_url(redis_url)
    ids = [str(uuid.uuid4()) for _ in range(people)]
    now = int(time.time() * 1000)
    for start in range(0, people, 20000):
        chunk = ids[start:start + 20000]
        pipe = client.pipeline(transaction=False)
        pipe.zadd(keys.wait, {uid: start + i + 1 for i, uid in enumerate(chunk)})
        pipe.hset(keys.ent, mapping={uid: msgpack.packb([f"Person {start + i:07d}", now, ""])
                                     for i, uid in enumerate(chunk)})
        pipe.execute()
    client.set(keys.seq, people)
    client.close()
    return ids


def memory_per_person(redis_url: str, tenant: str, queue: str, people: int) -> float:
    keys = LineKeys.of(Keyspace("mq:"), tenant, queue)
    client = sync_redis.Redis.from_url(redis_url)
    used = sum(client.memory_usage(key, samples=0) or 0 for key in (keys.wait, keys.ent))
    client.close()
    return used / people


async def main() -> None:
    rows, latency, memory = [], [], []
    with start_redis() as redis, start_microq(redis.url) as base, start_ceiling() as ceiling:
        import aiohttp

        async with aiohttp.ClientSession() as session:
            await session.post(f"{base}/api/bench/queues",
                               json={"queue_id": "joins", "name": "Bench"})

        async def post_ceiling(session, _):
            async with session.post(f"{ceiling}/ceiling", json={"name": "Alex Rivera"}) as response:
                await ok(response)

        async def get_ceiling(session, _):
            async with session.get(f"{ceiling}/ceiling") as response:
                await ok(response)

        async def join(session, _):
            async with session.post(f"{base}/api/bench/joins/join", json={"name": "Alex Rivera"}) as response:
                await ok(response)

        ceiling_post = await load(post_ceiling, CONNECTIONS, DURATION)
        joins = await load(join, CONNECTIONS, DURATION)
        waiting = fill(redis.url, "bench", "status", 1000)

        async def status(session, _):
            uid = random.choice(waiting)
            async with session.get(f"{base}/api/bench/status/status/{uid}") as response:
                await ok(response)

        ceiling_get = await load(get_ceiling, CONNECTIONS, DURATION)
        statuses = await load(status, CONNECTIONS, DURATION)
        rows += [ceiling_post.row(scenario="ceiling POST"),
                 joins.row(scenario="join", **{"% of ceiling": round(100 * joins.rps / ceiling_post.rps)}),
                 ceiling_get.row(scenario="ceiling GET"),
                 statuses.row(scenario="status", **{"% of ceiling": round(100 * statuses.rps / ceiling_get.rps)})]

        for people in (1000, 1_000_000):
            queue = f"w{people}"
            started = time.perf_counter()
            ids = fill(redis.url, "bench", queue, people)
            filled = time.perf_counter() - started

            async def status_in(session, _, ids=ids, queue=queue):
                async with session.get(f"{base}/api/bench/{queue}/status/{random.choice(ids)}") as response:
                    await ok(response)

            result = await load(status_in, CONNECTIONS, DURATION)
            latency.append(result.row(waiting=f"{people:,}", **{"fill s": round(filled, 1)}))
            memory.append({"waiting": f"{people:,}",
                           "bytes per person": round(memory_per_person(redis.url, "bench", queue, people))})
    p99_1k, p99_1m = latency[0]["p99 ms"], latency[1]["p99 ms"]
    print_table("Lines: requests/s beside the bare-aiohttp ceiling (1 node, 64 connections, 5 s)", rows)
    print_table(f"Lines: status latency by line length (p99 1M / 1k = {p99_1m / p99_1k:.2f}x)", latency)
    print_table("Lines: Redis memory per waiting person (MEMORY USAGE of wait + ent, SAMPLES 0)", memory)


if __name__ == "__main__":
    asyncio.run(main())
