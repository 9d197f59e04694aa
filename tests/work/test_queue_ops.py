"""The work queue extensions: list by status, get, claim, move to DONE/FAILED/ABANDONED."""

from __future__ import annotations

import asyncio

import pytest

from tests.work.conftest import AUTH


async def push(api, queue="jobs", **fields):
    resp = await api.post("/api/queue", json={"queue_name": queue, **fields}, headers=AUTH)
    assert resp.status == 201
    return (await resp.json())["id"]


async def claim(api, queue="jobs", **body):
    resp = await api.post(f"/api/queue/{queue}/claim", json=body, headers=AUTH)
    assert resp.status == 200, await resp.text()
    return (await resp.json())["item"]


async def move(api, item_id, status, queue="jobs", **body):
    return await api.post(f"/api/queue/{queue}/items/{item_id}/status", json={"status": status, **body},
                          headers=AUTH)


async def test_list_pages_oldest_first(api):
    ids = [await push(api, reference=str(i)) for i in range(7)]
    seen, cursor = [], None
    while True:
        url = "/api/queue/jobs/items?status=NEW&limit=3" + (f"&after={cursor}" if cursor else "")
        page = await (await api.get(url, headers=AUTH)).json()
        assert page["total"] == 7 and page["status"] == "NEW"
        seen += [item["id"] for item in page["items"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == ids


@pytest.mark.parametrize("query", ["status=new", "status=X", "limit=0", "limit=1001", "limit=x", "after=-1",
                                   "after=abc", "after=99999999999999999999", "after=1_000",
                                   "limit=%D9%A1%D9%A0", "limit=1_0", "limit=%2B5", "limit=5.0", "after=%EF%BC%91"])
async def test_list_bad_query(api, query):
    resp = await api.get(f"/api/queue/jobs/items?{query}", headers=AUTH)
    assert resp.status == 400 and "error" in await resp.json()


async def test_get_unknown_item_or_wrong_queue(api):
    item_id = await push(api)
    assert (await api.get("/api/queue/jobs/items/nope", headers=AUTH)).status == 404
    assert (await api.get(f"/api/queue/other/items/{item_id}", headers=AUTH)).status == 404


async def test_claim_oldest_first_then_empty(api):
    first, second = await push(api), await push(api)
    item = await claim(api, claimed_by="worker-1")
    assert item["id"] == first and item["status"] == "IN_PROGRESS" and item["claimed_by"] == "worker-1"
    assert item["claimed_date"] is not None
    assert (await claim(api))["id"] == second
    assert await claim(api) is None
    summary = await (await api.get("/api/queue/jobs", headers=AUTH)).json()
    assert summary["counts"] == {"NEW": 0, "IN_PROGRESS": 2, "DONE": 0, "FAILED": 0, "ABANDONED": 0}


async def test_claim_skips_items_created_in_other_statuses(api):
    await push(api, status="DONE")
    new = await push(api)
    assert (await claim(api))["id"] == new


async def test_claim_bad_body(api):
    for body in ([1], {"claimed_by": 5}, {"claimed_by": "w" * 101}):
        resp = await api.post("/api/queue/jobs/claim", json=body, headers=AUTH)
        assert resp.status == 400


@pytest.mark.parametrize("final", ["DONE", "FAILED", "ABANDONED"])
async def test_finish_with_message(api, final):
    item_id = await push(api, message="created")
    await claim(api)
    resp = await move(api, item_id, final, message="finished by robot")
    assert resp.status == 200
    item = (await resp.json())["item"]
    assert item["status"] == final and item["message"] == "finished by robot"
    page = await (await api.get(f"/api/queue/jobs/items?status={final}", headers=AUTH)).json()
    assert [i["id"] for i in page["items"]] == [item_id]
    page = await (await api.get("/api/queue/jobs/items?status=IN_PROGRESS", headers=AUTH)).json()
    assert page["items"] == []


async def test_message_kept_when_not_given(api):
    item_id = await push(api, message="keep me")
    await claim(api)
    assert (await (await move(api, item_id, "DONE")).json())["item"]["message"] == "keep me"


async def test_moves_that_are_not_allowed(api):
    item_id = await push(api)
    assert (await move(api, item_id, "DONE")).status == 409  # NEW -> DONE: claim first
    assert (await move(api, item_id, "FAILED")).status == 409
    assert (await move(api, item_id, "IN_PROGRESS")).status == 400  # only claim makes IN_PROGRESS
    assert (await move(api, item_id, "bogus")).status == 400
    assert (await move(api, "missing", "DONE")).status == 404
    await claim(api)
    assert (await move(api, item_id, "DONE")).status == 200
    assert (await move(api, item_id, "FAILED")).status == 409  # DONE is final
    item = await (await api.get(f"/api/queue/jobs/items/{item_id}", headers=AUTH)).json()
    assert item["status"] == "DONE"


async def test_failed_item_can_be_retried(api):
    item_id = await push(api)
    await claim(api, claimed_by="w")
    assert (await move(api, item_id, "FAILED", message="boom")).status == 200
    resp = await move(api, item_id, "NEW")
    assert resp.status == 200 and (await resp.json())["item"]["claimed_by"] is None
    assert (await claim(api))["id"] == item_id


async def test_status_body_errors(api):
    item_id = await push(api)
    for body in (b"", b"[]", b'{"status": 1}', b'{"status": "DONE", "message": 5}'):
        resp = await api.post(f"/api/queue/jobs/items/{item_id}/status", data=body,
                              headers={**AUTH, "Content-Type": "application/json"})
        assert resp.status == 400


async def test_two_nodes_100_workers_claim_each_item_once(two_clients, redis):
    first, second = two_clients
    total = 300
    results = await asyncio.gather(*(push_via(node, i) for i, node in
                                     zip(range(total), [first, second] * total)))
    assert len(set(results)) == total

    claimed: list[str] = []

    async def worker(node, n):
        while True:
            resp = await node.post("/api/queue/jobs/claim", json={"claimed_by": f"w{n}"}, headers=AUTH)
            assert resp.status == 200
            item = (await resp.json())["item"]
            if item is None:
                return
            claimed.append(item["id"])

    await asyncio.gather(*(worker(first if n % 2 else second, n) for n in range(100)))
    assert sorted(claimed) == sorted(results)  # every item once, none twice


async def push_via(node, i):
    resp = await node.post("/api/queue", json={"queue_name": "jobs", "reference": str(i)}, headers=AUTH)
    assert resp.status == 201
    return (await resp.json())["id"]


@pytest.fixture
async def two_clients(work_node):
    return await work_node(), await work_node()
