"""ETA = position x minutes per service: configured until 3 are served, then the rolling
average of the last 20 waits (served_at - joined_at)."""

from __future__ import annotations

import msgpack
import pytest

from tests.lines.conftest import create_line


async def _waited(redis, line, user_id: str, minutes: float) -> None:
    """Backdate one waiting entry's join time, as if it had waited `minutes` already."""
    ent = f"mq:l:{{{line.tenant}/{line.queue}}}:ent"
    name, joined, *rest = msgpack.unpackb(await redis.hget(ent, user_id))
    await redis.hset(ent, user_id, msgpack.packb([name, joined - int(minutes * 60000), *rest]))


async def _serve_after(redis, line, minutes: float) -> None:
    joined = await line.join("someone")
    # serve-next takes the front of the line: make sure that is this person
    front = (await (await line.client.get(f"{line.base}/list?limit=1")).json())["queue"][0]["id"]
    assert front == joined["entry"]["id"]
    await _waited(redis, line, front, minutes)
    await line.serve()


async def test_rolling_average_switches_on_at_three_served(client, redis):
    line = await create_line(client, avg_service_time=5)
    await _serve_after(redis, line, 10)
    await _serve_after(redis, line, 20)
    waiting = await line.join("waiting")
    assert waiting["eta_minutes"] == 5.0  # two served: still the configured value
    await line.serve()  # serves "waiting" after ~0 minutes: the third served
    third = await line.join("next")
    # rolling average of 10, 20 and ~0 minutes
    assert third["eta_minutes"] == pytest.approx(10.0, abs=0.05)
    listed = await (await client.get(f"{line.base}/list")).json()
    assert listed["avg_service_time"] == pytest.approx(10.0, abs=0.05)


async def test_rolling_average_uses_the_last_20(client, redis):
    line = await create_line(client, avg_service_time=5)
    for _ in range(5):
        await _serve_after(redis, line, 100)
    for _ in range(20):
        await _serve_after(redis, line, 2)
    joined = await line.join("next")
    assert joined["eta_minutes"] == pytest.approx(2.0, abs=0.05)
    await line.join("after")
    status = await line.status((await line.join("third"))["entry"]["id"])
    assert status["position"] == 3 and status["eta_minutes"] == pytest.approx(6.0, abs=0.15)


async def test_default_minutes_when_never_created(make_client, redis):
    client = await make_client(avg_service_time_minutes=7)
    response = await client.post("/api/acme/walkin/join", json={"name": "Sam"})
    assert (await response.json())["eta_minutes"] == 7.0
