"""Consumer groups (TinyMQ 3's ?group= and /api/groups): durable fan-out over a shared log. Every
group of a topic receives every message published after it was created; members of one group
compete; each group has its own leases, retries and dead letters; ungrouped consume is unchanged."""

import asyncio
from collections import Counter

from microq.topics.appkeys import TOPICS
from microq.topics.names import group_keys
from microq.topics.store import MAX_GROUPS
from tests.topics.conftest import b64, consume, publish, stats_row, unb64


async def take_all(client, topic, group, **query):
    """Consume (and ack) until empty: the payloads, in order."""
    got = []
    while True:
        response = await client.get(f"/consume/{topic}", params={"group": group, "limit": "50", **query})
        if response.status == 404:
            return got
        assert response.status == 200, await response.text()
        for m in await response.json():
            got.append(unb64(m["payload"]).decode())
            assert (await client.post(f"/ack/{topic}/{m['id']}", params={"group": group})).status == 200


async def test_every_group_gets_every_message_and_ungrouped_consume_is_unchanged(client, redis):
    for g in ("billing", "audit"):
        response = await client.post("/api/groups", json={"topic": "orders", "group": g})
        assert response.status == 201
        assert await response.json() == {"status": "created", "virtual_topic": f"orders::{g}"}
    for i in range(10):
        await publish(client, "orders", f"m{i}")
    expected = [f"m{i}" for i in range(10)]
    assert await take_all(client, "orders", "billing") == expected
    assert await take_all(client, "orders", "audit") == expected
    ungrouped = await consume(client, "orders", limit="10")
    assert [unb64(m["payload"]).decode() for m in ungrouped] == expected
    assert (await client.post("/ack/orders", json=[m["id"] for m in ungrouped])).status == 200
    # every holder is done: nothing is left of the messages
    k = client.server.app[TOPICS].keys("orders")
    assert not await redis.exists(k.msgs, k.meta, k.gpend, k.glog)
    assert (await client.get("/api/groups", params={"topic": "orders"})).status == 200
    assert await (await client.get("/api/groups", params={"topic": "orders"})).json() == \
        {"topic": "orders", "groups": ["audit", "billing"]}


async def test_a_group_reads_what_is_published_after_it_was_created(client):
    await publish(client, "late", "before")
    await client.post("/api/groups", json={"topic": "late", "group": "g"})
    await publish(client, "late", "after")
    assert await take_all(client, "late", "g") == ["after"]
    # a consume with a new ?group= creates it, as TinyMQ 3
    await consume(client, "late", status=404, group="fresh")
    await publish(client, "late", "later")
    assert await take_all(client, "late", "fresh") == ["later"]


async def test_messages_wait_for_a_group_with_no_member_waiting(client):
    await client.post("/api/groups", json={"topic": "durable", "group": "slow"})
    for i in range(5):
        await publish(client, "durable", f"m{i}")
    assert await take_all(client, "durable", "fast") == []  # created now: reads only what follows
    assert await take_all(client, "durable", "slow") == [f"m{i}" for i in range(5)]


async def test_members_of_one_group_compete(two_clients):
    a, b = two_clients
    await a.post("/api/groups", json={"topic": "comp", "group": "w"})
    await a.post("/publish/comp/batch", json=[{"payload": b64(str(i))} for i in range(40)])
    first, second = await asyncio.gather(take_all(a, "comp", "w", limit="3"), take_all(b, "comp", "w", limit="3"))
    assert sorted(map(int, first + second)) == list(range(40)) and not set(first) & set(second)


async def test_each_group_has_its_own_leases_retries_and_dead_letters(make_client):
    client = await make_client(max_attempts=3)
    for g in ("a", "b"):
        await client.post("/api/groups", json={"topic": "own", "group": g})
    await publish(client, "own", "x", priority="high")
    held = await consume(client, "own", group="a", visibility="100ms")
    assert held["retry_count"] == 0 and held["priority"] == "high"
    await asyncio.sleep(0.2)  # a's lease lapsed: redelivered to a, retry 1
    again = await consume(client, "own", group="a")
    assert again["id"] == held["id"] and again["retry_count"] == 1
    other = await consume(client, "own", group="b")  # b is untouched by a's retries
    assert other["id"] == held["id"] and other["retry_count"] == 0
    requeued = await (await client.post("/requeue", params={"group": "a"}, json=again)).json()
    assert (requeued["status"], requeued["retry_count"], requeued["group"]) == ("requeued", 2, "a")
    again = await consume(client, "own", group="a")
    requeued = await (await client.post("/requeue", json={**again, "group": "a"})).json()  # the body's group
    assert (requeued["status"], requeued["retry_count"]) == ("dead_lettered", 3)  # at max_attempts
    await consume(client, "own", status=404, group="a")
    row = await stats_row(client, "own")
    groups = {g["Name"]: g for g in row["Groups"]}
    assert groups["a"]["DeadLetters"] == 1 and groups["b"]["InFlight"] == 1 and groups["a"]["InFlight"] == 0
    redriven = await (await client.post("/api/groups/redrive", params={"topic": "own", "group": "a"})).json()
    assert redriven["moved"] == 1
    back = await consume(client, "own", group="a")
    assert back["id"] == held["id"] and back["retry_count"] == 0
    # acks are per group: b's ack does not finish a's copy, a's does not finish the ungrouped one
    assert (await client.post(f"/ack/own/{held['id']}", params={"group": "b"})).status == 200
    assert (await client.post(f"/ack/own/{held['id']}", params={"group": "b"})).status == 404
    assert (await client.post(f"/ack/own/{held['id']}", params={"group": "a"})).status == 200
    assert (await consume(client, "own"))["id"] == held["id"]


async def test_a_waiting_member_is_woken_by_a_publish_on_another_node(two_clients):
    a, b = two_clients
    await a.post("/api/groups", json={"topic": "wake", "group": "g"})
    loop = asyncio.get_running_loop()
    waiters = [asyncio.create_task(consume(b, "wake", group="g", timeout="20s")),
               asyncio.create_task(consume(b, "wake", timeout="20s"))]  # an ungrouped one beside it
    await asyncio.sleep(0.3)
    started = loop.time()
    await publish(a, "wake", "now")
    got = await asyncio.wait_for(asyncio.gather(*waiters), 10)
    assert [unb64(m["payload"]) for m in got] == [b"now", b"now"] and loop.time() - started < 5


async def test_group_bad_input(client):
    assert (await client.post("/api/groups", json={"topic": "t"})).status == 400
    assert (await client.post("/api/groups", json={"topic": "t", "group": "bad group"})).status == 400
    assert (await client.post("/api/groups", json={"topic": "t.dlq", "group": "g"})).status == 400
    assert (await client.get("/api/groups")).status == 400
    for query in ({"group": "g", "peek": "true"}, {"group": "g", "filter_key": "k"}, {"group": "a b"}):
        assert (await client.get("/consume/t", params=query)).status == 400, query
    assert (await client.get("/consume/t.*", params={"group": "g"})).status == 400
    for i in range(MAX_GROUPS):
        assert (await client.post("/api/groups", json={"topic": "t", "group": f"g{i}"})).status == 201
    assert (await client.post("/api/groups", json={"topic": "t", "group": "g0"})).status == 201  # exists: fine
    response = await client.post("/api/groups", json={"topic": "t", "group": "one-more"})
    assert response.status == 409 and "error" in await response.json()
    assert (await client.post("/requeue", json={"id": "nope", "topic": "t", "group": "g1"})).status == 404


async def test_groups_with_delay_ttl_and_webhooks_and_delete(client, redis):
    await client.post("/api/groups", json={"topic": "mix", "group": "g"})
    await publish(client, "mix", "later", delay="150ms")
    await publish(client, "mix", "brief", ttl="100ms")
    await asyncio.sleep(0.25)
    assert await take_all(client, "mix", "g") == ["later"]  # the expired one is skipped
    await publish(client, "mix", "x")
    assert (await client.delete("/api/topics/mix")).status == 200
    store = client.server.app[TOPICS]
    assert not await redis.exists(*store.keys("mix").all(), *group_keys(store.keyspace, "mix", "g").all())


async def test_two_groups_of_three_members_on_two_nodes_a_member_dies_mid_lease(two_clients):
    a, b = two_clients
    for g in ("g1", "g2"):
        assert (await a.post("/api/groups", json={"topic": "fan", "group": g})).status == 201
    for start in range(0, 1000, 250):
        response = await (a if start % 500 else b).post(
            "/publish/fan/batch", json=[{"payload": b64(str(i))} for i in range(start, start + 250)])
        assert response.status == 202
    seen = {"g1": Counter(), "g2": Counter()}
    dropped: dict[str, set] = {"g1": set(), "g2": set()}

    async def member(client, group, dies):
        taken = 0
        while True:
            response = await client.get("/consume/fan", params={"group": group, "limit": "10",
                                                                "timeout": "1s", "visibility": "1s"})
            if response.status == 404:
                return
            assert response.status == 200
            messages = await response.json()
            taken += len(messages)
            if dies and taken > 100:  # stops acking and leaves: its lease lapses
                dropped[group].update(m["payload"] for m in messages)
                return
            for m in messages:
                seen[group][int(unb64(m["payload"]))] += 1
            ids = [m["id"] for m in messages]
            assert (await client.post("/ack/fan", params={"group": group}, json=ids)).status == 200

    await asyncio.gather(*(member(a if i % 2 else b, g, dies=(g == "g1" and i == 0))
                           for g in ("g1", "g2") for i in range(3)))
    for g in ("g1", "g2"):
        assert sorted(seen[g]) == list(range(1000)) and set(seen[g].values()) == {1}, g
    assert dropped["g1"] and not dropped["g2"]  # redelivered within g1 only: g2 saw each once
    row = await stats_row(a, "fan")
    assert {g["Name"]: (g["InFlight"], g["Backlog"]) for g in row["Groups"]} == {"g1": (0, 0), "g2": (0, 0)}


def test_a_groups_keys_share_the_topics_slot():
    from redis.crc import key_slot

    from microq.keys import Keyspace
    from microq.topics.names import topic_keys
    keyspace = Keyspace()
    keys = (*topic_keys(keyspace, "orders.eu").all(), *group_keys(keyspace, "orders.eu", "billing.v2").all())
    assert len({key_slot(k.encode()) for k in keys}) == 1


async def test_a_topic_with_webhooks_and_groups_serves_both(aiohttp_server, make_client, redis):
    from tests.topics.test_webhooks import start_receiver
    client = await make_client(webhook_allow_private=True)
    receiver, url = await start_receiver(aiohttp_server)
    await client.post("/webhook/both", json={"url": url})
    await client.post("/api/groups", json={"topic": "both", "group": "g"})
    await client.post("/publish/both", data=b"x", headers={"X-MQ-Id": "7"})
    await receiver.wait_for(1)
    assert receiver.posts[0][0]["X-Mq-Id"] == "7"
    message = await consume(client, "both", group="g")
    assert message["headers"] == {"X-Mq-Id": "7"}
    assert (await client.post(f"/ack/both/{message['id']}", params={"group": "g"})).status == 200
    k = client.server.app[TOPICS].keys("both")
    for _ in range(50):  # the webhook's delivery and the group are both done: the message goes
        if not await redis.exists(k.msgs):
            break
        await asyncio.sleep(0.1)
    assert not await redis.exists(k.msgs, k.gpend)
