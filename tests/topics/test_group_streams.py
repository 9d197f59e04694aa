"""Consumer groups on streams: /stream/{topic}?group= and a WebSocket subscribe with "group"."""

import asyncio

from tests.topics.conftest import consume, publish, unb64
from tests.topics.test_tinymq3_streams import _sse_frames


async def test_sse_with_a_group_reads_as_a_member(client):
    response = await client.get("/stream/sg", params={"group": "g"})
    assert response.status == 200
    await _sse_frames(response, 1)  # connected: the group exists from now on
    await publish(client, "sg", "one")
    (message,) = await _sse_frames(response, 1)
    assert unb64(message["payload"]) == b"one"
    response.close()
    await asyncio.sleep(0.2)
    await consume(client, "sg", 404, group="g")  # acknowledged in the group once written
    assert unb64((await consume(client, "sg"))["payload"]) == b"one"  # the ungrouped queue still has it
    assert (await client.get("/stream/sg.dlq", params={"group": "g"})).status == 400


async def test_ws_subscribe_with_a_group_acks_and_requeues_in_it(client):
    ws = await client.ws_connect("/ws")
    await ws.send_json({"action": "subscribe", "topic": "wg", "group": "g", "auto_ack": False})
    assert (await ws.receive_json(timeout=5))["status"] == "subscribed"
    await publish(client, "wg", "m")
    message = await ws.receive_json(timeout=5)
    assert unb64(message["payload"]) == b"m"
    await ws.send_json({"action": "requeue", "topic": "wg", "id": message["id"]})
    assert (await ws.receive_json(timeout=5))["status"] == "requeued"
    again = await ws.receive_json(timeout=5)
    assert again["id"] == message["id"] and again["retry_count"] == 1
    await ws.send_json({"action": "ack", "topic": "wg", "id": again["id"]})
    assert (await ws.receive_json(timeout=5))["status"] == "acked"
    await ws.close()
    row = {g["Name"]: g for g in (await (await client.get("/api/stats")).json())["stats"][0]["Groups"]}
    assert row["g"]["InFlight"] == 0 and row["g"]["Ready"] == 0
