"""TinyMQ 3's idempotent publish: a repeated Idempotency-Key, or ?idempotency=auto (keyed by the
body's content), answers 200 {"status": "ignored", "reason": "idempotency_key_exists"} and stores
nothing; MicroQ adds the first publish's id(s)."""

import hashlib
import json

from microq.topics.appkeys import TOPICS

from tests.topics.conftest import b64, stats_row

IGNORED = {"status": "ignored", "reason": "idempotency_key_exists"}


async def test_auto_keys_a_publish_by_its_content(client, redis):
    first = await client.post("/publish/auto", data=b"same", params={"idempotency": "auto"})
    assert first.status == 202
    again = await client.post("/publish/auto", data=b"same", params={"idempotency": "auto", "priority": "high"})
    assert again.status == 200
    assert await again.json() == {**IGNORED, "topic": "auto", "id": (await first.json())["id"]}
    other = await client.post("/publish/auto", data=b"other", params={"idempotency": "auto"})
    assert other.status == 202
    plain = await client.post("/publish/auto", data=b"same")  # without auto: a new message
    assert plain.status == 202
    assert (await stats_row(client, "auto"))["MessageCount"] == 3
    store = client.server.app[TOPICS]
    keys = [store.key_of("auto")("idem:auto:" + hashlib.sha256(body).hexdigest()[:32]) for body in (b"same", b"other")]
    assert all([0 < await redis.pttl(k) <= 5 * 60 * 1000 for k in keys])  # TinyMQ 3's window


async def test_auto_wins_over_a_header_key_and_elsewhere_is_another_topic(client):
    await client.post("/publish/a1", data=b"x", params={"idempotency": "auto"}, headers={"Idempotency-Key": "k1"})
    dup = await client.post("/publish/a1", data=b"x", params={"idempotency": "auto"}, headers={"Idempotency-Key": "k2"})
    assert (await dup.json())["status"] == "ignored"
    elsewhere = await client.post("/publish/a2", data=b"x", params={"idempotency": "auto"})
    assert elsewhere.status == 202  # kept in each topic's own slot


async def test_auto_on_a_batch(client):
    batch = json.dumps([{"payload": b64("a")}, {"payload": b64("b")}])
    one = await client.post("/publish/ab/batch", data=batch, params={"idempotency": "auto"})
    two = await client.post("/publish/ab/batch", data=batch, params={"idempotency": "auto"})
    assert one.status == 202 and two.status == 200
    first = await one.json()
    assert await two.json() == {**IGNORED, "topic": "ab", "count": 2, "ids": first["ids"]}
    assert (await stats_row(client, "ab"))["MessageCount"] == 2


async def test_an_unknown_idempotency_mode_is_400(client):
    response = await client.post("/publish/bad", data=b"x", params={"idempotency": "always"})
    assert response.status == 400 and "idempotency" in (await response.json())["error"]


async def test_a_repeated_header_key_answers_as_tinymq3(client):
    headers = {"Idempotency-Key": "order-7"}
    first = await (await client.post("/publish/hk", data=b"x", headers=headers)).json()
    response = await client.post("/publish/hk", data=b"x", headers=headers)
    assert response.status == 200 and await response.json() == {**IGNORED, "topic": "hk", "id": first["id"]}
    assert (await client.post("/publish/hk", data=b"y", headers=headers)).status == 422  # MicroQ: another request
