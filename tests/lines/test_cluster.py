"""Lines on a real three-primary Redis Cluster: every operation stays in its line's slot."""

from __future__ import annotations

from microq.app import create_app
from microq.redis_client import connect
from tests.lines.conftest import create_line


async def test_lines_on_a_cluster(aiohttp_client, redis_cluster, settings):
    flush = connect(redis_cluster.url, cluster=True)
    await flush.flushall()
    await flush.aclose()
    client = await aiohttp_client(create_app(settings.replace(redis_url=redis_cluster.url, redis_cluster=True)))
    lines = [await create_line(client, "acme", f"q{i}") for i in range(6)]
    for line in lines:
        created = await client.post(f"{line.base}/service-types", headers=line.admin, json={"name": "General"})
        assert created.status == 201
        type_id = (await created.json())["id"]
        first = await line.join("Alex", service_type_id=type_id)
        second = await line.join("Sam")
        assert (await line.status(second["entry"]["id"]))["position"] == 2
        assert (await line.serve())["served"]["id"] == first["entry"]["id"]
        listed = await (await client.get(f"{line.base}/list")).json()
        assert listed["count"] == 1 and listed["now_serving"]["name"] == "Alex"
        types = await (await client.get(f"{line.base}/service-types")).json()
        assert types["service_types"][0]["code"] == "GEN"
        events = await (await client.get(f"{line.base}/events", headers=line.admin)).json()
        assert [e["type"] for e in events["events"]] == ["TYPE_CREATE", "JOIN", "JOIN", "SERVE"]
    queues = await (await client.get("/api/acme/queues")).json()
    assert sorted(q["queue_id"] for q in queues["queues"]) == [f"q{i}" for i in range(6)]
    assert (await (await client.get("/api/acme/queues/q3")).json())["name"] == "Support Queue"


async def test_idempotency_and_leave_tokens_on_a_cluster(aiohttp_client, redis_cluster, settings):
    flush = connect(redis_cluster.url, cluster=True)
    await flush.flushall()
    await flush.aclose()
    cluster_settings = settings.replace(redis_url=redis_cluster.url, redis_cluster=True)
    first, second = [await aiohttp_client(create_app(cluster_settings)) for _ in range(2)]
    for i in range(3):  # lines in different slots
        line = await create_line(first, "acme", f"q{i}")
        alex, sam = await line.join("Alex"), await line.join("Sam")
        key = {**line.admin, "Idempotency-Key": f"serve-{i}"}
        answers = [await (await c.post(f"{line.base}/serve-next", headers=key, json={})).json() for c in (first, second)]
        assert answers[0] == answers[1] and answers[0]["served"]["id"] == alex["entry"]["id"]
        assert (await line.client.post(f"{line.base}/leave/{sam['entry']['id']}")).status == 403
        await line.leave(sam, client=second)
        listed = await (await first.get(f"{line.base}/list")).json()
        assert listed["count"] == 0 and listed["now_serving"]["id"] == alex["entry"]["id"]


async def test_venue_features_on_a_cluster(aiohttp_client, redis_cluster, settings):
    # tickets (with the stale-zone retry), counters with types, hours, NEAR_FRONT and close-day
    # each stay in their line's slot on a real Cluster, from two nodes
    flush = connect(redis_cluster.url, cluster=True)
    await flush.flushall()
    await flush.aclose()
    cluster_settings = settings.replace(redis_url=redis_cluster.url, redis_cluster=True)
    first, second = [await aiohttp_client(create_app(cluster_settings)) for _ in range(2)]
    for i in range(3):
        line = await create_line(first, "acme", f"v{i}")
        returns = await (await first.post(f"{line.base}/service-types", headers=line.admin,
                                          json={"name": "Returns", "code": "RET"})).json()
        await second.post(f"{line.base}/counters", headers=line.admin,
                          json={"id": "ret", "name": "Returns desk", "service_type_ids": [returns["id"]]})
        await first.patch(f"/api/acme/queues/v{i}", headers=line.admin,
                          json={"near_front": 1, "time_zone": "Pacific/Kiritimati"})
        plain = await line.join("Alex", client=second)  # second still believes UTC: STALE, reread
        typed = await line.join("Sam", client=first, service_type_id=returns["id"])
        assert (plain["entry"]["ticket"], typed["entry"]["ticket"]) == ("A-001", "RET-002")
        served = await (await second.post(f"{line.base}/serve-next", headers=line.admin,
                                           json={"counter": "ret"})).json()
        assert served["served"]["id"] == typed["entry"]["id"]
        listed = await (await first.get(f"{line.base}/list")).json()
        assert listed["counters"][0]["now_serving"]["ticket"] == "RET-002" and listed["open_counters"] == 1
        await first.patch(f"/api/acme/queues/v{i}", headers=line.admin, json={"max_waiting": 1})
        assert (await second.post(f"{line.base}/join", json={"name": "Kim"})).status == 409
        closed = await (await second.post(f"/api/acme/queues/v{i}/close-day", headers=line.admin)).json()
        assert closed == {"closed": 1, "remaining": 0}
        events = await (await first.get(f"{line.base}/events", headers=line.admin)).json()
        assert [e["type"] for e in events["events"] if e["user_id"]] == ["JOIN", "NEAR_FRONT", "JOIN", "SERVE", "CLOSE"]


async def test_analytics_history_and_the_event_topic_on_a_cluster(aiohttp_client, redis_cluster, settings):
    # the per-day analytics hashes and history in the line's slot, the forwarding index in its
    # own, the topic in the topic's: each call stays in one slot, from two nodes
    import asyncio
    import base64
    import json

    flush = connect(redis_cluster.url, cluster=True)
    await flush.flushall()
    await flush.aclose()
    cluster_settings = settings.replace(redis_url=redis_cluster.url, redis_cluster=True)
    first, second = [await aiohttp_client(create_app(cluster_settings)) for _ in range(2)]
    for i in range(3):
        line = await create_line(first, "acme", f"a{i}")
        await second.patch(f"/api/acme/queues/a{i}", headers=line.admin, json={"events_topic": True, "time_zone": "Asia/Tokyo"})
        await first.post(f"{line.base}/counters", headers=line.admin, json={"id": "d1", "name": "Desk 1"})
        people = [await line.join(f"p{j}", client=(first, second)[j % 2]) for j in range(3)]
        for client in (first, second):
            assert (await client.post(f"{line.base}/serve-next", headers=line.admin, json={"counter": "d1"})).status == 200
        await line.leave(people[2], client=second)
        got = await (await second.get(f"/api/acme/queues/a{i}/analytics", headers=line.admin)).json()
        assert (got["served"], got["left"], got["by_counter"][0]["served"]) == (2, 1, 2)
        assert got["by_counter"][0]["service_seconds"]["p50"] is not None  # p0's service ended at p1's serve
        history = await (await first.get(f"{line.base}/history", headers=line.admin)).json()
        assert [p["status"] for p in history["people"]] == ["left", "served", "served"]
        types: list[str] = []
        for _ in range(100):
            response = await first.get(f"/consume/lines.acme.a{i}",
                                       params={"limit": "100", "timeout": "0.2s", "auto_ack": "true"})
            if response.status == 200:
                found = await response.json()
                types += [json.loads(base64.b64decode(m["payload"]))["type"] for m in
                          (found if isinstance(found, list) else [found])]
            if len(types) >= 8:
                break
            await asyncio.sleep(0.05)
        assert types == ["CONFIGURE", "COUNTER_CREATE", "JOIN", "JOIN", "JOIN", "CALLED", "CALLED", "LEAVE"]
