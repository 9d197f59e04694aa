"""Regressions: hostile or careless input that once gave a 500, lost or duplicated a message."""

import asyncio
import json

from aiohttp import ClientSession, web

from microq.app import create_app

from tests.topics.conftest import b64, consume, publish


async def test_requeue_with_a_far_future_timestamp_does_not_poison_the_topic(client):
    await publish(client, "t", "first")
    body = {"id": "rebuilt-1", "topic": "t", "payload": b64("x"), "timestamp": "9999-12-31T23:59:59Z",
            "retry_count": 0}
    response = await client.post("/requeue", data=json.dumps(body))
    assert response.status == 202
    peeked = await client.get("/api/queues/peek", params={"queue": "t"})
    assert peeked.status == 200 and [m["id"] for m in await peeked.json()][1] == "rebuilt-1"
    messages = await consume(client, "t", limit="10")
    assert len(messages) == 2 and messages[1]["timestamp"] < "9999"


async def test_ids_and_content_types_that_cannot_be_stored_or_sent_are_400(client):
    await publish(client, "t", "kept")
    lone_surrogate = '"\\ud800"'  # valid JSON, but no UTF-8 encoding exists for it
    cases = [
        ("/ack/t", '["' + "\\ud800" + '"]'),
        ("/requeue", '{"topic": "t", "id": ' + lone_surrogate + "}"),
        ("/requeue", '{"topic": "t", "id": "a\\r\\nX-Evil: 1", "payload": "eA=="}'),
        ("/requeue", '{"topic": "t", "id": "a b", "payload": "eA=="}'),
        ("/publish/t/batch", '[{"payload": "eA==", "content_type": ' + lone_surrogate + "}]"),
        ("/publish/t/batch", '[{"payload": "eA==", "content_type": "text/plain\\r\\nX-Evil: 1"}]'),
    ]
    for path, body in cases:
        response = await client.post(path, data=body.encode())
        assert response.status == 400, (path, body, await response.text())
        assert "error" in await response.json()
    assert [m["payload"] for m in await consume(client, "t", limit="10")] == [b64("kept")]


async def test_a_raw_non_utf8_content_type_header_is_400_not_500(client):
    reader, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(b"POST /publish/t HTTP/1.1\r\nHost: x\r\nContent-Type: text/\xff\xfe\r\n"
                 b"Content-Length: 1\r\nConnection: close\r\n\r\nx")
    await writer.drain()
    reply = await reader.read()
    writer.close()
    assert reply.startswith(b"HTTP/1.1 400 ") and b'"error"' in reply
    assert (await (await client.get("/api/stats")).json())["stats"] == []  # not even registered


async def test_webhook_urls_that_are_not_urls_are_400(client):
    for url in ("http://xn--/", "http://a b/", "http://\x00/", "http://example.com/\ud800", "http://%41/",
                "http://example.com:0/"):
        body = json.dumps({"url": url}).encode()  # ensure_ascii: a lone surrogate travels as \\ud800
        response = await client.post("/webhook/t", data=body)
        assert response.status == 400, (url, await response.text())
        assert "error" in await response.json()
    assert (await (await client.get("/webhook/t")).json())["webhooks"] == []
    ok = await client.post("/webhook/t", json={"url": "https://bücher.example/in?x=1"})
    assert ok.status == 201


async def test_a_missing_topic_is_400_not_an_empty_queue_404(client):
    for method, path in (("POST", "/publish/"), ("POST", "/publish"), ("GET", "/consume/"), ("GET", "/consume"),
                         ("POST", "/webhook/"), ("POST", "/webhook")):
        response = await client.request(method, path, data=b"x")
        assert response.status == 400, (method, path)
        assert (await response.json())["error"] == "missing topic"


async def test_requeue_of_a_dead_lettered_message_does_not_copy_it_back(make_client):
    client = await make_client(max_attempts=2)
    await publish(client, "jobs", "once")
    first = await consume(client, "jobs", visibility="50ms")  # a slow consumer keeps this copy
    await asyncio.sleep(0.1)
    await consume(client, "jobs", visibility="50ms")  # redelivered to another, who also lets it lapse
    await asyncio.sleep(0.1)
    assert await (await client.get("/api/queues/peek", params={"queue": "jobs"})).json() == []  # dead-lettered
    response = await client.post("/requeue", json=first)  # retry_count 0: rebuilding would not dead-letter it
    assert response.status == 202
    assert (await response.json())["status"] == "dead_lettered"
    assert await (await client.get("/api/queues/peek", params={"queue": "jobs"})).json() == []
    dead = await (await client.get("/api/queues/peek", params={"queue": "jobs.dlq"})).json()
    assert [m["id"] for m in dead] == [first["id"]]


async def test_a_backtracking_wildcard_does_not_hang_the_node(client):
    await publish(client, "a" * 255)
    pattern = ("a*" * 127 + "b")[:255]  # as a regex a[^.]+a[^.]+...b this backtracks for hours
    response = await asyncio.wait_for(client.get(f"/consume/{pattern}"), 30)
    assert response.status == 404
    response = await asyncio.wait_for(client.get(f"/consume/{'a*' * 40}a"), 30)  # it still matches
    assert response.status == 200


def test_wildcards_match_as_the_regex_they_replace():
    import random
    import re

    from microq.topics.names import matches

    def regex(pattern: str, topic: str) -> bool:
        return bool(re.fullmatch("[^.]+".join(re.escape(part) for part in pattern.split("*")), topic))

    rng = random.Random(7)
    for _ in range(20000):
        topic = "".join(rng.choice("ab.") for _ in range(rng.randrange(1, 9)))
        pattern = "".join(rng.choice("ab.*") for _ in range(rng.randrange(1, 7)))
        assert matches(pattern, topic) == regex(pattern, topic), (pattern, topic)


async def test_head_on_consume_is_405_and_takes_nothing(client):
    await publish(client, "t", "kept")
    response = await client.head("/consume/t", params={"auto_ack": "true"})
    assert response.status == 405
    assert [m["payload"] for m in await consume(client, "t", limit="10")] == [b64("kept")]


async def test_topic_names_with_a_trailing_newline_or_only_dots_are_400(client):
    # `$` also matches before a final newline; "." and ".." can't be reached by any URL
    for name in ("orders\n", ".", ".."):
        response = await client.post("/api/topics", json={"name": name})
        assert response.status == 400, name
    for path in ("/publish/orders%0A", "/consume/orders%0A", "/consume/orders.*%0A"):
        response = await client.request("POST" if path.startswith("/publish") else "GET", path, data=b"x")
        assert response.status == 400, path
    assert (await (await client.get("/api/stats")).json())["stats"] == []


async def test_a_wake_up_meant_for_a_hung_up_consumer_goes_to_the_next_waiter(settings):
    # As `microq serve` runs (unlike aiohttp's test server), a handler is not cancelled when its
    # client hangs up. The oldest waiter is woken first; its client is gone, so it must hand the
    # wake-up on, or the next waiter sleeps to its timeout beside a ready message.
    runner = web.AppRunner(create_app(settings), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    try:
        async with ClientSession() as session:
            while (await session.get(f"{base}/readyz")).status != 200:
                await asyncio.sleep(0.05)
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /consume/t?timeout=60s HTTP/1.1\r\nHost: x\r\n\r\n")
            await writer.drain()
            await asyncio.sleep(0.3)
            writer.close()
            await writer.wait_closed()
            second = asyncio.ensure_future(session.get(f"{base}/consume/t", params={"timeout": "60s"}))
            await asyncio.sleep(0.3)
            assert (await session.post(f"{base}/publish/t", data=b"for the one still waiting")).status == 202
            done, _ = await asyncio.wait([second], timeout=20)  # well before the 60 s long-poll ends
            if not done:
                second.cancel()
                raise AssertionError("the remaining waiter slept past the publish")
            response = second.result()
            assert response.status == 200
            assert (await response.json())["payload"] == b64("for the one still waiting")
    finally:
        await runner.cleanup()
