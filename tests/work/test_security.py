"""The security layer: keys, bans and rate limits, shared by every node through Redis."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from multidict import CIMultiDict

from microq.keys import Keyspace
from microq.scripts import load_scripts
from microq.security.api_keys import digest
from microq.security.keys import SecurityKeys
from tests.helpers import RedisProcess, free_port
from tests.work.conftest import AUTH, KEY

SECURITY = SecurityKeys(Keyspace("mq:"))
PROXY = ("127.0.0.1",)  # the test client's peer: lets a test pick client addresses via X-Forwarded-For


def from_address(address: str, key: str | None = KEY) -> dict[str, str]:
    headers = {"X-Forwarded-For": address}
    if key is not None:
        headers["X-API-Key"] = key
    return headers


async def push(node, headers, queue="q"):
    return await node.post("/api/queue", json={"queue_name": queue}, headers=headers)


# -- keys


async def test_missing_and_wrong_key_are_401(work_node):
    node = await work_node(trusted_proxies=PROXY)
    keys = [None, "", "wrong", KEY + "x", KEY[:-1], KEY.upper(), "k" * 8000]
    for i, key in enumerate(keys):  # one address each, so the ban does not step in
        resp = await push(node, from_address(f"192.0.2.{i}", key=key))
        assert resp.status == 401, key
        assert "API key" in (await resp.json())["error"]
    assert (await push(node, AUTH)).status == 201


WORK_ROUTES = [("POST", "/api/queue"), ("POST", "/api/trigger"), ("GET", "/api/queue/q"),
               ("GET", "/api/queue/q/items"), ("GET", "/api/queue/q/items/x"), ("POST", "/api/queue/q/claim"),
               ("POST", "/api/queue/q/items/x/status"),
               ("POST", "/api/queue/q/items/x/heartbeat"), ("GET", "/api/triggers"), ("POST", "/api/triggers"),
               ("GET", "/api/triggers/t"), ("DELETE", "/api/triggers/t")]


@pytest.mark.parametrize("method,path", WORK_ROUTES)
async def test_every_work_route_needs_a_key(api, method, path, work_keys):
    resp = await api.request(method, path, json={"queue_name": "q", "trigger_name": "t"})
    assert resp.status == 401
    assert await work_keys() == []


async def test_several_env_keys(work_node):
    node = await work_node(api_keys=("one", "two"))
    assert (await push(node, {"X-API-Key": "one"})).status == 201
    assert (await push(node, {"X-API-Key": "two"})).status == 201
    assert (await push(node, {"X-API-Key": "three"})).status == 401


async def test_auth_off_for_benchmarks(work_node):
    node = await work_node(work_auth=False, api_keys=())
    resp = await push(node, {})
    assert resp.status == 201 and "RateLimit-Limit" not in resp.headers


# -- bans


async def test_ban_after_five_failures_is_seen_on_the_second_node(work_node):
    first, second = await work_node(trusted_proxies=PROXY), await work_node(trusted_proxies=PROXY)
    for _ in range(5):
        assert (await push(first, from_address("203.0.113.7", key="guess"))).status == 401
    resp = await push(second, from_address("203.0.113.7"))  # a valid key, another node
    assert resp.status == 403 and "banned" in (await resp.json())["error"]
    assert int(resp.headers["Retry-After"]) > 800
    for method, path in WORK_ROUTES:
        assert (await second.request(method, path, headers=from_address("203.0.113.7"))).status == 403
    assert (await push(second, from_address("203.0.113.8"))).status == 201  # another address is not banned


async def test_failures_add_up_across_nodes(work_node):
    first, second = await work_node(trusted_proxies=PROXY), await work_node(trusted_proxies=PROXY)
    for node in (first, second, first, second):
        assert (await push(node, from_address("198.51.100.1", key=None))).status == 401
    assert (await push(first, from_address("198.51.100.1"))).status == 201  # four: not yet
    assert (await push(second, from_address("198.51.100.1", key="x"))).status == 401
    assert (await push(first, from_address("198.51.100.1"))).status == 403


async def test_concurrent_failures_ban_at_exactly_the_threshold(work_node):
    first, second = await work_node(trusted_proxies=PROXY), await work_node(trusted_proxies=PROXY)
    replies = await asyncio.gather(*(push(node, from_address("192.0.2.9", key="bad"))
                                     for node in [first, second] * 10))
    assert sorted(r.status for r in replies) == [401] * 5 + [403] * 15


async def test_a_banned_address_with_a_valid_key_leaves_the_keys_budget_whole(work_node):
    node = await work_node(trusted_proxies=PROXY, rate_limit_queue=(3, 60.0))
    for _ in range(5):
        assert (await push(node, from_address("192.0.2.70", key="bad"))).status == 401
    replies = await asyncio.gather(*(push(node, from_address("192.0.2.70")) for _ in range(10)))
    assert [r.status for r in replies] == [403] * 10
    statuses = [(await push(node, from_address("192.0.2.71"))).status for _ in range(4)]
    assert statuses == [201, 201, 201, 429]  # the key's whole budget, as if the banned requests never came


async def test_success_elsewhere_does_not_reset_the_count(work_node):
    node = await work_node(trusted_proxies=PROXY)
    for _ in range(4):
        assert (await push(node, from_address("192.0.2.1", key="bad"))).status == 401
    for _ in range(3):
        assert (await push(node, from_address("192.0.2.2"))).status == 201
    assert (await push(node, from_address("192.0.2.1", key="bad"))).status == 401
    assert (await push(node, from_address("192.0.2.1"))).status == 403


async def test_forwarded_for_is_ignored_from_untrusted_peers(work_node):
    node = await work_node()  # no trusted proxies: the peer address counts, whatever the header says
    for i in range(5):
        assert (await push(node, from_address(f"10.0.0.{i}", key="bad"))).status == 401
    assert (await push(node, from_address("10.0.0.99"))).status == 403


async def test_forged_forwarded_for_values(work_node):
    node = await work_node(trusted_proxies=PROXY)
    for value in ("not-an-ip", "x" * 4000, "::ffff:1.2.3.4, ", "ünïcode"):
        headers = {"X-Forwarded-For": value.encode("utf-8").decode("latin-1"), "X-API-Key": KEY}
        assert (await node.post("/api/queue", json={"queue_name": "q"}, headers=headers)).status == 201


async def test_a_forged_forwarded_for_line_before_the_proxys_own_is_not_the_client(work_node):
    """A proxy that adds its own X-Forwarded-For line (instead of appending to the client's)
    must not let the client pick its address with a line of its own: every line counts, in order."""
    node = await work_node(trusted_proxies=PROXY)
    for i in range(5):
        headers = CIMultiDict([("X-API-Key", "bad"), ("X-Forwarded-For", f"192.0.2.{i}"),
                               ("X-Forwarded-For", "198.51.100.1")])
        assert (await node.post("/api/queue", json={"queue_name": "q"}, headers=headers)).status == 401
    assert (await push(node, from_address("198.51.100.1"))).status == 403


@pytest.mark.parametrize("forms", [("203.0.113.9", "203.0.113.9:41000", "::ffff:203.0.113.9", "[::ffff:203.0.113.9]:80"),
                                   ("2001:db8::1", "[2001:db8::1]:5000", "2001:DB8:0::1", "[2001:db8::1]")])
async def test_one_client_is_one_address_whatever_form_the_proxy_writes(work_node, forms):
    """Ports (a new one per connection) and IPv4-mapped forms must not reset the failure count."""
    node = await work_node(trusted_proxies=PROXY)
    for form in (*forms, forms[0]):
        assert (await push(node, from_address(form, key="bad"))).status == 401
    assert (await push(node, from_address(forms[-1]))).status == 403


async def test_trusted_proxy_networks_and_chains(work_node):
    node = await work_node(trusted_proxies=("127.0.0.0/8", "10.0.0.0/8"))  # a bad entry stops start-up (test_settings)
    chain = "10.9.9.9, 192.0.2.77, 10.1.1.1"  # client-written spoof, the client, one more of our proxies
    for _ in range(5):
        assert (await push(node, from_address(chain, key="bad"))).status == 401
    assert (await push(node, from_address("192.0.2.77"))).status == 403
    assert (await push(node, from_address("10.9.9.9"))).status == 201


async def test_ban_and_window_expire(work_node):
    node = await work_node(trusted_proxies=PROXY, ban_duration=1.0, ban_window=1.0)
    for _ in range(5):
        await push(node, from_address("192.0.2.50", key="bad"))
    assert (await push(node, from_address("192.0.2.50"))).status == 403
    await asyncio.sleep(1.2)
    assert (await push(node, from_address("192.0.2.50"))).status == 201
    for _ in range(4):
        await push(node, from_address("192.0.2.50", key="bad"))
    await asyncio.sleep(1.2)  # those four fall out of the window
    assert (await push(node, from_address("192.0.2.50", key="bad"))).status == 401
    assert (await push(node, from_address("192.0.2.50"))).status == 201


async def test_sub_millisecond_ban_settings_are_not_a_500(work_node):
    """MICROQ_BAN_DURATION=100us is a positive duration the settings accept; Redis refuses PX 0."""
    node = await work_node(trusted_proxies=PROXY, ban_duration=0.0001)
    for _ in range(6):
        assert (await push(node, from_address("192.0.2.60", key="bad"))).status in (401, 403)


# -- rate limits


async def define_trigger(node):
    resp = await node.post("/api/triggers", json={"trigger_name": "t"}, headers=AUTH)
    assert resp.status == 201


async def test_trigger_limit_exact_at_the_boundary_across_two_nodes(work_node):
    first, second = await work_node(), await work_node()
    await define_trigger(first)
    replies = await asyncio.gather(*(node.post("/api/trigger", json={"trigger_name": "t"}, headers=AUTH)
                                     for node in [first, second] * 15))
    statuses = sorted(r.status for r in replies)
    assert statuses == [200] * 10 + [429] * 20
    limited = next(r for r in replies if r.status == 429)
    assert (await limited.json())["error"] == "rate limit exceeded"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert limited.headers["RateLimit-Limit"] == "10" and limited.headers["RateLimit-Remaining"] == "0"
    assert limited.headers["RateLimit-Policy"] == "10;w=60"
    remaining = sorted(int(r.headers["RateLimit-Remaining"]) for r in replies if r.status == 200)
    assert remaining == list(range(10))


async def test_limits_are_per_endpoint_and_per_key(work_node):
    node = await work_node(api_keys=(KEY, "other-key"), rate_limit_queue=(3, 60.0))
    for _ in range(3):
        assert (await push(node, AUTH)).status == 201
    assert (await push(node, AUTH)).status == 429
    assert (await push(node, {"X-API-Key": "other-key"})).status == 201  # its own budget
    assert (await node.get("/api/queue/q", headers=AUTH)).status == 200  # another endpoint


async def test_rate_limited_requests_change_nothing_and_do_not_ban(work_node, work_keys, redis):
    node = await work_node(rate_limit_queue=(2, 60.0))
    for _ in range(2):
        assert (await push(node, AUTH)).status == 201
    before = await redis.zcard("mq:w:{q}:s:NEW")
    for _ in range(10):
        assert (await push(node, AUTH)).status == 429
    assert await redis.zcard("mq:w:{q}:s:NEW") == before == 2
    assert not [key async for key in redis.scan_iter(match="*ban*")]


async def test_sliding_window_has_no_double_burst_at_a_boundary(work_node):
    node = await work_node(rate_limit_queue=(3, 2.0))
    assert (await push(node, AUTH)).status == 201
    await asyncio.sleep(1.0)
    assert [(await push(node, AUTH)).status for _ in range(3)] == [201, 201, 429]
    await asyncio.sleep(1.3)  # the first request has aged out; the two at 1.0 s still count
    statuses = [r.status for r in await asyncio.gather(*(push(node, AUTH) for _ in range(3)))]
    assert sorted(statuses) == [201, 429, 429]


# -- concurrent requests of one client are decided together, exactly as one after the other


async def test_one_clients_concurrent_requests_on_one_node_meet_the_limit_exactly(work_node):
    node = await work_node(rate_limit_queue=(10, 60.0))
    replies = await asyncio.gather(*(push(node, AUTH) for _ in range(30)))
    assert sorted(r.status for r in replies) == [201] * 10 + [429] * 20
    remaining = sorted(int(r.headers["RateLimit-Remaining"]) for r in replies if r.status == 201)
    assert remaining == list(range(10))
    assert all(1 <= int(r.headers["Retry-After"]) <= 60 for r in replies if r.status == 429)
    assert (await (await node.get("/api/queue/q", headers=AUTH)).json())["counts"]["NEW"] == 10


async def test_one_addresss_concurrent_failures_on_one_node_ban_at_the_threshold(work_node, redis):
    node = await work_node(trusted_proxies=PROXY)
    replies = await asyncio.gather(*(push(node, from_address("192.0.2.33", key=key))
                                     for key in ["bad", None] * 6))
    assert sorted(r.status for r in replies) == [401] * 5 + [403] * 7
    assert await redis.exists(SECURITY.ban("192.0.2.33"))
    assert (await push(node, from_address("192.0.2.34"))).status == 201


def _admit(redis, count, *, env_key="0", limit=2):
    source = load_scripts()["security_admit"].source
    return redis.eval(source, 3, SECURITY.api_key("d"), SECURITY.rate("b", "d"), SECURITY.rate_used("b", "d"),
                      env_key, limit, 60000, count)


def _fail(redis, count, *, threshold=3):
    source = load_scripts()["security_fail"].source
    return redis.eval(source, 2, SECURITY.ban("a"), SECURITY.failures("a"), threshold, 60000, 60000, count)


def _triples(flat):
    return [tuple(flat[i:i + 3]) for i in range(0, len(flat), 3)]


async def test_admit_and_fail_scripts_decide_a_batch_as_calls_in_a_row(redis):
    assert await _admit(redis, 3) == [2]  # no such key: nothing recorded
    assert not await redis.exists(SECURITY.rate("b", "d"))
    flat = await _admit(redis, 3, env_key="1")
    admitted, stamp = _triples(flat[:-1]), flat[-1]  # limit 2: two admitted, the third refused
    assert [t[0] for t in admitted] == [0, 0, 3] and [admitted[0][1], admitted[1][1]] == [1, 0]
    assert 0 < admitted[2][1] <= 60000  # the call's two places are one entry of the log, and its sum
    assert await redis.lrange(SECURITY.rate("b", "d"), 0, -1) == [f"{stamp}:2".encode()]
    assert await redis.get(SECURITY.rate_used("b", "d")) == b"2"
    assert [t[0] for t in _triples((await _admit(redis, 2, env_key="1"))[:-1])] == [3, 3]
    await redis.set(SECURITY.api_key("d"), "key_1")  # a `microq api-key` key
    assert [t[0] for t in _triples((await _admit(redis, 1))[:-1])] == [3]
    refund = load_scripts()["security_refund"].source
    assert await redis.eval(refund, 2, SECURITY.rate("b", "d"), SECURITY.rate_used("b", "d"), 2, stamp) == 2
    assert not await redis.exists(SECURITY.rate("b", "d"), SECURITY.rate_used("b", "d"))
    assert [t[0] for t in _triples((await _admit(redis, 1))[:-1])] == [0]

    failures = _triples(await _fail(redis, 5))  # threshold 3: the third bans, later ones see it
    assert failures[:3] == [(2, 0, 0), (2, 0, 0), (2, 1, 0)]
    assert [t[0] for t in failures[3:]] == [1, 1] and all(t[1] > 0 for t in failures[3:])
    assert [t[0] for t in _triples(await _fail(redis, 2))] == [1, 1]


async def test_expired_places_leave_the_rate_log_however_many(redis):
    """Expired entries all go at the next admission (in reads of 100), and only live places
    count, the one-place entries of the layout before included (summed once, as their log has no sum)."""
    rate, used = SECURITY.rate("b", "d"), SECURITY.rate_used("b", "d")
    now_ms = int((await redis.time())[0]) * 1000
    # newest first: one entry of 2 live places, 3 live one-place entries, 250 expired of both kinds
    await redis.rpush(rate, f"{now_ms - 4000}:2", *[now_ms - 5000] * 3, *[f"{now_ms - 120_000}:7"] * 125,
                      *[now_ms - 120_000] * 125)
    flat = await _admit(redis, 2, env_key="1", limit=8)
    assert [t[0] for t in _triples(flat[:-1])] == [0, 0] and _triples(flat[:-1])[1][1] == 1  # 5 + 2 of 8 used
    assert await redis.llen(rate) == 5 and await redis.lrange(rate, -3, -1) == [str(now_ms - 5000).encode()] * 3
    assert await redis.get(used) == b"7"
    assert [t[0] for t in _triples((await _admit(redis, 2, env_key="1", limit=8))[:-1])] == [0, 3]


def _gate(redis, count, *, env_key="1", limit=2, address="g", threshold=3):
    """security_gate, the single-Redis admission: ban, key and rate log (or failures) in one script."""
    source = load_scripts()["security_gate"].source
    return redis.eval(source, 5, SECURITY.ban(address), SECURITY.failures(address), SECURITY.api_key("g"),
                      SECURITY.rate("b", "g"), SECURITY.rate_used("b", "g"), env_key, limit, 60000, count,
                      threshold, 60000, 60000)


@pytest.mark.single_redis("security_gate spans the address's and the key's slots: a single Redis only")
async def test_the_single_redis_gate_decides_a_batch_as_calls_in_a_row(redis):
    admitted = _triples(await _gate(redis, 3))  # limit 2: two admitted, the third refused
    assert [t[0] for t in admitted] == [0, 0, 3] and [admitted[0][1], admitted[1][1]] == [1, 0]
    assert await redis.llen(SECURITY.rate("b", "g")) == 1 and await redis.get(SECURITY.rate_used("b", "g")) == b"2"

    assert _triples(await _gate(redis, 2, env_key="0"))[0][0] == 2  # an unknown key: failed attempts
    failures = _triples(await _gate(redis, 2, env_key=""))  # no key; threshold 3: the third bans
    assert failures == [(2, 1, 0), (1, 60000, 0)]
    assert not await redis.exists(SECURITY.failures("g")) and await redis.pttl(SECURITY.ban("g")) > 0

    await redis.delete(SECURITY.rate("b", "g"), SECURITY.rate_used("b", "g"))
    banned = _triples(await _gate(redis, 2))  # a banned address is refused, and nothing is recorded
    assert [t[0] for t in banned] == [1, 1] and all(0 < t[1] <= 60000 for t in banned)
    assert not await redis.exists(SECURITY.rate("b", "g"), SECURITY.rate_used("b", "g"), SECURITY.failures("g"))


# -- the CLI and Redis outages


def cli(redis_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "REDIS_URL": redis_url, "MICROQ_API_KEYS": ""}
    return subprocess.run([sys.executable, "-m", "microq", "api-key", *args], env=env, capture_output=True,
                          text=True, timeout=60, cwd=Path(__file__).resolve().parents[2])


async def test_cli_creates_lists_and_revokes_a_key(work_node, redis_url, redis):
    node = await work_node(api_keys=())
    created = await asyncio.to_thread(cli, redis_url, "create", "--name", "robot")
    assert created.returncode == 0, created.stderr
    lines = dict(line.split(":", 1) for line in created.stdout.splitlines())
    key_id, key = lines["id"].strip(), lines["key"].strip()
    assert (await push(node, {"X-API-Key": key})).status == 201

    listed = await asyncio.to_thread(cli, redis_url, "list")
    assert key_id in listed.stdout and "robot" in listed.stdout and key not in listed.stdout
    async for name in redis.scan_iter():  # only the digest is stored, nowhere the key itself
        kind = await redis.type(name)
        assert key.encode() not in name
        if kind == b"hash":
            assert all(key.encode() not in f + v for f, v in (await redis.hgetall(name)).items())
    assert await redis.get(SECURITY.api_key(digest(key))) == key_id.encode()

    revoked = await asyncio.to_thread(cli, redis_url, "revoke", key_id)
    assert revoked.returncode == 0, revoked.stderr
    assert (await push(node, {"X-API-Key": key})).status == 401
    again = await asyncio.to_thread(cli, redis_url, "revoke", key_id)
    assert again.returncode == 1 and key_id in again.stderr


@pytest.mark.parametrize("args", [("create", "--name", "robot"), ("list",), ("revoke", "key_0")])
async def test_cli_without_redis_is_one_line_not_a_traceback(args):
    done = await asyncio.to_thread(cli, f"redis://127.0.0.1:{free_port()}/0", *args)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "Redis is unreachable" in done.stderr


async def test_redis_down_is_503_then_recovers(work_node, tmp_path):
    server = RedisProcess(tmp_path / "own-redis").start()
    try:
        node = await work_node(redis_url=server.url)
        assert (await push(node, AUTH)).status == 201
        server.stop()
        started = time.monotonic()
        resp = await push(node, AUTH)
        assert resp.status == 503 and "error" in await resp.json()
        replies = await asyncio.gather(*(push(node, AUTH) for _ in range(8)))  # admissions decided together
        assert [r.status for r in replies] == [503] * 8
        assert time.monotonic() - started < 10  # an answer, not a hang
        server.start()
        for _ in range(50):
            resp = await push(node, AUTH)
            if resp.status == 201:
                break
            await asyncio.sleep(0.1)
        assert resp.status == 201
    finally:
        server.stop()
