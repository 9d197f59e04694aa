"""TinyMQ 3's ?priority=high|normal|low: high before normal before low, FIFO within one, in ONE
sorted set whose score encodes both, through delay, requeue and redelivery."""

import asyncio

from microq.topics.appkeys import TOPICS
from tests.topics.conftest import consume, publish, unb64


async def order(client, topic, n):
    return [unb64(m["payload"]).decode() for m in await consume(client, topic, limit=str(n))]


async def test_high_before_normal_before_low_fifo_within_each(client):
    for i, prio in enumerate(["low", "normal", "high", "low", "high", "", "normal"]):
        await publish(client, "p", f"{prio or 'default'}{i}", **({"priority": prio} if prio else {}))
    assert await order(client, "p", 7) == ["high2", "high4", "normal1", "default5", "normal6", "low0", "low3"]


async def test_one_sorted_set_holds_every_priority(client, redis):
    for prio in ("high", "normal", "low"):
        await publish(client, "one", prio, priority=prio)
    k = client.server.app[TOPICS].keys("one")
    assert not await redis.exists(k.delayed, k.inflight)  # the ready set is all there is
    scores = [s for _, s in await redis.zrange(k.ready, 0, -1, withscores=True)]
    assert len(scores) == 3 and scores == sorted(scores) and scores[0] < 0 < scores[2]


async def test_an_unknown_priority_is_400(client):
    for value in ("urgent", "HIGH", "1"):
        response = await client.post("/publish/bad", data=b"x", params={"priority": value})
        assert response.status == 400 and "priority" in (await response.json())["error"]


async def test_a_delayed_high_message_goes_ahead_once_due(client):
    await publish(client, "d", "normal0")
    await publish(client, "d", "high-late", priority="high", delay="150ms")
    await publish(client, "d", "normal1")
    await asyncio.sleep(0.3)
    assert await order(client, "d", 3) == ["high-late", "normal0", "normal1"]
    message = None
    await publish(client, "d2", "x", priority="low", delay="50ms")
    message = await consume(client, "d2", timeout="2s")
    assert message["priority"] == "low" and "deliver_at" in message


async def test_requeue_and_redelivery_keep_the_priority(client):
    await publish(client, "r", "low", priority="low")
    await publish(client, "r", "high", priority="high")
    await publish(client, "r", "normal")
    high = await consume(client, "r")
    assert unb64(high["payload"]) == b"high"
    await client.post("/requeue", json=high)  # back at the end of the high ones: still first
    assert unb64((await consume(client, "r", visibility="100ms"))["payload"]) == b"high"
    await asyncio.sleep(0.2)  # its lease lapsed: redelivered, still high
    assert await order(client, "r", 3) == ["high", "normal", "low"]
