"""Every example and error row of the TinyMQ seed (002), against one node."""

import json

from tests.topics.conftest import b64, consume, publish, unb64


async def test_publish_example_with_ttl_and_delay(client):
    response = await client.post("/publish/orders.eu?ttl=10m&delay=5s", data=json.dumps({"user_id": 42, "item": "laptop"}),
                                 headers={"Content-Type": "application/json"})
    assert response.status == 202
    body = await response.json()
    assert body["status"] == "accepted" and body["topic"] == "orders.eu"
    await consume(client, "orders.eu", status=404)  # hidden for 5 s


async def test_single_message_shape(client):
    await publish(client, "orders.eu", {"user_id": 42, "item": "laptop"})
    message = await consume(client, "orders.eu")
    # the seed's fields, and TinyMQ 3's beside them (issue 11: payload_encoding, payload_text, ...)
    assert set(message) >= {"id", "topic", "payload", "timestamp", "retry_count"}
    assert message["topic"] == "orders.eu" and message["retry_count"] == 0
    assert json.loads(unb64(message["payload"])) == {"user_id": 42, "item": "laptop"}
    assert message["timestamp"].endswith("Z") and message["timestamp"][10] == "T"


async def test_consume_example_batch_of_five_auto_acked(client):
    for i in range(7):
        await publish(client, "orders.eu", f"m{i}")
    batch = await consume(client, "orders.eu", timeout="10s", limit="5", auto_ack="true")
    assert isinstance(batch, list) and [unb64(m["payload"]) for m in batch] == [f"m{i}".encode() for i in range(5)]
    for m in batch:  # auto-acked: nothing left to acknowledge
        assert (await client.post(f"/ack/orders.eu/{m['id']}")).status == 404
    rest = await consume(client, "orders.eu", limit="5")
    assert [unb64(m["payload"]) for m in rest] == [b"m5", b"m6"]


async def test_limit_above_one_gives_an_array_even_for_one_message(client):
    await publish(client, "t", "only")
    batch = await consume(client, "t", limit="3")
    assert isinstance(batch, list) and len(batch) == 1


async def test_empty_queue_is_404_and_timeout_expiry_too(client):
    body = await consume(client, "nothing.here", status=404)
    assert "error" in body
    body = await consume(client, "nothing.here", status=404, timeout="200ms")
    assert "error" in body


async def test_ack_example(client):
    await publish(client, "orders.eu")
    message = await consume(client, "orders.eu")
    response = await client.post(f"/ack/orders.eu/{message['id']}")
    assert response.status == 200
    assert await response.json() == {"status": "success", "message": "Message acknowledged"}
    again = await client.post(f"/ack/orders.eu/{message['id']}")
    assert again.status == 404 and "error" in await again.json()
    unknown = await client.post("/ack/orders.eu/a1b2c3d4-7c89-4b1a-9f5e-123456789abc")
    assert unknown.status == 404


async def test_requeue_example_increments_retry_count(client):
    await publish(client, "orders.eu", "work")
    message = await consume(client, "orders.eu")
    response = await client.post("/requeue", json=message)
    assert response.status == 202
    body = await response.json()
    assert body["status"] == "requeued" and body["retry_count"] == 1
    again = await consume(client, "orders.eu")
    assert again["id"] == message["id"] and again["retry_count"] == 1 and unb64(again["payload"]) == b"work"


async def test_requeue_errors(client):
    assert (await client.post("/requeue", json={"topic": "orders.eu"})).status == 400
    assert (await client.post("/requeue", json={"id": "x"})).status == 400
    assert (await client.post("/requeue", data="not json")).status == 400
    assert (await client.post("/requeue", json=[1, 2])).status == 400
    missing = await client.post("/requeue", json={"id": "a1b2", "topic": "never.created", "payload": b64("x"),
                                                  "timestamp": "2026-06-18T10:00:00Z", "retry_count": 1})
    assert missing.status == 404 and "error" in await missing.json()


async def test_requeue_after_three_attempts_goes_to_dlq(client):
    await publish(client, "orders.eu", "poison")
    for attempt in range(3):
        message = await consume(client, "orders.eu")
        assert message["retry_count"] == attempt
        body = await (await client.post("/requeue", json=message)).json()
    assert body["status"] == "dead_lettered" and body["dlq"] == "orders.eu.dlq"
    await consume(client, "orders.eu", status=404)
    dead = await consume(client, "orders.eu.dlq")
    assert dead["id"] == message["id"] and dead["topic"] == "orders.eu.dlq" and unb64(dead["payload"]) == b"poison"
    rows = {r["Name"]: r for r in (await (await client.get("/api/stats")).json())["stats"]}
    assert rows["orders.eu.dlq"]["IsDLQ"] is True and rows["orders.eu"]["IsDLQ"] is False


async def test_requeue_of_an_auto_acked_message_rebuilds_it_from_the_body(client):
    await publish(client, "orders.eu", "again")
    message = await consume(client, "orders.eu", auto_ack="true")
    assert (await client.post("/requeue", json=message)).status == 202
    back = await consume(client, "orders.eu")
    assert back["id"] == message["id"] and back["retry_count"] == 1 and unb64(back["payload"]) == b"again"


async def test_webhook_registration_example(client):
    response = await client.post("/webhook/orders.eu", json={"url": "https://api.my-service.com/incoming"})
    assert response.status == 201
    assert (await response.json())["status"] == "webhook_registered"
    for bad in ({}, {"url": ""}, {"url": "not a url"}, {"url": "ftp://x.example/"}, {"url": 5},
                {"url": "http://127.0.0.1/x"}, {"url": "http://localhost:8080/"}, {"url": "http://10.0.0.7/"},
                {"url": "http://[::1]/"}, {"url": "https://" + "a" * 3000 + ".com/"}):
        bad_response = await client.post("/webhook/orders.eu", json=bad)
        assert bad_response.status == 400, bad
        assert "error" in await bad_response.json()
    assert (await client.post("/webhook/orders.eu", data="nope")).status == 400


async def test_create_topic_example(client):
    response = await client.post("/api/topics", json={"name": "analytics.events"})
    assert response.status == 201
    assert (await client.post("/api/topics", json={"name": "analytics.events"})).status == 409
    for bad in ({"name": ""}, {"name": "a b"}, {"name": "x" * 256}, {"name": "ünï"}, {"name": 7}, {}, ["x"]):
        bad_response = await client.post("/api/topics", json=bad)
        assert bad_response.status == 400, bad
    assert (await client.post("/api/topics", json={"name": "x" * 255})).status == 201


async def test_stats_example_shape(client):
    await publish(client, "orders.eu")
    await client.post("/api/topics", json={"name": "empty.one"})
    response = await client.get("/api/stats")
    assert response.status == 200
    body = await response.json()
    assert body["total_webhooks"] == 0
    rows = {row["Name"]: row for row in body["stats"]}
    assert rows["orders.eu"]["MessageCount"] == 1 and rows["empty.one"]["MessageCount"] == 0
    for row in rows.values():
        for key, kind in (("Name", str), ("MessageCount", int), ("WaitingConsumers", int), ("IsDLQ", bool),
                          ("HasWebhooks", bool)):
            assert isinstance(row[key], kind)


async def test_peek_example(client):
    empty = await client.get("/api/queues/peek?queue=orders.eu")
    assert empty.status == 200 and await empty.json() == []
    for i in range(12):
        await publish(client, "orders.eu", f"p{i}")
    peeked = await (await client.get("/api/queues/peek?queue=orders.eu")).json()
    assert [unb64(m["payload"]) for m in peeked] == [f"p{i}".encode() for i in range(10)]
    assert set(peeked[0]) == {"id", "topic", "payload", "timestamp", "retry_count"}
    again = await (await client.get("/api/queues/peek?queue=orders.eu")).json()
    assert [m["id"] for m in again] == [m["id"] for m in peeked]  # non-destructive
    assert (await consume(client, "orders.eu"))["id"] == peeked[0]["id"]
    assert (await client.get("/api/queues/peek")).status == 400
    assert (await client.get("/api/queues/peek?queue=bad name")).status == 400


async def test_dashboard_is_a_page(client):
    response = await client.get("/dashboard")
    assert response.status == 200 and response.content_type == "text/html"


# the error table ------------------------------------------------------------------------

async def test_400_empty_payload_invalid_topic_invalid_duration(client):
    assert (await client.post("/publish/orders", data=b"")).status == 400
    assert (await client.post("/publish/bad%20name", data=b"x")).status == 400
    assert (await client.post("/publish/" + "x" * 256, data=b"x")).status == 400
    assert (await client.post("/publish/caf%C3%A9", data=b"x")).status == 400
    for query in ("ttl=soon", "delay=-5s", "ttl=5parsecs", "broadcast=maybe", "delay=99999999h"):
        response = await client.post(f"/publish/orders?{query}", data=b"x")
        assert response.status == 400, query
        assert "error" in await response.json()
    for query in ("timeout=forever", "limit=0", "limit=abc", "limit=1001", "auto_ack=perhaps", "visibility=0s",
                  "timeout=-1s"):
        response = await client.get(f"/consume/orders?{query}")
        assert response.status == 400, query
    assert (await client.get("/consume/bad%20name")).status == 400
    # nothing was stored by any of it
    assert (await client.get("/api/queues/peek?queue=orders")).status == 200
    assert await (await client.get("/api/queues/peek?queue=orders")).json() == []


async def test_405_wrong_verb(client):
    for method, path in (("GET", "/publish/orders"), ("GET", "/ack/orders/x"), ("GET", "/requeue"),
                         ("POST", "/consume/orders"), ("POST", "/api/stats"), ("DELETE", "/api/topics")):
        response = await client.request(method, path)
        assert response.status == 405, (method, path)
        assert "error" in await response.json()


async def test_413_payload_too_large(make_client):
    client = await make_client(topic_max_payload_bytes=1024)
    response = await client.post("/publish/orders", data=b"x" * 1025)
    assert response.status == 413 and "error" in await response.json()
    assert (await client.post("/publish/orders", data=b"x" * 1024)).status == 202


async def test_413_at_the_default_two_megabytes(client):
    response = await client.post("/publish/orders", data=b"x" * (2 * 1024 * 1024 + 1))
    assert response.status == 413
    assert (await client.post("/publish/orders", data=b"x" * (2 * 1024 * 1024))).status == 202


async def test_429_when_the_topic_is_full(make_client):
    client = await make_client(topic_max_messages=3)
    for _ in range(3):
        await publish(client, "orders")
    response = await client.post("/publish/orders", data=b"x")
    assert response.status == 429 and "error" in await response.json()
    message = await consume(client, "orders")
    assert (await client.post(f"/ack/orders/{message['id']}")).status == 200
    await publish(client, "orders")  # room again


# the language examples ------------------------------------------------------------------

async def test_python_node_php_examples(client):
    response = await client.post("/publish/orders", data=json.dumps({"user_id": 42}),
                                 headers={"Content-Type": "application/json"})
    assert response.status == 202
    response = await client.get("/consume/orders?auto_ack=true&timeout=5s")
    assert response.status == 200
    message = await response.json()
    assert json.loads(unb64(message["payload"]).decode("utf-8")) == {"user_id": 42}
