"""Idempotency-Key on every state-changing work request, over HTTP on two nodes: a retry with the
same key and request returns the first answer and applies nothing; the same key for another
request is 422; a retried claim returns the same item (and token) while its lease holds."""

from __future__ import annotations

import asyncio

import pytest

from tests.work.conftest import AUTH


def keyed(key: str) -> dict[str, str]:
    return {**AUTH, "Idempotency-Key": key}


@pytest.fixture
async def nodes(work_node):
    return await work_node(), await work_node()


async def push(node, queue="jobs", **headers):
    resp = await node.post("/api/queue", json={"queue_name": queue}, headers={**AUTH, **headers})
    assert resp.status == 201
    return (await resp.json())["id"]


async def counts(node, queue="jobs"):
    return (await (await node.get(f"/api/queue/{queue}", headers=AUTH)).json())["counts"]


async def test_create_retry_on_another_node_returns_the_first_id(nodes, redis):
    first, second = nodes
    one = await first.post("/api/queue", json={"queue_name": "jobs", "data": "x"}, headers=keyed("c-1"))
    two = await second.post("/api/queue", json={"queue_name": "jobs", "data": "x"}, headers=keyed("c-1"))
    assert one.status == two.status == 201 and await one.json() == await two.json()
    assert (await counts(first))["NEW"] == 1
    other = await second.post("/api/queue", json={"queue_name": "jobs", "data": "y"}, headers=keyed("c-1"))
    assert other.status == 422 and "Idempotency-Key" in (await other.json())["error"]
    elsewhere = await second.post("/api/queue", json={"queue_name": "other", "data": "x"}, headers=keyed("c-1"))
    assert elsewhere.status == 201  # another queue is another scope
    assert (await counts(first))["NEW"] == 1 and (await counts(first, "other"))["NEW"] == 1
    stored = [k async for k in redis.scan_iter(match="mq:w:{jobs}:idem:*")]
    assert len(stored) == 1 and b"c-1" not in stored[0]  # a digest of the header names the key
    assert 0 < await redis.pttl(stored[0]) <= 24 * 3600 * 1000


@pytest.mark.parametrize("key", ["", "with space", "é", "k" * 201])
async def test_bad_idempotency_keys_are_400(api, key):
    resp = await api.post("/api/queue", json={"queue_name": "jobs"},
                          headers={**AUTH, "Idempotency-Key": key.encode().decode("latin-1")})
    assert resp.status == 400 and "Idempotency-Key" in (await resp.json())["error"]
    assert (await counts(api))["NEW"] == 0


async def test_concurrent_retries_of_one_create_make_one_item(nodes):
    first, second = nodes
    replies = await asyncio.gather(*(node.post("/api/queue", json={"queue_name": "jobs"}, headers=keyed("burst"))
                                     for node in [first, second] * 10))
    assert {r.status for r in replies} == {201}
    assert len({(await r.json())["id"] for r in replies}) == 1
    assert (await counts(first))["NEW"] == 1


async def test_a_retried_claim_returns_the_same_item_while_its_lease_holds(nodes):
    first, second = nodes
    a, b = await push(first), await push(first)
    body = {"claimed_by": "robot", "lease": "2s"}
    one = await (await first.post("/api/queue/jobs/claim", json=body, headers=keyed("claim-1"))).json()
    two = await (await second.post("/api/queue/jobs/claim", json=body, headers=keyed("claim-1"))).json()
    assert one == two and one["item"]["id"] == a
    assert (await counts(first))["IN_PROGRESS"] == 1 and (await counts(first))["NEW"] == 1
    await asyncio.sleep(2.3)  # the lease lapsed: the key is forgotten with it, a retry claims afresh
    three = await (await second.post("/api/queue/jobs/claim", json=body, headers=keyed("claim-1"))).json()
    assert three["lease_token"] != one["lease_token"] and three["item"]["id"] == a  # handed back, claimed again
    assert three["item"]["retries"] == 1
    assert b  # the second item still waits
    assert (await counts(first))["NEW"] == 1


async def test_status_retry_is_the_first_answer_not_a_409(nodes):
    first, second = nodes
    item_id = await push(first)
    claimed = await (await first.post("/api/queue/jobs/claim", headers=AUTH)).json()
    body = {"status": "DONE", "message": "ok", "lease_token": claimed["lease_token"]}
    url = f"/api/queue/jobs/items/{item_id}/status"
    one = await first.post(url, json=body, headers=keyed("done-1"))
    two = await second.post(url, json=body, headers=keyed("done-1"))  # without the key this would be 409
    assert one.status == two.status == 200 and await one.json() == await two.json()
    assert (await second.post(url, json=body, headers=AUTH)).status == 409
    other = await second.post(url, json={**body, "message": "changed"}, headers=keyed("done-1"))
    assert other.status == 422


async def test_heartbeat_retry_is_the_first_answer(api):
    item_id = await push(api)
    token = (await (await api.post("/api/queue/jobs/claim", headers=AUTH)).json())["lease_token"]
    url = f"/api/queue/jobs/items/{item_id}/heartbeat"
    one = await (await api.post(url, json={"lease_token": token}, headers=keyed("hb-1"))).json()
    await asyncio.sleep(0.05)
    two = await (await api.post(url, json={"lease_token": token}, headers=keyed("hb-1"))).json()
    assert one == two  # the same lease end: the retry renewed nothing
    three = await (await api.post(url, json={"lease_token": token}, headers=keyed("hb-2"))).json()
    assert three["lease_expires"] > one["lease_expires"]


async def test_trigger_create_delete_and_status_retries(nodes):
    first, second = nodes
    body = {"trigger_name": "Nightly", "type": "SINGLE"}
    one = await first.post("/api/triggers", json=body, headers=keyed("t-1"))
    two = await second.post("/api/triggers", json=body, headers=keyed("t-1"))
    assert one.status == two.status == 201 and await one.json() == await two.json()
    assert (await second.post("/api/triggers", json=body, headers=AUTH)).status == 409

    status = {"trigger_name": "Nightly", "process_status": "RUNNING"}
    s1 = await first.post("/api/trigger", json=status, headers=keyed("s-1"))
    s2 = await second.post("/api/trigger", json=status, headers=keyed("s-1"))
    assert s1.status == s2.status == 200 and await s1.json() == await s2.json()
    assert (await second.post("/api/trigger", json={**status, "process_status": "DONE"},
                              headers=keyed("s-1"))).status == 422

    d1 = await first.delete("/api/triggers/Nightly", headers=keyed("d-1"))
    d2 = await second.delete("/api/triggers/Nightly", headers=keyed("d-1"))
    assert d1.status == d2.status == 200  # the retry is the first answer, not a 404
    assert (await second.delete("/api/triggers/Nightly", headers=AUTH)).status == 404
    assert (await (await first.get("/api/triggers", headers=AUTH)).json())["triggers"] == []


async def test_errors_are_not_remembered(api):
    """A request refused (nothing applied) may be retried with the same key once it can succeed."""
    url = "/api/queue/jobs/items/nope/status"
    assert (await api.post(url, json={"status": "DONE"}, headers=keyed("e-1"))).status == 404
    assert (await api.post("/api/trigger", json={"trigger_name": "Later"}, headers=keyed("e-2"))).status == 404
    assert (await api.post("/api/triggers", json={"trigger_name": "Later"}, headers=AUTH)).status == 201
    assert (await api.post("/api/trigger", json={"trigger_name": "Later"}, headers=keyed("e-2"))).status == 200
