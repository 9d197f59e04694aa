"""Retries of failed work over HTTP on two nodes: an application failure re-queues the work as
a new linked item up to the queue's max_retries; a business failure never does."""

from __future__ import annotations

import asyncio

import pytest

from tests.work.conftest import AUTH, claim, push


async def fail(node, claimed, kind, queue="jobs"):
    resp = await node.post(f"/api/queue/{queue}/items/{claimed['item']['id']}/status", headers=AUTH,
                           json={"status": "FAILED", "exception_type": kind, "message": "boom",
                                 "lease_token": claimed["lease_token"]})
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def test_application_failures_retry_as_linked_items_up_to_max_retries(two_nodes):
    first, second = two_nodes
    await first.put("/api/queue/jobs/settings", json={"max_retries": 2, "unique_reference": True}, headers=AUTH)
    origin = await push(first, reference="CASE-1", data={"n": 1}, priority="High", created_by="loader")
    chain = [origin]
    for attempt in range(3):
        node = (first, second)[attempt % 2]
        claimed = await claim(node)
        assert claimed["item"]["id"] == chain[-1]
        assert claimed["item"]["retry_number"] == attempt
        answer = await fail(node, claimed, "application")
        failed = answer["item"]
        assert failed["status"] == "FAILED" and failed["exception_type"] == "application"
        if attempt < 2:
            retry = answer["retry"]
            assert retry["status"] == "NEW" and retry["retry_number"] == attempt + 1
            assert retry["parent_id"] == chain[-1] and failed["retried_as"] == retry["id"]
            assert retry["reference"] == "CASE-1" and retry["data"] == '{"n": 1}'
            assert retry["priority"] == "High" and retry["created_by"] == "loader"
            chain.append(retry["id"])
        else:
            assert answer["retry"] is None and failed["retried_as"] is None  # max_retries reached
    assert (await claim(first))["item"] is None
    counts = (await (await second.get("/api/queue/jobs", headers=AUTH)).json())["counts"]
    assert counts["FAILED"] == 3 and counts["NEW"] == 0
    last = await (await first.get(f"/api/queue/jobs/items/{chain[-1]}", headers=AUTH)).json()
    assert last["parent_id"] == chain[-2] and last["retry_number"] == 2


async def test_a_business_failure_never_retries(api):
    await push(api)
    answer = await fail(api, await claim(api), "business")
    assert answer["retry"] is None and answer["item"]["exception_type"] == "business"
    assert (await claim(api))["item"] is None


async def test_a_failure_without_exception_type_is_the_seed_era_failed(api):
    item_id = await push(api)
    await claim(api)
    resp = await api.post(f"/api/queue/jobs/items/{item_id}/status", json={"status": "FAILED"}, headers=AUTH)
    answer = await resp.json()
    assert answer["retry"] is None and answer["item"]["exception_type"] is None


async def test_max_retries_zero_means_no_retry(api):
    await api.put("/api/queue/jobs/settings", json={"max_retries": 0}, headers=AUTH)
    await push(api)
    assert (await fail(api, await claim(api), "application"))["retry"] is None


async def test_the_retry_holds_the_unique_reference(two_nodes):
    first, second = two_nodes
    await first.put("/api/queue/jobs/settings", json={"unique_reference": True}, headers=AUTH)
    await push(first, reference="R")
    retry = (await fail(second, await claim(second), "application"))["retry"]
    resp = await first.post("/api/queue", json={"queue_name": "jobs", "reference": "R"}, headers=AUTH)
    assert resp.status == 409 and retry["id"] in (await resp.json())["error"]


@pytest.mark.parametrize("body", [{"status": "DONE", "exception_type": "business"},
                                  {"status": "FAILED", "exception_type": "Business"},
                                  {"status": "FAILED", "exception_type": 1},
                                  {"status": "FAILED", "by": 5}])
async def test_bad_exception_type_is_400_and_moves_nothing(api, body):
    item_id = await push(api)
    await claim(api)
    resp = await api.post(f"/api/queue/jobs/items/{item_id}/status", json=body, headers=AUTH)
    assert resp.status == 400
    item = await (await api.get(f"/api/queue/jobs/items/{item_id}", headers=AUTH)).json()
    assert item["status"] == "IN_PROGRESS"


async def test_concurrent_application_failures_on_two_nodes_each_make_one_retry(two_nodes):
    first, second = two_nodes
    for _ in range(10):
        await push(first)
    claims = await asyncio.gather(*(claim((first, second)[i % 2]) for i in range(10)))
    answers = await asyncio.gather(*(fail((first, second)[i % 2], c, "application") for i, c in enumerate(claims)))
    retries = {a["retry"]["id"] for a in answers}
    assert len(retries) == 10
    counts = (await (await second.get("/api/queue/jobs", headers=AUTH)).json())["counts"]
    assert counts["NEW"] == 10 and counts["FAILED"] == 10


async def test_the_queue_max_retries_bounds_lapsed_leases_too(api):
    await api.put("/api/queue/jobs/settings", json={"max_retries": 0}, headers=AUTH)
    item_id = await push(api)
    await claim(api, lease="200ms")
    await asyncio.sleep(0.4)
    assert (await claim(api))["item"] is None  # the lapse found by this claim: no retry left, FAILED
    item = await (await api.get(f"/api/queue/jobs/items/{item_id}", headers=AUTH)).json()
    assert item["status"] == "FAILED"
