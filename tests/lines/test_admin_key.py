"""The admin key: random, stored only as a hash, shown once, rotatable; private queues."""

from __future__ import annotations

import hashlib

from tests.lines.conftest import create_line


async def test_key_is_random_and_shown_only_at_creation(client, redis):
    line = await create_line(client)
    other = await create_line(client, queue="billing")
    assert line.admin_key != other.admin_key
    assert len(bytes.fromhex(line.admin_key)) * 8 >= 128
    for path in ("/api/acme/queues", "/api/acme/queues/support"):
        assert line.admin_key not in await (await client.get(path)).text()
    again = await client.post("/api/acme/queues", json={"queue_id": "support", "name": "Support Queue"})
    assert line.admin_key not in await again.text() and "admin_key" not in await again.json()
    dump = []
    async for key in redis.scan_iter():
        kind = (await redis.type(key)).decode()
        if kind == "hash":
            dump.append(repr(await redis.hgetall(key)))
        elif kind == "string":
            dump.append(repr(await redis.get(key)))
    stored = "".join(dump)
    assert line.admin_key not in stored
    assert hashlib.sha256(line.admin_key.encode()).hexdigest() in stored


async def test_rotate_key(line):
    client = line.client
    assert (await client.post("/api/acme/queues/support/rotate-key", headers={"X-Admin-Key": "bad"})).status == 403
    assert (await client.post("/api/acme/queues/support/rotate-key")).status == 403
    response = await client.post("/api/acme/queues/support/rotate-key", headers=line.admin)
    assert response.status == 200
    new_key = (await response.json())["admin_key"]
    assert new_key != line.admin_key
    old = await client.post(f"{line.base}/serve-next", headers=line.admin, json={})
    assert old.status == 403
    fresh = await client.post(f"{line.base}/serve-next", headers={"X-Admin-Key": new_key}, json={})
    assert fresh.status == 200
    assert new_key not in await (await client.get("/api/acme/queues/support")).text()
    assert (await client.post("/api/acme/queues/nope/rotate-key", headers=line.admin)).status == 404


async def test_update_config_needs_key(line):
    client = line.client
    response = await client.patch("/api/acme/queues/support", json={"avg_service_time": 6})
    assert response.status == 403
    response = await client.patch("/api/acme/queues/support", headers=line.admin,
                                  json={"avg_service_time": 6, "name": "Help desk"})
    assert response.status == 200
    config = await response.json()
    assert config["avg_service_time"] == 6.0 and config["name"] == "Help desk"
    assert "admin_key" not in config
    assert (await line.join())["eta_minutes"] == 6.0
    assert (await client.patch("/api/acme/queues/support", headers=line.admin, json={})).status == 400


async def test_private_queue_join_needs_key(client):
    line = await create_line(client, is_public=False)
    response = await client.post(f"{line.base}/join", json={"name": "Sam"})
    assert response.status == 403
    response = await client.post(f"{line.base}/join", headers={"X-Admin-Key": "wrong"}, json={"name": "Sam"})
    assert response.status == 403
    assert (await (await client.get(f"{line.base}/list")).json())["count"] == 0
    response = await client.post(f"{line.base}/join", headers=line.admin, json={"name": "Sam"})
    assert response.status == 201


async def test_uncreated_queue_has_no_admin(client):
    await client.post("/api/acme/walkin/join", json={"name": "Sam"})
    response = await client.post("/api/acme/walkin/serve-next", headers={"X-Admin-Key": "anything"}, json={})
    assert response.status == 403
    assert "create" in (await response.json())["error"]


async def test_admin_key_of_one_queue_does_not_open_another(client):
    support = await create_line(client, "acme", "support")
    await create_line(client, "acme", "billing")
    await create_line(client, "globex", "support")
    for path in ("/api/acme/billing/serve-next", "/api/globex/support/serve-next"):
        response = await client.post(path, headers=support.admin, json={})
        assert response.status == 403
