"""Every `tmq` command of TinyMQ 3.1.6 (cmd/tmq/main.go, shared/admin.go, shared/publish.go,
handle/*.go) that talks to the broker, replayed with the request it sends (method, path, query,
body, the Content-Type DoAuthRequest sets whenever there is a body), checking what the CLI reads
from the answer; /healthz as TinyMQ 3 answers it; and Idempotency-Key on every /api/queues/*
write (a retried request applies once). docs/compat.md lists which commands work."""

from __future__ import annotations

import json

from microq import __version__
from tests.topics.conftest import consume, publish, unb64

JSON = {"Content-Type": "application/json"}  # DoAuthRequest: set whenever there is a body


def key(value: str) -> dict[str, str]:
    return {"Idempotency-Key": value, **JSON}


# -- tmq, command by command -------------------------------------------------------------

async def test_tmq_rm(client):
    await publish(client, "orders", b"a")
    await publish(client, "orders.dlq", b"dead")
    # HandleRm(base, ["orders"], false): DELETE /api/queues/delete?queue=<QueryEscape>, nil body; 200 is success
    response = await client.delete("/api/queues/delete?queue=orders")
    assert response.status == 200
    names = [row["Name"] for row in (await (await client.get("/api/stats")).json())["stats"]]
    assert "orders" not in names and "orders.dlq" in names  # as TinyMQ 3: the .dlq is a topic of its own
    await consume(client, "orders", 404)
    # any other status: "[Error] Broker returned status %d"
    assert (await client.delete("/api/queues/delete?queue=orders")).status == 404
    assert (await client.delete("/api/queues/delete")).status == 400
    assert (await client.delete("/api/queues/delete?queue=a%2Fb")).status == 400  # not a seed name


async def test_tmq_purge(client):
    await publish(client, "orders", b"a")
    response = await client.delete("/api/queues/purge?queue=orders")
    assert response.status == 200
    await consume(client, "orders", 404)


async def test_tmq_webhook_add_and_list(make_client):
    client = await make_client(webhook_allow_private=True)
    target = "http://127.0.0.1:9/hook"
    # HandleWebhook add: POST /webhook/<PathEscape(topic)>, body fmt `{"url":"%s"}`; 201 is success
    response = await client.post("/webhook/orders", data=f'{{"url":"{target}"}}'.encode(), headers=JSON)
    assert response.status == 201
    # list: GET /api/queues/webhooks?queue=orders, nil body, decoded into []string
    response = await client.get("/api/queues/webhooks?queue=orders")
    urls = json.loads(await response.text())
    assert urls == [target]


async def test_tmq_dlq_redrive(make_client):
    client = await make_client(max_attempts=1)
    await publish(client, "jobs", b"j")
    message = await consume(client, "jobs")
    await client.post("/requeue", json={"id": message["id"], "topic": "jobs"})
    # HandleRedrive: POST /api/queues/redrive?queue=jobs, nil body; 200 -> result["redriven_messages"]
    response = await client.post("/api/queues/redrive?queue=jobs")
    assert response.status == 200
    assert json.loads(await response.text())["redriven_messages"] == 1


async def test_tmq_list_reads_the_wrapped_stats(make_client):
    client = await make_client(webhook_allow_private=True)
    await publish(client, "orders", b"a")
    await client.post("/webhook/hooked", json={"url": "http://127.0.0.1:9/h"})
    # HandleList: GET /api/stats; json.Unmarshal into StatsResponse{Stats []TopicStat}; Go matches
    # the field names case-insensitively and ignores the extra ones
    body = json.loads(await (await client.get("/api/stats")).text())
    rows = {row["Name"]: row for row in body["stats"]}
    assert rows["orders"]["MessageCount"] == 1 and rows["orders"]["IsDLQ"] is False
    assert rows["hooked"]["HasWebhooks"] is True
    assert isinstance(body["total_webhooks"], int)


async def test_tmq_peek_without_a_limit(client):
    await publish(client, "orders", b"look")
    # HandlePeek: GET /api/queues/peek?queue=orders (no limit: the server's 10), into []CLIMessage
    messages = json.loads(await (await client.get("/api/queues/peek?queue=orders")).text())
    assert [unb64(m["payload"]) for m in messages] == [b"look"] and messages[0]["retry_count"] == 0
    assert json.loads(await (await client.get("/api/queues/peek?queue=empty")).text()) == []  # "is empty"


async def test_tmq_bench_publishes(client):
    # HandleBench: POST /publish/<PathEscape(topic)> with a JSON payload; 202 or 200 counts as success
    response = await client.post("/publish/bench-topic", data=b'{"bench":true}')
    assert response.status in (200, 202)


async def test_tmq_doctor_and_healthz(client):
    # checkBrokerReachable: GET /healthz (plain http.Get, no key); 200 is "healthy"
    response = await client.get("/healthz")
    assert response.status == 200
    body = await response.json()
    # TinyMQ 3's handleHealthz fields; cluster_role/cluster_term as its clustered nodes say them
    assert body["status"] == "ok" and body["version"] == __version__
    assert isinstance(body["uptime_seconds"], int) and body["uptime_seconds"] >= 0
    assert body["cluster_role"] == "leader" and body["cluster_term"] == 0


async def test_tmq_cluster_drain_is_not_served(client):
    # handle/cluster.go drain: POST <node-url>/api/drain, nil body; it prints whatever comes back.
    # Not served (docs/compat.md): a node drains on SIGTERM, and an unauthenticated HTTP switch
    # that stops a node is not worth TinyMQ 3's convenience
    response = await client.post("/api/drain")
    assert response.status == 404 and "error" in await response.json()


# -- Idempotency-Key on every /api/queues/* write ------------------------------------------

async def test_keyed_admin_publish_stores_one_message(client):
    body = {"queue": "once", "payload": "hello"}
    first = await client.post("/api/queues/publish", json=body, headers=key("p-1"))
    again = await client.post("/api/queues/publish", json=body, headers=key("p-1"))
    assert first.status == again.status == 202
    assert (await first.json())["id"] == (await again.json())["id"]
    assert (await (await client.get("/api/queues/peek?queue=once")).json())[0]["id"] == (await first.json())["id"]
    assert len(await (await client.get("/api/queues/peek?queue=once")).json()) == 1
    other = await client.post("/api/queues/publish", json={**body, "payload": "other"}, headers=key("p-1"))
    assert other.status == 422  # the same key for another request
    assert len(await (await client.get("/api/queues/peek?queue=once")).json()) == 1


async def test_keyed_admin_consume_takes_one_message(client):
    for text in ("first", "second"):
        await client.post("/api/queues/publish", json={"queue": "take", "payload": text})
    first = await client.post("/api/queues/consume", json={"queue": "take"}, headers=key("c-1"))
    again = await client.post("/api/queues/consume", json={"queue": "take"}, headers=key("c-1"))
    assert first.status == again.status == 200
    assert await first.json() == await again.json()
    assert unb64((await first.json())["payload"]) == b"first"
    left = await (await client.get("/api/queues/peek?queue=take")).json()
    assert [unb64(m["payload"]) for m in left] == [b"second"]  # the retry took nothing
    # an empty queue is 404 and remembers nothing: the retry looks again
    await client.post("/api/queues/consume", json={"queue": "take"})
    assert (await client.post("/api/queues/consume", json={"queue": "take"}, headers=key("c-2"))).status == 404
    await client.post("/api/queues/publish", json={"queue": "take", "payload": "third"})
    late = await client.post("/api/queues/consume", json={"queue": "take"}, headers=key("c-2"))
    assert late.status == 200 and unb64((await late.json())["payload"]) == b"third"


async def test_keyed_create_purge_and_delete_apply_once(client):
    assert (await client.post("/api/queues", json={"name": "made"}, headers=key("k-create"))).status == 201
    assert (await client.post("/api/queues", json={"name": "made"}, headers=key("k-create"))).status == 201
    assert (await client.post("/api/queues", json={"name": "made"})).status == 409  # without a key: exists

    for n in range(2):
        await publish(client, "made", f"m{n}".encode())
    first = await client.delete("/api/queues/purge?queue=made", headers={"Idempotency-Key": "k-purge"})
    await publish(client, "made", b"after")
    again = await client.delete("/api/queues/purge?queue=made", headers={"Idempotency-Key": "k-purge"})
    assert await first.json() == await again.json() == {"status": "purged", "queue": "made", "deleted": 2}
    assert unb64((await consume(client, "made"))["payload"]) == b"after"  # not purged by the retry

    first = await client.delete("/api/queues/delete?queue=made", headers={"Idempotency-Key": "k-del"})
    again = await client.delete("/api/queues/delete?queue=made", headers={"Idempotency-Key": "k-del"})
    assert first.status == again.status == 200 and await first.json() == await again.json()
    assert (await client.delete("/api/queues/delete?queue=made")).status == 404


async def test_keyed_redrive_moves_once(make_client):
    client = await make_client(max_attempts=1)

    async def dead_letter(text: bytes) -> None:
        await publish(client, "jobs", text)
        message = await consume(client, "jobs")
        await client.post("/requeue", json={"id": message["id"], "topic": "jobs"})

    await dead_letter(b"d1")
    first = await client.post("/api/queues/redrive?queue=jobs", headers={"Idempotency-Key": "r-1"})
    await consume(client, "jobs")
    await dead_letter(b"d2")
    again = await client.post("/api/queues/redrive?queue=jobs", headers={"Idempotency-Key": "r-1"})
    assert await first.json() == await again.json() == {"status": "success", "redriven_messages": 1}
    assert [unb64(m["payload"]) for m in await (await client.get("/api/queues/peek?queue=jobs.dlq")).json()] == [b"d2"]


async def test_keyed_admin_webhook_add_and_remove_apply_once(make_client):
    client = await make_client(webhook_allow_private=True)
    body = {"queue": "hooks", "url": "http://127.0.0.1:9/h", "secret": "s"}
    for _ in range(2):
        answer = await client.post("/api/queues/webhooks", json=body, headers=key("w-1"))
        assert answer.status == 201
    assert await (await client.get("/api/queues/webhooks?queue=hooks")).json() == [body["url"]]
    path = "/api/queues/webhooks?queue=hooks&url=http://127.0.0.1:9/h"
    first = await client.delete(path, headers={"Idempotency-Key": "w-2"})
    again = await client.delete(path, headers={"Idempotency-Key": "w-2"})
    assert first.status == again.status == 200
    assert (await client.delete(path)).status == 404  # without a key: already gone
