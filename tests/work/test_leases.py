"""Claim leases over HTTP on two nodes: a claim holds its item for a lease, a heartbeat renews
it, a lapsed lease hands the item back (NEW with retries + 1, FAILED after the maximum) through
the next claim or the periodic sweep, and a fencing token refuses the late worker."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

import pytest

from microq.keys import Keyspace
from microq.work.keys import WorkKeys
from tests.work.conftest import AUTH, claim


@pytest.fixture
async def two_clients(work_node):
    """Two nodes accepting KEY on one Redis."""
    return await work_node(), await work_node()


async def push(node, queue="jobs"):
    resp = await node.post("/api/queue", json={"queue_name": queue}, headers=AUTH)
    assert resp.status == 201
    return (await resp.json())["id"]


async def move(node, item_id, status, queue="jobs", **body):
    return await node.post(f"/api/queue/{queue}/items/{item_id}/status", json={"status": status, **body},
                           headers=AUTH)


async def beat(node, item_id, queue="jobs", **body):
    return await node.post(f"/api/queue/{queue}/items/{item_id}/heartbeat", json=body, headers=AUTH)


async def item(node, item_id, queue="jobs"):
    resp = await node.get(f"/api/queue/{queue}/items/{item_id}", headers=AUTH)
    assert resp.status == 200
    return await resp.json()


def seconds_until(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() - time.time()


async def test_a_claim_carries_a_token_and_the_default_lease(api):
    item_id = await push(api)
    answer = await claim(api, claimed_by="robot-1")
    assert answer["success"] is True and answer["item"]["id"] == item_id
    assert answer["lease_token"] and answer["item"]["lease_expires"] == answer["lease_expires"]
    assert 1790 < seconds_until(answer["lease_expires"]) <= 1800  # MICROQ_WORK_LEASE: 30 min
    assert answer["item"]["retries"] == 0
    shown = await item(api, item_id)
    assert shown["lease_expires"] == answer["lease_expires"] and "lease_token" not in shown
    assert (await claim(api)) == {"success": True, "item": None}  # the empty answer keeps the seed's shape


async def test_lease_setting_and_per_request_lease(work_node):
    node = await work_node(work_lease=120.0)
    await push(node), await push(node), await push(node)
    assert 110 < seconds_until((await claim(node))["lease_expires"]) <= 120
    assert 80000 < seconds_until((await claim(node, lease="24h"))["lease_expires"]) <= 86400
    assert 80 < seconds_until((await claim(node, lease=90))["lease_expires"]) <= 90


@pytest.mark.parametrize("lease", ["25h", "١٠s", "1_0s", "1e3s", "0s", "-1s", "abc", "", True, [], {"s": 1}, 0, -5, 86401])
async def test_bad_leases_are_400_and_claim_nothing(api, lease):
    await push(api)
    resp = await api.post("/api/queue/jobs/claim", json={"lease": lease}, headers=AUTH)
    assert resp.status == 400 and "lease" in (await resp.json())["error"]
    assert (await (await api.get("/api/queue/jobs", headers=AUTH)).json())["counts"]["NEW"] == 1


async def test_a_lapsed_claim_goes_to_the_next_worker_and_fences_the_first(two_clients):
    first, second = two_clients
    item_id = await push(first)
    old = await claim(first, claimed_by="slow", lease="300ms")
    await asyncio.sleep(0.5)
    new = await claim(second, claimed_by="fast")  # hands the lapsed claim back, then claims it again
    assert new["item"]["id"] == item_id and new["item"]["claimed_by"] == "fast"
    assert new["item"]["retries"] == 1 and new["lease_token"] != old["lease_token"]

    late = await move(first, item_id, "DONE", lease_token=old["lease_token"])
    assert late.status == 409 and "lease_token" in (await late.json())["error"]
    assert (await beat(first, item_id, lease_token=old["lease_token"])).status == 409
    assert (await item(second, item_id))["claimed_by"] == "fast"  # the 409s changed nothing

    done = await move(second, item_id, "DONE", lease_token=new["lease_token"])
    assert done.status == 200 and (await done.json())["item"]["status"] == "DONE"
    again = await move(second, item_id, "NEW", lease_token=new["lease_token"])
    assert again.status == 409  # a token holds only while its claim holds the item


async def test_the_sweep_hands_back_a_lapsed_claim_without_any_claim(two_clients):
    first, second = two_clients
    item_id = await push(first)
    await claim(first, lease="200ms")
    deadline = time.monotonic() + 10
    while (shown := await item(second, item_id))["status"] != "NEW":
        assert time.monotonic() < deadline, shown
        await asyncio.sleep(0.2)
    assert shown["retries"] == 1 and shown["claimed_by"] is None and shown["lease_expires"] is None
    counts = (await (await second.get("/api/queue/jobs", headers=AUTH)).json())["counts"]
    assert counts["NEW"] == 1 and counts["IN_PROGRESS"] == 0


async def test_failed_after_the_maximum_of_retries(work_node):
    node = await work_node(work_max_retries=1)
    item_id = await push(node)
    for expected_retries in (0, 1):
        answer = await claim(node, lease="100ms")
        assert answer["item"]["id"] == item_id and answer["item"]["retries"] == expected_retries
        await asyncio.sleep(0.25)
    assert (await claim(node)) == {"success": True, "item": None}  # the second lapse made it FAILED
    shown = await item(node, item_id)
    assert shown["status"] == "FAILED" and shown["retries"] == 1
    retried = await move(node, item_id, "NEW")  # an operator's retry starts a fresh count
    assert retried.status == 200 and (await retried.json())["item"]["retries"] == 0


async def test_heartbeats_keep_the_claim(two_clients):
    first, second = two_clients
    item_id = await push(first)
    answer = await claim(first, lease="2s")
    token = answer["lease_token"]
    for _ in range(6):
        await asyncio.sleep(0.5)
        resp = await beat(first, item_id, lease_token=token)
        assert resp.status == 200, await resp.text()
        assert (await resp.json())["lease_token"] == token
    assert (await claim(second))["item"] is None  # 3 s after a 2 s lease: still held
    longer = await (await beat(first, item_id, lease_token=token, lease="2h")).json()
    assert 7100 < seconds_until(longer["lease_expires"]) <= 7200
    assert longer["item"]["status"] == "IN_PROGRESS" and longer["item"]["retries"] == 0
    assert (await move(first, item_id, "DONE", lease_token=token)).status == 200


async def test_heartbeat_errors(api):
    item_id = await push(api)
    token = (await claim(api))["lease_token"]
    missing = await beat(api, item_id)
    assert missing.status == 400 and "lease_token" in (await missing.json())["error"]
    assert (await api.post(f"/api/queue/jobs/items/{item_id}/heartbeat", headers=AUTH)).status == 400
    assert (await beat(api, "nope", lease_token=token)).status == 404
    assert (await beat(api, item_id, lease_token="999")).status == 409
    assert (await beat(api, item_id, lease_token=token, lease="25h")).status == 400
    assert (await beat(api, item_id, lease_token=7)).status == 400
    assert (await item(api, item_id))["status"] == "IN_PROGRESS"


async def test_no_token_is_no_fencing_and_a_token_on_an_unclaimed_item_is_409(api):
    """Seed-era clients send no token: their moves work as before, whoever holds the claim."""
    item_id = await push(api)
    await claim(api)
    assert (await move(api, item_id, "DONE")).status == 200
    other = await push(api)
    assert (await move(api, other, "ABANDONED", lease_token="1")).status == 409
    assert (await move(api, other, "ABANDONED")).status == 200


async def test_concurrent_claims_with_lapses_never_share_an_item(two_clients):
    """Workers on two nodes claim with short leases; every lapse hands the item on, and at the
    end every item is DONE exactly once by the worker whose token held it."""
    first, second = two_clients
    ids = {await push(first) for _ in range(12)}
    done: list[str] = []

    async def worker(node, n):
        while True:
            answer = await claim(node, claimed_by=f"w{n}", lease="400ms")
            if answer["item"] is None:
                return
            if n % 3 == 0:  # a slow worker: its lease lapses, its DONE must be refused
                await asyncio.sleep(0.6)
            resp = await move(node, answer["item"]["id"], "DONE", lease_token=answer["lease_token"])
            if resp.status == 200:
                done.append(answer["item"]["id"])
            else:
                assert resp.status == 409

    await asyncio.gather(*(worker(node, n) for n, node in enumerate([first, second] * 3)))
    leftover = [i for i in ids if (await item(first, i))["status"] != "DONE"]
    for item_id in leftover:  # a slow worker's item can end FAILED after the retries
        assert (await item(first, item_id))["status"] in ("NEW", "IN_PROGRESS", "FAILED")
    assert len(done) == len(set(done)) and set(done) | set(leftover) == ids


async def test_the_sweep_index_forgets_queues_without_claims(api, redis):
    keys = WorkKeys(Keyspace("mq:"))
    bucket = keys.leased_queues(keys.lease_bucket("jobs"))
    item_id = await push(api)
    token = (await claim(api, lease="150ms"))["lease_token"]
    assert await redis.zscore(bucket, "jobs") is not None
    deadline = time.monotonic() + 10
    while await redis.zscore(bucket, "jobs") is not None:  # swept: handed back, no claim left
        assert time.monotonic() < deadline
        await asyncio.sleep(0.2)
    assert (await item(api, item_id))["status"] == "NEW"
    assert (await move(api, item_id, "DONE", lease_token=token)).status == 409


async def test_a_claim_during_a_sweep_of_its_queue_stays_in_the_index(redis_url, redis, on_cluster):
    """The sweeper marks the queue, finds no claim; a claim lands before the sweeper files the
    result: the queue must stay filed with the new claim's lease end, not leave the index."""
    from microq.redis_client import connect
    from microq.scripts import Scripts
    from microq.work.store import WorkStore

    client = connect(redis_url, cluster=on_cluster)
    try:
        store = WorkStore(Scripts(client), WorkKeys(Keyspace("mq:")))
        bucket = store.keys.lease_bucket("jobs")
        index = store.keys.leased_queues(bucket)
        await redis.zadd(index, {"jobs": 1})  # due long ago, no claim left in the queue
        mark, due = await store.due_queues(bucket, 100, 60_000)
        assert due == ["jobs"] and mark.endswith(".5")
        queue = store.keys.queue("jobs")
        scripts = Scripts(client)
        swept = await scripts.call("work_sweep", queue.all, [3, 0, 100])  # max_retries, retention, bound
        assert swept == [0, -1]  # the sweeper saw no claim ...
        await store.create({"queue_name": "jobs", "status": "NEW"})
        claimed = await store.claim("jobs", "", 1_800_000)  # ... one lands, its lease ending long after the mark
        await store.finish()  # its lease-index note goes out in the background
        await scripts.call("work_lease_index", [index], ["jobs", "", mark])  # the sweeper files "no claim"
        assert await redis.zscore(index, "jobs") == claimed["lease_ms"]  # kept, not removed
    finally:
        await client.aclose()
