"""Issue 9, topics: with one Cluster primary down, reads that span topics answer with what is
reachable and name what is missing, instead of 503."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from microq.app import create_app
from microq.redis_client import connect
from microq.topics.registry import bucket_of
from tests.helpers import RedisClusterProcesses, redis_server_binary


@pytest.fixture
def own_cluster(tmp_path: Path):
    """A cluster of this test's own (one primary gets killed), serving the slots it still has."""
    cluster = RedisClusterProcesses(tmp_path / "cluster").start()
    cli = str(Path(redis_server_binary()).with_name("redis-cli"))
    for node in cluster.nodes:
        subprocess.run([cli, "-p", str(node.port), "config", "set", "cluster-require-full-coverage", "no"],
                       check=True, capture_output=True, timeout=10)
    try:
        yield cluster
    finally:
        cluster.stop()


def _slot_owner(cluster: RedisClusterProcesses, key: str) -> int:
    cli = str(Path(redis_server_binary()).with_name("redis-cli"))
    slot = int(subprocess.run([cli, "-p", str(cluster.nodes[0].port), "cluster", "keyslot", key],
                              capture_output=True, text=True, timeout=10).stdout)
    nodes = subprocess.run([cli, "-p", str(cluster.nodes[0].port), "cluster", "slots"],
                           capture_output=True, text=True, timeout=10).stdout.split()
    # CLUSTER SLOTS as lines: start, end, ip, port, id, ... per range
    i = 0
    while i < len(nodes):
        start, end, port = int(nodes[i]), int(nodes[i + 1]), int(nodes[i + 3])
        if start <= slot <= end:
            return port
        i += 5
    raise AssertionError(f"no owner for slot {slot}")


async def test_wildcard_consume_and_stats_answer_with_what_is_reachable(aiohttp_client, own_cluster, settings):
    client = connect(own_cluster.url, cluster=True)
    await client.flushall()
    await client.aclose()
    node = await aiohttp_client(create_app(settings.replace(redis_url=own_cluster.url, redis_cluster=True)))
    topics = [f"t{i:02d}" for i in range(24)]
    for topic in topics:
        assert (await node.post(f"/publish/{topic}", data=topic.encode())).status == 202
    victim = own_cluster.nodes[2]  # not the REDIS_URL node, which this branch's pub/sub uses
    lost = {t for t in topics if _slot_owner(own_cluster, f"mq:t:{{{t}}}:msgs") == victim.port}
    lost_buckets = {b for b in range(16)
                    if _slot_owner(own_cluster, f"mq:{{topics:registry:{b}}}") == victim.port}
    assert lost and len(lost) < len(topics)
    os.kill(victim.process.pid, signal.SIGKILL)
    victim.process.wait(10)
    victim.process = None

    stats = await node.get("/api/stats")
    assert stats.status == 200
    body = await stats.json()
    assert {r["Name"] for r in body["stats"]} == set(topics) - lost
    assert set(body["unavailable_buckets"]) >= {bucket_of(t) for t in lost} | lost_buckets

    taken = await node.get("/consume/t*", params={"limit": "100", "auto_ack": "true"})
    assert taken.status == 200
    got = {m["topic"] for m in await taken.json()}
    assert got == set(topics) - lost
    assert taken.headers["X-MicroQ-Unavailable-Buckets"]
    empty = await node.get("/consume/t*", params={"limit": "100"})
    assert empty.status == 404 and (await empty.json())["unavailable_buckets"]
