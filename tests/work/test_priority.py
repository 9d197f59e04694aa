"""Priority, defer_until and due_date over HTTP on two nodes: claims take High, then Normal,
then Low, FIFO within each; a deferred item is not claimable before its time; an open item past
its due_date is flagged overdue in listings and counted."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest

from tests.work.conftest import AUTH, claim, push


def iso(delta_s: float) -> str:
    return (datetime.now(timezone.utc) + timedelta(seconds=delta_s)).isoformat()


async def test_concurrent_claims_on_two_nodes_take_priority_then_arrival(two_nodes):
    first, second = two_nodes
    levels = ["Low", "High", "Normal", None, "High", "Low", "Normal", "High"] * 4
    expected = {"High": [], "Normal": [], "Low": []}
    for i, level in enumerate(levels):
        node = (first, second)[i % 2]
        fields = {} if level is None else {"priority": level}
        expected[level or "Normal"].append(await push(node, **fields))
    claims = await asyncio.gather(*(claim((first, second)[i % 2], claimed_by=f"w{i}") for i in range(len(levels))))
    # lease tokens count the claims in the order Redis ran them
    in_order = sorted(claims, key=lambda c: int(c["lease_token"]))
    assert [c["item"]["id"] for c in in_order] == expected["High"] + expected["Normal"] + expected["Low"]
    assert {c["item"]["priority"] for c in in_order[:12]} == {"High"}
    assert (await claim(first))["item"] is None


async def test_priority_is_shown_and_defaults_to_normal(two_nodes):
    first, second = two_nodes
    item_id = await push(first)
    item = await (await second.get(f"/api/queue/jobs/items/{item_id}", headers=AUTH)).json()
    assert item["priority"] == "Normal" and item["defer_until"] is None and item["due_date"] is None
    assert item["overdue"] is False


@pytest.mark.parametrize("fields", [{"priority": "high"}, {"priority": 1}, {"priority": "Urgent"},
                                    {"defer_until": "tomorrow"}, {"defer_until": 5}, {"due_date": "2025-13-01"},
                                    {"due_date": "0001-01-01T00:00:00Z"}])
async def test_bad_priority_or_times_are_400_and_store_nothing(api, work_keys, fields):
    resp = await api.post("/api/queue", json={"queue_name": "jobs", **fields}, headers=AUTH)
    assert resp.status == 400
    assert next(iter(fields)) in (await resp.json())["error"]
    assert await work_keys() == []


async def test_a_deferred_item_waits_for_its_time_then_keeps_its_priority(two_nodes):
    first, second = two_nodes
    later = await push(first, priority="High", defer_until=iso(1.5))
    now = await push(second, priority="Low")
    summary = await (await first.get("/api/queue/jobs", headers=AUTH)).json()
    assert summary["counts"]["NEW"] == 2 and summary["deferred"] == 1
    assert (await claim(second))["item"]["id"] == now
    assert (await claim(first))["item"] is None  # the deferred one is NEW, but not claimable yet
    other = await push(first, priority="Normal")
    await asyncio.sleep(1.7)
    assert (await claim(second))["item"]["id"] == later  # its time came: High goes first
    assert (await claim(first))["item"]["id"] == other
    item = await (await first.get(f"/api/queue/jobs/items/{later}", headers=AUTH)).json()
    assert item["defer_until"].endswith("Z") and item["priority"] == "High"


async def test_a_past_defer_until_is_claimable_at_once(api):
    item_id = await push(api, defer_until=iso(-60))
    assert (await claim(api))["item"]["id"] == item_id


async def test_overdue_items_are_flagged_and_counted_until_final(two_nodes):
    first, second = two_nodes
    late = await push(first, due_date=iso(-5))
    on_time = await push(second, due_date=iso(3600))
    page = await (await first.get("/api/queue/jobs/items?status=NEW", headers=AUTH)).json()
    flags = {item["id"]: item["overdue"] for item in page["items"]}
    assert flags == {late: True, on_time: False}
    summary = await (await second.get("/api/queue/jobs", headers=AUTH)).json()
    assert summary["overdue"] == 1
    claimed = await claim(second)
    assert claimed["item"]["id"] == late and claimed["item"]["overdue"] is True
    assert (await (await first.get("/api/queue/jobs", headers=AUTH)).json())["overdue"] == 1  # IN_PROGRESS: still open
    resp = await first.post(f"/api/queue/jobs/items/{late}/status", json={"status": "DONE"}, headers=AUTH)
    assert resp.status == 200 and (await resp.json())["item"]["overdue"] is False
    assert (await (await first.get("/api/queue/jobs", headers=AUTH)).json())["overdue"] == 0


async def test_a_lapsed_lease_returns_the_item_at_its_priority(two_nodes):
    first, second = two_nodes
    urgent = await push(first, priority="High")
    held = await claim(first, lease="300ms")
    assert held["item"]["id"] == urgent
    await push(second, priority="Normal")
    await asyncio.sleep(0.5)
    again = await claim(second)
    assert again["item"]["id"] == urgent and again["item"]["retries"] == 1


async def test_give_back_and_operator_retry_keep_the_priority(api):
    low = await push(api, priority="Low")
    high = await push(api, priority="High")
    taken = await claim(api)
    assert taken["item"]["id"] == high
    resp = await api.post(f"/api/queue/jobs/items/{high}/status", json={"status": "NEW"}, headers=AUTH)
    assert resp.status == 200
    assert (await claim(api))["item"]["id"] == high
    resp = await api.post(f"/api/queue/jobs/items/{high}/status", json={"status": "FAILED"}, headers=AUTH)
    assert resp.status == 200
    resp = await api.post(f"/api/queue/jobs/items/{high}/status", json={"status": "NEW"}, headers=AUTH)
    assert resp.status == 200
    assert (await claim(api))["item"]["id"] == high
    assert (await claim(api))["item"]["id"] == low


async def test_items_of_a_queue_made_before_priorities_are_claimed_in_their_order(work_node, redis):
    """The earlier layout: items in the hash and the NEW zset only, no `ready` entry, no settings."""
    import msgpack

    first, second = [await work_node(rate_limit_queue=(100_000, 60.0)) for _ in range(2)]
    old = [f"old-{n:04d}" for n in range(1500)]  # more than one claim's upgrade step (1000)
    for seq, item_id in enumerate(old, start=1):
        item = {"id": item_id, "seq": seq, "queue_name": "legacy", "status": "NEW", "created_ms": 1, "updated_ms": 1}
        await redis.hset("mq:w:{legacy}:items", item_id, msgpack.packb(item))
        await redis.zadd("mq:w:{legacy}:s:NEW", {item_id: seq})
    await redis.set("mq:w:{legacy}:seq", len(old))
    urgent = await push(first, queue="legacy", priority="High")
    later = await push(second, queue="legacy")
    taken = [(await claim((first, second)[n % 2], queue="legacy"))["item"]["id"] for n in range(1502)]
    assert taken == [urgent, *old, later]
    assert await redis.hget("mq:w:{legacy}:settings", "upgraded") == b"1"
    settings = await (await first.get("/api/queue/legacy/settings", headers=AUTH)).json()
    assert set(settings) == {"queue_name", "max_retries", "unique_reference", "lease", "retention",
                             "events_topic", "topic"}


async def test_a_claim_on_an_empty_queue_writes_nothing(api, work_keys):
    for n in range(5):
        assert (await claim(api, queue=f"nothing-{n}"))["item"] is None
    assert await work_keys() == []
