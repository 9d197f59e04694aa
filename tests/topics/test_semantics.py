"""The issue's semantics on one node: ttl, delay, visibility, broadcast, wildcards, batches."""

import asyncio

from tests.topics.conftest import b64, consume, publish, stats_row, unb64, until_waiting


async def test_fifo_within_a_topic(client):
    for i in range(50):
        await publish(client, "fifo", f"{i}")
    got = await consume(client, "fifo", limit="50", auto_ack="true")
    assert [int(unb64(m["payload"])) for m in got] == list(range(50))


async def test_binary_and_unicode_payloads_round_trip(client):
    blob = bytes(range(256)) * 3
    await publish(client, "bin", blob)
    await publish(client, "bin", "héllo wörld ✓".encode())
    first, second = await consume(client, "bin", limit="2")
    assert unb64(first["payload"]) == blob and unb64(second["payload"]).decode() == "héllo wörld ✓"


async def test_ttl_expired_message_is_never_delivered_and_is_removed(client):
    await publish(client, "ttl", "short", ttl="100ms")
    await publish(client, "ttl", "long", ttl="1h")
    await asyncio.sleep(0.25)
    got = await consume(client, "ttl", limit="5")
    assert [unb64(m["payload"]) for m in got] == [b"long"]
    assert (await stats_row(client, "ttl"))["MessageCount"] == 1


async def test_delay_hides_until_due_and_wakes_a_waiter(client):
    await publish(client, "later", "soon", delay="2s")  # long enough for the three looks below
    await consume(client, "later", status=404)
    assert await (await client.get("/api/queues/peek?queue=later")).json() == []
    assert (await stats_row(client, "later"))["Delayed"] == 1
    loop = asyncio.get_running_loop()
    started = loop.time()
    message = await consume(client, "later", timeout="10s")
    assert unb64(message["payload"]) == b"soon"
    assert loop.time() - started < 8  # woken when it fell due, not at the end of the timeout


async def test_unacked_message_is_redelivered_then_dead_lettered(client):
    await publish(client, "flaky", "job")
    seen = []
    for _ in range(3):
        message = await consume(client, "flaky", visibility="150ms", timeout="3s")
        seen.append(message["retry_count"])
    assert seen == [0, 1, 2]
    await asyncio.sleep(0.3)
    await consume(client, "flaky", status=404)
    dead = await consume(client, "flaky.dlq")
    assert unb64(dead["payload"]) == b"job" and dead["retry_count"] == 3


async def test_ack_within_visibility_prevents_redelivery(client):
    await publish(client, "ok")
    message = await consume(client, "ok", visibility="200ms")
    assert (await client.post(f"/ack/ok/{message['id']}")).status == 200
    await asyncio.sleep(0.3)
    await consume(client, "ok", status=404)


async def test_in_flight_message_is_not_redelivered_before_its_visibility_ends(client):
    await publish(client, "held")
    await consume(client, "held", visibility="30s")
    await consume(client, "held", status=404)
    row = await stats_row(client, "held")
    assert row["InFlight"] == 1 and row["MessageCount"] == 1 and row["Ready"] == 0


async def test_max_attempts_is_configurable(make_client):
    client = await make_client(max_attempts=1)
    await publish(client, "once")
    message = await consume(client, "once")
    assert (await (await client.post("/requeue", json=message)).json())["status"] == "dead_lettered"


async def test_broadcast_reaches_every_waiting_consumer_and_is_not_stored(client):
    waiters = [asyncio.create_task(consume(client, "news", timeout="5s")) for _ in range(3)]
    await until_waiting(client, "news", 3)
    response = await client.post("/publish/news?broadcast=true", data=b"flash")
    assert response.status == 202
    got = await asyncio.gather(*waiters)
    assert {unb64(m["payload"]) for m in got} == {b"flash"} and len({m["id"] for m in got}) == 1
    await consume(client, "news", status=404)  # not stored


async def test_wildcard_consumes_from_matching_topics(client):
    await publish(client, "orders.eu", "eu")
    await publish(client, "orders.us", "us")
    await publish(client, "orders.eu.dlq", "dead")
    await publish(client, "invoices.eu", "other")
    got = await consume(client, "orders.*", limit="10", auto_ack="true")
    assert sorted(unb64(m["payload"]) for m in got) == [b"eu", b"us"]
    assert {m["topic"] for m in got} == {"orders.eu", "orders.us"}
    await consume(client, "orders.*", status=404)


async def test_wildcard_long_poll_is_woken_by_a_matching_topic(client):
    waiter = asyncio.create_task(consume(client, "orders.*", timeout="5s"))
    await asyncio.sleep(0.2)
    await publish(client, "orders.asia", "new")
    message = await waiter
    assert message["topic"] == "orders.asia"


async def test_timeout_is_capped_at_the_configured_maximum(make_client):
    client = await make_client(consume_max_timeout=0.2)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await consume(client, "idle", status=404, timeout="1h")
    assert loop.time() - started < 3


async def test_batch_publish_and_batch_ack(client):
    messages = [{"payload": b64(f"b{i}")} for i in range(100)]
    response = await client.post("/publish/bulk/batch", json=messages)
    assert response.status == 202
    body = await response.json()
    assert body["count"] == 100 and len(body["ids"]) == 100
    got = await consume(client, "bulk", limit="100")
    assert [unb64(m["payload"]) for m in got] == [f"b{i}".encode() for i in range(100)]
    ids = [m["id"] for m in got]
    response = await client.post("/ack/bulk", json={"ids": ids[:60] + ["nope"]})
    assert await response.json() == {"status": "success", "acknowledged": 60, "not_found": ["nope"]}
    response = await client.post("/ack/bulk", json=ids[60:])
    assert (await response.json())["acknowledged"] == 40
    assert (await stats_row(client, "bulk"))["MessageCount"] == 0


async def test_batch_publish_is_all_or_nothing(make_client):
    client = await make_client(topic_max_messages=10)
    bad = [{"payload": b64("ok")}, {"payload": "%%%"}]
    assert (await client.post("/publish/bulk/batch", json=bad)).status == 400
    too_many = [{"payload": b64("x")}] * 11
    assert (await client.post("/publish/bulk/batch", json=too_many)).status == 429
    assert await (await client.get("/api/queues/peek?queue=bulk")).json() == []
    ok = await client.post("/publish/bulk/batch", json={"messages": [{"payload": b64("x"), "delay": "1h"}]})
    assert ok.status == 202 and (await stats_row(client, "bulk"))["Delayed"] == 1


async def test_hostile_input_gets_clear_400s(client):
    cases = [
        ("POST", "/publish/t/batch", "not json"), ("POST", "/publish/t/batch", "[]"),
        ("POST", "/publish/t/batch", '{"messages": 5}'), ("POST", "/publish/t/batch", '[1, 2]'),
        ("POST", "/publish/t/batch", '[{"payload": 5}]'), ("POST", "/publish/t/batch", '[{"payload": ""}]'),
        ("POST", "/publish/t/batch", '[{"payload": "eA==", "ttl": 5}]'),
        ("POST", "/publish/t/batch", '[{"payload": "eA==", "content_type": {}}]'),
        ("POST", "/ack/t", "[]"), ("POST", "/ack/t", '[5]'), ("POST", "/ack/t", '{"ids": "x"}'),
        ("POST", "/ack/t", "null"), ("POST", "/requeue", "null"), ("POST", "/requeue", '"str"'),
        ("POST", "/requeue", '{"id": 5, "topic": "t"}'), ("POST", "/requeue", '{"id": "x", "topic": "a b"}'),
        ("POST", "/requeue", '{"id": "x", "topic": "t", "payload": "!!"}'),
        ("POST", "/requeue", '{"id": "x", "topic": "t", "payload": "eA==", "retry_count": "1"}'),
        ("POST", "/requeue", '{"id": "' + "i" * 500 + '", "topic": "t"}'),
        ("POST", "/api/topics", '{"name": null}'), ("POST", "/api/topics", "[]"),
        ("POST", "/webhook/t", '{"url": ["http://x.example"]}'),
        ("GET", "/api/queues/peek?queue=t&limit=1000", None),
    ]
    for method, path, body in cases:
        response = await client.request(method, path, data=body)
        assert response.status == 400, (method, path, body, await response.text())
        assert "error" in await response.json()
    assert (await client.get("/api/stats")).status == 200


async def test_purge_and_redrive(client):
    await publish(client, "jobs", "a")
    await publish(client, "jobs", "b")
    for _ in range(3):
        for message in await consume(client, "jobs", limit="2"):
            await client.post("/requeue", json=message)
    assert (await stats_row(client, "jobs.dlq"))["MessageCount"] == 2
    assert (await stats_row(client, "jobs"))["DeadLetters"] == 2
    response = await client.post("/api/topics/jobs.dlq/redrive")
    assert response.status == 200 and (await response.json())["moved"] == 2
    back = await consume(client, "jobs", limit="5")
    assert sorted(unb64(m["payload"]) for m in back) == [b"a", b"b"] and {m["retry_count"] for m in back} == {0}
    assert (await client.post("/api/topics/jobs/redrive")).status == 400
    response = await client.post("/api/topics/jobs/purge")
    assert response.status == 200 and (await response.json())["deleted"] == 2
    assert (await stats_row(client, "jobs"))["MessageCount"] == 0
    assert (await client.post("/api/topics/unknown/purge")).status == 404


async def test_a_topic_has_at_most_100_webhooks(client):
    # each publish is one POST per webhook: an unbounded list would let one client amplify it
    for i in range(100):
        response = await client.post("/webhook/orders", json={"url": f"https://hooks.example.com/in/{i}"})
        assert response.status == 201
    response = await client.post("/webhook/orders", json={"url": "https://hooks.example.com/in/100"})
    assert response.status == 409 and "maximum of 100 webhooks" in (await response.json())["error"]
    again = await client.post("/webhook/orders", json={"url": "https://hooks.example.com/in/7"})
    assert again.status == 201  # registering a URL already there is still fine
    assert len((await (await client.get("/webhook/orders")).json())["webhooks"]) == 100


async def test_webhooks_can_be_listed_and_removed(client):
    url = "https://hooks.example.com/in"
    registered = await (await client.post("/webhook/orders", json={"url": url})).json()
    listed = await (await client.get("/webhook/orders")).json()
    assert listed == {"topic": "orders", "webhooks": [{"id": registered["id"], "url": url, "has_secret": False}]}
    assert (await stats_row(client, "orders"))["HasWebhooks"] is True
    assert (await (await client.get("/api/stats")).json())["total_webhooks"] == 1
    assert (await client.delete(f"/webhook/orders/{registered['id']}")).status == 200
    assert (await client.delete(f"/webhook/orders/{registered['id']}")).status == 404
    await client.post("/webhook/orders", json={"url": url})
    assert (await client.delete("/webhook/orders", params={"url": url})).status == 200
    assert (await (await client.get("/webhook/orders")).json())["webhooks"] == []


async def test_waiting_consumers_show_in_stats(client):
    waiter = asyncio.create_task(consume(client, "busy", status=404, timeout="1s"))
    await asyncio.sleep(0.2)
    await client.post("/api/topics", json={"name": "busy"})
    assert (await stats_row(client, "busy"))["WaitingConsumers"] == 1
    await waiter
