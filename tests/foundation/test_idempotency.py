"""The Idempotency-Key mechanism: a retried script call applies nothing and returns the first reply."""

from pathlib import Path

import pytest
from aiohttp.test_utils import make_mocked_request
from redis.asyncio import Redis

from microq import idempotency
from microq.errors import BadRequest, Conflict, Unprocessable
from microq.idempotency import Once
from microq.redis_client import connect
from microq.scripts import Scripts, load_scripts

# a reply of every shape a script returns: a nested array with a nil hole, strings, numbers
BUMP = """--[[ test_bump: KEYS[1] counter; ARGV[1] mode; ARGV[2..] echoed.
  Returns: {count, mode, {#ARGV, KEYS count}} | nil for mode "nil" | error for mode "fail" ]]
if ARGV[1] == "fail" then return redis.error_reply("CONFLICT failed as asked") end
local count = redis.call("INCR", KEYS[1])
if ARGV[1] == "nil" then return nil end
return {count, ARGV[1], {#ARGV, #KEYS}, 1.9}
"""


@pytest.fixture
async def scripts(tmp_path: Path, redis_url: str, redis: Redis, on_cluster: bool):
    (tmp_path / "includes").mkdir()
    (tmp_path / "test_bump-1.lua").write_text(BUMP)
    client = connect(redis_url, cluster=on_cluster)
    runner = Scripts(client, load_scripts(tmp_path))
    await runner.preload()
    yield runner
    await client.aclose()


def _once(fingerprint: str = "fp1") -> Once:
    return Once("k:{x}:idem:1", fingerprint, 60_000)


async def test_a_retry_applies_nothing_and_gets_the_first_reply(scripts: Scripts, redis: Redis):
    first = await scripts.call("test_bump", ["k:{x}:n"], ["go", "extra"], once=_once())
    again = await scripts.call("test_bump", ["k:{x}:n"], ["go", "extra"], once=_once())
    assert first == again == [1, b"go", [2, 1], 1]  # the script saw only its own keys and arguments
    assert await redis.get("k:{x}:n") == b"1"
    assert 0 < await redis.pttl("k:{x}:idem:1") <= 60_000
    assert await scripts.call("test_bump", ["k:{x}:n"], ["go"]) == [2, b"go", [1, 1], 1]  # no key: applies


async def test_the_same_key_for_another_request_is_422(scripts: Scripts, redis: Redis):
    await scripts.call("test_bump", ["k:{x}:n"], ["go"], once=_once("fp1"))
    with pytest.raises(Unprocessable):
        await scripts.call("test_bump", ["k:{x}:n"], ["go"], once=_once("fp2"))
    assert await redis.get("k:{x}:n") == b"1"


async def test_nil_replies_are_remembered_and_errors_are_not(scripts: Scripts, redis: Redis):
    assert await scripts.call("test_bump", ["k:{x}:n"], ["nil"], once=_once()) is None
    assert await scripts.call("test_bump", ["k:{x}:n"], ["nil"], once=_once()) is None
    assert await redis.get("k:{x}:n") == b"1"
    other = Once("k:{x}:idem:2", "fp", 60_000)
    with pytest.raises(Conflict):
        await scripts.call("test_bump", ["k:{x}:n"], ["fail"], once=other)
    assert not await redis.exists("k:{x}:idem:2")  # a failed call applied nothing, so it may be retried


async def test_multi_call_operations_are_409_while_running(scripts: Scripts, redis: Redis):
    once = Once("k:{x}:idem:1", "fp1")
    assert await idempotency.begin(scripts, once) == (True, None)
    assert 0 < await redis.pttl(once.key) <= idempotency.IN_PROGRESS_TTL_MS  # a dead node's mark lapses
    with pytest.raises(Conflict):
        await idempotency.begin(scripts, once)
    with pytest.raises(Conflict):  # a script called with the same key meanwhile is refused too
        await scripts.call("test_bump", ["k:{x}:n"], ["go"], once=once)
    with pytest.raises(Unprocessable):
        await idempotency.begin(scripts, _once("other"))
    await idempotency.finish(scripts, once, {"deleted": 3})
    assert await idempotency.begin(scripts, once) == (False, {"deleted": 3})
    assert await redis.pttl(once.key) > idempotency.IN_PROGRESS_TTL_MS
    await idempotency.abandon(scripts, once)
    assert await idempotency.begin(scripts, once) == (True, None)


async def test_once_for_reads_the_header_and_fingerprints_the_request():
    def request(key: str | None, path: str = "/a?x=1", body: bytes = b"{}"):
        headers = {} if key is None else {"Idempotency-Key": key}
        req = make_mocked_request("POST", path, headers=headers)
        async def read() -> bytes:
            return body
        req.read = read  # the mocked request has no payload stream
        return req

    key_of = lambda suffix: "mq:t:{x}:" + suffix  # noqa: E731
    assert await idempotency.once_for(request(None), key_of) is None
    a = await idempotency.once_for(request("abc"), key_of)
    assert a.key.startswith("mq:t:{x}:idem:") and "abc" not in a.key
    assert a == await idempotency.once_for(request('"abc"'), key_of)  # the draft's quoted form
    assert a.fingerprint != (await idempotency.once_for(request("abc", body=b"[]"), key_of)).fingerprint
    assert a.fingerprint != (await idempotency.once_for(request("abc", path="/a?x=2"), key_of)).fingerprint
    assert a.fingerprint != (await idempotency.once_for(request("abc"), key_of, extra="who")).fingerprint
    for bad in ("", "a b", "x" * 256, "caf\u00e9"):
        with pytest.raises(BadRequest):
            await idempotency.once_for(request(bad), key_of)
