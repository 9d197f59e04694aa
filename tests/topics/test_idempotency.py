"""Issue 9, topics: Idempotency-Key on every state-changing topics request, and the one parser."""

import asyncio
import json

from aiohttp.test_utils import make_mocked_request

from microq import idempotency
from microq.topics.appkeys import TOPICS
from tests.topics.conftest import b64, consume, publish, stats_row

KEY = {"Idempotency-Key": "retry-1"}


async def _twice(client, method, path, **kwargs):
    first = await client.request(method, path, headers=KEY, **kwargs)
    second = await client.request(method, path, headers=KEY, **kwargs)
    return first.status, await first.json(), second.status, await second.json()


async def test_a_retried_requeue_requeues_once(make_client):
    client = await make_client(max_attempts=10)
    await publish(client, "jobs", "x")
    message = await consume(client, "jobs")
    body = json.dumps({"id": message["id"], "topic": "jobs"})
    s1, a1, s2, a2 = await _twice(client, "POST", "/requeue", data=body)
    assert (s1, s2) == (202, 202) and a1 == a2 and a1["retry_count"] == 1
    again = await consume(client, "jobs")
    assert again["retry_count"] == 1  # not 2: the retry applied nothing


async def test_a_retried_ack_batch_answers_the_same_and_a_different_body_is_422(client):
    await publish(client, "acks", "x")
    message = await consume(client, "acks")
    s1, a1, s2, a2 = await _twice(client, "POST", "/ack/acks", data=json.dumps([message["id"]]))
    assert s1 == s2 == 200 and a1 == a2 and a1["acknowledged"] == 1  # the retry does not say not_found
    other = await client.post("/ack/acks", headers=KEY, data=json.dumps(["another"]))
    assert other.status == 422 and "error" in await other.json()


async def test_retried_webhook_add_and_remove_apply_once(client):
    url = json.dumps({"url": "https://example.com/in"})
    s1, a1, s2, a2 = await _twice(client, "POST", "/webhook/hk", data=url)
    assert s1 == s2 == 201 and a1 == a2
    removal = {"Idempotency-Key": "remove-1"}
    first = await client.delete(f"/webhook/hk/{a1['id']}", headers=removal)
    second = await client.delete(f"/webhook/hk/{a1['id']}", headers=removal)
    assert first.status == second.status == 200  # without the key the second would be 404
    assert (await client.delete(f"/webhook/hk/{a1['id']}")).status == 404


async def test_a_retried_purge_does_not_delete_what_was_published_since(client):
    await publish(client, "p", "old")
    first = await client.post("/api/topics/p/purge", headers=KEY)
    assert (await first.json())["deleted"] == 1
    await publish(client, "p", "new")
    second = await client.post("/api/topics/p/purge", headers=KEY)
    assert second.status == 200 and (await second.json())["deleted"] == 1
    assert (await consume(client, "p"))["payload"] == b64("new")


async def test_a_retried_create_is_201_not_409(client):
    body = json.dumps({"name": "fresh"})
    s1, a1, s2, a2 = await _twice(client, "POST", "/api/topics", data=body)
    assert (s1, s2) == (201, 201) and a1 == a2
    assert (await client.post("/api/topics", data=body)).status == 409


async def test_a_retried_delete_answers_the_first_answer_and_a_running_one_is_409(client):
    await publish(client, "del", "x")
    s1, a1, s2, a2 = await _twice(client, "DELETE", "/api/topics/del")
    assert (s1, s2) == (200, 200) and a1 == a2 == {"status": "deleted", "topic": "del", "deleted": 1}
    await publish(client, "del", "y")
    # the same request under another key, begun by some node and still running there
    store = client.server.app[TOPICS]
    running = make_mocked_request("DELETE", "/api/topics/del", headers={"Idempotency-Key": "busy"})
    once = await idempotency.once_for(running, store.key_of("del"))
    assert (await idempotency.begin(store.scripts, once))[0]
    busy = await client.delete("/api/topics/del", headers={"Idempotency-Key": "busy"})
    assert busy.status == 409 and "still being processed" in (await busy.json())["error"]
    assert (await stats_row(client, "del"))["MessageCount"] == 1  # nothing applied


async def test_a_retried_redrive_moves_once(make_client):
    client = await make_client(max_attempts=1)
    for i in range(3):
        await publish(client, "src", f"m{i}")
    for _ in range(3):
        await consume(client, "src", visibility="20ms")
    await asyncio.sleep(0.05)
    await consume(client, "src", status=404)  # all three dead-lettered
    s1, a1, s2, a2 = await _twice(client, "POST", "/api/topics/src.dlq/redrive")
    assert s1 == s2 == 200 and a1 == a2 and a1["moved"] == 3
    assert (await stats_row(client, "src"))["MessageCount"] == 3


async def test_a_consume_retried_with_its_key_gets_the_same_leased_messages(client):
    for i in range(5):
        await publish(client, "recv", f"m{i}")
    first = await client.get("/consume/recv", params={"limit": "2"}, headers=KEY)
    second = await client.get("/consume/recv", params={"limit": "2"}, headers=KEY)
    got1, got2 = await first.json(), await second.json()
    assert [m["id"] for m in got1] == [m["id"] for m in got2] and len(got1) == 2
    other = await consume(client, "recv", limit="5")
    assert len(other) == 3  # the retry took nothing new
    await client.post(f"/ack/recv/{got1[0]['id']}")
    third = await (await client.get("/consume/recv", params={"limit": "2"}, headers=KEY)).json()
    assert [m["id"] for m in third] == [got1[1]["id"]]  # what that lease still holds
    different = await client.get("/consume/recv", params={"limit": "3"}, headers=KEY)
    assert different.status == 422


async def test_a_consume_key_after_the_lease_lapsed_is_a_new_receive(client):
    await publish(client, "lapse", "a")
    first = await (await client.get("/consume/lapse", params={"visibility": "50ms"}, headers=KEY)).json()
    await asyncio.sleep(0.1)
    again = await client.get("/consume/lapse", params={"visibility": "50ms"}, headers=KEY)
    assert again.status == 200 and (await again.json())["retry_count"] == first["retry_count"] + 1


async def test_a_consume_key_with_a_wildcard_or_auto_ack_is_400(client):
    for path, query in (("/consume/a.*", {}), ("/consume/a", {"auto_ack": "true"})):
        response = await client.get(path, params=query, headers=KEY)
        assert response.status == 400 and "error" in await response.json()


async def test_go_durations_work_and_non_ascii_digits_do_not(client):
    await publish(client, "go", "x", ttl="1h0m0s", delay="0h0m0.05s")
    await asyncio.sleep(0.1)
    message = await consume(client, "go", visibility="0h0m30s", timeout="1.5s")
    assert message["payload"] == b64("x")
    for query in ({"limit": "١٠"}, {"limit": "1_000"}, {"timeout": "١s"}, {"visibility": "-1s"}):
        response = await client.get("/consume/go", params=query)
        assert response.status == 400 and "error" in await response.json(), query
    for query in ({"ttl": "1_0s"}, {"delay": "٣s"}):
        assert (await client.post("/publish/go", data=b"x", params=query)).status == 400
    assert (await client.get("/api/queues/peek", params={"queue": "go", "limit": "١"})).status == 400


async def test_a_retried_publish_stores_once_and_answers_the_first_id(client):
    first = await client.post("/publish/pub", data=b"once", headers=KEY)
    second = await client.post("/publish/pub", data=b"once", headers=KEY)
    assert first.status == 202 and second.status == 200  # TinyMQ 3's answer to a duplicate, with the id
    assert await second.json() == {"status": "ignored", "reason": "idempotency_key_exists", "topic": "pub",
                                   "id": (await first.json())["id"]}
    assert (await stats_row(client, "pub"))["MessageCount"] == 1
    other = await client.post("/publish/pub", data=b"another", headers=KEY)
    assert other.status == 422
    batch = json.dumps([{"payload": b64("a")}, {"payload": b64("b")}])
    batch_key = {"Idempotency-Key": "batch-1"}
    one = await (await client.post("/publish/pub/batch", data=batch, headers=batch_key)).json()
    two = await (await client.post("/publish/pub/batch", data=batch, headers=batch_key)).json()
    assert one["ids"] == two["ids"] and one["count"] == two["count"] == 2 and two["status"] == "ignored"
    assert (await stats_row(client, "pub"))["MessageCount"] == 3
