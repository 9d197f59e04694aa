"""A claim whose reply is lost: Redis stalls past the node's timeout (503), then runs the claim it
had read. The item is not stranded: a retry with the same Idempotency-Key gets that very claim,
and without one the lease hands the item back to NEW by itself."""

from __future__ import annotations

import asyncio
import os
import signal
import time

from tests.helpers import RedisProcess


async def _claim_while_stalled(node, redis: RedisProcess, headers: dict[str, str]) -> None:
    os.kill(redis.process.pid, signal.SIGSTOP)
    try:
        lost = await node.post("/api/queue/jobs/claim", json={"lease": "2500ms"}, headers=headers)
        assert lost.status == 503 and "error" in await lost.json()
    finally:
        os.kill(redis.process.pid, signal.SIGCONT)


async def _in_progress(node) -> int:
    return (await (await node.get("/api/queue/jobs")).json())["counts"]["IN_PROGRESS"]


async def test_a_lost_claim_is_retried_by_key_or_comes_back_by_its_lease(make_client, tmp_path):
    redis = RedisProcess(tmp_path / "redis").start()
    try:
        node = await make_client(redis_url=redis.url, work_auth=False)  # the stall hits the claim itself
        first = (await (await node.post("/api/queue", json={"queue_name": "jobs"})).json())["id"]
        second = (await (await node.post("/api/queue", json={"queue_name": "jobs"})).json())["id"]

        await _claim_while_stalled(node, redis, {"Idempotency-Key": "claim-after-503"})
        for _ in range(100):  # Redis ran the claim it had read before it stalled
            if await _in_progress(node):
                break
            await asyncio.sleep(0.05)
        assert await _in_progress(node) == 1, "the stalled claim was never applied: nothing to prove"
        retried = await node.post("/api/queue/jobs/claim", json={"lease": "2500ms"},
                                  headers={"Idempotency-Key": "claim-after-503"})
        assert retried.status == 200 and (await retried.json())["item"]["id"] == first
        assert await _in_progress(node) == 1  # the retry claimed nothing more

        await _claim_while_stalled(node, redis, {})  # no key: the client cannot ask again
        deadline = time.monotonic() + 15
        while True:  # the leases lapse and the sweep hands the items back, unasked
            counts = (await (await node.get("/api/queue/jobs")).json())["counts"]
            if counts["NEW"] == 2:
                break
            assert time.monotonic() < deadline, counts
            await asyncio.sleep(0.2)
        # the first claim's lease lapsed during the second stall, so the lost claim took the oldest
        # item again: two lapses for it, none for the other
        retries = [(await (await node.get(f"/api/queue/jobs/items/{i}")).json())["retries"] for i in (first, second)]
        assert retries == [2, 0]
    finally:
        redis.stop()
