"""/metrics: values checked against the state they describe after a scripted workload, on a
single Redis, on a Cluster and behind `--workers 2`; labels bounded; counters summed across
workers; the state snapshot shared by nodes and renewed; parts' indexes instead of SCAN; a
scrape of many topics never holding the event loop for long."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from microq.app import create_app
from microq.redis_client import connect
from tests.helpers import LoopHold, free_port, stop_process, wait_for_port

KEY = {"X-API-Key": "k"}


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """{(sample name, sorted labels): value}"""
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


async def workload(client) -> None:
    """Known state: topics a (4 ready, 1 in flight, 1 delayed, 1 dead letter) and b (1 ready);
    line acme/main (2 waiting, 1 served); work queue jobs (2 NEW, 1 IN_PROGRESS); one address
    banned (last: the ban is this client's own address). Needs ban_threshold=2."""
    for _ in range(5):
        assert (await client.post("/publish/a", data=b"x")).status == 202
    assert (await client.post("/publish/a?delay=1h", data=b"later")).status == 202
    assert (await client.post("/publish/b", data=b"y")).status == 202
    assert (await client.post("/publish/a.dlq", data=b"dead")).status == 202
    assert (await client.get("/consume/a")).status == 200  # stays in flight
    created = await (await client.post("/api/acme/queues", json={"queue_id": "main", "name": "Desk"})).json()
    admin = {"X-Admin-Key": created["admin_key"]}
    for name in ("Ada", "Bo", "Cy"):
        assert (await client.post("/api/acme/main/join", json={"name": name})).status == 201
    assert (await client.post("/api/acme/main/serve-next", headers=admin)).status == 200
    for i in range(3):
        assert (await client.post("/api/queue", json={"queue_name": "jobs", "data": f"d{i}"}, headers=KEY)).status == 201
    assert (await client.post("/api/queue/jobs/claim", json={}, headers=KEY)).status == 200
    for status in (401, 401, 403):
        assert (await client.post("/api/queue", json={"queue_name": "x"}, headers={"X-API-Key": "bad"})).status == status


async def consume_until_empty(client, topic: str) -> None:
    while (await client.get(f"/consume/{topic}?auto_ack=true")).status == 200:
        pass


def check_state(values: dict) -> None:
    assert values[("microq_topic_ready", (("topic", "b"),))] == 1
    assert values[("microq_topic_delayed", (("topic", "a"),))] == 1
    assert values[("microq_topic_dead_letters", (("topic", "a"),))] == 1
    assert values[("microq_topic_in_flight", (("topic", "a"),))] == 1
    assert values[("microq_topic_ready", (("topic", "a"),))] == 4
    assert values[("microq_topic_ready_total_all", ())] == 5
    assert values[("microq_topics", ())] == 2
    assert values[("microq_line_waiting", (("queue", "main"), ("tenant", "acme")))] == 2
    assert values[("microq_line_served", (("queue", "main"), ("tenant", "acme")))] == 1
    assert values[("microq_line_waiting_total_all", ())] == 2
    assert values[("microq_work_items", (("queue", "jobs"), ("status", "NEW")))] == 2
    assert values[("microq_work_items", (("queue", "jobs"), ("status", "IN_PROGRESS")))] == 1
    assert values[("microq_work_items_total_all", (("status", "NEW"),))] == 2
    assert values[("microq_work_leased", (("queue", "jobs"),))] == 1  # the claim holds a lease (30 min default)
    assert values[("microq_work_leases_lapsed", (("queue", "jobs"),))] == 0
    assert values[("microq_work_leases_lapsed_total_all", ())] == 0
    assert values[("microq_security_active_bans", ())] == 1
    assert values[("microq_lines", ())] == 1
    assert values[("microq_work_queues", ())] == 1
    assert all(values[("microq_state_up", (("part", p),))] == 1 for p in ("lines", "topics", "work", "security"))


WORKLOAD = {"api_keys": ("k",), "visibility_timeout": 300.0, "ban_threshold": 2}


async def test_metrics_match_the_state_on_one_redis(make_client):
    client = await make_client(**WORKLOAD, metrics_state_ttl=0)  # every scrape reads the state itself
    await workload(client)
    answer = await client.get("/metrics")
    assert answer.status == 200 and answer.headers["Content-Type"].startswith("text/plain")
    check_state(samples(await answer.text()))
    await consume_until_empty(client, "a")
    after = samples(await (await client.get("/metrics")).text())
    assert after[("microq_topic_ready", (("topic", "a"),))] == 0
    assert after[("microq_topic_in_flight", (("topic", "a"),))] == 1
    assert after[("microq_metrics_state_age_seconds", ())] == after[("microq_metrics_state_read_duration_seconds", ())]


async def test_the_shared_snapshot_matches_the_state_and_is_renewed(make_client):
    client = await make_client(**WORKLOAD, metrics_state_ttl=0.3)
    await workload(client)
    check_state(samples(await (await client.get("/metrics")).text()))  # no snapshot yet: read for this scrape
    await consume_until_empty(client, "a")
    # the snapshot is renewed once it is TTL old: soon every scrape shows the consumed topic
    deadline = time.monotonic() + 10
    while True:
        after = samples(await (await client.get("/metrics")).text())
        if after[("microq_topic_ready", (("topic", "a"),))] == 0 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    assert after[("microq_topic_ready", (("topic", "a"),))] == 0
    assert after[("microq_topic_in_flight", (("topic", "a"),))] == 1
    assert 0 <= after[("microq_metrics_state_age_seconds", ())] < 5


async def test_nodes_share_one_snapshot_read_once_per_ttl(make_client):
    """Two nodes, many scrapes within the TTL: one state read between them, and both serve its
    numbers (not their own newer read), with its age."""
    a, b = await make_client(metrics_state_ttl=30), await make_client(metrics_state_ttl=30)
    await a.post("/publish/shared", data=b"x")
    first = samples(await (await a.get("/metrics")).text())
    reads = first[("microq_metrics_state_read_seconds_count", ())]
    await a.post("/publish/shared", data=b"y")  # not in the snapshot until it is renewed
    for node in (a, b, a, b, b):
        later = samples(await (await node.get("/metrics")).text())
        assert later[("microq_topic_ready", (("topic", "shared"),))] == 1
        assert later[("microq_metrics_state_read_seconds_count", ())] == reads  # nobody read again
        assert later[("microq_metrics_state_age_seconds", ())] >= 0
    assert first[("microq_topic_ready", (("topic", "shared"),))] == 1


async def test_every_node_reports_the_same_state(two_clients):
    a, b = two_clients
    await a.post("/publish/shared", data=b"x")
    one = samples(await (await a.get("/metrics")).text())
    other = samples(await (await b.get("/metrics")).text())
    key = ("microq_topic_ready", (("topic", "shared"),))
    assert one[key] == other[key] == 1


async def test_requests_are_labelled_by_route_template_not_path(make_client):
    client = await make_client()
    for user in ("u1", "u2", "u3"):
        await client.get(f"/api/acme/main/status/{user}")
    await client.get("/no/such/path/xyz")
    text = await (await client.get("/metrics")).text()
    values = samples(text)
    template = (("method", "GET"), ("route", "/api/{tenant_id}/{queue_id}/status/{user_id}"), ("status", "404"))
    assert values[("microq_http_requests_total", template)] >= 3
    assert "u1" not in text and "/no/such/path" not in text
    assert values[("microq_http_requests_total", (("method", "GET"), ("route", "(unmatched)"), ("status", "404")))] >= 1
    assert values[("microq_http_errors_total", (("cause", "not_found"),))] >= 4
    assert ("microq_http_request_duration_seconds_count", (("method", "GET"), ("route", "/metrics"))) in values \
        or ("microq_http_request_duration_seconds_count",
            (("method", "GET"), ("route", "/api/{tenant_id}/{queue_id}/status/{user_id}"))) in values
    assert values[("microq_redis_round_trips_total", ())] >= 1


async def test_labels_are_bounded_by_top_n(make_client):
    client = await make_client(metrics_top_n=2, metrics_state_ttl=0)
    for i, count in enumerate((1, 5, 3, 2)):
        for _ in range(count):
            await client.post(f"/publish/t{i}", data=b"x")
    values = samples(await (await client.get("/metrics")).text())
    labelled = {dict(labels)["topic"] for (name, labels) in values if name == "microq_topic_ready"}
    assert labelled == {"t1", "t2"}  # the two largest
    assert values[("microq_topic_ready_total_all", ())] == 11
    assert values[("microq_topics", ())] == 4


async def test_metrics_on_a_cluster(aiohttp_client, redis_cluster, settings):
    flush = connect(redis_cluster.url, cluster=True)
    await flush.flushall()
    await flush.aclose()
    client = await aiohttp_client(create_app(settings.replace(redis_url=redis_cluster.url, redis_cluster=True,
                                                              **WORKLOAD)))
    await workload(client)
    values = samples(await (await client.get("/metrics")).text())  # the first snapshot, read now
    check_state(values)
    again = samples(await (await client.get("/metrics")).text())  # served from the snapshot in Redis
    check_state(again)
    assert again[("microq_metrics_state_age_seconds", ())] >= 0


async def test_counters_add_up_across_two_workers(tmp_path, redis_url, redis):
    port = free_port()
    env = {**os.environ, "REDIS_URL": redis_url, "MICROQ_DATA_DIR": str(tmp_path / "data"),
           "MICROQ_METRICS_STATE_TTL": "60s"}  # one snapshot for every scrape of the test
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    node = subprocess.Popen([sys.executable, "-m", "microq", "serve", "--port", str(port), "--workers", "2"],
                            env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, 30)
        base = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as session:
            await _until_ready(session, base)
            for _ in range(3):
                async with session.post(f"{base}/publish/w", data=b"x") as answer:
                    assert answer.status == 202
            for _ in range(40):  # new connections: SO_REUSEPORT spreads them over both workers
                async with aiohttp.ClientSession() as fresh:
                    async with fresh.get(f"{base}/healthz") as answer:
                        assert answer.status == 200
            seen, state = set(), set()
            for _ in range(10):
                async with aiohttp.ClientSession() as fresh:
                    async with fresh.get(f"{base}/metrics") as answer:
                        values = samples(await answer.text())
                seen.add(values[("microq_http_requests_total",
                                 (("method", "GET"), ("route", "/healthz"), ("status", "200")))])
                state.add((values[("microq_topic_ready", (("topic", "w"),))], values[("microq_topics", ())],
                           values[("microq_metrics_state_read_seconds_count", ())]))
            assert seen == {40.0}  # whichever worker answered, the sum over both
            # whichever worker answered, the same state, from one read for both (the shared snapshot)
            assert state == {(3.0, 1.0, 1.0)}
    finally:
        stop_process(node)


async def _until_ready(session, base: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            async with session.get(f"{base}/readyz") as answer:
                if answer.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise TimeoutError("node not ready")


def test_the_readers_key_names_are_the_parts_own(settings):
    """The topics reader builds key names itself (speed); they must stay those of topic_keys()."""
    from microq.keys import Keyspace
    from microq.topics.names import dlq_of, topic_keys

    keyspace = Keyspace("mq:")
    key = keyspace.entity("t", "orders.eu")
    own, dead = topic_keys(keyspace, "orders.eu"), topic_keys(keyspace, dlq_of("orders.eu"))
    assert (key("ready"), key("inflight"), key("delayed"), key("dlq:ready"), key("hookq")) == \
        (own.ready, own.inflight, own.delayed, dead.ready, own.hookq)


async def test_a_scrape_while_redis_is_down_still_answers_and_says_so(aiohttp_client, settings, tmp_path):
    from tests.helpers import RedisProcess

    server = RedisProcess(tmp_path / "own").start()
    try:
        client = await aiohttp_client(create_app(settings.replace(redis_url=server.url)))
        assert (await client.get("/healthz")).status == 200
        server.stop()
        answer = await client.get("/metrics")
        assert answer.status == 200
        values = samples(await answer.text())
        assert all(values[("microq_state_up", (("part", p),))] == 0 for p in ("lines", "topics", "work", "security"))
        assert values[("microq_http_requests_total", (("method", "GET"), ("route", "/healthz"), ("status", "200")))] >= 1
    finally:
        server.stop()


async def test_active_bans_are_counted(make_client):
    client = await make_client(api_keys=("k",), ban_threshold=2, metrics_state_ttl=0)
    for _ in range(3):
        await client.post("/api/queue", json={"queue_name": "jobs"}, headers={"X-API-Key": "wrong"})
    values = samples(await (await client.get("/metrics")).text())
    assert values[("microq_security_active_bans", ())] == 1


async def test_lines_and_queues_from_before_their_indexes_are_found_once(make_client, redis):
    """State written before the lines and work indexes existed (or by a node of an earlier
    version) is found by one SCAN, which fills the indexes and is not repeated."""
    client = await make_client(**WORKLOAD, metrics_state_ttl=0)
    await workload(client)
    index_keys = [key for pattern in ("mq:li:*", "mq:wq:*") async for key in redis.scan_iter(match=pattern)]
    assert index_keys  # kept by join and add
    await redis.delete(*index_keys)
    fresh = await make_client(**WORKLOAD, metrics_state_ttl=0)  # a node that never listed them itself
    check_state(samples(await (await fresh.get("/metrics")).text()))
    assert await redis.get("mq:li:{backfilled}:done") == b"1" and await redis.get("mq:wq:{backfilled}:done") == b"1"
    await redis.delete(*[key async for key in redis.scan_iter(match="mq:l:*:seq")])  # not looked for again:
    values = samples(await (await fresh.get("/metrics")).text())
    assert values[("microq_lines", ())] == 1  # the index, refilled, still lists the line


async def test_a_scrape_of_thousands_of_topics_never_holds_the_event_loop_long(make_client):
    """3,000 topics: neither a scrape that reads the state itself nor one served from the shared
    snapshot holds the node's event loop for 200 ms (behaviour, not speed: the reads yield between
    bounded batches; bench/bench_metrics.py measures the times)."""
    reading = await make_client(metrics_state_ttl=0)
    sharing = await make_client()
    limit = asyncio.Semaphore(32)

    async def publish(i: int) -> None:
        async with limit:
            assert (await reading.post(f"/publish/many.t{i}", data=b"x")).status == 202

    await asyncio.gather(*(publish(i) for i in range(3000)))
    async with LoopHold() as hold:
        for client in (reading, reading, sharing, sharing, sharing):
            values = samples(await (await client.get("/metrics")).text())
            assert values[("microq_topics", ())] == 3000
            assert values[("microq_topic_ready_total_all", ())] == 3000
    assert hold.longest < 0.2, f"the event loop was held for {hold.longest * 1000:.0f} ms of CPU"


async def test_one_node_at_a_time_renews_the_snapshot(make_client):
    """The turn: one taker while it is held; a node whose turn was taken stores nothing; a stored
    snapshot is nobody's turn until it is TTL old."""
    from microq.appkeys import SCRIPTS
    from microq.metrics_snapshot import SNAPSHOT

    client = await make_client()
    scripts, keys = client.app[SCRIPTS], client.app[SNAPSHOT].keys
    _, first, _ = await scripts.call("metrics_state_get", keys, ["a", 60000, 0])
    _, second, _ = await scripts.call("metrics_state_get", keys, ["b", 60000, 0])
    assert (first, second) == (1, 0)
    assert await scripts.call("metrics_state_put", keys, ["b", b"late", 60000, 60000]) == 0
    assert await scripts.call("metrics_state_put", keys, ["a", b"snapshot", 60000, 60000]) == 1
    _, third, stored = await scripts.call("metrics_state_get", keys, ["b", 60000, 1])
    assert third == 0 and stored == b"snapshot"
    assert await scripts.call("metrics_state_put", keys, ["a", b"again", 0, 60000]) == 1  # TTL 0: free at once
    _, fourth, _ = await scripts.call("metrics_state_get", keys, ["b", 60000, 0])
    assert fourth == 1


def test_the_largest_fed_in_slices_are_the_largest_of_all():
    import random

    from microq.metrics import Largest, top

    sizes = {f"e{i}": random.randrange(50) for i in range(2000)}
    largest, names = Largest(20), list(sizes)
    for start in range(0, len(names), 300):
        largest.offer({name: sizes[name] for name in names[start:start + 300]})
    assert largest.names() == top(sizes, 20)
