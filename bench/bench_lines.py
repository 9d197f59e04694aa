"""Lines: join (also with an Idempotency-Key) and status beside the bare-aiohttp ceiling; status
p99 with 1,000 and with 1,000,000 people waiting; Redis memory per waiting person.
`python bench/bench_lines.py`"""

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

import aiohttp

from bench.common import Result, load, ok, print_table, start_ceiling, start_microq, start_redis
from microq.keys import Keyspace
from microq.lines.keys import LineKeys

CONNECTIONS = 64
DURATION = 5.0
ROUNDS = 3


def fill(redis_url: str, tenant: str, queue: str, people: int) -> list[str]:
    """`people` waiting in one line, written directly in the layout lines_join writes
    (zset member = user id scored by sequence, hash field = msgpack {name, joined_ms, type id,
    leave-token digest, ticket})."""
    keys = LineKeys.of(Keyspace("mq:"), tenant, queue)
    client = sync_redis.Redis.from_url(redis_url)
    ids = [str(uuid.uuid4()) for _ in range(people)]
    now = int(time.time() * 1000)
    for start in range(0, people, 20000):
        chunk = ids[start:start + 20000]
        pipe = client.pipeline(transaction=False)
        pipe.zadd(keys.wait, {uid: start + i + 1 for i, uid in enumerate(chunk)})
        pipe.hset(keys.ent, mapping={uid: msgpack.packb([f"Person {start + i:07d}", now, "", uuid.uuid4().hex[:32],
                                                                 f"A-{start + i + 1:03d}"])
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


def median(results: list[Result]) -> Result:
    """The round with the median rate: the machine is shared, so one round can be unlucky."""
    return sorted(results, key=lambda r: r.rps)[len(results) // 2]


async def main() -> None:
    with start_redis() as redis, start_microq(redis.url) as base, start_ceiling() as ceiling:
        async with aiohttp.ClientSession() as session:
            await session.post(f"{base}/api/bench/queues", json={"queue_id": "joins", "name": "Bench"})
        statused = fill(redis.url, "bench", "status", 1000)

        async def post_ceiling(session, _):
            async with session.post(f"{ceiling}/ceiling", json={"name": "Alex Rivera"}) as response:
                await ok(response)

        async def get_ceiling(session, _):
            async with session.get(f"{ceiling}/ceiling") as response:
                await ok(response)

        async def join(session, _):
            async with session.post(f"{base}/api/bench/joins/join", json={"name": "Alex Rivera"}) as response:
                await ok(response)

        async def join_once(session, _):  # a fresh key each time: the wrapper's cost, not a replay
            headers = {"Idempotency-Key": str(uuid.uuid4())}
            async with session.post(f"{base}/api/bench/joins/join", json={"name": "Alex Rivera"},
                                    headers=headers) as response:
                await ok(response)

        async def status(session, _):
            async with session.get(f"{base}/api/bench/status/status/{random.choice(statused)}") as response:
                await ok(response)

        # ceiling and MicroQ alternate, ROUNDS times each, so both see the same machine
        runs: dict[str, list[Result]] = {"ceiling POST": [], "join": [], "join + Idempotency-Key": [],
                                         "ceiling GET": [], "status": []}
        for _ in range(ROUNDS):
            for label, request in (("ceiling POST", post_ceiling), ("join", join),
                                   ("join + Idempotency-Key", join_once),
                                   ("ceiling GET", get_ceiling), ("status", status)):
                runs[label].append(await load(request, CONNECTIONS, DURATION))
        best = {label: median(results) for label, results in runs.items()}
        rows = []
        for label, ceiling_label in (("ceiling POST", None), ("join", "ceiling POST"),
                                     ("join + Idempotency-Key", "ceiling POST"),
                                     ("ceiling GET", None), ("status", "ceiling GET")):
            extra = {"% of ceiling": round(100 * best[label].rps / best[ceiling_label].rps)} if ceiling_label else {}
            rows.append(best[label].row(scenario=label, **extra))

        lines: dict[int, list[str]] = {}
        fills, memory = {}, []
        for people in (1000, 1_000_000):
            started = time.perf_counter()
            lines[people] = fill(redis.url, "bench", f"w{people}", people)
            fills[people] = time.perf_counter() - started
            memory.append({"waiting": f"{people:,}",
                           "bytes per person": round(memory_per_person(redis.url, "bench", f"w{people}", people))})
        latency_runs: dict[int, list[Result]] = {1000: [], 1_000_000: []}
        for _ in range(ROUNDS):
            for people, ids in lines.items():
                async def status_in(session, _, ids=ids, queue=f"w{people}"):
                    async with session.get(f"{base}/api/bench/{queue}/status/{random.choice(ids)}") as response:
                        await ok(response)

                latency_runs[people].append(await load(status_in, CONNECTIONS, DURATION))
        latency = []
        for people, results in latency_runs.items():
            p99 = sorted(r.p99_ms for r in results)[len(results) // 2]
            row = median(results).row(waiting=f"{people:,}", **{"fill s": round(fills[people], 1)})
            row["p99 ms"] = round(p99, 2)  # the median round's p99, not the median-rate round's
            latency.append(row)
    ratio = latency[1]["p99 ms"] / latency[0]["p99 ms"]
    print_table(f"Lines: requests/s beside the bare-aiohttp ceiling (1 node, {CONNECTIONS} connections, "
                f"{DURATION:.0f} s, median of {ROUNDS} alternating rounds)", rows)
    print_table(f"Lines: status latency by line length (median of {ROUNDS}; p99 1M / 1k = {ratio:.2f}x)", latency)
    print_table("Lines: Redis memory per waiting person (MEMORY USAGE of wait + ent, SAMPLES 0)", memory)


if __name__ == "__main__":
    asyncio.run(main())
