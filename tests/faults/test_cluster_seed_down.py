"""The Cluster primary named in REDIS_URL dies while nodes run: the rest of the cluster must
carry on, pub/sub included, and a node must still start.

No load here: each test probes one thing against two running nodes and a dead seed primary."""

from __future__ import annotations

import asyncio
import time
import urllib.request

import aiohttp
import pytest

from tests.faults.processes import Processes, kill_redis

WAKE_S = 2.0  # a long-poll on a live primary's topic is woken by a publish on another node within this
POLL_TIMEOUT_S = 10  # the long-poll's own timeout: an answer only then means nobody woke it
START_S = 15.0  # a node started with its REDIS_URL primary down is up (healthz 200) within this


@pytest.fixture(scope="module")
def seed_down(tmp_path_factory):
    with Processes(tmp_path_factory.mktemp("seed-down")) as processes:
        cluster = processes.cluster(appendonly=False)
        seed = cluster.nodes[0]
        nodes = processes.ready_nodes(2, seed.url, cluster=True)
        topic = next(t for t in (f"wake.t{i}" for i in range(100))
                     if cluster.node_for_key(f"x:{{{t}}}") is not seed)
        lost_topic = next(t for t in (f"gone.t{i}" for i in range(100))
                          if cluster.node_for_key(f"x:{{{t}}}") is seed)
        for node in nodes:  # both nodes have seen both topics before the fault
            for method, path in (("POST", f"/publish/{topic}"), ("GET", f"/consume/{topic}?auto_ack=true"),
                                 ("POST", f"/publish/{lost_topic}")):
                request = urllib.request.Request(node.base + path, data=b"warm" if method == "POST" else None,
                                                 method=method)
                with urllib.request.urlopen(request, timeout=10) as response:
                    assert response.status in (200, 202)
        kill_redis(seed)
        print(f"seed primary :{seed.port} SIGKILLed; topic {topic} lives on a live primary, {lost_topic} on it")
        yield processes, seed, nodes, topic


async def test_a_long_poll_on_a_live_primary_is_woken_from_another_node(seed_down):
    _, _, (a, b), topic = seed_down
    async with aiohttp.ClientSession() as session:
        poll = asyncio.create_task(session.get(f"{a.base}/consume/{topic}?timeout={POLL_TIMEOUT_S}s"))
        await asyncio.sleep(0.5)
        published = time.monotonic()
        async with session.post(f"{b.base}/publish/{topic}", data=b"wake up") as response:
            publish_status = response.status
        answer = await asyncio.wait_for(poll, POLL_TIMEOUT_S + 5)
        woken_after = time.monotonic() - published
        print(f"publish {publish_status}, long-poll {answer.status} after {woken_after:.1f} s")
        answer.release()
    assert publish_status == 202
    assert answer.status == 200 and woken_after < WAKE_S


async def test_a_node_starts_while_its_redis_url_primary_is_down(seed_down):
    processes, seed, _, _ = seed_down
    node = processes.node(seed.url, cluster=True)
    deadline = time.monotonic() + START_S
    healthy = False
    while time.monotonic() < deadline and node.process.poll() is None and not healthy:
        try:
            with urllib.request.urlopen(f"{node.base}/healthz", timeout=1) as response:
                healthy = response.status == 200
        except OSError:
            await asyncio.sleep(0.2)
    print(f"node with a dead REDIS_URL primary: exit code {node.process.poll()}, healthz 200: {healthy}")
    assert healthy, node.log_tail(1500)


async def test_stats_answer_with_what_is_reachable(seed_down):
    _, _, (a, _), topic = seed_down
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{a.base}/api/stats") as response:
            status, body = response.status, await response.json()
    print(f"/api/stats with a dead primary: {status}")
    assert status == 200, body
    assert topic in {row["Name"] for row in body["stats"]}
