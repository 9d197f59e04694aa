"""TinyMQ 3's extra consume fields (its respondWithQoL answer) beside seed 002's."""

import asyncio
from datetime import datetime

from tests.topics.conftest import consume, publish

SEED = {"id", "topic", "payload", "timestamp", "retry_count"}


def ms(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000


async def test_consume_adds_tinymq3_fields_to_the_seeds(client):
    await publish(client, "f", '{"a": 1}', ttl="1h0m0s", delay="0.05s")
    await asyncio.sleep(0.1)
    message = await consume(client, "f", timeout="1s")
    assert set(message) >= SEED
    assert message["payload_encoding"] == "base64" and message["payload_text"] == '{"a": 1}'
    assert ms(message["expires_at"]) - ms(message["timestamp"]) == 3600_000
    assert ms(message["deliver_at"]) - ms(message["timestamp"]) == 50
    assert message["priority"] == "normal"


async def test_a_binary_payload_has_no_text_and_a_plain_one_no_times(client):
    await client.post("/publish/bin", data=b"\xff\xfe\x00")
    message = await consume(client, "bin")
    assert message["payload_encoding"] == "base64" and "payload_text" not in message
    assert "expires_at" not in message and "deliver_at" not in message and "headers" not in message


async def test_peek_answers_as_tinymq3s_peek_without_the_consume_extras(client):
    await client.post("/publish/pk", data=b"x", headers={"X-MQ-A": "1"}, params={"ttl": "1m"})
    (peeked,) = await (await client.get("/api/queues/peek", params={"queue": "pk"})).json()
    assert set(peeked) == SEED | {"expires_at", "headers"}
