"""NEAR_FRONT: one event per person when they reach the queue's near_front position or better,
however the line moves and whichever node moves it."""

from __future__ import annotations

import asyncio
from collections import Counter

from tests.lines.conftest import create_line


async def _events(line, client) -> list[dict]:
    response = await client.get(f"{line.base}/events?limit=1000", headers=line.admin)
    return (await response.json())["events"]


async def test_near_front_fires_once_per_person_across_two_nodes(two_clients):
    a, b = two_clients
    line = await create_line(a)
    response = await a.patch("/api/acme/queues/support", headers=line.admin, json={"near_front": 3})
    assert (await response.json())["near_front"] == 3
    joined = [await line.join(f"p{i}", client=(a, b)[i % 2]) for i in range(40)]
    near = [e for e in await _events(line, a) if e["type"] == "NEAR_FRONT"]
    assert [(e["meta"]["ticket"], e["meta"]["position"]) for e in near] == [("A-001", 1), ("A-002", 2), ("A-003", 3)]

    # people 20..24 leave while the 20 ahead of them are served, concurrently, on both nodes (a
    # 21st serve could reach one of them before their leave lands); then the rest are served
    leavers = joined[20:25]
    tasks = [line.serve(client=(a, b)[i % 2]) for i in range(20)] + [line.leave(j, client=b) for j in leavers]
    await asyncio.gather(*tasks)
    await asyncio.gather(*(line.serve(client=(a, b)[i % 2]) for i in range(15)))
    assert (await (await a.get(f"{line.base}/list")).json())["count"] == 0
    near = [e for e in await _events(line, b) if e["type"] == "NEAR_FRONT"]
    counts = Counter(e["user_id"] for e in near)
    assert max(counts.values()) == 1  # nobody twice
    everyone = {j["entry"]["id"] for j in joined}
    assert set(counts) <= everyone
    served = {e["user_id"] for e in await _events(line, a) if e["type"] == "SERVE"}
    assert served <= set(counts)  # everyone served had theirs first
    assert all(1 <= e["meta"]["position"] <= 3 for e in near)


async def test_near_front_at_join_off_and_bad_values(line):
    client = line.client
    await line.join("Before")  # no threshold yet: no event
    await client.patch("/api/acme/queues/support", headers=line.admin, json={"near_front": 2})
    sam = await line.join("Sam")  # position 2: at once (and Before, looked at by the same script)
    near = [e for e in await _events(line, client) if e["type"] == "NEAR_FRONT"]
    assert [e["meta"]["name"] for e in near] == ["Before", "Sam"]
    await client.patch("/api/acme/queues/support", headers=line.admin, json={"near_front": None})
    assert (await (await client.get("/api/acme/queues/support")).json())["near_front"] is None
    await line.join("Kim")
    await line.serve()
    await line.serve()
    assert len([e for e in await _events(line, client) if e["type"] == "NEAR_FRONT"]) == 2
    for bad in (0, 51, -1, "3", 2.5, True):
        response = await client.patch("/api/acme/queues/support", headers=line.admin, json={"near_front": bad})
        assert response.status == 400, bad
    assert sam["position"] == 2
