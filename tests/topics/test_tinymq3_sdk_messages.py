"""The requests TinyMQ 3.1.6's Go SDK (client/client.go) sends for the message model, byte for
byte as net/http writes them: Publish with PublishOptions, CreateTopic, CreateGroup, Subscribe
with a group. The SDK reads only the status of each answer (>= 400 is an error)."""

from tests.topics.conftest import consume, unb64

SDK = {"Content-Type": "application/json", "User-Agent": "Go-http-client/1.1", "Accept-Encoding": "gzip"}


async def test_publish_with_every_option_then_its_retry(client):
    # Publish(ctx, "orders", p, &PublishOptions{TTL: time.Hour, Delay: 0, Priority: "high",
    #   Idempotency: "order-9", Headers: {"x-mq-trace": "t1"}}): url.Values.Encode sorts the keys,
    # http.Header.Set canonicalizes the names
    headers = {**SDK, "Idempotency-Key": "order-9", "X-Mq-Trace": "t1"}
    first = await client.post("/publish/orders?priority=high&ttl=1h0m0s", data=b'{"n": 9}', headers=headers)
    assert first.status == 202
    retry = await client.post("/publish/orders?priority=high&ttl=1h0m0s", data=b'{"n": 9}', headers=headers)
    assert retry.status == 200 and (await retry.json())["status"] == "ignored"  # the SDK: no error
    message = await consume(client, "orders")
    assert message["headers"] == {"X-Mq-Trace": "t1"} and message["priority"] == "high"
    assert message["payload_text"] == '{"n": 9}' and "expires_at" in message


async def test_create_topic_and_group_as_the_sdk_sends_them(client):
    # CreateTopic(ctx, "metrics", "drop-oldest", time.Hour)
    response = await client.post("/api/topics", data=b'{"name":"metrics","policy":"drop-oldest","retain":"1h0m0s"}',
                                 headers=SDK)
    assert response.status == 201
    # CreateTopic(ctx, "plain", "", 0): retain omitted (omitempty), policy ""
    assert (await client.post("/api/topics", data=b'{"name":"plain","policy":""}', headers=SDK)).status == 201
    # CreateGroup(ctx, "metrics", "billing")
    response = await client.post("/api/groups", data=b'{"topic":"metrics","group":"billing"}', headers=SDK)
    assert response.status == 201
    await client.post("/publish/metrics", data=b"m1", headers=SDK)
    # Subscribe(ctx, "metrics", &SubscriptionOptions{Timeout: "5s", Group: "billing"})
    response = await client.get("/consume/metrics?auto_ack=true&timeout=5s&group=billing", headers=SDK)
    assert response.status == 200
    assert unb64((await response.json())["payload"]) == b"m1"
    response = await client.get("/consume/metrics?auto_ack=true&timeout=0s&group=billing", headers=SDK)
    assert response.status == 404  # seed 002's empty consume (TinyMQ 3: 204)
