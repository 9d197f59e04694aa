"""Bulk add over HTTP on two nodes: 1-1000 items in one script, all or nothing, per-item errors
on 400, each item counted against the create rate limit."""

from __future__ import annotations

import asyncio

import pytest

from tests.work.conftest import AUTH


async def bulk(node, items, queue="jobs", headers=None):
    return await node.post(f"/api/queue/{queue}/bulk", json=items, headers={**AUTH, **(headers or {})})


async def test_a_thousand_items_in_one_request_keep_their_order_and_priority(two_nodes):
    first, second = two_nodes
    items = [{"data": {"n": i}, "reference": f"R{i}", "priority": "High" if i % 10 == 0 else None}
             for i in range(1000)]
    resp = await bulk(first, items)
    assert resp.status == 201, await resp.text()
    answer = await resp.json()
    assert answer["count"] == 1000 and len(set(answer["ids"])) == 1000
    counts = (await (await second.get("/api/queue/jobs", headers=AUTH)).json())["counts"]
    assert counts["NEW"] == 1000
    claimed = await (await second.post("/api/queue/jobs/claim", json={}, headers=AUTH)).json()
    assert claimed["item"]["id"] == answer["ids"][0] and claimed["item"]["priority"] == "High"
    claimed = await (await first.post("/api/queue/jobs/claim", json={}, headers=AUTH)).json()
    assert claimed["item"]["id"] == answer["ids"][10]
    page = await (await first.get("/api/queue/jobs/items?status=NEW&limit=5", headers=AUTH)).json()
    assert [item["reference"] for item in page["items"]] == ["R1", "R2", "R3", "R4", "R5"]


async def test_1001_items_are_400_and_store_nothing(api, work_keys):
    resp = await bulk(api, [{}] * 1001)
    assert resp.status == 400 and "1000" in (await resp.json())["error"]
    assert await work_keys() == []


@pytest.mark.parametrize("body", [[], {}, {"items": "x"}, "text", [1], [[]]])
async def test_bad_bodies_are_400(api, work_keys, body):
    resp = await bulk(api, body)
    assert resp.status == 400
    assert await work_keys() == []


async def test_one_bad_item_in_a_thousand_is_named_and_nothing_is_stored(api, work_keys):
    items = [{"data": "ok"} for _ in range(1000)]
    items[517] = {"priority": "urgent"}
    items[900] = {"queue_name": "another"}
    resp = await bulk(api, {"items": items})
    assert resp.status == 400
    error = (await resp.json())["error"]
    assert "2 of 1000" in error and "items[517]: priority" in error and "items[900]: queue_name" in error
    assert await work_keys() == []


async def test_a_held_unique_reference_refuses_the_whole_batch(two_nodes, work_keys):
    first, second = two_nodes
    await first.put("/api/queue/jobs/settings", json={"unique_reference": True}, headers=AUTH)
    held = (await (await first.post("/api/queue", json={"queue_name": "jobs", "reference": "B"},
                                    headers=AUTH)).json())["id"]
    resp = await bulk(second, [{"reference": "A"}, {"reference": "B"}, {"reference": "C"}])
    assert resp.status == 409
    error = (await resp.json())["error"]
    assert "items[1]" in error and held in error
    resp = await bulk(second, [{"reference": "A"}, {"reference": "C"}, {"reference": "A"}])
    assert resp.status == 409 and "items[2]" in (await resp.json())["error"]
    assert (await (await first.get("/api/queue/jobs", headers=AUTH)).json())["counts"]["NEW"] == 1


async def test_racing_batches_on_two_nodes_with_one_shared_reference_make_one_winner(two_nodes):
    first, second = two_nodes
    await first.put("/api/queue/jobs/settings", json={"unique_reference": True}, headers=AUTH)
    answers = await asyncio.gather(bulk(first, [{"reference": "X"}, {"reference": "a"}]),
                                   bulk(second, [{"reference": "b"}, {"reference": "X"}]))
    assert sorted(r.status for r in answers) == [201, 409]
    assert (await (await first.get("/api/queue/jobs", headers=AUTH)).json())["counts"]["NEW"] == 2


async def test_each_item_counts_against_the_create_rate_limit(work_node):
    node = await work_node(rate_limit_queue=(10, 60.0))
    resp = await bulk(node, [{}] * 6)
    assert resp.status == 201 and resp.headers["RateLimit-Remaining"] == "4"
    resp = await bulk(node, [{}] * 5)  # 5 more than the 4 left: refused whole, its places taken back
    assert resp.status == 429 and "Retry-After" in resp.headers
    resp = await node.post("/api/queue", json={"queue_name": "jobs"}, headers=AUTH)  # one of the 4 ...
    assert resp.status == 201 and resp.headers["RateLimit-Remaining"] == "2"  # ... and the refused bulk's first place
    resp = await bulk(node, [{}] * 2)
    assert resp.status == 201 and resp.headers["RateLimit-Remaining"] == "0"
    counts = (await (await node.get("/api/queue/jobs", headers=AUTH)).json())["counts"]
    assert counts["NEW"] == 9


async def test_a_bulk_with_an_invalid_item_gives_its_further_places_back(work_node):
    """The further items' places are taken while the items are checked; a 400 returns them (its
    first place counts, as for any request)."""
    node = await work_node(rate_limit_queue=(10, 60.0))
    resp = await bulk(node, [{}] * 5 + [{"priority": "urgent"}])
    assert resp.status == 400 and "items[5]" in (await resp.json())["error"]
    resp = await bulk(node, [{}] * 9)
    assert resp.status == 201 and resp.headers["RateLimit-Remaining"] == "0"
    assert (await (await node.get("/api/queue/jobs", headers=AUTH)).json())["counts"]["NEW"] == 9


async def test_a_bulk_without_a_key_is_401_and_stores_nothing(api, work_keys):
    resp = await api.post("/api/queue/jobs/bulk", json=[{}])
    assert resp.status == 401
    assert await work_keys() == []


async def test_an_idempotent_retry_of_a_bulk_returns_the_same_ids(api):
    headers = {"Idempotency-Key": "nightly-1"}
    first = await bulk(api, [{"data": "a"}, {"data": "b"}], headers=headers)
    again = await bulk(api, [{"data": "a"}, {"data": "b"}], headers=headers)
    assert first.status == again.status == 201
    assert (await first.json())["ids"] == (await again.json())["ids"]
    assert (await (await api.get("/api/queue/jobs", headers=AUTH)).json())["counts"]["NEW"] == 2


async def test_a_banned_address_gets_403_for_a_bulk_and_its_places_back(work_node, redis):
    node = await work_node(rate_limit_queue=(10, 60.0))
    for _ in range(5):
        assert (await node.post("/api/queue/jobs/bulk", json=[{}], headers={"X-API-Key": "wrong"})).status == 401
    resp = await bulk(node, [{}] * 5)
    assert resp.status == 403 and "Retry-After" in resp.headers
    assert await redis.zcard("mq:w:{jobs}:s:NEW") == 0
    rate_logs = [key async for key in redis.scan_iter(match="mq:sec:*rate:queue")]
    assert [await redis.llen(key) for key in rate_logs] == [0] * len(rate_logs)
