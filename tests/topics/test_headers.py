"""TinyMQ 3's X-MQ-* message headers: stored with the message, returned as `headers`, forwarded on
webhook delivery, kept through requeue, redelivery, dead-lettering and redrive."""

import asyncio
import json

from microq.topics.appkeys import TOPICS
from microq.topics.extras import MAX_HEADER_BYTES, MAX_HEADERS, canonical
from tests.topics.conftest import b64, consume, publish, stats_row
from tests.topics.test_webhooks import start_receiver

TRACE = {"X-MQ-Trace-Id": "abc-123", "x-mq-tenant": "acme", "X-Other": "not kept"}
KEPT = {"X-Mq-Trace-Id": "abc-123", "X-Mq-Tenant": "acme"}  # TinyMQ 3 keys them by Go's canonical name


async def test_headers_come_back_on_consume_by_their_canonical_names(client):
    response = await client.post("/publish/h", data=b'{"a": 1}', headers=TRACE)
    assert response.status == 202
    message = await consume(client, "h")
    assert message["headers"] == KEPT
    await publish(client, "h", "plain")
    assert "headers" not in await consume(client, "h")  # omitted when empty, as TinyMQ 3 (omitempty)


def test_canonical_is_gos_canonical_mime_header_key():
    assert canonical("x-mq-trace-id") == "X-Mq-Trace-Id"
    assert canonical("X-MQ-ID") == "X-Mq-Id"
    assert canonical("X-MQ-a_b") == "X-Mq-A_b"


async def test_too_many_or_too_large_headers_are_400_and_store_nothing(client):
    many = {f"X-MQ-H{i}": "v" for i in range(MAX_HEADERS + 1)}
    response = await client.post("/publish/big", data=b"x", headers=many)
    assert response.status == 400 and "headers" in (await response.json())["error"]
    large = {"X-MQ-Blob": "v" * MAX_HEADER_BYTES}
    assert (await client.post("/publish/big", data=b"x", headers=large)).status == 400
    response = await client.post("/publish/big", data=b"x", headers={"X-MQ-Bad": "caf\u00e9".encode().decode("latin-1")})
    assert response.status == 400
    assert (await client.post("/publish/big", data=b"x",
                              headers={f"X-MQ-H{i}": "v" for i in range(MAX_HEADERS)})).status == 202
    assert (await stats_row(client, "big"))["MessageCount"] == 1


async def test_batch_headers_from_the_request_and_each_item(client):
    batch = [{"payload": b64("a")},
             {"payload": b64("b"), "headers": {"x-mq-item": "2", "X-MQ-Trace-Id": "own"}, "priority": "high"}]
    response = await client.post("/publish/hb/batch", data=json.dumps(batch), headers={"X-MQ-Trace-Id": "req"})
    assert response.status == 202, await response.text()
    first, second = await consume(client, "hb", limit="2")
    assert first["headers"] == {"X-Mq-Trace-Id": "own", "X-Mq-Item": "2"} and first["priority"] == "high"
    assert second["headers"] == {"X-Mq-Trace-Id": "req"} and second["priority"] == "normal"
    for bad in ({"headers": {"Trace": "x"}}, {"headers": ["X-MQ-A"]}, {"headers": {"X-MQ-A": 1}},
                {"priority": "urgent"}):
        response = await client.post("/publish/hb/batch", data=json.dumps([{"payload": b64("c"), **bad}]))
        assert response.status == 400, bad
    assert (await stats_row(client, "hb"))["MessageCount"] == 2


async def test_headers_survive_requeue_redelivery_dead_letters_and_redrive(make_client):
    client = await make_client(max_attempts=3)
    await client.post("/publish/keep", data=b"x", headers=TRACE, params={"priority": "low"})
    message = await consume(client, "keep")
    assert (await client.post("/requeue", json=message)).status == 202
    message = await consume(client, "keep", visibility="100ms")  # its lease lapses: redelivered
    await asyncio.sleep(0.2)
    message = await consume(client, "keep")
    assert message["headers"] == KEPT and message["retry_count"] == 2 and message["priority"] == "low"
    assert (await (await client.post("/requeue", json=message)).json())["status"] == "dead_lettered"
    dead = await consume(client, "keep.dlq")
    assert dead["headers"] == KEPT and dead["priority"] == "low"
    await client.post("/requeue", json=dead)  # back in the .dlq, then home
    assert (await client.post("/api/topics/keep.dlq/redrive")).status == 200
    home = await consume(client, "keep")
    assert home["headers"] == KEPT and home["retry_count"] == 0 and home["priority"] == "low"


async def test_a_requeue_that_rebuilds_the_message_keeps_its_headers(client):
    await client.post("/publish/gone", data=b"x", headers=TRACE)
    message = await consume(client, "gone", auto_ack="true")  # the broker no longer has it
    assert (await client.post("/requeue", json=message)).status == 202
    again = await consume(client, "gone")
    assert again["headers"] == KEPT and again["retry_count"] == 1


async def test_webhook_posts_carry_the_headers(aiohttp_server, make_client):
    client = await make_client(webhook_allow_private=True)
    receiver, url = await start_receiver(aiohttp_server)
    await client.post("/webhook/pushed", json={"url": url})
    await client.post("/publish/pushed", data=b"x", headers=TRACE)
    await receiver.wait_for(1)
    headers, _ = receiver.posts[0]
    assert headers["X-Mq-Trace-Id"] == "abc-123" and headers["X-Mq-Tenant"] == "acme"
    assert "X-Other" not in headers and headers["X-MicroQ-Topic"] == "pushed"


async def test_a_plain_message_stores_no_tail(client, redis):
    await publish(client, "lean", "x")
    (meta,) = (await redis.hgetall(client.server.app[TOPICS].keys("lean").meta)).values()
    assert b"\n" not in meta and meta.count(b":") == 3
