"""Find over HTTP on two nodes: by reference (exact, any status) and by status and date range,
paged, oldest first."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest

from tests.work.conftest import AUTH, push


async def pages(node, query):
    seen, cursor = [], None
    while True:
        url = f"/api/queue/jobs/find?{query}" + (f"&after={cursor}" if cursor else "")
        resp = await node.get(url, headers=AUTH)
        assert resp.status == 200, await resp.text()
        page = await resp.json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next"]
        if cursor is None:
            return seen


async def test_find_by_exact_reference_in_every_status_paged(two_nodes):
    first, second = two_nodes
    wanted = []
    for i in range(7):
        wanted.append(await push((first, second)[i % 2], reference="INV-1", status="DONE" if i == 3 else "NEW"))
        await push(first, reference="INV-10")  # a longer reference with the same start
        await push(second, reference="inv-1")  # exact: case counts
    await push(first, reference="INV-1\u0000x")  # continues with NUL: not the same reference
    await push(first, reference="INV-1\u00000000000000000099\u0000x")  # made to look like an index entry
    assert await pages(second, "reference=INV-1&limit=3") == wanted
    assert await pages(first, "reference=INV-1&limit=100") == wanted
    assert await pages(first, "reference=nothing") == []


async def test_find_by_status_and_created_range(two_nodes):
    first, second = two_nodes
    before = [await push(first, status="DONE") for _ in range(3)]
    await asyncio.sleep(0.05)
    start = datetime.now(timezone.utc)
    await asyncio.sleep(0.05)
    inside = [await push((first, second)[i % 2], status="DONE") for i in range(5)]
    await push(first)  # NEW: another status
    await asyncio.sleep(0.05)
    end = datetime.now(timezone.utc)
    await asyncio.sleep(0.05)
    after = [await push(second, status="DONE") for _ in range(2)]
    span = f"from={start.isoformat().replace('+00:00', 'Z')}&to={end.isoformat().replace('+00:00', 'Z')}"
    assert await pages(first, f"status=DONE&{span}&limit=2") == inside
    assert await pages(second, "status=DONE&limit=4") == before + inside + after
    assert await pages(second, f"status=DONE&to={start.isoformat().replace('+00:00', 'Z')}") == before
    future = (end + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert await pages(first, f"status=DONE&from={future}") == []
    assert len(await pages(first, "status=NEW")) == 1


@pytest.mark.parametrize("query", ["", "reference=", "reference=a&status=NEW", "status=done", "status=NEW&from=x",
                                   "status=NEW&from=2026-02-01&to=2026-01-01", "reference=a&limit=0",
                                   "reference=a&after=-1", "reference=" + "r" * 101])
async def test_bad_find_queries_are_400(api, query):
    resp = await api.get(f"/api/queue/jobs/find?{query}", headers=AUTH)
    assert resp.status == 400 and "error" in await resp.json()


async def test_found_items_carry_the_overdue_flag(api):
    past = (datetime.now(timezone.utc) - timedelta(minutes=1)).isoformat()
    await push(api, reference="SLA", due_date=past)
    page = await (await api.get("/api/queue/jobs/find?reference=SLA", headers=AUTH)).json()
    assert page["items"][0]["overdue"] is True


async def test_a_blank_reference_is_found_too(api):
    item_id = await push(api, reference="  ")
    page = await (await api.get("/api/queue/jobs/find?reference=%20%20", headers=AUTH)).json()
    assert [item["id"] for item in page["items"]] == [item_id]


async def test_a_bulk_add_in_one_ms_across_a_digit_boundary_is_found_whole(work_node):
    """The items of one bulk share a created ms; they are found by seq, not by how seqs sort as text."""
    api = await work_node(rate_limit_queue=(100_000, 60.0))
    for n in range(94):
        assert (await api.post("/api/queue", json={"queue_name": "dates", "data": {"n": n}}, headers=AUTH)).status == 201
    resp = await api.post("/api/queue/dates/bulk", json=[{"data": {"n": n}} for n in range(1000)], headers=AUTH)
    ids = (await resp.json())["ids"]
    item = await (await api.get(f"/api/queue/dates/items/{ids[0]}", headers=AUTH)).json()
    resp = await api.get("/api/queue/dates/find", params={"status": "NEW", "from": item["created_date"],
                                                          "limit": "1000"}, headers=AUTH)
    found = [i["id"] for i in (await resp.json())["items"]]
    assert found[:1000] == ids
