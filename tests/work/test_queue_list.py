"""GET /api/queue: the list of work queues with their counts, from the registry the adds keep."""

from __future__ import annotations

import asyncio

import pytest

from tests.work.conftest import AUTH


async def add(api, queue, **fields):
    resp = await api.post("/api/queue", json={"queue_name": queue, **fields}, headers=AUTH)
    assert resp.status == 201, await resp.text()
    return (await resp.json())["id"]


async def listing(api, **query):
    resp = await api.get("/api/queue", params=query, headers=AUTH)
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def test_lists_queues_with_counts(api):
    assert await listing(api) == {"queues": [], "next": None}
    await add(api, "invoices")
    await add(api, "invoices", due_date="2000-01-01T00:00:00Z")
    await add(api, "claims", status="DONE")
    await add(api, "zeta é/{x}")
    body = await listing(api)
    assert [q["name"] for q in body["queues"]] == ["claims", "invoices", "zeta é/{x}"]
    invoices = body["queues"][1]
    assert invoices["counts"] == {"NEW": 2, "IN_PROGRESS": 0, "DONE": 0, "FAILED": 0, "ABANDONED": 0}
    assert invoices["overdue"] == 1 and invoices["total"] == 2
    assert body["queues"][0]["counts"]["DONE"] == 1 and body["next"] is None


async def test_pages_across_buckets(api):
    names = [f"q{i:03d}" for i in range(37)]
    await asyncio.gather(*(add(api, name) for name in names))
    seen, cursor = [], None
    while True:
        body = await listing(api, limit="10", **({"cursor": cursor} if cursor else {}))
        seen += [q["name"] for q in body["queues"]]
        cursor = body["next"]
        if cursor is None:
            break
    assert seen == names


async def test_bulk_and_settings_file_the_queue(api):
    resp = await api.post("/api/queue/bulked/bulk", json=[{"data": {"n": 1}}, {"data": {"n": 2}}], headers=AUTH)
    assert resp.status == 201
    assert (await api.put("/api/queue/configured/settings", json={"max_retries": 1}, headers=AUTH)).status == 200
    body = await listing(api)
    assert {q["name"]: q["total"] for q in body["queues"]} == {"bulked": 2, "configured": 0}


async def test_two_nodes_see_one_list(work_node):
    one, two = await work_node(), await work_node()
    await asyncio.gather(add(one, "a"), add(two, "a"), add(two, "b"))
    assert [q["name"] for q in (await listing(one))["queues"]] == ["a", "b"]


@pytest.mark.parametrize("query", [{"limit": "0"}, {"limit": "101"}, {"limit": "x"}, {"cursor": "c" * 101}])
async def test_bad_query_is_400(api, query):
    resp = await api.get("/api/queue", params=query, headers=AUTH)
    assert resp.status == 400 and "error" in await resp.json()


async def test_needs_a_key(api):
    assert (await api.get("/api/queue")).status == 401
