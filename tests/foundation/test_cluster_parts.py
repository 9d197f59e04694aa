"""Topics and work on a real three-primary Redis Cluster, on two nodes: every script stays in
one slot (a cross-slot script would fail with CROSSSLOT), wake-ups still cross nodes."""

from __future__ import annotations

import asyncio
import base64

from microq.app import create_app
from microq.redis_client import connect


async def test_topics_and_work_on_a_cluster(aiohttp_client, redis_cluster, settings):
    flush = connect(redis_cluster.url, cluster=True)
    await flush.flushall()
    await flush.aclose()
    on_cluster = settings.replace(redis_url=redis_cluster.url, redis_cluster=True, api_keys=("k",),
                                  visibility_timeout=0.2, max_attempts=2)
    a = await aiohttp_client(create_app(on_cluster))
    b = await aiohttp_client(create_app(on_cluster))
    assert (await a.get("/readyz")).status == 200

    topics = [f"orders.t{i}" for i in range(6)]  # spread over the three primaries
    for topic in topics:
        assert (await a.post(f"/publish/{topic}", data=b"hello")).status == 202
        got = await (await b.get(f"/consume/{topic}")).json()
        assert base64.b64decode(got["payload"]) == b"hello"
        assert (await b.post(f"/ack/{topic}/{got['id']}")).status == 200
    # a long-poll on b woken by a publish on a
    poll = asyncio.create_task(b.get("/consume/orders.wake?timeout=10s"))
    await asyncio.sleep(0.3)
    assert (await a.post("/publish/orders.wake", data=b"now")).status == 202
    assert (await asyncio.wait_for(poll, 5)).status == 200
    # redelivery then dead-lettering: the topic and its DLQ share a slot
    await a.post("/publish/orders.dead", data=b"x")
    for _ in range(2):
        assert (await a.get("/consume/orders.dead?timeout=2s")).status == 200
        await asyncio.sleep(0.3)
    await a.get("/consume/orders.dead?timeout=100ms")
    dead = await (await a.get("/consume/orders.dead.dlq?timeout=2s")).json()
    assert base64.b64decode(dead["payload"]) == b"x"
    stats = {s["Name"]: s for s in (await (await a.get("/api/stats")).json())["stats"]}
    assert set(topics) <= set(stats) and stats["orders.dead.dlq"]["IsDLQ"] is True

    key = {"X-API-Key": "k"}
    for name in ("Billing", "Shipping {eu}", "Returns"):
        created = await a.post("/api/queue", headers=key, json={"queue_name": name, "data": {"n": 1}})
        assert created.status == 201
        claimed = await b.post(f"/api/queue/{name}/claim", headers=key)
        assert (await claimed.json())["item"]["id"] == (await created.json())["id"]
    trigger = await a.post("/api/triggers", headers=key, json={"trigger_name": "Nightly", "type": "SINGLE"})
    assert trigger.status == 201
    updated = await b.post("/api/trigger", headers=key, json={"trigger_name": "Nightly", "process_status": "RUNNING"})
    assert (await updated.json()) == {"success": True, "trigger_name": "Nightly", "new_status": "RUNNING"}
