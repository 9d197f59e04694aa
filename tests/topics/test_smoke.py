from tests.topics.conftest import consume, publish, unb64


async def test_publish_consume_ack(client):
    out = await publish(client, "orders.eu", {"user_id": 42}, ttl="10m")
    assert out["status"] == "accepted" and out["topic"] == "orders.eu"
    msg = await consume(client, "orders.eu")
    assert unb64(msg["payload"]) == b'{"user_id": 42}'
    r = await client.post(f"/ack/orders.eu/{msg['id']}")
    assert r.status == 200, await r.text()
    r = await client.post(f"/ack/orders.eu/{msg['id']}")
    assert r.status == 404
