"""TinyMQ 3's per-topic retention and overflow policy on POST /api/topics (`retain`, `policy`)."""

import asyncio

from tests.topics.conftest import consume, publish, stats_row, unb64
from tests.topics.test_consume_fields import ms


async def test_retain_is_the_ttl_of_messages_published_without_one(client):
    response = await client.post("/api/topics", json={"name": "kept", "retain": "1h0m0s"})
    assert response.status == 201
    row = await stats_row(client, "kept")
    assert row["RetainMs"] == 3600_000 and row["Policy"] == "reject" and row["Dropped"] == 0
    await publish(client, "kept", "x")
    await publish(client, "kept", "y", ttl="1m")  # its own ttl wins
    first, second = await consume(client, "kept", limit="2")
    assert ms(first["expires_at"]) - ms(first["timestamp"]) == 3600_000
    assert ms(second["expires_at"]) - ms(second["timestamp"]) == 60_000


async def test_a_short_retain_expires_messages(client):
    await client.post("/api/topics", json={"name": "brief", "retain": "100ms"})
    await publish(client, "brief", "x")
    await asyncio.sleep(0.2)
    await consume(client, "brief", status=404)


async def test_reject_is_429_when_full(make_client):
    client = await make_client(topic_max_messages=3)
    await client.post("/api/topics", json={"name": "rj", "policy": "reject"})
    for i in range(3):
        await publish(client, "rj", f"m{i}")
    assert (await client.post("/publish/rj", data=b"more")).status == 429
    assert (await stats_row(client, "rj"))["MessageCount"] == 3


async def test_drop_oldest_drops_low_before_normal_before_high(make_client):
    client = await make_client(topic_max_messages=3)
    await client.post("/api/topics", json={"name": "ring", "policy": "drop-oldest"})
    await publish(client, "ring", "high", priority="high")
    await publish(client, "ring", "normal")
    await publish(client, "ring", "low", priority="low")
    await publish(client, "ring", "new1")  # drops low
    await publish(client, "ring", "new2")  # drops the oldest normal
    row = await stats_row(client, "ring")
    assert row["MessageCount"] == 3 and row["Dropped"] == 2 and row["Policy"] == "drop-oldest"
    left = [unb64(m["payload"]) for m in await consume(client, "ring", limit="3", auto_ack="true")]
    assert left == [b"high", b"new1", b"new2"]
    for i in range(3):  # all in flight: nothing ready to drop, so it is full after all
        await publish(client, "ring", f"f{i}")
    await consume(client, "ring", limit="3")
    assert (await client.post("/publish/ring", data=b"one too many")).status == 429


async def test_bad_policy_or_retain_is_400_and_creates_nothing(client):
    for body in ({"name": "b1", "policy": "keep-all"}, {"name": "b1", "retain": "forever"},
                 {"name": "b1", "retain": "-1s"}, {"name": "b1", "retain": 60}, {"name": "b1", "policy": ["reject"]}):
        response = await client.post("/api/topics", json=body)
        assert response.status == 400 and "error" in await response.json(), body
    assert (await client.post("/api/topics", json={"name": "b1"})).status == 201
