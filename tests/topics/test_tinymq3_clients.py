"""The rest of what TinyMQ 3.1.6's Go SDK (client/client.go) and `tmq` CLI (cmd/tmq/shared) send,
byte for byte in path, query and body, against the seed routes they share with seed 002; each
test checks what that client reads from the answer."""

from __future__ import annotations

import json

from tests.topics.conftest import publish, unb64

SDK = {"Content-Type": "application/json"}  # Client.Publish always sets it


async def test_sdk_publish_with_go_durations(client):
    # PublishOptions{TTL: time.Hour, Delay: 90*time.Second, Broadcast: false}: u.Query().Encode()
    # sorts the keys; TTL.String() is "1h0m0s", Delay.String() "1m30s". Any status < 400 is success.
    response = await client.post("/publish/orders?delay=1m30s&ttl=1h0m0s", data=b'{"a":1}', headers=SDK)
    assert response.status < 400
    for ttl in ("2h45m0s", "1.5h", "300ms", "100us", "1m30s"):
        response = await client.post(f"/publish/orders?ttl={ttl}", data=b"x", headers=SDK)
        assert response.status < 400, ttl


async def test_sdk_create_topic_sends_an_empty_policy(client):
    # CreateTopic(ctx, "made", "", 0): {"name":"made","policy":""} (retain omitted when 0)
    response = await client.post("/api/topics", data=b'{"name":"made","policy":""}', headers=SDK)
    assert response.status < 400


async def test_sdk_peek(client):
    await publish(client, "orders", b"look")
    # Peek(ctx, "orders", 5): GET /api/queues/peek?queue=orders&limit=5, 200, decoded as []Message
    response = await client.get("/api/queues/peek?queue=orders&limit=5")
    assert response.status == 200
    (message,) = await response.json()
    assert unb64(message["payload"]) == b"look" and message["timestamp"].endswith("Z")


async def test_sdk_subscribe_with_limit_one_is_an_object(client):
    """Subscribe(ctx, t, &SubscriptionOptions{Timeout: "1s"}): GET /consume/t?auto_ack=true&timeout=1s.
    It decodes a JSON array, but limit=1 answers an object in seed 002 and in TinyMQ 3.1.6 alike, so
    that SDK call fails against both; the answer is the seed's."""
    await publish(client, "orders", b"one")
    response = await client.get("/consume/orders?auto_ack=true&timeout=1s")
    assert response.status == 200 and isinstance(await response.json(), dict)


async def test_tmq_pub_and_sub(client):
    # tmq pub orders hello --ttl=5m: POST /publish/orders?ttl=5m, body "hello"; 202 or 200 is success
    response = await client.post("/publish/orders?ttl=5m", data=b"hello", headers=SDK)
    assert response.status in (200, 202)
    # tmq sub orders: params.Encode() of timeout=0s, limit=1, auto_ack=true, sorted
    response = await client.get("/consume/orders?auto_ack=true&limit=1&timeout=0s")
    assert response.status == 200
    message = json.loads(await response.text())  # parseMessagesPayload: a list, else one object with an id
    assert message["id"] and unb64(message["payload"]) == b"hello" and message["retry_count"] == 0
    # empty: tmq prints "[Empty]" on a 404
    assert (await client.get("/consume/orders?auto_ack=true&limit=1&timeout=0s")).status == 404


async def test_tmq_list_reads_the_wrapped_stats(client):
    await publish(client, "orders")
    # tmq list: GET /api/stats, decoded as {"stats": [TopicStat], "total_webhooks": n}
    body = await (await client.get("/api/stats")).json()
    (row,) = [r for r in body["stats"] if r["Name"] == "orders"]
    assert {"Name", "MessageCount", "WaitingConsumers", "IsDLQ", "HasWebhooks"} <= row.keys()
    assert isinstance(body["total_webhooks"], int)


async def test_tmq_create(client):
    # tmq create made: POST /api/topics {"name":"made"}; success is 201
    response = await client.post("/api/topics", data=b'{"name":"made"}', headers=SDK)
    assert response.status == 201


async def test_tmq_peek(client):
    await publish(client, "orders", b"p")
    # tmq peek orders: GET /api/queues/peek?queue=orders, decoded as []CLIMessage
    messages = await (await client.get("/api/queues/peek?queue=orders")).json()
    assert [unb64(m["payload"]) for m in messages] == [b"p"]
