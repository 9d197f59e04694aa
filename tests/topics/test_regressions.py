"""Regressions: hostile or careless input that once gave a 500, lost or duplicated a message."""

import json

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
