"""Topics, issue 11: what headers, priority and consumer groups cost. `python bench/bench_groups.py`
(`... publish` or `... fanout` for one part)

1. Publish, plain vs with three X-MQ-* headers and ?priority=high: the same node, rounds
   interleaved (plain, extras, plain, ...) so a loaded host's drift hits both. Besides req/s
   (which a loaded host makes noisy), the CPU the node process and Redis spent per publish
   (/proc utime+stime, INFO cpu): the anchor is plain publish; target: extras cost at most 10%.
2. Fan-out to 1, 4 and 16 consumer groups: N messages published in batches of 100, then every
   group's members take them all concurrently (leased, not yet acknowledged), then acknowledge:
   messages/s delivered per group, and Redis memory per stored message and per unacknowledged
   message per group: INFO used_memory deltas, and MEMORY USAGE of the log and of the groups'
   own keys (the INFO delta of the leased phase nets the group keys' growth against the log
   entries trimmed meanwhile, which every group has passed).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
from redis.asyncio import Redis

from bench.common import load, ok, print_table, start_microq, start_redis
from microq.keys import Keyspace
from microq.topics.names import group_keys, topic_keys

CONNECTIONS = 64
ROUND = 3.0  #: seconds per publish round
ROUNDS = 4  #: rounds of each kind
MESSAGES = 20_000  #: published per fan-out run
MEMBERS = 2  #: consumers per group
EXTRAS = {"X-MQ-Trace-Id": "4bf92f3577b34da6a3ce929d0e0e4736", "X-MQ-Tenant": "acme", "X-MQ-Source": "bench"}


def _node_pid(base: str) -> int:
    """The pid of the `microq serve` listening on base's port (start_microq yields only the URL)."""
    port = base.rsplit(":", 1)[1]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"serve" in argv and port.encode() in argv:
                return int(entry.name)
    raise RuntimeError(f"no microq serve on port {port}")


def _cpu_seconds(pid: int) -> float:
    """utime + stime of a process: CPU it used, whatever else the loaded host runs."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _redis_cpu(redis: Redis) -> float:
    info = await redis.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


async def publish_rounds(base: str, redis: Redis) -> list[dict[str, object]]:
    body = b'{"user_id": 42}'
    pid = _node_pid(base)

    def publisher(prefix: str, extra_headers: dict[str, str], query: str):
        headers = {"Content-Type": "application/json", **extra_headers}

        async def request(session, worker):
            async with session.post(f"{base}/publish/{prefix}{worker % 8}{query}", data=body,
                                    headers=headers) as response:
                await ok(response)
        return request

    plain = publisher("bench.plain", {}, "")
    extras = publisher("bench.extras", EXTRAS, "?priority=high")
    names = ("plain", "headers + priority")
    totals = {name: {"requests": 0, "seconds": 0.0, "node": 0.0, "redis": 0.0, "errors": 0} for name in names}
    for _ in range(ROUNDS):
        for name, request in zip(names, (plain, extras)):
            node, server = _cpu_seconds(pid), await _redis_cpu(redis)
            result = await load(request, CONNECTIONS, ROUND, warmup=0.0)
            total = totals[name]
            total["node"] += _cpu_seconds(pid) - node
            total["redis"] += await _redis_cpu(redis) - server
            total["requests"] += result.requests
            total["seconds"] += ROUND
            total["errors"] += result.errors
    rows = []
    for name, t in totals.items():
        rows.append({"publish": name, "req/s": round(t["requests"] / t["seconds"]),
                     "node CPU us/publish": round(1e6 * t["node"] / t["requests"]),
                     "Redis CPU us/publish": round(1e6 * t["redis"] / t["requests"]), "errors": t["errors"]})
    plain_row, extras_row = rows
    extras_row["req/s vs plain"] = f"{extras_row['req/s'] / plain_row['req/s']:.3f}"
    cpu = lambda row: row["node CPU us/publish"] + row["Redis CPU us/publish"]  # noqa: E731
    extras_row["CPU vs plain"] = f"{cpu(extras_row) / cpu(plain_row):.3f}"
    return rows


async def used_memory(redis: Redis) -> int:
    await asyncio.sleep(0.2)
    return int((await redis.info("memory"))["used_memory"])


async def fan_out(base: str, redis: Redis, groups: int) -> dict[str, object]:
    topic = f"bench.fan{groups}"
    payload = base64.b64encode(b'{"user_id": 42, "item": "laptop"}').decode()
    batch = json.dumps([{"payload": payload}] * 100).encode()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)) as session:
        for g in range(groups):
            async with session.post(f"{base}/api/groups", json={"topic": topic, "group": f"g{g}"}) as response:
                await ok(response)
        before = await used_memory(redis)
        started = time.perf_counter()
        for _ in range(MESSAGES // 100):
            async with session.post(f"{base}/publish/{topic}/batch", data=batch,
                                    headers={"Content-Type": "application/json"}) as response:
                await ok(response)
        publish_s = time.perf_counter() - started
        stored = await used_memory(redis)
        keys = topic_keys(Keyspace(), topic)
        log_bytes = await redis.memory_usage(keys.glog, samples=0) or 0
        held: dict[str, list[str]] = {f"g{g}": [] for g in range(groups)}
        elapsed: dict[str, float] = {}

        async def member(group: str) -> None:
            while True:
                async with session.get(f"{base}/consume/{topic}", params={
                        "group": group, "limit": "100", "visibility": "10m"}) as response:
                    if response.status == 404:
                        elapsed[group] = max(elapsed.get(group, 0.0), time.perf_counter() - begun)
                        return
                    await ok(response)
                    held[group].extend(m["id"] for m in await response.json())

        begun = time.perf_counter()
        await asyncio.gather(*(member(f"g{g}") for g in range(groups) for _ in range(MEMBERS)))
        unacked = await used_memory(redis)
        group_bytes = 0
        for g in range(groups):
            for key in group_keys(Keyspace(), topic, f"g{g}").all():
                group_bytes += await redis.memory_usage(key, samples=0) or 0
        for group, ids in held.items():
            for i in range(0, len(ids), 1000):
                async with session.post(f"{base}/ack/{topic}", params={"group": group},
                                        json=ids[i:i + 1000]) as response:
                    await ok(response)
        acked = await used_memory(redis)
    delivered = sum(len(ids) for ids in held.values())
    assert delivered == MESSAGES * groups, (delivered, MESSAGES * groups)
    per_group = [len(held[g]) / elapsed[g] for g in held]
    return {"groups": groups, "messages": MESSAGES, "publish msgs/s": round(MESSAGES / publish_s),
            "delivered msgs/s per group (min)": round(min(per_group)),
            "delivered msgs/s, all groups": round(delivered / max(elapsed.values())),
            "bytes per stored message (INFO)": round((stored - before) / MESSAGES),
            "of which the log (MEMORY USAGE)": round(log_bytes / MESSAGES),
            "bytes per unacked message per group (INFO)": round((unacked - stored) / (MESSAGES * groups)),
            "bytes per unacked message per group (MEMORY USAGE of its keys)": round(group_bytes / (MESSAGES * groups)),
            "bytes per message after the groups' acks (INFO)": round((acked - before) / MESSAGES)}


async def main(which: str) -> None:
    publish, fan = [], []
    with start_redis() as server:
        env = {"MICROQ_TOPIC_MAX_MESSAGES": "1000000"}
        with start_microq(server.url, workers=1, env=env) as base:
            redis = Redis.from_url(server.url)
            if which in ("all", "publish"):
                publish = await publish_rounds(base, redis)
            if which in ("all", "fanout"):
                fan = [await fan_out(base, redis, groups) for groups in (1, 4, 16)]
            await redis.aclose()
    print_table(f"publish, plain vs 3 X-MQ-* headers + priority=high ({ROUNDS} interleaved rounds of {ROUND:.0f} s,"
                f" {CONNECTIONS} connections, 1 process)", publish)
    print_table(f"fan-out: {MESSAGES} messages to N consumer groups, {MEMBERS} members each, limit 100,"
                " leased then acknowledged (the ungrouped queue still holds each message)", fan)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "all"))
