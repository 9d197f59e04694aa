"""Item history over HTTP on two nodes: every transition (who, when, from, to, message) is kept
with the item, bounded, and complete after a retry chain."""

from __future__ import annotations

import asyncio
from datetime import datetime


from tests.work.conftest import AUTH, claim, push


async def history(node, item_id, queue="jobs"):
    resp = await node.get(f"/api/queue/{queue}/items/{item_id}/history", headers=AUTH)
    assert resp.status == 200, await resp.text()
    return await resp.json()


def steps(shown):
    return [(h["from"], h["to"], h["by"], h["message"]) for h in shown["history"]]


async def test_every_transition_with_who_when_and_message(two_nodes):
    first, second = two_nodes
    item_id = await push(first, created_by="loader")
    held = await claim(second, claimed_by="robot-1")
    await second.post(f"/api/queue/jobs/items/{item_id}/status", headers=AUTH,
                      json={"status": "NEW", "message": "giving back", "lease_token": held["lease_token"]})
    held = await claim(first, claimed_by="robot-2")
    await first.post(f"/api/queue/jobs/items/{item_id}/status", headers=AUTH,
                     json={"status": "DONE", "message": "closed", "by": "robot-2"})
    shown = await history(second, item_id)
    assert shown["id"] == item_id and shown["status"] == "DONE" and shown["dropped"] == 0
    assert steps(shown) == [(None, "NEW", "loader", None), ("NEW", "IN_PROGRESS", "robot-1", None),
                            ("IN_PROGRESS", "NEW", None, "giving back"), ("NEW", "IN_PROGRESS", "robot-2", None),
                            ("IN_PROGRESS", "DONE", "robot-2", "closed")]
    times = [datetime.fromisoformat(h["at"]) for h in shown["history"]]
    assert times == sorted(times)


async def test_history_is_complete_after_a_retry_chain(two_nodes):
    first, second = two_nodes
    await first.put("/api/queue/jobs/settings", json={"max_retries": 2}, headers=AUTH)
    ids = [await push(first)]
    for attempt in range(3):
        node = (first, second)[attempt % 2]
        held = await claim(node, claimed_by=f"robot-{attempt}")
        resp = await node.post(f"/api/queue/jobs/items/{held['item']['id']}/status", headers=AUTH,
                               json={"status": "FAILED", "exception_type": "application", "message": f"crash {attempt}",
                                     "lease_token": held["lease_token"], "by": f"robot-{attempt}"})
        retry = (await resp.json())["retry"]
        if retry:
            ids.append(retry["id"])
    assert len(ids) == 3
    for n, item_id in enumerate(ids):
        shown = await history((first, second)[n % 2], item_id)
        created = (None, "NEW", None, None if n == 0 else f"retry {n} of {ids[n - 1]}")
        assert steps(shown) == [created, ("NEW", "IN_PROGRESS", f"robot-{n}", None),
                                ("IN_PROGRESS", "FAILED", f"robot-{n}", f"crash {n}")]


async def test_a_lapsed_lease_is_in_the_history(api):
    item_id = await push(api)
    await claim(api, claimed_by="slow", lease="200ms")
    await asyncio.sleep(0.4)
    await claim(api, claimed_by="fast")
    assert steps(await history(api, item_id)) == [(None, "NEW", None, None), ("NEW", "IN_PROGRESS", "slow", None),
                                                  ("IN_PROGRESS", "NEW", "lease", "lease lapsed"),
                                                  ("NEW", "IN_PROGRESS", "fast", None)]


async def test_an_item_created_final_starts_its_history_there(api):
    item_id = await push(api, status="DONE", created_by="import")
    assert steps(await history(api, item_id)) == [(None, "DONE", "import", None)]


async def test_history_is_bounded_per_item(api):
    item_id = await push(api)
    for _ in range(30):  # 60 transitions: claim and give back
        held = await claim(api)
        resp = await api.post(f"/api/queue/jobs/items/{item_id}/status", json={"status": "NEW"}, headers=AUTH)
        assert resp.status == 200 and held["item"]["id"] == item_id
    shown = await history(api, item_id)
    assert len(shown["history"]) == 1 + 50 and shown["dropped"] == 10
    assert shown["history"][0]["to"] == "NEW" and shown["history"][-1]["from"] == "IN_PROGRESS"


async def test_history_of_an_unknown_item_is_404(api):
    assert (await api.get("/api/queue/jobs/items/nope/history", headers=AUTH)).status == 404
