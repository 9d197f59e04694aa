"""Admin history: the finished people of the last 24 h, newest first, paged by a cursor."""

from __future__ import annotations

import asyncio

from tests.lines.conftest import create_line


async def test_history_lists_every_way_a_wait_ends_newest_first(two_clients):
    a, b = two_clients
    line = await create_line(a)
    assert (await a.post(f"{line.base}/counters", headers=line.admin, json={"id": "desk-1", "name": "Desk 1"})).status == 201
    people = [await line.join(f"p{i}", client=(a, b)[i % 2]) for i in range(7)]
    ids = [p["entry"]["id"] for p in people]
    await asyncio.sleep(0.2)
    await a.post(f"{line.base}/serve-next", headers=line.admin, json={"counter": "desk-1"})  # p0
    await asyncio.sleep(0.3)
    await b.post(f"{line.base}/serve-next", headers=line.admin, json={"counter": "desk-1"})  # p1; p0's service ends
    await line.leave(people[2], client=b)
    await a.post(f"{line.base}/remove/{ids[3]}", headers=line.admin)
    await b.post(f"{line.base}/no-show/{ids[1]}", headers=line.admin)  # p1 was served: now a no-show
    response = await a.post("/api/acme/queues/support/close-day", headers=line.admin)
    assert (await response.json())["closed"] == 3  # p4, p5, p6 in one millisecond

    response = await b.get(f"{line.base}/history?limit=200", headers=line.admin)
    assert response.status == 200
    got = await response.json()
    assert got["next"] is None
    rows = {r["user_id"]: r for r in got["people"]}
    assert [rows[i]["status"] for i in ids] == ["served", "no_show", "left", "removed", "closed", "closed", "closed"]
    finished = [r["finished_at"] for r in got["people"]]
    assert finished == sorted(finished, reverse=True)
    p0, p1 = rows[ids[0]], rows[ids[1]]
    assert (p0["ticket"], p0["counter_id"], p0["name"]) == ("A-001", "desk-1", "p0")
    assert p0["called_at"] == p0["finished_at"] and p0["waited_seconds"] >= 0.2
    assert 0.25 <= p0["service_seconds"] < 10
    assert p1["called_at"] is not None and p1["called_at"] < p1["finished_at"]
    assert (p1["counter_id"], p1["service_seconds"]) == ("desk-1", None)  # a no-show had no service
    assert p1["waited_seconds"] >= 0.5
    for uid in ids[2:]:
        assert (rows[uid]["called_at"], rows[uid]["counter_id"], rows[uid]["service_seconds"]) == (None, None, None)
    assert set(got["people"][0]) == {"user_id", "name", "ticket", "status", "joined_at", "called_at", "finished_at",
                                     "waited_seconds", "service_seconds", "counter_id"}

    # pages of 2, through the closed people who share one millisecond: each person once, same order
    paged, cursor = [], ""
    for _ in range(10):
        response = await (a, b)[len(paged) % 2].get(f"{line.base}/history?limit=2&before={cursor}", headers=line.admin)
        page = await response.json()
        paged += [r["user_id"] for r in page["people"]]
        if page["next"] is None:
            break
        cursor = page["next"]
    assert paged == [r["user_id"] for r in got["people"]]


async def test_history_needs_the_key_and_a_good_cursor(line):
    for headers in ({}, {"X-Admin-Key": "nope"}):
        assert (await line.client.get(f"{line.base}/history", headers=headers)).status == 403
    for query in ("limit=0", "limit=201", "before=abc", "before=12-notauuid", "before=-1",
                  "before=١٢-d70e965f-8ee5-478b-ad0d-89507ec22674"):
        response = await line.client.get(f"{line.base}/history?{query}", headers=line.admin)
        assert response.status == 400, query
        assert "error" in await response.json()
    empty = await (await line.client.get(f"{line.base}/history", headers=line.admin)).json()
    assert empty == {"people": [], "next": None}
