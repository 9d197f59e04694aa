"""Script calls per node on a 3-primary Redis Cluster against a single Redis, same run, same client
code: the real topics_publish and lines_join scripts through their stores, many concurrent callers
in one process (one MicroQ node's event loop). `python -m bench.bench_cluster`

The ratio is cluster / single Redis (target >= 0.8x), the median over interleaved rounds. "one
EVALSHA per round trip" is the same ratio for redis-py's own cluster client (how Cluster calls went
before batching per primary), for reference.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Awaitable, Callable, Iterator

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import print_table, start_redis
from microq.keys import Keyspace
from microq.lines.store import LineStore
from microq.redis_client import connect
from microq.scripts import Scripts
from microq.settings import Settings
from microq.topics.store import Outgoing, TopicStore
from tests.helpers import RedisClusterProcesses

ENTITIES = 64  #: topics / lines the callers spread over (so every primary gets its share)


@contextlib.contextmanager
def start_cluster() -> Iterator[RedisClusterProcesses]:
    with tempfile.TemporaryDirectory(prefix="microq-bench-cluster-") as directory:
        cluster = RedisClusterProcesses(Path(directory)).start()
        try:
            yield cluster
        finally:
            cluster.stop()


async def rate(call: Callable[[int], Awaitable[object]], callers: int, seconds: float) -> float:
    """Calls per second of `callers` loops each awaiting call(i) until `seconds` have passed."""
    done = 0
    deadline = time.perf_counter() + seconds

    async def loop(n: int) -> None:
        nonlocal done
        i = n
        while time.perf_counter() < deadline:
            await call(i)
            i += callers
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(loop(n) for n in range(callers)))
    return done / (time.perf_counter() - started)


class Node:
    """One node's stores on one Redis or Cluster, with ENTITIES lines created."""

    def __init__(self, url: str, cluster: bool, raw: bool = False) -> None:
        self.client = connect(url, cluster=cluster)
        self.scripts = Scripts(self.client)
        self.raw = raw

    async def start(self) -> Node:
        await self.scripts.preload()
        if self.raw:  # redis-py's own command path: one EVALSHA per round trip, routed by the cluster client
            client, scripts = self.client, self.scripts

            async def send(*command):
                return await client.execute_command(*command)

            async def call(name, keys, args=(), **_):
                script = scripts.by_name[name]
                return await client.evalsha(script.sha, script.nkeys, *keys, *args)

            scripts.execute, scripts.call = send, call  # type: ignore[method-assign]
        self.topics = TopicStore(self.scripts, Keyspace(), Settings())
        self.lines = LineStore(self.scripts, Keyspace(), Settings())
        for i in range(ENTITIES):
            await self.lines.create_queue("bench", f"line{i}", f"Line {i}", True, 4.0)
        return self

    async def publish(self, i: int) -> None:
        await self.topics.publish(f"bench.t{i % ENTITIES}", [Outgoing(uuid.uuid4().hex, b"x" * 64)])

    async def join(self, i: int) -> None:
        await self.lines.join("bench", f"line{i % ENTITIES}", "Alex Rivera", None, None)

    async def close(self) -> None:
        await self.client.flushall()
        await self.client.aclose()


async def main(callers: int, seconds: float, rounds: int) -> None:
    with start_redis() as single, start_cluster() as cluster:
        seeds = ",".join(node.url.removesuffix("/0") for node in cluster.nodes)
        one = await Node(single.url, False).start()
        many = await Node(seeds, True).start()
        before = await Node(seeds, True, raw=True).start()
        rows = []
        for op in ("publish", "join"):
            # interleaved short runs, so a noisy neighbour on the host hits every side alike;
            # the ratio reported is the median of the rounds' ratios
            anchors, batched, unbatched = [], [], []
            for _ in range(rounds):
                anchors.append(await rate(getattr(one, op), callers, seconds))
                batched.append(await rate(getattr(many, op), callers, seconds))
                unbatched.append(await rate(getattr(before, op), callers, seconds))
            ratios = sorted(b / a for b, a in zip(batched, anchors))
            old = sorted(u / a for u, a in zip(unbatched, anchors))
            rows.append({"call": op, "callers": callers, "rounds": rounds,
                         "single Redis calls/s": round(statistics.median(anchors)),
                         "cluster calls/s": round(statistics.median(batched)),
                         "ratio (median)": f"{statistics.median(ratios):.2f}x",
                         "ratio range": f"{ratios[0]:.2f}-{ratios[-1]:.2f}x",
                         "one EVALSHA per round trip": f"{statistics.median(old):.2f}x"})
        for node in (one, many, before):
            await node.close()
    print_table("Script calls per node: 3-primary cluster vs single Redis (same run)", rows)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--callers", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=1.0, help="length of one run")
    parser.add_argument("--rounds", type=int, default=5)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.callers, arguments.seconds, arguments.rounds))
