"""Counters: named desks per queue; serve-next and call at a counter, now serving per counter,
recall, counters restricted to service types, and an ETA shared by the open counters."""

from __future__ import annotations

import asyncio

from tests.lines.conftest import create_line


async def _counter(line, client=None, **body) -> dict:
    response = await (client or line.client).post(f"{line.base}/counters", headers=line.admin, json=body)
    assert response.status == 201, await response.text()
    return await response.json()


async def _type(line, name: str, code: str) -> dict:
    response = await line.client.post(f"{line.base}/service-types", headers=line.admin,
                                      json={"name": name, "code": code})
    assert response.status == 201
    return await response.json()


async def _serve_at(line, counter: str, client=None) -> dict:
    response = await (client or line.client).post(f"{line.base}/serve-next", headers=line.admin,
                                                  json={"counter": counter})
    assert response.status == 200, await response.text()
    return await response.json()


async def test_crud_and_now_serving_per_counter_on_two_nodes(two_clients):
    a, b = two_clients
    line = await create_line(a)
    desk1 = await _counter(line, id="desk-1", name="Desk 1")
    assert desk1 == {"id": "desk-1", "name": "Desk 1", "open": True, "service_type_ids": [], "now_serving": None}
    desk2 = await _counter(line, client=b, name="Desk 2")
    assert len(desk2["id"]) == 12  # generated
    listed = await (await b.get(f"{line.base}/counters")).json()  # public, as the kiosk reads it
    assert [c["name"] for c in listed["counters"]] == ["Desk 1", "Desk 2"] and listed["count"] == 2

    alex, sam = await line.join("Alex"), await line.join("Sam", client=b)
    served = await _serve_at(line, "desk-1", client=b)
    assert served["served"]["id"] == alex["entry"]["id"]
    assert served["served"]["counter"] == {"id": "desk-1", "name": "Desk 1"}
    served = await _serve_at(line, desk2["id"])
    assert served["served"]["ticket"] == "A-002"
    status = await line.status(alex["entry"]["id"])
    assert status["entry"]["counter"] == {"id": "desk-1", "name": "Desk 1"}  # the page says where to go
    listed = await (await a.get(f"{line.base}/list")).json()
    serving = {c["id"]: c["now_serving"]["ticket"] for c in listed["counters"]}
    assert serving == {"desk-1": "A-001", desk2["id"]: "A-002"}
    assert listed["now_serving"]["ticket"] == "A-002"  # the seed's field: the last one served
    assert listed["open_counters"] == 2

    renamed = await b.patch(f"{line.base}/counters/desk-1", headers=line.admin, json={"name": "Desk One"})
    assert (await renamed.json())["name"] == "Desk One" and (await renamed.json())["now_serving"]["ticket"] == "A-001"
    closed = await (await a.patch(f"{line.base}/counters/desk-1", headers=line.admin, json={"open": False})).json()
    assert closed["open"] is False and closed["now_serving"] is None  # closing ends its service
    await line.join("Kim")
    response = await a.post(f"{line.base}/serve-next", headers=line.admin, json={"counter": "desk-1"})
    assert response.status == 409 and "closed" in (await response.json())["error"]
    assert (await a.delete(f"{line.base}/counters/desk-1", headers=line.admin)).status == 200
    assert (await a.delete(f"{line.base}/counters/desk-1", headers=line.admin)).status == 404
    response = await a.post(f"{line.base}/serve-next", headers=line.admin, json={"counter": "desk-1"})
    assert response.status == 404
    events = (await (await a.get(f"{line.base}/events", headers=line.admin)).json())["events"]
    kinds = [e["type"] for e in events]
    assert kinds.count("COUNTER_CREATE") == 2 and "COUNTER_UPDATE" in kinds and "COUNTER_DELETE" in kinds
    serve = [e for e in events if e["type"] == "SERVE"][0]
    assert serve["meta"] == {"name": "Alex", "ticket": "A-001", "counter": "desk-1", "counter_name": "Desk 1"}
    assert sam["entry"]["ticket"] == "A-002"


async def test_recall_announces_again(line):
    client = line.client
    await _counter(line, id="d3", name="Desk 3")
    response = await client.post(f"{line.base}/counters/d3/recall", headers=line.admin)
    assert response.status == 409  # serves nobody
    joined = await line.join("Alex")
    first = (await _serve_at(line, "d3"))
    assert first["served"]["id"] == joined["entry"]["id"]
    before = (await (await client.get(f"{line.base}/counters")).json())["counters"][0]["now_serving"]
    await asyncio.sleep(0.01)
    recalled = await (await client.post(f"{line.base}/counters/d3/recall", headers=line.admin)).json()
    assert recalled["now_serving"]["ticket"] == "A-001"
    assert recalled["now_serving"]["called_at"] > before["called_at"]
    assert recalled["now_serving"]["served_at"] == before["served_at"]
    events = (await (await client.get(f"{line.base}/events", headers=line.admin)).json())["events"]
    assert events[-1]["type"] == "RECALL" and events[-1]["user_id"] == joined["entry"]["id"]
    assert events[-1]["meta"] == {"name": "Alex", "ticket": "A-001", "counter": "d3", "counter_name": "Desk 3"}
    assert (await client.post(f"{line.base}/counters/d3/recall")).status == 403
    assert (await client.post(f"{line.base}/counters/nope/recall", headers=line.admin)).status == 404


async def test_a_counter_serves_its_service_types_only(line):
    client = line.client
    returns, general = await _type(line, "Returns", "RET"), await _type(line, "General", "GEN")
    await _counter(line, id="ret", name="Returns desk", service_type_ids=[returns["id"]])
    await _counter(line, id="any", name="Any desk")
    plain = await line.join("Plain")
    g1 = await line.join("G1", service_type_id=general["id"])
    r1 = await line.join("R1", service_type_id=returns["id"])
    r2 = await line.join("R2", service_type_id=returns["id"])
    assert (await _serve_at(line, "ret"))["served"]["id"] == r1["entry"]["id"]  # skips Plain and G1
    response = await client.post(f"{line.base}/call/{g1['entry']['id']}", headers=line.admin, json={"counter": "ret"})
    assert response.status == 409 and "service type" in (await response.json())["error"]
    # a leave takes R2 out of the type index too: the returns desk then finds nobody
    await line.leave(r2)
    assert await _serve_at(line, "ret") == {"message": "queue is empty"}
    assert (await _serve_at(line, "any"))["served"]["id"] == plain["entry"]["id"]
    called = await client.post(f"{line.base}/call/{g1['entry']['id']}?counter=any", headers=line.admin)
    assert (await called.json())["served"]["counter"]["id"] == "any"
    response = await client.patch(f"{line.base}/counters/ret", headers=line.admin,
                                  json={"service_type_ids": [returns["id"], general["id"]]})
    assert (await response.json())["service_type_ids"] == [returns["id"], general["id"]]
    response = await client.patch(f"{line.base}/counters/ret", headers=line.admin, json={"service_type_ids": ["nope"]})
    assert response.status == 400


async def test_typed_counters_take_people_in_join_order_under_concurrency(two_clients):
    a, b = two_clients
    line = await create_line(a)
    types = [await _type(line, f"Type {i}", f"T{i}") for i in range(3)]
    await _counter(line, id="t01", name="T0/T1", service_type_ids=[types[0]["id"], types[1]["id"]])
    await _counter(line, id="t2", name="T2", service_type_ids=[types[2]["id"]])
    await _counter(line, id="all", name="All")
    joined = [await line.join(f"p{i}", client=(a, b)[i % 2], service_type_id=types[i % 3]["id"]) for i in range(60)]
    served = await asyncio.gather(*(_serve_at(line, ("t01", "t2", "all")[i % 3], client=(a, b)[i % 2])
                                    for i in range(75)))
    ids = [s["served"]["id"] for s in served if "served" in s]
    assert len(ids) == 60 and len(set(ids)) == 60  # everyone once, nobody twice
    for s in served:
        if "served" in s and s["served"]["counter"]["id"] == "t2":
            assert s["served"]["service_type_id"] == types[2]["id"]
    listed = await (await a.get(f"{line.base}/list")).json()
    assert listed["count"] == 0 and len(joined) == 60


async def test_eta_divides_by_the_open_counters(line):
    client = line.client
    for i in range(4):
        await line.join(f"p{i}")
    status = await line.status((await (await client.get(f"{line.base}/list")).json())["queue"][3]["id"])
    assert status["eta_minutes"] == 16.0  # 4 × 4 min, no counter: one server
    await _counter(line, id="a", name="A")
    await _counter(line, id="b", name="B")
    listed = await (await client.get(f"{line.base}/list")).json()
    assert [p["eta_minutes"] for p in listed["queue"]] == [2.0, 4.0, 6.0, 8.0]
    assert (await line.status(listed["queue"][3]["id"]))["eta_minutes"] == 8.0
    await client.patch(f"{line.base}/counters/b", headers=line.admin, json={"open": False})
    listed = await (await client.get(f"{line.base}/list")).json()
    assert listed["queue"][3]["eta_minutes"] == 16.0 and listed["open_counters"] == 1
    assert listed["avg_service_time"] == 4.0  # the service time itself is unchanged
    joined = await line.join("p4")
    assert joined["eta_minutes"] == 20.0


async def test_bad_counter_requests_are_4xx_and_change_nothing(line):
    client = line.client
    assert (await client.post(f"{line.base}/counters", json={"name": "X"})).status == 403
    for body in ({}, {"name": ""}, {"name": "x" * 61}, {"name": "ok", "id": "has space"}, {"name": "ok", "id": 5},
                 {"name": "ok", "open": "yes"}, {"name": "ok", "service_type_ids": "abc"},
                 {"name": "ok", "service_type_ids": [""]}, {"name": "ok", "service_type_ids": [1]},
                 {"name": "ok", "service_type_ids": ["unknown"]}):
        response = await client.post(f"{line.base}/counters", headers=line.admin, json=body)
        assert response.status == 400, body
        assert set(await response.json()) == {"error"}
    await _counter(line, id="d1", name="Desk")
    assert (await client.post(f"{line.base}/counters", headers=line.admin, json={"id": "d1", "name": "B"})).status == 409
    assert (await client.patch(f"{line.base}/counters/d1", headers=line.admin, json={})).status == 400
    assert (await client.patch(f"{line.base}/counters/{'x' * 40}", headers=line.admin,
                               json={"name": "Y"})).status == 404
    for query in ("?counter=bad%20id", "?counter=d1"):
        response = await client.post(f"{line.base}/serve-next{query}", headers=line.admin, json={"counter": "other"})
        assert response.status in (400,), query
    for i in range(49):
        await _counter(line, id=f"c{i}", name=f"C{i}")
    response = await client.post(f"{line.base}/counters", headers=line.admin, json={"id": "last", "name": "L"})
    assert response.status == 429
    assert (await (await client.get(f"{line.base}/counters")).json())["count"] == 50
