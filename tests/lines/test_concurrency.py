"""Two nodes on one Redis: positions stay contiguous and nobody is served twice."""

from __future__ import annotations

import asyncio
import random

from tests.lines.conftest import create_line


async def test_200_concurrent_joins_and_serves_on_two_nodes(two_clients):
    a, b = two_clients
    line = await create_line(a)
    nodes = [a, b]

    async def join(i: int) -> dict:
        return await line.join(f"person {i}", client=nodes[i % 2])

    joined = await asyncio.gather(*(join(i) for i in range(200)))
    assert sorted(j["position"] for j in joined) == list(range(1, 201))
    ids = {j["entry"]["id"] for j in joined}
    assert len(ids) == 200

    listed = await (await b.get(f"{line.base}/list")).json()
    assert listed["count"] == 200
    assert [p["position"] for p in listed["queue"]] == list(range(1, 201))
    order = [p["id"] for p in listed["queue"]]

    async def serve(i: int) -> dict:
        return await line.serve(client=nodes[i % 2])

    # serves interleaved with more joins: contiguous positions must survive both at once
    tasks = [serve(i) for i in range(150)] + [join(1000 + i) for i in range(50)]
    random.shuffle(tasks)
    results = await asyncio.gather(*tasks)
    served_ids = [r["served"]["id"] for r in results if "served" in r]
    assert len(served_ids) == 150 and len(set(served_ids)) == 150
    assert set(served_ids) == set(order[:150])  # FIFO: the first 150 who joined

    listed = await (await a.get(f"{line.base}/list")).json()
    assert listed["count"] == 100
    assert [p["position"] for p in listed["queue"]] == list(range(1, 101))
    statuses = await asyncio.gather(*(line.status(p["id"]) for p in listed["queue"]))
    assert [s["position"] for s in statuses] == list(range(1, 101))

    rest = await asyncio.gather(*(serve(i) for i in range(120)))
    served_rest = [r["served"]["id"] for r in rest if "served" in r]
    assert len(served_rest) == 100 and sum(1 for r in rest if r == {"message": "queue is empty"}) == 20
    assert not set(served_rest) & set(served_ids)
    assert len(set(served_ids) | set(served_rest)) == 250
