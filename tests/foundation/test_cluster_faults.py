"""A real three-primary Redis Cluster with one primary stalled (SIGSTOP) or killed (SIGKILL):
nothing is resent, the node answers 503 in time for that primary's slots only, pub/sub moves
to a live primary, and a node starts while some seed answers (and while none does).

Each test makes its own cluster: a stalled or killed primary leaves a cluster unfit for the
next test. `cluster-require-full-coverage no`, as the README recommends, keeps the live
primaries serving their slots while one is down."""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from microq.app import create_app
from microq.appkeys import SCRIPTS, SUBSCRIBER
from microq.embedded import redis_server_binary
from microq.errors import Unavailable
from microq.redis_client import connect
from microq.scripts import Scripts, load_scripts
from microq.settings import Settings
from microq.topics.names import topic_keys
from microq.keys import Keyspace
from tests.foundation.test_scripts import ECHO
from tests.helpers import RedisClusterProcesses, _free_port_below, until_ready


def cli(port: int, *args: str) -> str:
    binary = str(Path(redis_server_binary()).with_name("redis-cli"))
    return subprocess.run([binary, "-p", str(port), *args], capture_output=True, text=True, timeout=10).stdout


@pytest.fixture
def cluster(tmp_path: Path):
    made = RedisClusterProcesses(tmp_path / "cluster").start()
    for node in made.nodes:
        cli(node.port, "config", "set", "cluster-require-full-coverage", "no")
    yield made
    for node in made.nodes:
        if node.process and node.process.poll() is None:
            os.kill(node.process.pid, signal.SIGCONT)
    made.stop()


def seeds(cluster: RedisClusterProcesses) -> str:
    return ",".join(node.url.removesuffix("/0") for node in cluster.nodes)


def process_of(cluster: RedisClusterProcesses, port: int):
    return next(node for node in cluster.nodes if node.port == port).process


def echo_scripts(tmp_path: Path) -> dict:
    (tmp_path / "lua" / "includes").mkdir(parents=True)
    (tmp_path / "lua" / "test_echo-1.lua").write_text(ECHO)
    return load_scripts(tmp_path / "lua")


async def test_a_stalled_primary_fails_only_its_calls_at_once_and_none_is_resent(cluster, tmp_path):
    client = connect(seeds(cluster), cluster=True, socket_timeout=1.0)
    scripts = Scripts(client, echo_scripts(tmp_path))
    await scripts.preload()
    keys = [f"k{{{i}}}" for i in range(30)]
    owner = {key: client.get_node_from_key(key).port for key in keys}
    stalled = owner[keys[0]]
    os.kill(process_of(cluster, stalled).pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        results = await asyncio.gather(*(scripts.call("test_echo", [k], ["ok"]) for k in keys),
                                       return_exceptions=True)
        waited = time.monotonic() - started
        raw = client.incr(keys[0])  # redis-py's own cluster path: no retry there either
        with pytest.raises(Exception):
            await raw
    finally:
        os.kill(process_of(cluster, stalled).pid, signal.SIGCONT)
    assert waited < 3.0  # one 1 s deadline, no retry after it
    for key, result in zip(keys, results):
        if owner[key] == stalled:
            assert isinstance(result, Unavailable), (key, result)
        else:
            assert result == 1, (key, result)
    await asyncio.sleep(0.3)
    check = connect(seeds(cluster), cluster=True)
    try:
        for key in keys:
            value = int(await check.get(key) or 0)
            assert value <= (2 if key == keys[0] else 1), (key, value)  # keys[0]: the echo and the raw INCR
    finally:
        await check.aclose()
        await client.aclose()


async def test_http_on_a_stalled_primary_is_503_within_the_socket_timeout_and_applied_at_most_once(
        cluster, aiohttp_client, tmp_path):
    settings = Settings(redis_url=seeds(cluster), redis_cluster=True, data_dir=tmp_path / "d")
    client = await aiohttp_client(create_app(settings))
    assert (await client.get("/readyz")).status == 200
    redis = client.app[SCRIPTS].redis
    by_port: dict[int, str] = {}
    for i in range(60):
        by_port.setdefault(redis.get_node_from_key(topic_keys(Keyspace(), f"t{i}").all()[0]).port, f"t{i}")
    stalled_port, topic = next(iter(by_port.items()))
    live_topic = next(t for port, t in by_port.items() if port != stalled_port)
    os.kill(process_of(cluster, stalled_port).pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        stalled, live = await asyncio.gather(client.post(f"/publish/{topic}", data=b"once"),
                                             client.post(f"/publish/{live_topic}", data=b"fine"))
        waited = time.monotonic() - started
        assert stalled.status == 503 and stalled.headers["Retry-After"] == "1"
        assert live.status == 202  # the other primaries' slots still work
        assert waited < 7.5
        assert (await client.get("/readyz")).status == 200  # other primaries answer
    finally:
        os.kill(process_of(cluster, stalled_port).pid, signal.SIGCONT)
    got = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the cluster may say CLUSTERDOWN (503) for a moment after SIGCONT
        response = await client.get(f"/consume/{topic}?timeout=100ms")
        if response.status == 503:
            await asyncio.sleep(0.2)
            continue
        if response.status != 200:
            break
        got.append(base64.b64decode((await response.json())["payload"]))
    assert got in ([], [b"once"])


async def test_pubsub_moves_off_a_killed_primary_and_long_polls_still_wake(cluster, aiohttp_client, tmp_path):
    settings = Settings(redis_url=seeds(cluster), redis_cluster=True, data_dir=tmp_path / "d")
    publisher = await aiohttp_client(create_app(settings))
    waiter = await aiohttp_client(create_app(settings))
    subscriber = waiter.app[SUBSCRIBER]
    for _ in range(50):
        if subscriber.state.server:
            break
        await asyncio.sleep(0.1)
    on = int(subscriber.state.server.rpartition(":")[2])
    redis = waiter.app[SCRIPTS].redis
    topic = next(f"w{i}" for i in range(100)
                 if redis.get_node_from_key(topic_keys(Keyspace(), f"w{i}").all()[0]).port != on)
    process_of(cluster, on).kill()  # SIGKILL the primary the subscriber listens on
    process_of(cluster, on).wait()
    for _ in range(20):  # it moves on within about a second
        if subscriber.state.server and subscriber.state.server != f"127.0.0.1:{on}":
            break
        await asyncio.sleep(0.1)
    assert subscriber.state.server and not subscriber.state.server.endswith(f":{on}")
    poll = asyncio.ensure_future(waiter.get(f"/consume/{topic}?timeout=20s"))
    await asyncio.sleep(0.3)
    published = time.monotonic()
    assert (await publisher.post(f"/publish/{topic}", data=b"wake")).status == 202
    response = await asyncio.wait_for(poll, 15)
    assert response.status == 200 and base64.b64decode((await response.json())["payload"]) == b"wake"
    assert time.monotonic() - published < 3.0  # woken by the publish, not by its 20 s timeout
    # a broadcast (a PUBLISH, no key) goes to any primary: the dead one fails once, then is passed over
    statuses = [(await publisher.post(f"/publish/{topic}?broadcast=true", data=b"b")).status for _ in range(10)]
    assert set(statuses) <= {202, 503} and statuses.count(503) <= 1, statuses


async def test_a_node_starts_with_a_dead_seed_and_with_none_then_becomes_ready(aiohttp_client, tmp_path):
    cluster = RedisClusterProcesses(tmp_path / "late")  # ports chosen, nothing started yet
    for node in cluster.nodes:  # below the ephemeral range: the node's connect attempts must not take them
        node.port = _free_port_below(32000)
    settings = Settings(redis_url=seeds(cluster), redis_cluster=True, data_dir=tmp_path / "d")
    try:
        client = await aiohttp_client(create_app(settings))  # no seed answers: it starts anyway
        response = await client.get("/readyz")
        assert response.status == 503 and response.headers["Retry-After"] == "1"
        assert (await client.post("/publish/x", data=b"x")).status == 503
        cluster.start()
        await until_ready(client, timeout=20)
        assert (await client.post("/publish/x", data=b"x")).status == 202

        cluster.nodes[0].stop()  # a second node whose first seed is dead still starts and serves
        other = await aiohttp_client(create_app(settings))
        for _ in range(50):
            if (await other.get("/readyz")).status == 200:
                break
            await asyncio.sleep(0.2)
        ready = await other.get("/readyz")
        assert ready.status == 200 and len((await ready.json())["unreachable"]) == 1
        await other.close()  # shut the nodes down while Redis still answers, as in production
        await client.close()
    finally:
        cluster.stop()


async def test_ask_and_moved_inside_a_batch_reroute_only_that_call(cluster, tmp_path):
    client = connect(seeds(cluster), cluster=True)
    scripts = Scripts(client, echo_scripts(tmp_path))
    await scripts.preload()
    moving = "m{moving}"
    source = client.get_node_from_key(moving)
    target = next(n for n in client.get_primaries() if n.name != source.name)
    stay = [k for k in (f"s{{{i}}}" for i in range(200)) if client.get_node_from_key(k).name == source.name][:20]
    slot = client.keyslot(moving)
    ids = {int(line.split()[1].rpartition("@")[0].rpartition(":")[2]): line.split()[0]
           for line in cli(source.port, "cluster", "nodes").splitlines()}
    # a slot half-way through migrating: the source answers ASK for a key it does not have
    cli(target.port, "cluster", "setslot", str(slot), "importing", ids[source.port])
    cli(source.port, "cluster", "setslot", str(slot), "migrating", ids[target.port])
    results = await asyncio.gather(scripts.call("test_echo", [moving], ["ok"]),
                                   *(scripts.call("test_echo", [k], ["ok"]) for k in stay))
    assert results == [1] * (1 + len(stay))
    # the slot moved: the source answers MOVED, the client's map is stale
    for node in (target, source, *(n for n in client.get_primaries() if n.name not in (source.name, target.name))):
        cli(node.port, "cluster", "setslot", str(slot), "node", ids[target.port])
    results = await asyncio.gather(scripts.call("test_echo", [moving], ["ok"]),
                                   *(scripts.call("test_echo", [k], ["ok"]) for k in stay))
    assert results == [2] + [2] * len(stay)  # each applied once: the redirected one too
    direct = connect(f"redis://{target.host}:{target.port}")
    assert int(await direct.get(moving)) == 2
    await direct.aclose()
    await client.aclose()
