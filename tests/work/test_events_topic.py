"""Events as topics: with a queue's events_topic on, every item transition reaches the topic
work.<queue> exactly once, however many nodes forward."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from microq.keys import Keyspace
from microq.work.api import WORK
from microq.work.keys import WorkKeys
from microq.work.outbox import topic_name
from tests.helpers import topic_messages
from tests.work.conftest import AUTH


async def wait_messages(api, topic, count, timeout=10.0):
    found = []
    for _ in range(int(timeout / 0.05)):
        found += await topic_messages(api, topic)
        if len(found) >= count:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(1.2)  # a sweep round: room for any duplicate
    return found + await topic_messages(api, topic)


async def events_on(api, queue="jobs"):
    resp = await api.put(f"/api/queue/{queue}/settings", json={"events_topic": True}, headers=AUTH)
    assert resp.status == 200 and (await resp.json())["events_topic"] is True


async def test_each_transition_is_one_event(api):
    await events_on(api)
    resp = await api.post("/api/queue", json={"queue_name": "jobs", "reference": "INV-1", "created_by": "erp"},
                          headers=AUTH)
    item_id = (await resp.json())["id"]
    claimed = await (await api.post("/api/queue/jobs/claim", json={"claimed_by": "robot-7"}, headers=AUTH)).json()
    resp = await api.post(f"/api/queue/jobs/items/{item_id}/status",
                          json={"status": "FAILED", "exception_type": "application", "by": "robot-7",
                                "lease_token": claimed["lease_token"]}, headers=AUTH)
    retry_id = (await resp.json())["retry"]["id"]
    found = await wait_messages(api, "work.jobs", 4)
    moves = [(e["item_id"], e["from"], e["to"], e["by"]) for e in found]
    assert moves == [(item_id, None, "NEW", "erp"), (item_id, "NEW", "IN_PROGRESS", "robot-7"),
                     (item_id, "IN_PROGRESS", "FAILED", "robot-7"), (retry_id, None, "NEW", "erp")]
    first = found[0]
    assert first["queue"] == "jobs" and first["reference"] == "INV-1" and first["type"] == "item"
    assert first["event_id"].startswith("work:jobs:events:") and first["at"].endswith("Z")
    assert found[3]["retry_number"] == 1 and len({e["event_id"] for e in found}) == 4


async def test_off_by_default_and_off_again(api, redis: Redis):
    await api.post("/api/queue", json={"queue_name": "jobs"}, headers=AUTH)
    keys = WorkKeys(Keyspace("mq:")).queue("jobs")
    assert await redis.exists(keys.events) == 0
    await events_on(api)
    await api.put("/api/queue/jobs/settings", json={"events_topic": False}, headers=AUTH)
    await api.post("/api/queue", json={"queue_name": "jobs"}, headers=AUTH)
    assert await redis.exists(keys.events) == 0


async def test_bulk_items_and_lapsed_leases_are_events_too(api):
    await events_on(api)
    resp = await api.post("/api/queue/jobs/bulk", json=[{"data": {"n": n}} for n in range(250)], headers=AUTH)
    assert resp.status == 201
    await api.post("/api/queue/jobs/claim", json={"lease": "100ms"}, headers=AUTH)
    found = await wait_messages(api, "work.jobs", 252, timeout=15)
    assert [e["to"] for e in found].count("NEW") == 251  # 250 created, 1 handed back by the lease sweep
    assert [(e["from"], e["by"]) for e in found if e["from"] == "IN_PROGRESS"] == [("IN_PROGRESS", "lease")]


async def test_exactly_once_with_two_nodes_forwarding_concurrently(work_node):
    nodes = [await work_node(), await work_node()]
    await events_on(nodes[0])
    ids = await asyncio.gather(*(nodes[i % 2].post("/api/queue", json={"queue_name": "jobs", "data": {"n": i}},
                                                   headers=AUTH) for i in range(200)))
    assert {r.status for r in ids} == {201}
    outboxes = [node.app[WORK].outbox for node in nodes]  # and both forward at once, as their sweeps may
    await asyncio.gather(*(o.forward_queue("jobs") for o in outboxes for _ in range(3)))
    found = await wait_messages(nodes[1], "work.jobs", 200)
    assert len(found) == 200 and len({e["event_id"] for e in found}) == 200
    assert sorted(e["item_id"] for e in found) == sorted([(await r.json())["id"] for r in ids])


@pytest.mark.parametrize("name, topic", [("jobs", "work.jobs"), ("a.b-c_D9", "work.a.b-c_D9")])
def test_names_that_fit_are_kept(name, topic):
    assert topic_name("work", name) == topic


@pytest.mark.parametrize("name", ["has space", "é", ".hidden", "x.dlq", "a/b", "{x}", "x" * 251])
def test_other_names_are_hashed_and_cannot_meet_a_kept_one(name):
    topic = topic_name("work", name)
    assert topic.startswith("work..") and len(topic) == 46 and topic != topic_name("work", name + "x")


async def test_a_queue_name_that_does_not_fit_gets_its_hashed_topic(api):
    await events_on(api, "Invoices 2026 é")
    resp = await api.get("/api/queue/Invoices%202026%20%C3%A9/settings", headers=AUTH)
    topic = (await resp.json())["topic"]
    assert topic == topic_name("work", "Invoices 2026 é")
    await api.post("/api/queue", json={"queue_name": "Invoices 2026 é"}, headers=AUTH)
    found = await wait_messages(api, topic, 1)
    assert len(found) == 1 and found[0]["queue"] == "Invoices 2026 é"
