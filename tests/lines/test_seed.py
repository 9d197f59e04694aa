"""Every quick-start step, example and error of seed 000, as its clients send them."""

from __future__ import annotations

import uuid
from datetime import datetime

from microq.keys import Keyspace
from microq.lines.keys import tenant_registry
from tests.lines.conftest import create_line

#: config fields MicroQ adds beside the seed's (README, Lines: Tickets; Hours, pause and capacity)
EXTRA_CONFIG = ("ticket_prefix", "time_zone", "show_names", "opening_hours", "max_waiting", "paused",
                 "pause_message", "near_front", "events_topic", "close_at", "joining")


async def test_quick_start(client):
    # 1. Create a queue for your tenant
    response = await client.post("/api/acme/queues", json={"queue_id": "support", "name": "Support Queue"})
    assert response.status == 201
    created = await response.json()
    assert set(created) == {"tenant_id", "queue_id", "name", "is_public", "avg_service_time", "admin_key",
                            "created_at", *EXTRA_CONFIG}
    assert created["tenant_id"] == "acme" and created["queue_id"] == "support"
    assert created["name"] == "Support Queue" and created["is_public"] is True
    assert created["avg_service_time"] == 4.0
    admin_key = created["admin_key"]

    # 2. Join the queue
    response = await client.post("/api/acme/support/join", json={"name": "Alex Rivera"})
    assert response.status == 201
    joined = await response.json()
    user_id = joined["entry"]["id"]
    assert uuid.UUID(user_id)
    assert joined["position"] == 1 and joined["eta_minutes"] == 4.0

    # 3. Check your live position
    response = await client.get(f"/api/acme/support/status/{user_id}")
    assert response.status == 200
    assert (await response.json())["position"] == 1

    # 4. Admin: serve the next person
    response = await client.post("/api/acme/support/serve-next", headers={"X-Admin-Key": admin_key}, json={})
    assert response.status == 200
    served = (await response.json())["served"]
    assert served["id"] == user_id and served["status"] == "served"

    # 5. QR code for the public queue page
    response = await client.get("/api/acme/support/qr")
    assert response.status == 200
    assert response.content_type == "image/svg+xml"
    assert (await response.text()).lstrip().startswith(("<?xml", "<svg"))


async def test_join_example_with_every_field(line):
    created = await line.client.post(f"{line.base}/service-types", headers=line.admin,
                                     json={"name": "General Inquiry", "code": "GEN"})
    type_id = (await created.json())["id"]
    await line.join("Priya")
    await line.join("Sam")
    response = await line.client.post(f"{line.base}/join", json={
        "name": "Alex Rivera", "service_type_id": type_id, "tenant_id": "acme", "queue_id": "support"})
    assert response.status == 201
    body = await response.json()
    assert set(body) == {"entry", "position", "eta_minutes", "leave_token"}  # leave_token: new, once
    entry = body["entry"]
    assert set(entry) == {"id", "name", "joined_at", "service_type_id", "service_type_name", "service_type_code",
                          "tenant_id", "queue_id", "status", "ticket", "counter"}  # new: ticket, counter
    assert entry["name"] == "Alex Rivera" and entry["status"] == "waiting"
    assert entry["service_type_id"] == type_id
    assert entry["service_type_name"] == "General Inquiry" and entry["service_type_code"] == "GEN"
    assert entry["tenant_id"] == "acme" and entry["queue_id"] == "support"
    assert datetime.fromisoformat(entry["joined_at"]).utcoffset().total_seconds() == 0
    assert body["position"] == 3 and body["eta_minutes"] == 12.0


async def test_status_example_recalculates_live(line):
    first = await line.join("Priya")
    second = await line.join("Alex Rivera")
    third = await line.join("Sam")
    status = await line.status(third["entry"]["id"])
    assert status["position"] == 3 and status["eta_minutes"] == 12.0
    assert status["entry"] == third["entry"]
    await line.serve()
    status = await line.status(third["entry"]["id"])
    assert status["position"] == 2 and status["eta_minutes"] == 8.0
    assert (await line.status(second["entry"]["id"]))["position"] == 1
    served = await line.status(first["entry"]["id"])
    assert served["entry"]["status"] == "served" and "served_at" in served["entry"]
    assert served["position"] is None and served["eta_minutes"] is None


async def test_boost_is_gone(line):
    response = await line.client.post(f"{line.base}/boost", json={"user_id": "x", "boost_value": 5})
    assert response.status == 410
    assert "error" in await response.json()


async def test_serve_next_examples(line):
    response = await line.client.post(f"{line.base}/serve-next", headers=line.admin, json={})
    assert response.status == 200
    assert await response.json() == {"message": "queue is empty"}
    joined = await line.join("Alex Rivera")
    body = await line.serve()
    served = body["served"]
    assert set(served) >= {"id", "name", "service_type_id", "service_type_name", "service_type_code", "status",
                           "served_at", "tenant_id", "queue_id"}
    assert served["id"] == joined["entry"]["id"] and served["name"] == "Alex Rivera"
    assert served["status"] == "served" and served["tenant_id"] == "acme" and served["queue_id"] == "support"
    assert datetime.fromisoformat(served["served_at"]) >= datetime.fromisoformat(joined["entry"]["joined_at"])


async def test_serve_next_is_fifo(line):
    ids = [(await line.join(f"person {i}"))["entry"]["id"] for i in range(5)]
    assert [(await line.serve())["served"]["id"] for _ in ids] == ids


async def test_list_example(line):
    await line.client.post(f"{line.base}/service-types", headers=line.admin,
                           json={"name": "General Inquiry", "code": "GEN"})
    types = await (await line.client.get(f"{line.base}/service-types")).json()
    general = types["service_types"][0]["id"]
    returns = (await (await line.client.post(f"{line.base}/service-types", headers=line.admin,
                                             json={"name": "Returns", "code": "RET"})).json())["id"]
    priya = await line.join("Priya", service_type_id=general)
    alex = await line.join("Alex Rivera", service_type_id=returns)
    response = await line.client.get(f"{line.base}/list")
    assert response.status == 200
    body = await response.json()
    assert body["count"] == 2
    first, second = body["queue"]
    assert {"id", "name", "position", "service_type_name", "service_type_code", "eta_minutes", "status",
            "joined_at"} <= set(first)
    assert (first["id"], first["name"], first["position"], first["eta_minutes"]) == (
        priya["entry"]["id"], "Priya", 1, 4.0)
    assert (first["service_type_name"], first["service_type_code"]) == ("General Inquiry", "GEN")
    assert (second["id"], second["position"], second["eta_minutes"]) == (alex["entry"]["id"], 2, 8.0)
    assert (second["service_type_name"], second["service_type_code"], second["status"]) == ("Returns", "RET", "waiting")


async def test_create_queue_example_and_idempotence(client):
    response = await client.post("/api/acme/queues", json={
        "queue_id": "support", "name": "Support Queue", "is_public": True, "avg_service_time": 5})
    assert response.status == 201
    body = await response.json()
    assert body["avg_service_time"] == 5.0 and isinstance(body["avg_service_time"], float)
    assert len(body["admin_key"]) >= 32
    again = await client.post("/api/acme/queues", json={"queue_id": "support", "name": "Other", "avg_service_time": 9})
    assert again.status == 200
    kept = await again.json()
    assert "admin_key" not in kept
    assert kept["name"] == "Support Queue" and kept["avg_service_time"] == 5.0
    assert kept["created_at"] == body["created_at"]


async def test_create_shows_the_key_even_when_the_tenant_listing_fails(client, redis, caplog):
    # the registry is a second command in another slot; the queue exists once the script ran,
    # so a failing registry update must still hand out the admin key that nobody else will see
    registry = tenant_registry(Keyspace("mq:"), "acme")
    await redis.set(registry, "not a sorted set")
    response = await client.post("/api/acme/queues", json={"queue_id": "support", "name": "Support"})
    assert response.status == 201
    assert len((await response.json())["admin_key"]) >= 32
    assert "acme/support created but not listed" in caplog.text
    await redis.delete(registry)
    again = await client.post("/api/acme/queues", json={"queue_id": "support", "name": "Support"})
    assert again.status == 200 and "admin_key" not in await again.json()
    listed = await (await client.get("/api/acme/queues")).json()
    assert [q["queue_id"] for q in listed["queues"]] == ["support"]  # the repeated create listed it


async def test_list_and_get_queue_configs(client):
    await create_line(client, "acme", "support")
    await create_line(client, "acme", "billing", name="Billing Queue")
    await create_line(client, "globex", "support")
    response = await client.get("/api/acme/queues")
    assert response.status == 200
    body = await response.json()
    assert body["count"] == 2
    assert sorted(q["queue_id"] for q in body["queues"]) == ["billing", "support"]  # by creation ms, then id
    assert all("admin_key" not in q for q in body["queues"])
    response = await client.get("/api/acme/queues/support")
    assert response.status == 200
    config = await response.json()
    assert set(config) == {"tenant_id", "queue_id", "name", "is_public", "avg_service_time", "created_at",
                           *EXTRA_CONFIG}
    assert (await client.get("/api/acme/queues/nope")).status == 404
    assert await (await client.get("/api/nobody/queues")).json() == {"count": 0, "queues": []}


async def test_uncreated_queue_uses_global_defaults(make_client):
    client = await make_client(avg_service_time_minutes=3.5)
    response = await client.post("/api/acme/billing/join", json={"name": "Sam"})
    assert response.status == 201
    assert (await response.json())["eta_minutes"] == 3.5
    listed = await (await client.get("/api/acme/billing/list")).json()
    assert listed["count"] == 1 and listed["queue"][0]["name"] == "Sam"


async def test_queue_config_sets_eta(client):
    line = await create_line(client, avg_service_time=2.5)
    await line.join("a")
    assert (await line.join("b"))["eta_minutes"] == 5.0


async def test_error_table(line):
    client = line.client
    # 400: a required field is missing or has an invalid value
    for body in ({}, {"name": ""}, {"name": 5}, {"name": "x", "service_type_id": "unknown"}):
        response = await client.post(f"{line.base}/join", json=body)
        assert response.status == 400, body
        assert set(await response.json()) == {"error"}
    response = await client.post("/api/acme/queues", json={"name": "no id"})
    assert response.status == 400
    # 403: missing or invalid X-Admin-Key on a protected endpoint
    for headers in ({}, {"X-Admin-Key": "wrong"}, {"X-Admin-Key": ""}):
        response = await client.post(f"{line.base}/serve-next", headers=headers, json={})
        assert response.status == 403
        assert set(await response.json()) == {"error"}
    # 404: the requested user, queue, or resource does not exist
    for path in (f"{line.base}/status/{uuid.uuid4()}", f"{line.base}/status/not-a-uuid",
                 "/api/acme/queues/missing", f"{line.base}/nothing-here"):
        response = await client.get(path)
        assert response.status == 404, path
        assert set(await response.json()) == {"error"}


async def test_multi_tenant_examples(client):
    sam = await client.post("/api/acme/support/join", json={"name": "Sam"})
    assert sam.status == 201
    billing = await client.get("/api/acme/billing/list")
    assert billing.status == 200
    assert (await billing.json())["count"] == 0
