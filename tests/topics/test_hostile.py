"""Issue 10, topics: hostile load. Each test is one finding, and failed before its fix."""

import asyncio
import base64
import json
import random
import re
import time

import pytest

from microq.topics.appkeys import HOUSEKEEPER, TOPICS, WAIT_ROOM
from microq.topics.index import TopicIndex
from microq.topics.names import matches
from microq.topics.registry import BUCKETS, bucket_of
from microq.topics.waiters import WaitRoom
from tests.helpers import LoopHold
from tests.topics.conftest import b64, consume, publish


async def _create_topics(client, names) -> None:
    store = client.server.app[TOPICS]
    for start in range(0, len(names), 200):
        await asyncio.gather(*(store.create(n) for n in names[start:start + 200]))


# 1. wildcard matching ------------------------------------------------------------------

def _reference(pattern: str, topic: str) -> bool:
    regex = r"\.".join("[^.]+".join(map(re.escape, seg.split("*"))) for seg in pattern.split("."))
    return re.fullmatch(regex, topic) is not None


def test_the_compiled_matcher_agrees_with_the_regex_it_replaces():
    rng = random.Random(7)
    for _ in range(20000):
        topic = "".join(rng.choice("ab.") for _ in range(rng.randint(1, 9)))
        pattern = "".join(rng.choice("ab.*") for _ in range(rng.randint(1, 8)))
        assert matches(pattern, topic) == _reference(pattern, topic), (pattern, topic)


async def test_a_hostile_wildcard_over_1000_long_topics_does_not_hold_the_event_loop(client):
    names = [f"{i:04d}" + "a" * 251 for i in range(1000)]
    await _create_topics(client, names)
    hostile = "*" + "a" * 228 + "b"
    async with LoopHold() as hold:
        polls = [client.get(f"/consume/{hostile}", params={"timeout": "1s"}) for _ in range(10)]
        health = client.get("/healthz")
        answers = await asyncio.gather(*polls, health)
    assert [a.status for a in answers] == [404] * 10 + [200]
    await publish(client, names[0], "wake-up")  # every waiter re-matches on a publish
    async with LoopHold() as hold_wake:
        await consume(client, hostile, status=404, timeout="300ms")
    # before: 4-5 s per look; the bound is generous for a loaded 2-core host
    assert hold.longest < 0.5 and hold_wake.longest < 0.5, (hold.longest, hold_wake.longest)


async def test_the_index_looks_only_at_names_with_the_patterns_literal_segments():
    index = TopicIndex()
    for i in range(2000):
        index.add(f"noise.{i}.x")
    for name in ("orders.eu.paid", "orders.us.paid", "orders.eu.open", "orders.eu"):
        index.add(name)
    from microq.topics.names import compile_pattern
    assert len(index.candidates(compile_pattern("orders.*.paid"))) <= 3
    assert sorted(await index.matching("orders.*.paid")) == ["orders.eu.paid", "orders.us.paid"]
    index.add("orders.jp.paid")  # the cached answer learns later names
    index.remove("orders.us.paid")
    assert sorted(await index.matching("orders.*.paid")) == ["orders.eu.paid", "orders.jp.paid"]


async def test_pattern_waiters_are_woken_by_what_they_match_only():
    room = WaitRoom("redis://unused", "wake", "broadcast")
    eu = [room.add("orders.*") for _ in range(3)]
    deep = room.add("orders.*.paid")
    exact = room.add("orders.eu")
    room.wake("orders.eu", 10)
    assert all(w.event.is_set() for w in (*eu, exact)) and not deep.event.is_set()
    room.wake("orders.eu.paid", 10)
    assert deep.event.is_set()
    for waiter in (*eu, deep, exact):
        room.remove(waiter)
    assert room.counts() == {} and not room.patterns


# 2. lifecycle and quotas ---------------------------------------------------------------

async def test_delete_forgets_a_topic_its_webhooks_and_optionally_its_dlq(make_client):
    client = await make_client(max_attempts=1)
    await publish(client, "gone", "one")
    await consume(client, "gone", visibility="20ms")
    await asyncio.sleep(0.05)
    await consume(client, "gone", status=404)  # the lapsed lease moved it to gone.dlq
    await publish(client, "gone", "two")
    assert (await client.post("/webhook/gone", json={"url": "https://example.com/in"})).status == 201
    response = await client.delete("/api/topics/gone", params={"dlq": "true"})
    assert response.status == 200
    assert await response.json() == {"status": "deleted", "topic": "gone", "deleted": 1, "dlq_deleted": 1}
    names = [row["Name"] for row in (await (await client.get("/api/stats")).json())["stats"]]
    assert names == []
    assert (await (await client.get("/webhook/gone")).json())["webhooks"] == []
    assert (await client.delete("/api/topics/gone")).status == 404
    await publish(client, "gone", "again")  # a later publish makes it anew, empty but for this
    assert (await consume(client, "gone"))["payload"] == b64("again")


async def test_delete_is_seen_by_another_node(two_clients):
    a, b = two_clients
    await publish(a, "shared", "x")
    assert (await a.delete("/api/topics/shared")).status == 200
    await asyncio.sleep(0.1)
    assert [r["Name"] for r in (await (await b.get("/api/stats")).json())["stats"]] == []


async def test_max_topics_refuses_one_more_with_409(make_client):
    client = await make_client(max_topics=2, max_attempts=1)
    await publish(client, "one", "x")
    assert (await client.post("/api/topics", json={"name": "two"})).status == 201
    for response in (await client.post("/api/topics", json={"name": "three"}),
                     await client.post("/publish/three", data=b"x"),
                     await client.post("/webhook/three", json={"url": "https://example.com/"})):
        assert response.status == 409 and "MICROQ_MAX_TOPICS" in (await response.json())["error"]
    await publish(client, "one", "still fine")
    await consume(client, "one", visibility="20ms")
    await asyncio.sleep(0.05)
    await consume(client, "one")  # the lapse dead-letters: one.dlq is not counted
    assert "one.dlq" in [r["Name"] for r in (await (await client.get("/api/stats")).json())["stats"]]
    assert (await client.delete("/api/topics/two")).status == 200
    assert (await client.post("/api/topics", json={"name": "three"})).status == 201


async def test_idle_empty_topics_expire_when_asked(make_client):
    client = await make_client(topic_idle_expiry=0.05)
    await publish(client, "idle", "x")
    await consume(client, "idle", auto_ack="true")
    await publish(client, "busy", "kept")
    housekeeper = client.server.app[HOUSEKEEPER]
    for _ in range(2):
        for bucket in range(BUCKETS):
            await housekeeper.recheck(bucket)
        await asyncio.sleep(0.1)
    names = [r["Name"] for r in (await (await client.get("/api/stats")).json())["stats"]]
    assert names == ["busy"]


async def test_idle_expiry_is_off_by_default(client):
    await client.post("/api/topics", json={"name": "idle"})
    housekeeper = client.server.app[HOUSEKEEPER]
    for _ in range(2):
        for bucket in range(BUCKETS):
            await housekeeper.recheck(bucket)
    assert [r["Name"] for r in (await (await client.get("/api/stats")).json())["stats"]] == ["idle"]


async def test_stats_pages_with_a_cursor_and_a_small_broker_keeps_the_seed_shape(client):
    names = [f"t{i:02d}" for i in range(7)]
    for name in names:
        await publish(client, name, "x")
    whole = await (await client.get("/api/stats")).json()
    assert set(whole) == {"stats", "total_webhooks", "total_messages"}
    assert [r["Name"] for r in whole["stats"]] == names and whole["total_messages"] == 7
    seen, cursor = [], ""
    while True:
        page = await (await client.get("/api/stats", params={"limit": "3", "cursor": cursor})).json()
        seen += [r["Name"] for r in page["stats"]]
        assert page["total_messages"] == len(page["stats"])
        if "next_cursor" not in page:
            break
        cursor = page["next_cursor"]
    assert seen == names
    for bad in ({"limit": "0"}, {"limit": "x"}, {"cursor": "a b"}):
        assert (await client.get("/api/stats", params=bad)).status == 400


@pytest.fixture
async def hand_swept(monkeypatch, make_client):
    """make_client(...) for nodes whose housekeeping sweeps only when the test calls it: a round
    of the node's own (every second) would take a due topic first, and the test's sweep find none."""
    monkeypatch.setattr("microq.topics.housekeeping.INTERVAL", 3600.0)
    return make_client


async def test_an_idle_broker_sweeps_only_topics_with_due_work(hand_swept):
    client = await hand_swept()
    names = [f"idle{i}" for i in range(300)]
    await _create_topics(client, names)
    for name in names[:20]:
        await publish(client, name, "x")
    await publish(client, "later", "x", delay="150ms")
    housekeeper = client.server.app[HOUSEKEEPER]
    swept = sum([await housekeeper.sweep_due(b) for b in range(BUCKETS)])
    assert swept == 0  # before: every topic, every second
    await asyncio.sleep(0.2)
    swept = sum([await housekeeper.sweep_due(b) for b in range(BUCKETS)])
    assert swept == 1
    row = [r for r in (await (await client.get("/api/stats")).json())["stats"] if r["Name"] == "later"][0]
    assert row["Ready"] == 1 and row["Delayed"] == 0


async def test_a_lapsed_lease_on_a_topic_nobody_reads_is_noted_and_swept(hand_swept):
    client = await hand_swept(max_attempts=1)
    await publish(client, "lapse", "x")
    await consume(client, "lapse", visibility="50ms")
    await asyncio.sleep(0.1)
    housekeeper = client.server.app[HOUSEKEEPER]
    assert sum([await housekeeper.sweep_due(b) for b in range(BUCKETS)]) == 1
    rows = {r["Name"]: r for r in (await (await client.get("/api/stats")).json())["stats"]}
    assert rows["lapse"]["DeadLetters"] == 1 and rows["lapse.dlq"]["MessageCount"] == 1


# 4. bounded answers --------------------------------------------------------------------

async def test_consume_and_peek_answers_stop_at_the_byte_budget(make_client):
    client = await make_client(answer_max_bytes=300 * 1024)
    big = b"x" * (100 * 1024)
    for _ in range(5):
        await publish(client, "big", big)
    peeked = await (await client.get("/api/queues/peek", params={"queue": "big", "limit": "5"})).json()
    assert len(peeked) == 2
    first = await consume(client, "big", limit="5")
    assert len(first) == 2 and all(base64.b64decode(m["payload"]) == big for m in first)
    rest = await consume(client, "big", limit="5")
    assert len(rest) == 2
    last = await consume(client, "big", limit="5")
    assert len(last) == 1
    await consume(client, "big", status=404)


async def test_one_message_larger_than_the_budget_still_comes_alone_and_streams_whole(make_client):
    client = await make_client(answer_max_bytes=1024)
    huge = bytes(range(256)) * 4096  # 1 MiB
    await publish(client, "huge", huge)
    await publish(client, "huge", b"small")
    message = await consume(client, "huge")
    assert base64.b64decode(message["payload"]) == huge
    batch = await consume(client, "huge", limit="10")
    assert [base64.b64decode(m["payload"]) for m in batch] == [b"small"]


async def test_a_large_answer_does_not_hold_the_event_loop(make_client):
    client = await make_client()
    for _ in range(4):
        await publish(client, "heavy", b"y" * (2 * 1024 * 1024 - 1))
    async with LoopHold() as hold:
        response = await client.get("/api/queues/peek", params={"queue": "heavy", "limit": "100"})
        peeked = await response.json()
    assert len(peeked) == 3  # 8 MiB of base64: three 2.7 MB messages
    assert hold.longest < 0.5, hold.longest


# 6. bounded scripts --------------------------------------------------------------------

async def test_a_live_message_behind_many_expired_ones_is_found(client):
    for _ in range(2):
        batch = [{"payload": b64("old"), "ttl": "30ms"}] * 1000
        assert (await client.post("/publish/stale/batch", data=json.dumps(batch))).status == 202
    await publish(client, "stale", "live")
    await asyncio.sleep(0.1)
    store = client.server.app[TOPICS]
    reply = await store.scripts.call("topics_consume", [*store._moving_keys("stale"), "mq:t:{stale}:none"],
                                     [1, 0, 0, store.payload_budget, ""])
    assert reply[1] == 0 and len(reply) == 3  # one call dropped its 1000 and stopped: "call again"
    assert (await consume(client, "stale"))["payload"] == b64("live")


async def test_removing_the_last_webhook_hands_a_big_backlog_back_in_chunks(client, redis):
    assert (await client.post("/webhook/hooked", json={"url": "https://example.com/in"})).status == 201
    for half in range(2):
        batch = [{"payload": b64(f"m{half}-{i}")} for i in range(600)]
        assert (await client.post("/publish/hooked/batch", params={"delay": "1h"},
                                  data=json.dumps(batch))).status == 202
    hook_id = (await (await client.get("/webhook/hooked")).json())["webhooks"][0]["id"]
    assert (await client.delete(f"/webhook/hooked/{hook_id}")).status == 200
    store = client.server.app[TOPICS]
    k = store.keys("hooked")
    assert await redis.zcard(k.delayed) == 1200
    assert not await redis.exists(k.hookq, k.hookdrain, k.hookatt)


async def test_purge_of_a_big_topic_unlinks(client, redis):
    batch = [{"payload": b64("p")}] * 1000
    for _ in range(5):
        await client.post("/publish/many/batch", data=json.dumps(batch))
    response = await client.post("/api/topics/many/purge")
    assert (await response.json())["deleted"] == 5000
    assert await redis.hlen(client.server.app[TOPICS].keys("many").msgs) == 0


# 5. SSRF -------------------------------------------------------------------------------

@pytest.mark.parametrize("host", [
    "[64:ff9b::7f00:1]", "[64:ff9b::a00:1]", "[2002:7f00:1::]", "[2002:a9fe:a9fe::1]", "[::127.0.0.1]",
    "[::ffff:127.0.0.1]", "[::ffff:169.254.169.254]", "[2001:0:4136:e378:8000:63bf:3fff:fdd2]",
    "[fec0::1]", "[ff02::1]", "[ff0e::1]", "224.0.0.1", "239.1.2.3", "[64:ff9b:1::1]"])
async def test_webhook_urls_to_addresses_that_are_not_globally_routable_are_refused(client, host):
    response = await client.post("/webhook/t", json={"url": f"http://{host}:8080/in"})
    assert response.status == 400, host


async def test_webhook_urls_to_public_addresses_in_those_forms_are_accepted(client):
    for host in ("[64:ff9b::808:808]", "[2002:808:808::1]", "[2606:4700::1111]", "8.8.8.8"):
        assert (await client.post("/webhook/t", json={"url": f"http://{host}:8080/in"})).status == 201, host


def test_dns_answers_are_checked_with_the_same_rule():
    from microq.topics.webhooks import _public
    assert not _public("64:ff9b::7f00:1") and not _public("fe80::1%eth0") and _public("2606:4700::1111")


async def test_the_wait_room_of_a_node_is_used_by_consume(client):
    # sanity: the waiter bookkeeping the index serves is the app's
    assert isinstance(client.server.app[WAIT_ROOM], WaitRoom)
    start = time.monotonic()
    waiting = asyncio.ensure_future(consume(client, "orders.*", timeout="5s"))
    await asyncio.sleep(0.1)
    await publish(client, "orders.eu", "hi")
    assert (await waiting)["topic"] == "orders.eu" and time.monotonic() - start < 4


async def test_wildcard_waiters_on_another_node_count_for_each_topic_they_match(two_clients):
    a, b = two_clients
    for name in ("orders.eu", "orders.us", "other.eu"):
        await a.post("/api/topics", json={"name": name})
    waiters = [asyncio.ensure_future(consume(b, "orders.*", status=404, timeout="3s")) for _ in range(2)]
    for _ in range(50):
        await asyncio.sleep(0.1)
        rows = {r["Name"]: r["WaitingConsumers"] for r in (await (await a.get("/api/stats")).json())["stats"]}
        if rows["orders.eu"] == 2:
            break
    assert rows == {"orders.eu": 2, "orders.us": 2, "other.eu": 0}
    b.app[WAIT_ROOM].close()
    await asyncio.gather(*waiters)


async def test_the_index_agrees_with_brute_force_through_adds_and_removes():
    rng = random.Random(3)
    index = TopicIndex()
    names: set[str] = set()
    patterns = ["a.*", "*.b", "a*.*b", "*", "*.*.*", "ab*a.b", "*a*"]
    for step in range(3000):
        name = ".".join("".join(rng.choice("ab") for _ in range(rng.randint(1, 3))) for _ in range(rng.randint(1, 3)))
        if name in names and rng.random() < 0.4:
            index.remove(name)
            names.discard(name)
        else:
            index.add(name)
            names.add(name)
        if step % 100 == 0:
            for pattern in patterns:
                assert set(await index.matching(pattern)) == {n for n in names if matches(pattern, n)}, pattern


async def test_a_node_that_fell_behind_a_trimmed_registry_log_reloads_the_bucket(two_clients, redis):
    a, b = two_clients
    await a.post("/api/topics", json={"name": "seen.first"})
    registry = b.server.app[TOPICS].registry
    await registry.refresh(0.0)
    assert "seen.first" in registry.index
    store_a = a.server.app[TOPICS]
    await store_a.registry.register("late.one")
    await store_a.registry.unregister("seen.first")
    for bucket in range(BUCKETS):  # as if ten thousand changes had gone by since b last looked
        await redis.xtrim(store_a.registry.log_key(bucket), maxlen=0)
        await redis.xadd(store_a.registry.log_key(bucket), {"op": "+", "name": "noise"})
        await redis.sadd(store_a.registry.bucket_key(bucket), "noise")
    await registry.refresh(0.0)
    assert "late.one" in registry.index and "seen.first" not in registry.index


async def test_dns_answers_in_embedded_ipv4_forms_are_refused_at_delivery():
    from microq.topics.webhooks import PublicResolver

    class Answers:
        def __init__(self, host):
            self.host = host

        async def resolve(self, host, port=0, family=0):
            return [{"hostname": host, "host": self.host, "port": port, "family": family, "proto": 0, "flags": 0}]

    resolver = PublicResolver()
    for private in ("64:ff9b::7f00:1", "2002:a00:1::", "::ffff:10.0.0.1", "fec0::1"):
        resolver._resolver = Answers(private)
        with pytest.raises(OSError):
            await resolver.resolve("rebinding.example", 80)
    resolver._resolver = Answers("2606:4700::1111")
    assert (await resolver.resolve("public.example", 80))[0]["host"] == "2606:4700::1111"


async def test_a_batch_cannot_queue_more_than_10000_webhook_deliveries_in_one_call(client):
    for i in range(100):
        response = await client.post("/webhook/fan", json={"url": f"https://hook{i}.example.com/in"})
        assert response.status == 201
    too_many = json.dumps([{"payload": b64("x")}] * 101)
    response = await client.post("/publish/fan/batch", params={"delay": "1h"}, data=too_many)
    assert response.status == 413 and "webhook deliveries" in (await response.json())["error"]
    assert (await client.get("/api/queues/peek", params={"queue": "fan"})).status == 200
    rows = {r["Name"]: r for r in (await (await client.get("/api/stats")).json())["stats"]}
    assert rows["fan"]["MessageCount"] == 0  # all or nothing
    fits = json.dumps([{"payload": b64("x")}] * 100)
    assert (await client.post("/publish/fan/batch", params={"delay": "1h"}, data=fits)).status == 202


async def test_a_backlog_hand_back_left_unfinished_by_a_dead_node_is_finished_by_housekeeping(hand_swept, redis):
    client = await hand_swept()
    assert (await client.post("/webhook/orphan", json={"url": "https://example.com/in"})).status == 201
    batch = [{"payload": b64(f"m{i}")} for i in range(700)]
    await client.post("/publish/orphan/batch", params={"delay": "1h"}, data=json.dumps(batch))
    store = client.server.app[TOPICS]
    k = store.keys("orphan")
    hook_id = (await (await client.get("/webhook/orphan")).json())["webhooks"][0]["id"]
    keys = [k.hooks, k.hookq, k.hookatt, k.seq, k.ready, k.delayed, k.meta, k.hookdrain]
    found, more, due_at = await store.scripts.call("topics_unhook", keys, [hook_id, store.wake_channel, "orphan", 500])
    assert found == 1 and more == 1  # ... and the node that made this call dies here
    await store.due.note("orphan", due_at)
    await redis.zadd(store.due.key(bucket_of("orphan")), {"orphan": 0})  # as if those 30 s had passed
    housekeeper = client.server.app[HOUSEKEEPER]
    assert sum([await housekeeper.sweep_due(b) for b in range(BUCKETS)]) == 1
    assert await redis.zcard(k.delayed) == 700 and not await redis.exists(k.hookdrain)
