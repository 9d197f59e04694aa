"""Beyond the seed: leave, remove, no-show and call out of order; each one an event."""

from __future__ import annotations

import uuid


async def _events(line) -> list[dict]:
    response = await line.client.get(f"{line.base}/events", headers=line.admin)
    assert response.status == 200
    return (await response.json())["events"]


async def test_leave(line):
    alex = await line.join("Alex")
    sam = await line.join("Sam")
    left = (await line.leave(alex))["entry"]
    assert left["status"] == "left" and "finished_at" in left
    assert (await line.status(sam["entry"]["id"]))["position"] == 1
    status = await line.status(alex["entry"]["id"])
    assert status["entry"]["status"] == "left" and status["position"] is None
    again = await line.client.post(f"{line.base}/leave/{alex['entry']['id']}",
                                   headers={"X-Leave-Token": alex["leave_token"]})
    assert again.status == 409
    missing = await line.client.post(f"{line.base}/leave/{uuid.uuid4()}")
    assert missing.status == 404
    assert [e["type"] for e in await _events(line)] == ["JOIN", "JOIN", "LEAVE"]


async def test_remove_and_no_show_need_the_key(line):
    alex = await line.join("Alex")
    for action in ("remove", "no-show", "call"):
        response = await line.client.post(f"{line.base}/{action}/{alex['entry']['id']}")
        assert response.status == 403, action
    assert (await line.status(alex["entry"]["id"]))["position"] == 1


async def test_remove(line):
    alex = await line.join("Alex")
    sam = await line.join("Sam")
    response = await line.client.post(f"{line.base}/remove/{alex['entry']['id']}", headers=line.admin)
    assert response.status == 200
    assert (await response.json())["entry"]["status"] == "removed"
    assert (await line.status(sam["entry"]["id"]))["position"] == 1
    assert (await line.serve())["served"]["id"] == sam["entry"]["id"]
    assert [e["type"] for e in await _events(line)] == ["JOIN", "JOIN", "REMOVE", "SERVE"]


async def test_no_show_of_waiting_and_of_called_person(line):
    alex = await line.join("Alex")
    sam = await line.join("Sam")
    served = await line.serve()
    assert served["served"]["id"] == alex["entry"]["id"]
    response = await line.client.post(f"{line.base}/no-show/{alex['entry']['id']}", headers=line.admin)
    assert response.status == 200
    assert (await line.status(alex["entry"]["id"]))["entry"]["status"] == "no_show"
    response = await line.client.post(f"{line.base}/no-show/{sam['entry']['id']}", headers=line.admin)
    assert response.status == 200
    assert (await (await line.client.get(f"{line.base}/list")).json())["count"] == 0
    again = await line.client.post(f"{line.base}/no-show/{sam['entry']['id']}", headers=line.admin)
    assert again.status == 409
    assert [e["type"] for e in await _events(line)] == ["JOIN", "JOIN", "SERVE", "NO_SHOW", "NO_SHOW"]


async def test_call_out_of_order(line):
    ids = [(await line.join(f"p{i}"))["entry"]["id"] for i in range(3)]
    response = await line.client.post(f"{line.base}/call/{ids[2]}", headers=line.admin)
    assert response.status == 200
    served = (await response.json())["served"]
    assert served["id"] == ids[2] and served["status"] == "served"
    again = await line.client.post(f"{line.base}/call/{ids[2]}", headers=line.admin)
    assert again.status == 409
    assert (await line.client.post(f"{line.base}/call/{uuid.uuid4()}", headers=line.admin)).status == 404
    assert (await line.status(ids[1]))["position"] == 2
    assert [(await line.serve())["served"]["id"] for _ in range(2)] == ids[:2]
    listed = await (await line.client.get(f"{line.base}/list")).json()
    assert listed["now_serving"]["id"] == ids[1]
    events = await _events(line)
    assert [e["type"] for e in events] == ["JOIN", "JOIN", "JOIN", "CALL", "SERVE", "SERVE"]
    assert events[3]["user_id"] == ids[2] and events[3]["meta"] == {"name": "p2", "ticket": "A-003"}


async def test_no_show_of_the_person_now_serving_clears_now_serving(line):
    """Kiosks and the admin panel show now_serving: a no-show there is nobody being served."""
    alex = await line.join("Alex")
    sam = await line.join("Sam")
    await line.serve()
    await line.serve()
    # a no-show of someone served earlier leaves the current one in place
    assert (await line.client.post(f"{line.base}/no-show/{alex['entry']['id']}", headers=line.admin)).status == 200
    listed = await (await line.client.get(f"{line.base}/list")).json()
    assert listed["now_serving"]["id"] == sam["entry"]["id"]
    assert (await line.client.post(f"{line.base}/no-show/{sam['entry']['id']}", headers=line.admin)).status == 200
    assert (await (await line.client.get(f"{line.base}/list")).json())["now_serving"] is None
