import asyncio
import random
import re
from pathlib import Path

import pytest
from redis.asyncio import Redis

from microq.errors import BadRequest, Conflict, NotFound, Unavailable
from microq.keys import Keyspace
from microq.redis_client import connect
from microq.scripts import Scripts, _Link, load_scripts, lua_dir

ECHO = """--[[ test_echo: KEYS[1] counter; ARGV[1] mode. Returns the count, or fails as asked. ]]
if ARGV[1] ~= "ok" then return redis.error_reply(ARGV[1] .. " because the test said so") end
return redis.call("INCR", KEYS[1])
"""
CLOCK = """--[[ test_clock: KEYS[1] unused. Returns now_ms(). ]]
--- @include "now_ms"
return now_ms()
"""


@pytest.fixture
async def scripts(tmp_path: Path, redis_url: str, redis: Redis, on_cluster: bool):
    (tmp_path / "includes").mkdir()
    (tmp_path / "includes" / "now_ms.lua").write_text((lua_dir() / "includes" / "now_ms.lua").read_text())
    (tmp_path / "test_echo-1.lua").write_text(ECHO)
    (tmp_path / "test_clock-1.lua").write_text(CLOCK)
    client = connect(redis_url, cluster=on_cluster)
    runner = Scripts(client, load_scripts(tmp_path))
    await runner.preload()
    yield runner
    await client.aclose()


async def test_includes_are_expanded_and_time_comes_from_redis(scripts: Scripts, redis: Redis):
    now = await scripts.call("test_clock", ["k"])
    seconds, micros = await redis.time()
    assert abs(now - (seconds * 1000 + micros // 1000)) < 1000


async def test_lua_errors_map_to_statuses(scripts: Scripts):
    for code, kind in (("INVALID", BadRequest), ("NOTFOUND", NotFound), ("CONFLICT", Conflict)):
        with pytest.raises(kind, match="because the test said so"):
            await scripts.call("test_echo", ["c"], [code])


async def test_wrong_key_count_is_a_programming_error(scripts: Scripts):
    with pytest.raises(TypeError):
        await scripts.call("test_echo", ["a", "b"], ["ok"])


async def test_noscript_after_script_flush_reloads_and_runs_once(scripts: Scripts, redis: Redis):
    assert await scripts.call("test_echo", ["c"], ["ok"]) == 1
    await redis.script_flush()
    results = await asyncio.gather(*(scripts.call("test_echo", ["c"], ["ok"]) for _ in range(20)))
    assert sorted(results) == list(range(2, 22))  # each call applied exactly once
    assert int(await redis.get("c")) == 21


async def test_concurrent_calls_share_round_trips(scripts: Scripts, redis: Redis, monkeypatch):
    trips = []
    original = _Link._round_trip

    async def counted(link, commands):
        trips.append(len(commands))
        return await original(link, commands)

    monkeypatch.setattr(_Link, "_round_trip", counted)
    results = await asyncio.gather(*(scripts.call("test_echo", ["c"], ["ok"]) for _ in range(100)))
    assert sorted(results) == list(range(1, 101))
    assert sum(trips) == 100 and len(trips) < 10  # the first goes alone, the rest ride together


async def test_a_call_leaves_beside_a_round_trip_that_is_out_and_waits_when_two_are(scripts: Scripts, redis: Redis,
                                                                                 monkeypatch):
    """A second round trip goes out while one is waiting for its reply (a slow script, a blocking
    command): a request's second step does not wait for other requests' trips. With two out, calls
    wait and then share one trip."""
    trips = []
    original = _Link._round_trip

    async def counted(link, commands):
        trips.append([c[0] for c in commands])
        return await original(link, commands)

    monkeypatch.setattr(_Link, "_round_trip", counted)
    first = asyncio.ensure_future(scripts.execute("BLPOP", "{t}held-1", 10))
    await asyncio.sleep(0.05)
    assert await scripts.execute("INCR", "{t}n") == 1  # answered while the BLPOP is out
    second = asyncio.ensure_future(scripts.execute("BLPOP", "{t}held-2", 10))
    await asyncio.sleep(0.05)
    waiting = [asyncio.ensure_future(scripts.execute("INCR", "{t}n")) for _ in range(10)]
    await asyncio.sleep(0.05)
    assert not first.done() and not second.done() and not any(w.done() for w in waiting)
    await redis.rpush("{t}held-1", "go")
    assert sorted(await asyncio.gather(*waiting)) == list(range(2, 12))
    assert trips.count(["INCR"] * 10) == 1  # the ten shared one trip, after the first BLPOP came back
    await redis.rpush("{t}held-2", "go")
    assert await first == [b"{t}held-1", b"go"] and await second == [b"{t}held-2", b"go"]


async def test_one_failing_call_never_fails_its_neighbours(scripts: Scripts):
    modes = ["ok", "INVALID", "ok", "NOTFOUND", "ok"] * 10
    results = await asyncio.gather(*(scripts.call("test_echo", ["c"], [m]) for m in modes),
                                   return_exceptions=True)
    for mode, result in zip(modes, results):
        assert isinstance(result, int) if mode == "ok" else isinstance(result, (BadRequest, NotFound))
    assert sorted(r for r in results if isinstance(r, int)) == list(range(1, 31))


async def test_a_cancelled_caller_always_stops(scripts: Scripts):
    """Loops of script calls cancelled at random moments all end. A cancellation swallowed
    mid round trip once left a node's background loop running, so shutdown never finished."""
    stop = asyncio.Event()  # lets a loop that swallowed its cancellation end, so a failure does not hang

    async def forever() -> None:
        while not stop.is_set():
            await scripts.call("test_echo", ["c"], ["ok"])

    rng = random.Random(7)
    try:
        for _ in range(50):
            loops = [asyncio.ensure_future(forever()) for _ in range(8)]
            await asyncio.sleep(rng.random() / 500)
            for loop in loops:
                loop.cancel()
            done, running = await asyncio.wait(loops, timeout=5)
            assert not running, f"{len(running)} cancelled loops kept running"
            assert all(loop.cancelled() for loop in done)
    finally:
        stop.set()
        await asyncio.sleep(0.1)


async def test_connection_loss_fails_every_waiting_caller_quickly(tmp_path: Path):
    from tests.helpers import RedisProcess

    server = RedisProcess(tmp_path / "r").start()
    client = connect(server.url)
    runner = Scripts(client, load_scripts(lua_dir()))
    try:
        await client.ping()
        server.stop()
        results = await asyncio.wait_for(
            asyncio.gather(*(runner.execute("PING") for _ in range(5)), return_exceptions=True), 10)
        assert all(isinstance(r, Unavailable) and r.headers["Retry-After"] for r in results)
    finally:
        server.stop()
        await client.aclose()


def test_shipped_scripts_have_headers_and_matching_key_counts():
    for script in load_scripts().values():
        text = script.source.decode()
        assert text.lstrip().startswith("--[["), f"{script.name}: header comment first"
        header = text.split("]]", 1)[0]
        named = set()  # "KEYS[3]" names one key, "KEYS[1..7]" a run of them
        for first, last in re.findall(r"KEYS\[(\d+)(?:\.\.(\d+))?\]", header):
            named.update(range(int(first), int(last or first) + 1))
        assert named == set(range(1, script.nkeys + 1)), f"{script.name}: header names KEYS 1-{script.nkeys}"
        assert "ARGV" in header or "ARGV" not in text, f"{script.name}: header names its ARGV"
        assert "Returns" in header, f"{script.name}: header says what it returns"
        assert f"KEYS[{script.nkeys + 1}]" not in text, f"{script.name}: uses more keys than its file name says"


def test_an_entitys_keys_share_one_cluster_slot():
    from redis.crc import key_slot

    keyspace = Keyspace("mq:")
    for name in ("orders.eu", "a{b}c", "}{", "x%7By", "plain"):
        key = keyspace.entity("t", name)
        assert len({key_slot(key(s).encode()) for s in ("stream", "delayed", "meta", "x")}) == 1
    assert keyspace.tagged("w", "a{b}", "items") != keyspace.tagged("w", "a%7Bb%7D", "items")
    with pytest.raises(ValueError):
        keyspace.entity("w", "")
