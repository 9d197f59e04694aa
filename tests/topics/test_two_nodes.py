"""Two app instances on one Redis, as behind a load balancer."""

import asyncio

from microq.topics.appkeys import WAIT_ROOM
from tests.topics.conftest import b64, consume, publish, unb64, until_waiting


async def test_publish_on_one_consume_on_the_other(two_clients):
    a, b = two_clients
    sent = await publish(a, "orders.eu", {"user_id": 42})
    message = await consume(b, "orders.eu")
    assert message["id"] == sent["id"]
    assert (await a.post(f"/ack/orders.eu/{message['id']}")).status == 200


async def test_long_poll_on_one_node_is_woken_by_a_publish_on_the_other(two_clients):
    a, b = two_clients
    loop = asyncio.get_running_loop()
    waiter = asyncio.create_task(consume(b, "wake", timeout="20s"))
    await asyncio.sleep(0.2)
    assert not waiter.done()
    published_at = loop.time()
    await publish(a, "wake", "now")
    message = await asyncio.wait_for(waiter, 10)
    assert unb64(message["payload"]) == b"now"
    assert loop.time() - published_at < 5  # woken by the publish, not by the 20 s timeout


async def test_eight_consumers_on_two_nodes_share_a_thousand_messages(two_clients):
    a, b = two_clients
    for start in range(0, 1000, 100):
        response = await a.post("/publish/share/batch",
                                json=[{"payload": b64(str(i))}
                                      for i in range(start, start + 100)])
        assert response.status == 202
    seen: list[int] = []

    async def consumer(client):
        while True:
            response = await client.get("/consume/share", params={"limit": "7", "timeout": "300ms"})
            if response.status == 404:
                return
            assert response.status == 200
            for message in await response.json():
                seen.append(int(unb64(message["payload"])))
                assert (await client.post(f"/ack/share/{message['id']}")).status == 200

    await asyncio.gather(*(consumer(a if i % 2 else b) for i in range(8)))
    assert sorted(seen) == list(range(1000))  # none lost, none twice


async def test_waiters_on_both_nodes_each_get_a_different_message(two_clients):
    a, b = two_clients
    waiters = [asyncio.create_task(consume(c, "pair", timeout="10s")) for c in (a, a, b, b)]
    await asyncio.sleep(0.2)
    for i in range(4):
        await publish(a if i % 2 else b, "pair", f"{i}")
    got = await asyncio.wait_for(asyncio.gather(*waiters), 10)
    assert sorted(unb64(m["payload"]) for m in got) == [b"0", b"1", b"2", b"3"]


async def test_broadcast_reaches_waiters_on_every_node(two_clients):
    a, b = two_clients
    waiters = [asyncio.create_task(consume(c, "alert", timeout="10s")) for c in (a, b, b)]
    await until_waiting(a, "alert", 1)
    await until_waiting(b, "alert", 2)
    assert (await a.post("/publish/alert?broadcast=true", data=b"all hands")).status == 202
    got = await asyncio.wait_for(asyncio.gather(*waiters), 10)
    assert [unb64(m["payload"]) for m in got] == [b"all hands"] * 3


async def test_unacked_message_on_one_node_is_redelivered_on_the_other(two_clients):
    a, b = two_clients
    await publish(a, "crashy", "job")
    first = await consume(a, "crashy", visibility="200ms")
    again = await consume(b, "crashy", timeout="5s")  # woken when the lease lapses
    assert again["id"] == first["id"] and again["retry_count"] == 1
    assert (await a.post(f"/ack/crashy/{first['id']}")).status == 200  # the lease is now b's; a's ack still works


async def test_waiting_consumers_are_counted_across_nodes(two_clients):
    a, b = two_clients
    await a.post("/api/topics", json={"name": "counted"})
    waiters = [asyncio.create_task(consume(b, "counted", status=404, timeout="3s")) for _ in range(2)]
    for _ in range(50):  # b publishes its counts within a heartbeat
        await asyncio.sleep(0.1)
        rows = {r["Name"]: r for r in (await (await a.get("/api/stats")).json())["stats"]}
        if rows["counted"]["WaitingConsumers"] == 2:
            break
    assert rows["counted"]["WaitingConsumers"] == 2
    b.app[WAIT_ROOM].close()
    await asyncio.gather(*waiters)


async def test_shutdown_answers_waiting_long_polls_at_once(client):
    loop = asyncio.get_running_loop()
    waiter = asyncio.create_task(consume(client, "drain", status=404, timeout="30s"))
    await asyncio.sleep(0.2)
    started = loop.time()
    await client.app.shutdown()  # what SIGTERM runs first
    body = await asyncio.wait_for(waiter, 5)
    assert "error" in body and loop.time() - started < 5
    await consume(client, "drain", status=404, timeout="30s")  # new long-polls answer at once too
