"""The bridge from lines and work to topics: an outbox stream forwarded to a topic exactly once."""

import asyncio
import json

from redis.asyncio import Redis

from microq.appkeys import SCRIPTS
from microq.events import EVENT_SINK, Event, Outbox, event_sink
from tests.helpers import topic_messages

STREAM, CURSOR, TOPIC = "mq:test:{src}:events", "mq:test:{src}:fwd", "bridge.events"


def _event(entry_id: str, fields: dict[bytes, bytes]) -> Event:
    return Event(f"test:{entry_id}", json.dumps({"n": int(fields[b"n"])}).encode())


async def test_two_nodes_forwarding_at_once_publish_each_event_once(two_clients, redis: Redis):
    first, second = two_clients
    for n in range(250):
        await redis.xadd(STREAM, {"n": n})
    outboxes = [Outbox(c.app[SCRIPTS], event_sink(c.app)) for c in (first, second)]

    async def drain(outbox: Outbox) -> None:
        while await outbox.forward(STREAM, CURSOR, TOPIC, _event, batch=40):
            pass

    await asyncio.gather(*(drain(o) for o in outboxes), *(drain(o) for o in outboxes))
    assert sorted(m["n"] for m in await topic_messages(first, TOPIC)) == list(range(250))
    last = (await redis.xrevrange(STREAM, count=1))[0][0]
    assert await redis.get(CURSOR) == last


async def test_a_forward_cut_short_before_the_cursor_moved_publishes_nothing_twice(client, redis: Redis):
    for n in range(5):
        await redis.xadd(STREAM, {"n": n})
    sink = client.app[EVENT_SINK]
    entries = await redis.xrange(STREAM, count=3)
    # the node published three, then died before moving the cursor on
    await sink.publish(TOPIC, [_event(i.decode(), f) for i, f in entries])
    assert await Outbox(client.app[SCRIPTS], sink).forward(STREAM, CURSOR, TOPIC, _event) == 5
    assert await Outbox(client.app[SCRIPTS], sink).forward(STREAM, CURSOR, TOPIC, _event) == 0
    assert sorted(m["n"] for m in await topic_messages(client, TOPIC)) == [0, 1, 2, 3, 4]


async def test_an_events_headers_are_its_messages_headers(client):
    await client.app[EVENT_SINK].publish(TOPIC, [Event("h:1", b'{"n": 1}', {"X-MQ-Source": "lines"})])
    response = await client.get(f"/consume/{TOPIC}", params={"timeout": "0", "auto_ack": "true"})
    assert response.status == 200
    assert (await response.json())["headers"] == {"X-Mq-Source": "lines"}


async def test_the_cursor_never_moves_back(client, redis: Redis):
    scripts = client.app[SCRIPTS]
    assert await scripts.call("events_cursor_advance", [CURSOR], ["1700000000000-5"]) == b"1700000000000-5"
    assert await scripts.call("events_cursor_advance", [CURSOR], ["1700000000000-4"]) == b"1700000000000-5"
    assert await scripts.call("events_cursor_advance", [CURSOR], ["1700000000001-0"]) == b"1700000000001-0"


async def test_webhooks_through_the_bridge_are_the_topics_webhooks(client):
    sink = client.app[EVENT_SINK]
    url = "https://hooks.example.com/lines"
    first = await sink.add_webhook("bridge.hooks", url)
    assert await sink.add_webhook("bridge.hooks", url) == first
    assert await sink.webhooks("bridge.hooks") == [url]
    response = await client.get("/webhook/bridge.hooks")
    assert url in json.dumps(await response.json())
    assert await sink.remove_webhook("bridge.hooks", url) is True
    assert await sink.remove_webhook("bridge.hooks", url) is False
    assert await sink.webhooks("bridge.hooks") == []
