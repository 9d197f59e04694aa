"""Topics: publish and consume+ack against the bare-aiohttp ceiling, batched end-to-end
throughput, and publish-to-wake latency across two nodes. `python bench/bench_topics.py`

`python bench/bench_topics.py hostile`: /healthz latency while 100 worst-case wildcard long-polls
wait over 10k topics of 255 characters (anchor: /healthz with no long-polls, same run).
`python bench/bench_topics.py idle`: idle CPU of a node and of Redis, and publish p50, with 10,
10k and 100k topics registered (anchor: the 10-topic row, same run)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import sys
import time
import zlib
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


# hostile load -------------------------------------------------------------------------------

HOSTILE = "*" + "a" * 228 + "b"  #: matches none of the topics below, and costs most to rule out


async def healthz_latency(base: str, seconds: float) -> list[float]:
    latencies = []
    async with aiohttp.ClientSession() as session:
        stop = time.perf_counter() + seconds
        while time.perf_counter() < stop:
            sent = time.perf_counter()
            async with session.get(f"{base}/healthz") as response:
                await ok(response)
            latencies.append(time.perf_counter() - sent)
            await asyncio.sleep(0.01)
    return sorted(latencies)


def _latency_row(scenario: str, latencies: list[float]) -> dict[str, object]:
    return {"scenario": scenario, "requests": len(latencies),
            "p50 ms": round(percentile(latencies, 0.5) * 1000, 2),
            "p99 ms": round(percentile(latencies, 0.99) * 1000, 2),
            "max ms": round(latencies[-1] * 1000, 2)}


async def hostile(topics: int = 10_000, polls: int = 100) -> None:
    rows = []
    with start_redis() as redis, start_microq(redis.url) as base:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)) as session:
            async def create(i: int) -> None:
                name = f"{i:05d}" + "a" * 250
                async with session.post(f"{base}/api/topics", json={"name": name}) as response:
                    await response.read()
            for start in range(0, topics, 500):
                await asyncio.gather(*(create(i) for i in range(start, min(topics, start + 500))))
            rows.append(_latency_row("anchor: /healthz, no long-polls", await healthz_latency(base, 5)))
            for pattern, label in ((HOSTILE, f"{polls} long-polls on a 230-char wildcard matching none"),
                                   ("*a", f"{polls} long-polls on *a, matching all {topics}")):
                connector = aiohttp.TCPConnector(limit=polls + 10)
                async with aiohttp.ClientSession(connector=connector) as polling:
                    async def poll() -> None:
                        async with polling.get(f"{base}/consume/{pattern}", params={"timeout": "8s"}) as r:
                            await r.read()
                    waiting = [asyncio.ensure_future(poll()) for _ in range(polls)]
                    await asyncio.sleep(0.5)

                    async def publisher() -> None:  # wake-ups make every waiter look again
                        for i in range(50):
                            name = f"{i * 37 % topics:05d}" + "a" * 250
                            async with session.post(f"{base}/publish/{name}", data=b"x") as response:
                                await response.read()
                            async with session.get(f"{base}/consume/{name}", params={"auto_ack": "1"}) as r:
                                await r.read()
                            await asyncio.sleep(0.1)
                    latencies, _ = await asyncio.gather(healthz_latency(base, 6), publisher())
                    rows.append(_latency_row(f"/healthz beside {label}, 50 wake-ups", latencies))
                    await asyncio.gather(*waiting, return_exceptions=True)
    print_table(f"topics under hostile wildcards ({topics} topics of 255 characters, 1 node)", rows)


# idle cost ----------------------------------------------------------------------------------

def _register_directly(redis_url: str, count: int, before: bool = False) -> None:
    """Topics in the registry buckets as topics_register leaves them (faster than HTTP for 100k);
    before: in the single set the seed version used."""
    import redis as redis_sync

    client = redis_sync.Redis.from_url(redis_url)
    pipe = client.pipeline(transaction=False)
    for i in range(count):
        name = f"idle.t{i}"
        if before:
            pipe.sadd("mq:{topics:registry}", name)
        else:
            bucket = zlib.crc32(name.encode()) % 16
            pipe.sadd(f"mq:{{topics:registry:{bucket}}}", name)
            pipe.incr(f"mq:{{topics:registry:{bucket}}}:counted")
        if len(pipe) >= 5000:
            pipe.execute()
    pipe.execute()
    client.close()


@contextlib.contextmanager
def _start_checkout(redis_url: str, checkout: Path):
    """`microq serve` from another checkout of the repository (the version before, for an anchor)."""
    import os
    import subprocess

    from tests.helpers import free_port, stop_process
    from bench.common import _wait_ready

    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "microq", "serve", "--port", str(port)],
                               env={**os.environ, "REDIS_URL": redis_url, "MICROQ_LOG_LEVEL": "WARNING"},
                               cwd=checkout, stdin=subprocess.DEVNULL)
    try:
        _wait_ready(f"http://127.0.0.1:{port}/readyz", process)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(process)


def _cpu_seconds(pid: int) -> float:
    import psutil

    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


async def idle(counts: tuple[int, ...] = (10, 10_000, 100_000), seconds: float = 10.0) -> None:
    """With MICROQ_BENCH_BEFORE=<a checkout of the version before>, that version's rows too."""
    import os

    import psutil

    rows = []
    before = os.environ.get("MICROQ_BENCH_BEFORE")
    runs = [(count, None) for count in counts] + [(count, Path(before)) for count in counts if before]
    for count, checkout in runs:
        with start_redis() as redis:
            _register_directly(redis.url, count, before=checkout is not None)
            starting = _start_checkout(redis.url, checkout) if checkout else start_microq(redis.url)
            with starting as base:
                node = next(p for p in psutil.Process().children(recursive=True)
                            if "serve" in " ".join(p.cmdline()) and base.rsplit(":", 1)[1] in " ".join(p.cmdline()))
                await asyncio.sleep(3)  # start-up and the first replay of the registry done
                node_before, redis_before = _cpu_seconds(node.pid), _cpu_seconds(redis.process.pid)
                await asyncio.sleep(seconds)
                node_cpu = (_cpu_seconds(node.pid) - node_before) / seconds
                redis_cpu = (_cpu_seconds(redis.process.pid) - redis_before) / seconds

                async def request(session, worker):
                    async with session.post(f"{base}/publish/idle.t{worker}", data=b'{"user_id": 42}') as response:
                        await ok(response)

                result = await load(request, 16, 5.0, warmup=1.0)
                rows.append({"version": "before (seed)" if checkout else "this branch",
                             "topics": count, "node idle CPU %": round(100 * node_cpu, 1),
                             "redis idle CPU %": round(100 * redis_cpu, 1),
                             "publish p50 ms": round(result.p50_ms, 2), "publish p99 ms": round(result.p99_ms, 2),
                             "publish req/s": round(result.rps), "errors": result.errors})
    anchor = rows[0]["publish p50 ms"]
    for row in rows:
        row["p50 vs this branch, 10 topics"] = f"{row['publish p50 ms'] / anchor:.2f}x"
    print_table(f"topics: idle cost by number of topics ({seconds:.0f} s idle, then 16 connections publishing)", rows)


if __name__ == "__main__":
    which = sys.argv[1] if len(sys.argv) > 1 else ""
    asyncio.run(hostile() if which == "hostile" else idle() if which == "idle" else main())
