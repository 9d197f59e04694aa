"""Opening hours, pause and capacity: a join outside them is 409 {"error"} saying why, on
whichever node it lands; the config tells pages why the line is closed."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone

import pytest

from microq.errors import BadRequest
from microq.lines import hours

from tests.lines.conftest import create_line

DAYS = hours.DAYS


def _every_day(start: datetime, end: datetime) -> dict:
    """A schedule open from start to end (UTC, same day) every day of the week."""
    span = [start.strftime("%H:%M"), end.strftime("%H:%M")]
    return {day: [span] for day in DAYS}


def _closed_now() -> dict:
    """Open one hour a day, about 12 hours away from now (UTC)."""
    start = (datetime.now(timezone.utc) + timedelta(hours=12)).replace(minute=0)
    start = start.replace(hour=min(start.hour, 22))
    return _every_day(start, start + timedelta(hours=1))


def _open_now() -> dict:
    return {day: [["00:00", "24:00"]] for day in DAYS}


async def _join_refused(line, client, name: str = "Late") -> str:
    response = await client.post(f"{line.base}/join", json={"name": name})
    assert response.status == 409, await response.text()
    body = await response.json()
    assert set(body) == {"error"}
    return body["error"]


async def test_joins_outside_the_opening_hours_are_409_on_both_nodes(two_clients):
    a, b = two_clients
    line = await create_line(a)
    await line.join("Early", client=a)  # node a now remembers "no hours"
    response = await b.patch("/api/acme/queues/support", headers=line.admin, json={"opening_hours": _closed_now()})
    assert response.status == 200, await response.text()
    config = await response.json()
    assert config["joining"]["open"] is False and config["joining"]["reason"] == "hours"
    opens = datetime.fromisoformat(config["joining"]["opens_at"])
    assert timedelta(hours=10) < opens - datetime.now(timezone.utc) < timedelta(hours=13)
    assert "opening hours" in await _join_refused(line, a)  # a's stale schedule: Redis refuses it
    assert "opening hours" in await _join_refused(line, b)
    listed = await (await a.get(f"{line.base}/list")).json()
    assert listed["count"] == 1  # nothing joined; the one waiting stays
    events = (await (await a.get(f"{line.base}/events", headers=line.admin)).json())["events"]
    assert [e["type"] for e in events].count("JOIN") == 1

    await a.patch("/api/acme/queues/support", headers=line.admin, json={"opening_hours": _open_now()})
    assert (await line.join("Now", client=b))["position"] == 2
    assert (await line.join("Also", client=a))["position"] == 3
    response = await b.patch("/api/acme/queues/support", headers=line.admin, json={"opening_hours": None})
    assert (await response.json())["opening_hours"] is None
    assert (await line.join("Any time", client=a))["position"] == 4


async def test_opening_hours_follow_the_queue_time_zone(client):
    line = await create_line(client)
    # open 09:00-17:00 every day in a zone where that is not now, and in one where it is
    now = datetime.now(timezone.utc)
    for zone_hours in range(-11, 15):
        local = now + timedelta(hours=zone_hours)
        if 10 <= local.hour < 16:
            inside = zone_hours
        if local.hour < 8 or local.hour >= 18:
            outside = zone_hours
    schedule = {day: [["09:00", "17:00"]] for day in DAYS}

    def zone(offset: int) -> str:  # Etc/GMT signs are inverted: Etc/GMT-3 is UTC+3
        return "UTC" if offset == 0 else f"Etc/GMT{-offset:+d}"

    await client.patch("/api/acme/queues/support", headers=line.admin,
                       json={"opening_hours": schedule, "time_zone": zone(outside)})
    assert "opening hours" in await _join_refused(line, client)
    await client.patch("/api/acme/queues/support", headers=line.admin, json={"time_zone": zone(inside)})
    assert (await line.join("In time"))["position"] == 1


async def test_pause_and_resume_on_two_nodes(two_clients):
    a, b = two_clients
    line = await create_line(a)
    alex = await line.join("Alex", client=b)
    response = await a.post("/api/acme/queues/support/pause", headers=line.admin,
                            json={"message": "back at 14:00"})
    assert response.status == 200
    config = await response.json()
    assert config["paused"] is True and config["pause_message"] == "back at 14:00"
    assert config["joining"] == {"open": False, "reason": "paused", "opens_at": None}
    error = await _join_refused(line, b)
    assert "paused" in error and "back at 14:00" in error
    served = await line.serve(client=b)  # staff still serve the people waiting
    assert served["served"]["id"] == alex["entry"]["id"]
    assert (await a.post("/api/acme/queues/support/pause")).status == 403
    response = await b.post("/api/acme/queues/support/resume", headers=line.admin)
    config = await response.json()
    assert config["paused"] is False and config["pause_message"] is None and config["joining"]["open"] is True
    assert (await line.join("Sam", client=a))["position"] == 1
    events = (await (await a.get(f"{line.base}/events", headers=line.admin)).json())["events"]
    kinds = [(e["type"], e["meta"]) for e in events if e["type"] in ("PAUSE", "RESUME")]
    assert kinds == [("PAUSE", {"message": "back at 14:00"}), ("RESUME", {})]


async def test_max_waiting_holds_under_concurrent_joins_on_two_nodes(two_clients):
    a, b = two_clients
    line = await create_line(a)
    response = await a.patch("/api/acme/queues/support", headers=line.admin, json={"max_waiting": 5})
    assert (await response.json())["max_waiting"] == 5

    async def join(i: int) -> int:
        response = await (a, b)[i % 2].post(f"{line.base}/join", json={"name": f"p{i}"})
        if response.status == 409:
            assert "full" in (await response.json())["error"]
        return response.status

    statuses = await asyncio.gather(*(join(i) for i in range(30)))
    assert statuses.count(201) == 5 and statuses.count(409) == 25
    assert (await (await b.get(f"{line.base}/list")).json())["count"] == 5
    await line.serve(client=b)
    assert (await line.join("Next", client=a))["position"] == 5
    assert "full" in await _join_refused(line, b)
    await b.patch("/api/acme/queues/support", headers=line.admin, json={"max_waiting": None})
    assert (await line.join("Unlimited", client=a))["position"] == 6


async def test_bad_hours_and_capacity_are_400_and_change_nothing(line):
    client = line.client
    bad = [{"opening_hours": "9-5"}, {"opening_hours": {"monday": []}}, {"opening_hours": {"mon": [["9:00", "17:00"]]}},
           {"opening_hours": {"mon": [["17:00", "09:00"]]}}, {"opening_hours": {"mon": [["09:00"]]}},
           {"opening_hours": {"mon": [["09:00", "12:00"], ["11:00", "13:00"]]}},
           {"opening_hours": {"mon": [["00:00", "01:00"]] * 5}}, {"opening_hours": {"mon": [["24:00", "24:00"]]}},
           {"opening_hours": {"mon": [["09:00", "25:00"]]}}, {"max_waiting": 0}, {"max_waiting": -1},
           {"max_waiting": "10"}, {"max_waiting": 1.5}, {"max_waiting": True}, {"max_waiting": 10**7}]
    for body in bad:
        response = await client.patch("/api/acme/queues/support", headers=line.admin, json=body)
        assert response.status == 400, body
        assert set(await response.json()) == {"error"}
    response = await client.post("/api/acme/queues/support/pause", headers=line.admin, json={"message": "x" * 201})
    assert response.status == 400
    config = await (await client.get("/api/acme/queues/support")).json()
    assert (config["opening_hours"], config["max_waiting"], config["paused"]) == (None, None, False)
    assert (await line.join("Still open"))["position"] == 1


def test_hours_are_canonical_and_cross_dst():
    text = hours.parse({"tue": [["13:00", "17:00"], ["09:00", "12:00"]], "mon": [["22:00", "24:00"]]})
    assert json.loads(text) == {"mon": [["22:00", "24:00"]], "tue": [["09:00", "12:00"], ["13:00", "17:00"]]}
    assert list(json.loads(text)) == ["mon", "tue"]  # the day order is fixed, so equal schedules compare equal
    with pytest.raises(BadRequest):
        hours.parse([])
    # Europe/Berlin, Sunday 2026-03-29 (summer time from 02:00): 09:00 local is 07:00 UTC, and
    # on Saturday 09:00 local was 08:00 UTC
    weekend = hours.parse({"sat": [["09:00", "10:00"]], "sun": [["09:00", "10:00"]]})
    noon = datetime(2026, 3, 29, 10, 0, tzinfo=timezone.utc).timestamp()
    spans = hours.intervals(weekend, "Europe/Berlin", noon)
    assert [(s.astimezone(timezone.utc).hour, e.astimezone(timezone.utc).hour) for s, e in spans] == [(8, 9), (7, 8)]
    assert not hours.open_now(weekend, "Europe/Berlin", noon)
    opens = hours.next_opening(weekend, "Europe/Berlin", noon)  # the next Saturday
    assert opens.astimezone(timezone.utc) == datetime(2026, 4, 4, 7, 0, tzinfo=timezone.utc)
    assert hours.open_now(weekend, "Europe/Berlin", datetime(2026, 3, 29, 7, 30, tzinfo=timezone.utc).timestamp())
