"""The topics API's optional key, as TinyMQ 3's clients present it: `Authorization: Bearer` (SDK
Client.req, tmq DoAuthRequest), Basic with the key as password (its dashboard) and `?token=`
(its WebSocket client). Off by default, so seed 002's clients keep working."""

from __future__ import annotations

import base64

import pytest

from microq.settings import Settings

KEY = "tmq-key-1"


@pytest.fixture
async def keyed(make_client):
    return await make_client(topics_api_keys=(KEY, "second-key"))


async def test_off_by_default(client):
    assert (await client.post("/publish/orders", data=b"x")).status == 202
    assert (await client.get("/api/stats")).status == 200


async def test_without_a_key_401_with_a_basic_challenge(keyed):
    response = await keyed.post("/publish/orders", data=b"x")
    assert response.status == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic ")
    assert "error" in await response.json()
    for path in ("/api/stats", "/api/queues", "/consume/orders", "/stream/orders", "/ws", "/api/cluster/status"):
        assert (await keyed.get(path)).status == 401, path


async def test_bearer_as_the_sdk_and_tmq_send_it(keyed):
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    assert (await keyed.post("/publish/orders?ttl=1h0m0s", data=b"x", headers=headers)).status == 202
    assert (await keyed.delete("/api/queues/purge?queue=orders", headers=headers)).status == 200
    second = {"Authorization": "Bearer second-key"}
    assert (await keyed.get("/api/stats", headers=second)).status == 200
    wrong = {"Authorization": "Bearer nope"}
    assert (await keyed.get("/api/stats", headers=wrong)).status == 401


async def test_basic_password_is_the_key(keyed):
    good = base64.b64encode(f"admin:{KEY}".encode()).decode()
    assert (await keyed.get("/api/stats", headers={"Authorization": f"Basic {good}"})).status == 200
    bad = base64.b64encode(f"{KEY}:".encode()).decode()  # the key as user name is not the password
    assert (await keyed.get("/api/stats", headers={"Authorization": f"Basic {bad}"})).status == 401
    assert (await keyed.get("/api/stats", headers={"Authorization": "Basic !!!"})).status == 401


async def test_token_query_as_the_ws_client_sends_it(keyed):
    assert (await keyed.get(f"/api/stats?token={KEY}")).status == 200
    ws = await keyed.ws_connect(f"/ws?token={KEY}")
    await ws.send_str('{"action":"ping"}')
    assert (await ws.receive_json(timeout=5)) == {"status": "pong"}
    await ws.close()


async def test_health_static_and_other_parts_stay_open(keyed):
    assert (await keyed.get("/healthz")).status == 200
    assert (await keyed.get("/readyz")).status == 200
    assert (await keyed.get("/dashboard")).status == 200  # MICROQ_TOPICS_DASHBOARD_OPEN defaults to true
    # the work API keeps its own X-API-Key rule, not the topics key
    assert (await keyed.post("/api/queue", json={"x": 1})).status == 401
    assert "WWW-Authenticate" not in (await keyed.post("/api/queue", json={"x": 1})).headers


async def test_dashboard_can_be_closed_too(make_client):
    keyed = await make_client(topics_api_keys=(KEY,), topics_dashboard_open=False)
    assert (await keyed.get("/dashboard")).status == 401
    assert (await keyed.get("/dashboard", headers={"Authorization": f"Bearer {KEY}"})).status == 200


def test_settings_read_the_keys_and_keep_them_out_of_repr():
    settings = Settings.from_env({"MICROQ_TOPICS_API_KEYS": "a, b", "MICROQ_TOPICS_DASHBOARD_OPEN": "false",
                                  "MICROQ_TOPICS_MAX_STREAMS": "5"}, dotenv=None)
    assert settings.topics_api_keys == ("a", "b") and not settings.topics_dashboard_open
    assert settings.topics_max_streams == 5
    assert "topics_api_keys" not in repr(settings)
