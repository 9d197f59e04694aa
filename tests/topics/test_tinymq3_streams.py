"""TinyMQ 3's streams: /stream/{topic} as `tmq tail` reads it (cmd/tmq/shared/publish.go) and /ws
as its Go SDK's WSClient speaks it (client/ws.go: the handshake, {"action": ...} commands, replies
told from messages by their "status" key). Across nodes, with back-pressure."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import struct

import pytest
from aiohttp import WSMsgType

from microq.topics.appkeys import STREAMS, WAIT_ROOM
from tests.topics.conftest import consume, publish, unb64


async def _sse_frames(response, count: int, timeout: float = 10.0) -> list[dict]:
    """The next `count` data frames, read line by line as tmq tail does (lines starting "data: ")."""
    frames = []

    async def read() -> None:
        while len(frames) < count:
            line = await response.content.readline()
            assert line, "stream ended"
            text = line.decode()
            if text.startswith("data: ") and text[6:].strip():
                frames.append(json.loads(text[6:]))

    await asyncio.wait_for(read(), timeout)
    return frames


# SSE ------------------------------------------------------------------------------------

async def test_tmq_tail_sees_connected_then_messages(client):
    await publish(client, "orders", b"first")
    # tmq tail orders: GET {base}/stream/orders; 200 expected, then "data: " lines
    response = await client.get("/stream/orders")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/event-stream")
    (connected,) = await _sse_frames(response, 1)
    assert connected == {"status": "connected", "topic": "orders"}
    (message,) = await _sse_frames(response, 1)
    # tmq reads id (and id[:8]), timestamp as RFC 3339, payload as base64 bytes
    assert len(message["id"]) >= 8 and message["timestamp"].endswith("Z")
    assert unb64(message["payload"]) == b"first" and message["topic"] == "orders"
    await publish(client, "orders", b"second")
    (message,) = await _sse_frames(response, 1)
    assert unb64(message["payload"]) == b"second"
    response.close()


async def test_sse_acknowledges_what_it_wrote(client):
    response = await client.get("/stream/orders")
    await _sse_frames(response, 1)
    await publish(client, "orders", b"once")
    await _sse_frames(response, 1)
    response.close()
    await asyncio.sleep(0.2)
    await consume(client, "orders", 404, visibility="1ms")


async def test_sse_without_auto_ack_leases_and_ack_goes_through_http(client):
    response = await client.get("/stream/orders?auto_ack=false&visibility=30s")
    await _sse_frames(response, 1)
    await publish(client, "orders", b"leased")
    (message,) = await _sse_frames(response, 1)
    response.close()
    ack = await client.post(f"/ack/orders/{message['id']}")
    assert ack.status == 200


async def test_sse_across_nodes(two_clients):
    first, second = two_clients
    response = await first.get("/stream/orders")
    await _sse_frames(response, 1)
    await asyncio.sleep(0.05)
    await publish(second, "orders", b"from the other node")
    (message,) = await _sse_frames(response, 1)
    assert unb64(message["payload"]) == b"from the other node"
    response.close()


async def test_sse_refuses_what_it_cannot_do(client):
    assert (await client.get("/stream/orders.*")).status == 400
    assert (await client.get("/stream/orders?filter_key=a&filter_val=b")).status == 400
    assert (await client.get("/stream/bad%20name")).status == 400
    assert (await client.get("/stream/orders?visibility=-1s")).status == 400
    assert (await client.get("/stream/orders?auto_ack=maybe")).status == 400


async def test_stream_limit_per_node_is_503(make_client):
    client = await make_client(topics_max_streams=1)
    response = await client.get("/stream/orders")
    await _sse_frames(response, 1)
    refused = await client.get("/stream/other")
    assert refused.status == 503 and "error" in await refused.json()
    response.close()
    await asyncio.sleep(0.1)
    again = await client.get("/stream/other")
    assert again.status == 200
    again.close()


# WebSocket ------------------------------------------------------------------------------

async def _replies(ws, count: int, timeout: float = 10.0) -> list[dict]:
    out = []
    while len(out) < count:
        frame = await ws.receive(timeout=timeout)
        assert frame.type is WSMsgType.TEXT, frame
        out.append(json.loads(frame.data))
    return out


async def test_ws_subscribe_publish_ping_unsubscribe(client):
    ws = await client.ws_connect("/ws")
    # WSClient.Subscribe: {"action":"subscribe","topic":t}
    await ws.send_str('{"action":"subscribe","topic":"orders"}')
    assert await _replies(ws, 1) == [{"status": "subscribed", "topic": "orders"}]
    # WSClient.Publish: {"action":"publish","topic":t,"payload":"<text>"}
    await ws.send_str('{"action":"publish","topic":"orders","payload":"{\\"n\\":1}"}')
    frames = await _replies(ws, 2)
    published = next(f for f in frames if "status" in f)
    message = next(f for f in frames if "status" not in f)
    assert published["status"] == "published" and published["topic"] == "orders"
    # the SDK's readLoop: no "status" key -> a message.Message with base64 payload and topic
    assert base64.b64decode(message["payload"]) == b'{"n":1}' and message["topic"] == "orders"
    await ws.send_str('{"action":"ping"}')
    assert await _replies(ws, 1) == [{"status": "pong"}]
    await ws.send_str('{"action":"unsubscribe","topic":"orders"}')
    assert await _replies(ws, 1) == [{"status": "unsubscribed", "topic": "orders"}]
    await publish(client, "orders", b"not for the socket")
    assert unb64((await consume(client, "orders"))["payload"]) == b"not for the socket"
    await ws.close()


async def test_ws_errors_are_status_error(client):
    ws = await client.ws_connect("/ws")
    for command, words in (("not json", "invalid json format"), ("[1]", "invalid json format"),
                           ('{"action":"dance"}', "unknown action"),
                           ('{"action":"subscribe"}', "topic required"),
                           ('{"action":"subscribe","topic":"a*"}', "wildcard"),
                           ('{"action":"publish","topic":"t","payload":""}', "empty payload"),
                           ('{"action":"subscribe","topic":"t","max_in_flight":0}', "max_in_flight"),
                           ('{"action":"ack","topic":"t","id":"nope"}', "not found")):
        await ws.send_str(command)
        (reply,) = await _replies(ws, 1)
        assert reply["status"] == "error" and words in reply["message"], (command, reply)
    await ws.send_str('{"action":"subscribe","topic":"t"}')
    await _replies(ws, 1)
    await ws.send_str('{"action":"subscribe","topic":"t"}')
    assert (await _replies(ws, 1))[0]["message"] == "already subscribed to this topic"
    await ws.close()


async def test_ws_without_upgrade_is_400(client):
    response = await client.get("/ws")
    assert response.status == 400 and "error" in await response.json()


async def test_ws_across_nodes_each_message_once(two_clients):
    first, second = two_clients
    sockets = [await first.ws_connect("/ws"), await second.ws_connect("/ws")]
    for ws in sockets:
        await ws.send_str('{"action":"subscribe","topic":"jobs"}')
        await _replies(ws, 1)
    for n in range(40):
        await publish(first if n % 2 else second, "jobs", f"m{n}")
    got: list[bytes] = []

    async def drain(ws) -> None:
        while True:
            try:
                frame = await ws.receive(timeout=1.5)
            except asyncio.TimeoutError:
                return
            got.append(base64.b64decode(json.loads(frame.data)["payload"]))

    await asyncio.gather(*(drain(ws) for ws in sockets))
    assert sorted(got) == sorted(f"m{n}".encode() for n in range(40))
    for ws in sockets:
        await ws.close()


async def test_ws_manual_ack_holds_at_most_max_in_flight(client):
    for n in range(5):
        await publish(client, "jobs", f"m{n}")
    ws = await client.ws_connect("/ws")
    await ws.send_str(json.dumps({"action": "subscribe", "topic": "jobs", "auto_ack": False, "max_in_flight": 2}))
    await _replies(ws, 1)
    first = await _replies(ws, 2)
    with pytest.raises(asyncio.TimeoutError):
        await ws.receive(timeout=0.5)  # no credit: nothing more is taken
    await ws.send_str(json.dumps({"action": "ack", "topic": "jobs", "id": first[0]["id"]}))
    frames = await _replies(ws, 2)
    assert {"status": "acked", "topic": "jobs", "id": first[0]["id"]} in frames
    await ws.send_str(json.dumps({"action": "requeue", "topic": "jobs", "id": first[1]["id"]}))
    replies = await _replies(ws, 2)
    assert any(r.get("status") == "requeued" for r in replies)
    await ws.close()


async def test_ws_unacked_messages_come_back_after_the_socket_closes(client):
    await publish(client, "jobs", b"keep me")
    ws = await client.ws_connect("/ws")
    # a lease long enough that the socket closes before it lapses (the subscription would take
    # the message again then); the long-poll below wakes when it lapses
    await ws.send_str(json.dumps({"action": "subscribe", "topic": "jobs", "auto_ack": False,
                                  "visibility": "2s"}))
    await _replies(ws, 2)
    await ws.close()
    message = await consume(client, "jobs", timeout="10s")
    assert unb64(message["payload"]) == b"keep me" and message["retry_count"] == 1


async def test_slow_socket_does_not_make_the_node_buffer(client):
    """A subscriber that never reads: the node takes one batch, the socket fills, and the rest
    stays in the store for others instead of piling up in the node's memory."""
    body = b"x" * 60_000
    batch = [{"payload": base64.b64encode(body).decode()} for _ in range(20)]
    for _ in range(20):  # 400 messages, 32 MB as frames: far more than loopback's socket buffers hold
        assert (await client.post("/publish/big/batch", json=batch)).status == 202
    reader, writer = await asyncio.open_connection(client.host, client.port)
    try:
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write((f"GET /ws HTTP/1.1\r\nHost: {client.host}:{client.port}\r\nUpgrade: websocket\r\n"
                      f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                      f"Sec-WebSocket-Version: 13\r\n\r\n").encode())
        await reader.readuntil(b"\r\n\r\n")
        writer.write(_masked_text('{"action":"subscribe","topic":"big"}'))
        await asyncio.sleep(2.0)  # the subscriber reads nothing
        left = (await (await client.get("/api/queues")).json())[0]["MessageCount"]
        # taken: what the kernel's buffers absorbed (a few MB) plus one batch; the rest is still stored
        assert left >= 250, left
    finally:
        writer.close()


def _masked_text(text: str) -> bytes:
    data, mask = text.encode(), os.urandom(4)
    assert len(data) <= 125
    return bytes([0x81, 0x80 | len(data)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))


async def test_go_sdk_handshake_with_token_and_frames(make_client):
    """WSClient's own bytes: GET /ws?token=KEY, Host, Upgrade, Connection, Sec-WebSocket-Key,
    Sec-WebSocket-Version 13, then masked text frames (client/ws.go dialAndHandshake, writeFrame)."""
    client = await make_client(topics_api_keys=("s3cret",))
    reader, writer = await asyncio.open_connection(client.host, client.port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write((f"GET /ws?token=s3cret HTTP/1.1\r\nHost: {client.host}:{client.port}\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    head = (await reader.readuntil(b"\r\n\r\n")).decode()
    assert head.startswith("HTTP/1.1 101")
    accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
    assert f"Sec-WebSocket-Accept: {accept.decode()}" in head
    writer.write(_masked_text('{"action":"subscribe","topic":"orders"}'))
    opcode, payload = await _read_frame(reader)
    assert opcode == 1 and json.loads(payload) == {"status": "subscribed", "topic": "orders"}
    writer.write(bytes([0x89, 0x80]) + os.urandom(4))  # writePingFrame: masked, empty
    opcode, _ = await _read_frame(reader)
    assert opcode == 0xA  # pong
    writer.close()


async def _read_frame(reader) -> tuple[int, bytes]:
    first, second = await reader.readexactly(2)
    length = second & 0x7F
    if length == 126:
        (length,) = struct.unpack("!H", await reader.readexactly(2))
    elif length == 127:
        (length,) = struct.unpack("!Q", await reader.readexactly(8))
    return first & 0x0F, await asyncio.wait_for(reader.readexactly(length), 5)


async def test_shutdown_closes_sockets_with_going_away(client):
    ws = await client.ws_connect("/ws")
    await ws.send_str('{"action":"subscribe","topic":"orders"}')
    await _replies(ws, 1)
    sse = await client.get("/stream/orders")
    await _sse_frames(sse, 1)
    assert len(client.app[STREAMS]) == 2
    client.app[WAIT_ROOM].close()  # what the topics part's on_shutdown does first
    closing = asyncio.create_task(client.app[STREAMS].close_all())
    frame = await ws.receive(timeout=5)
    assert frame.type is WSMsgType.CLOSE and ws.close_code == 1001
    await asyncio.wait_for(closing, 5)
    assert (await asyncio.wait_for(sse.content.read(), 5)).strip() == b""  # the stream ended


async def test_shutdown_cuts_a_socket_that_stopped_reading(client):
    reader, writer = await asyncio.open_connection(client.host, client.port)
    try:
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write((f"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        await reader.readuntil(b"\r\n\r\n")
        client.app[WAIT_ROOM].close()
        await asyncio.wait_for(client.app[STREAMS].close_all(), 10)  # the close frame unanswered: cut
    finally:
        writer.close()


async def test_ws_a_lapsed_lease_frees_its_credit(client):
    for n in range(2):
        await publish(client, "jobs", f"m{n}")
    ws = await client.ws_connect("/ws")
    await ws.send_str(json.dumps({"action": "subscribe", "topic": "jobs", "auto_ack": False, "max_in_flight": 1,
                                  "visibility": "300ms"}))
    await _replies(ws, 2)  # subscribed, the first message; never acknowledged
    # its lease lapses: the slot is free again and the next message (or the first, redelivered) comes
    (again,) = await _replies(ws, 1, timeout=5)
    assert again["topic"] == "jobs"
    await ws.close()


async def test_streams_outlive_a_redis_restart(aiohttp_client, settings, tmp_path):
    """Redis killed (SIGKILL) under an open WebSocket and SSE stream: both stay open, and once
    Redis is back on its port they deliver again."""
    from microq.app import create_app
    from tests.helpers import RedisProcess, until_ready

    server = RedisProcess(tmp_path / "restart").start()
    try:
        client = await aiohttp_client(create_app(settings.replace(redis_url=server.url)))
        ws = await client.ws_connect("/ws")
        await ws.send_str('{"action":"subscribe","topic":"orders"}')
        await _replies(ws, 1)
        sse = await client.get("/stream/tail")
        await _sse_frames(sse, 1)
        server.process.kill()
        server.process.wait(10)
        await asyncio.sleep(1.5)
        # a wake-up while Redis is away (a lost pub/sub's catch-up, the due-work recheck) makes
        # both streams look, and fail to reach Redis: they wait it out instead of ending
        client.server.app[WAIT_ROOM].wake_all()
        await asyncio.sleep(0.5)
        await ws.send_str('{"action":"publish","topic":"orders","payload":"lost?"}')
        (reply,) = await _replies(ws, 1)
        assert reply["status"] == "error" and reply["message"].startswith("redis unavailable, try again shortly")
        server.start()
        await until_ready(client)
        await publish(client, "orders", b"after")
        await publish(client, "tail", b"after")
        (message,) = await _replies(ws, 1, timeout=15)
        (streamed,) = await _sse_frames(sse, 1, timeout=15)
        assert {unb64(message["payload"]), unb64(streamed["payload"])} == {b"after"}
        await ws.close()
        sse.close()
    finally:
        server.stop()


async def test_streams_and_admin_on_a_redis_cluster(aiohttp_client, redis_cluster, settings):
    """Two nodes on a three-primary Redis Cluster: a WebSocket on one node gets what the other
    publishes on topics spread over the primaries; purge and redrive stay within one slot."""
    from microq.app import create_app
    from microq.redis_client import connect

    flush = connect(redis_cluster.url, cluster=True)
    await flush.flushall()
    await flush.aclose()
    on_cluster = settings.replace(redis_url=redis_cluster.url, redis_cluster=True, max_attempts=1)
    a = await aiohttp_client(create_app(on_cluster))
    b = await aiohttp_client(create_app(on_cluster))
    topics = [f"cl.t{i}" for i in range(6)]
    ws = await a.ws_connect("/ws")
    for topic in topics:
        await ws.send_str(json.dumps({"action": "subscribe", "topic": topic}))
        await _replies(ws, 1)
    await asyncio.sleep(0.2)
    for topic in topics:
        await publish(b, topic, topic.encode())
    got = await _replies(ws, len(topics))
    assert sorted(unb64(m["payload"]) for m in got) == sorted(t.encode() for t in topics)
    await ws.close()
    await publish(b, "cl.dead", b"x")
    message = await consume(b, "cl.dead")
    await b.post("/requeue", json={"id": message["id"], "topic": "cl.dead"})
    assert (await (await a.post("/api/queues/redrive?queue=cl.dead")).json())["redriven_messages"] == 1
    assert (await a.delete("/api/queues/purge?queue=cl.dead")).status == 200
    assert (await a.get("/api/cluster/status")).status == 200


async def test_a_waiting_stream_counts_as_a_waiting_consumer(client):
    response = await client.get("/stream/orders")
    await _sse_frames(response, 1)
    await asyncio.sleep(0.1)
    rows = await (await client.get("/api/queues")).json()
    assert [r["WaitingConsumers"] for r in rows if r["Name"] == "orders"] == [1]
    response.close()
