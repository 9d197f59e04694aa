"""Queue settings (GET/PUT /api/queue/{q}/settings) and unique references, over HTTP on two nodes."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

import pytest

from tests.work.conftest import AUTH


async def put(node, queue="jobs", **body):
    return await node.put(f"/api/queue/{queue}/settings", json=body, headers=AUTH)


async def push(node, queue="jobs", **fields):
    return await node.post("/api/queue", json={"queue_name": queue, **fields}, headers=AUTH)


async def test_defaults_then_partial_changes_seen_by_the_other_node(two_nodes):
    first, second = two_nodes
    shown = await (await first.get("/api/queue/jobs/settings", headers=AUTH)).json()
    assert shown == {"queue_name": "jobs", "max_retries": 3, "unique_reference": False, "lease": 1800.0,
                     "retention": 30 * 86400.0, "events_topic": False, "topic": "work.jobs"}
    resp = await put(first, max_retries=5, lease="2m")
    assert resp.status == 200
    assert (await resp.json())["max_retries"] == 5
    shown = await (await second.get("/api/queue/jobs/settings", headers=AUTH)).json()
    assert shown["max_retries"] == 5 and shown["lease"] == 120.0 and shown["unique_reference"] is False
    resp = await put(second, unique_reference=True, retention=0)
    assert (await resp.json()) == {"queue_name": "jobs", "max_retries": 5, "unique_reference": True,
                                   "lease": 120.0, "retention": 0.0, "events_topic": False, "topic": "work.jobs"}
    resp = await put(first, max_retries=None, lease=None)  # null: the node's default again
    assert (await resp.json())["max_retries"] == 3 and (await resp.json())["lease"] == 1800.0
    other = await (await first.get("/api/queue/other/settings", headers=AUTH)).json()
    assert other["unique_reference"] is False  # settings are per queue


@pytest.mark.parametrize("body", [{"max_retries": 11}, {"max_retries": -1}, {"max_retries": "3"},
                                  {"max_retries": True}, {"max_retries": 2.5}, {"unique_reference": "yes"},
                                  {"lease": 0}, {"lease": "25h"}, {"lease": "soon"}, {"retention": -5},
                                  {"retention": "3651d"}, {"retention": "1e3s"}, {"colour": "blue"}])
async def test_bad_settings_are_400_and_change_nothing(api, body):
    resp = await put(api, **body)
    assert resp.status == 400
    assert next(iter(body)) in (await resp.json())["error"]
    shown = await (await api.get("/api/queue/jobs/settings", headers=AUTH)).json()
    assert shown["max_retries"] == 3 and shown["unique_reference"] is False


async def test_the_queue_lease_is_a_claims_default(two_nodes):
    first, second = two_nodes
    assert (await put(first, lease="2s")).status == 200
    await push(first)
    await push(first)
    claimed = await (await second.post("/api/queue/jobs/claim", json={}, headers=AUTH)).json()
    ends = datetime.fromisoformat(claimed["lease_expires"]).timestamp()
    assert 0 < ends - time.time() <= 2.5
    own = await (await second.post("/api/queue/jobs/claim", json={"lease": "1h"}, headers=AUTH)).json()
    assert datetime.fromisoformat(own["lease_expires"]).timestamp() - time.time() > 3000  # the claim's own wins


async def test_without_the_setting_references_may_repeat(api):
    assert (await push(api, reference="R-1")).status == 201
    assert (await push(api, reference="R-1")).status == 201  # the seed's behaviour


async def test_a_unique_reference_is_refused_while_its_item_is_open(two_nodes):
    first, second = two_nodes
    await put(first, unique_reference=True)
    resp = await push(first, reference="INV-7")
    assert resp.status == 201
    held = (await resp.json())["id"]
    resp = await push(second, reference="INV-7")
    assert resp.status == 409
    error = (await resp.json())["error"]
    assert held in error and "INV-7" in error
    assert (await push(second, reference="INV-8")).status == 201
    assert (await push(second, reference="INV-7", queue="elsewhere")).status == 201  # per queue
    claimed = await (await second.post("/api/queue/jobs/claim", json={}, headers=AUTH)).json()
    assert claimed["item"]["id"] == held
    assert (await push(first, reference="INV-7")).status == 409  # IN_PROGRESS is open too
    resp = await first.post(f"/api/queue/jobs/items/{held}/status", json={"status": "DONE"}, headers=AUTH)
    assert resp.status == 200
    resp = await push(second, reference="INV-7")  # final: the reference is free again
    assert resp.status == 201
    again = (await resp.json())["id"]
    resp = await push(first, reference="INV-7", status="DONE")  # a final item holds nothing
    assert resp.status == 201
    # an operator's retry must not reopen a reference another open item holds
    resp = await first.post(f"/api/queue/jobs/items/{again}/status", json={"status": "ABANDONED"}, headers=AUTH)
    assert resp.status == 200
    newer = (await (await push(second, reference="INV-7")).json())["id"]
    resp = await first.post(f"/api/queue/jobs/items/{again}/status", json={"status": "NEW"}, headers=AUTH)
    assert resp.status == 409 and newer in (await resp.json())["error"]


async def test_two_nodes_racing_the_same_reference_make_one_item(two_nodes):
    first, second = two_nodes
    await put(first, unique_reference=True)
    answers = await asyncio.gather(*(push((first, second)[i % 2], reference="ORDER-1") for i in range(20)))
    statuses = sorted(r.status for r in answers)
    assert statuses == [201] + [409] * 19
    made = [(await r.json())["id"] for r in answers if r.status == 201][0]
    for resp in answers:
        if resp.status == 409:
            assert made in (await resp.json())["error"]
    summary = await (await first.get("/api/queue/jobs", headers=AUTH)).json()
    assert summary["counts"]["NEW"] == 1


async def test_an_idempotent_retry_of_a_create_is_not_a_duplicate_reference(api):
    await put(api, unique_reference=True)
    headers = {**AUTH, "Idempotency-Key": "create-1"}
    first = await api.post("/api/queue", json={"queue_name": "jobs", "reference": "X"}, headers=headers)
    again = await api.post("/api/queue", json={"queue_name": "jobs", "reference": "X"}, headers=headers)
    assert first.status == again.status == 201
    assert (await first.json())["id"] == (await again.json())["id"]


async def test_final_items_go_after_the_retention_with_their_index_entries(two_nodes, redis):
    first, second = two_nodes
    await put(first, retention="500ms", unique_reference=True)
    done = (await (await push(first, reference="OLD", status="DONE")).json())["id"]
    kept = (await (await push(first, reference="OPEN")).json())["id"]
    await asyncio.sleep(0.7)
    assert (await push(second, reference="NEXT")).status == 201  # a later write removes what expired
    assert (await first.get(f"/api/queue/jobs/items/{done}", headers=AUTH)).status == 404
    assert (await first.get(f"/api/queue/jobs/items/{kept}", headers=AUTH)).status == 200
    counts = (await (await second.get("/api/queue/jobs", headers=AUTH)).json())["counts"]
    assert counts["DONE"] == 0 and counts["NEW"] == 2
    assert await redis.zcard("mq:w:{jobs}:expiry") == 0
    assert await redis.zcard("mq:w:{jobs}:arrivals") == 2
    assert await redis.zcard("mq:w:{jobs}:refindex") == 2


async def test_retention_zero_keeps_final_items(api):
    await put(api, retention=0)
    done = (await (await push(api, status="DONE")).json())["id"]
    await push(api)
    assert (await api.get(f"/api/queue/jobs/items/{done}", headers=AUTH)).status == 200
