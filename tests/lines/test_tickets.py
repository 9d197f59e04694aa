"""Tickets: a short number per join (prefix + a per-queue daily sequence) in every answer,
event and page; the sequence never repeats within a day, whichever node a join reaches."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

from microq.appkeys import SCRIPTS
from microq.keys import Keyspace
from microq.lines import tickets
from microq.lines.keys import LineKeys

from tests.lines.conftest import create_line


async def test_every_answer_and_event_carries_the_ticket(line):
    client = line.client
    returns = await (await client.post(f"{line.base}/service-types", headers=line.admin,
                                       json={"name": "Returns", "code": "RET"})).json()
    alex = await line.join("Alex")
    sam = await line.join("Sam", service_type_id=returns["id"])
    kim = await line.join("Kim")
    assert [j["entry"]["ticket"] for j in (alex, sam, kim)] == ["A-001", "RET-002", "A-003"]
    assert (await line.status(sam["entry"]["id"]))["entry"]["ticket"] == "RET-002"
    listed = await (await client.get(f"{line.base}/list")).json()
    assert [p["ticket"] for p in listed["queue"]] == ["A-001", "RET-002", "A-003"]
    served = (await line.serve())["served"]
    assert served["ticket"] == "A-001" and served["status"] == "served"
    listed = await (await client.get(f"{line.base}/list")).json()
    assert listed["now_serving"]["ticket"] == "A-001"
    called = await (await client.post(f"{line.base}/call/{kim['entry']['id']}", headers=line.admin)).json()
    assert called["served"]["ticket"] == "A-003"
    no_show = await (await client.post(f"{line.base}/no-show/{kim['entry']['id']}", headers=line.admin)).json()
    assert no_show["entry"]["ticket"] == "A-003" and no_show["entry"]["status"] == "no_show"
    left = await line.leave(sam)
    assert left["entry"]["ticket"] == "RET-002"
    assert (await line.status(sam["entry"]["id"]))["entry"]["ticket"] == "RET-002"  # finished: kept
    events = (await (await client.get(f"{line.base}/events", headers=line.admin)).json())["events"]
    people = [(e["type"], e["meta"].get("ticket")) for e in events if e["user_id"]]
    assert people == [("JOIN", "A-001"), ("JOIN", "RET-002"), ("JOIN", "A-003"), ("SERVE", "A-001"),
                      ("CALL", "A-003"), ("NO_SHOW", "A-003"), ("LEAVE", "RET-002")]


async def test_prefix_zone_and_names_are_config_fields(client):
    line = await create_line(client, ticket_prefix="w", time_zone="Europe/Berlin")
    config = await (await client.get("/api/acme/queues/support")).json()
    assert (config["ticket_prefix"], config["time_zone"], config["show_names"]) == ("W", "Europe/Berlin", False)
    assert (await line.join("Alex"))["entry"]["ticket"] == "W-001"
    response = await client.patch("/api/acme/queues/support", headers=line.admin,
                                  json={"ticket_prefix": "B", "show_names": True})
    assert response.status == 200
    assert (await response.json())["ticket_prefix"] == "B" and (await response.json())["show_names"] is True
    assert (await line.join("Sam"))["entry"]["ticket"] == "B-002"  # one sequence per queue
    default = await create_line(client, queue="billing")
    config = await (await client.get("/api/acme/queues/billing")).json()
    assert (config["ticket_prefix"], config["time_zone"], config["show_names"]) == ("A", "UTC", False)
    assert (await default.join("Kim"))["entry"]["ticket"] == "A-001"  # each queue its own sequence


async def test_bad_ticket_config_is_400_and_changes_nothing(line):
    client = line.client
    for body in ({"time_zone": "Mars/Olympus_Mons"}, {"time_zone": "../../etc/passwd"}, {"time_zone": ""},
                 {"time_zone": 5}, {"time_zone": "/etc/localtime"}, {"ticket_prefix": "far too long"},
                 {"ticket_prefix": "A B"}, {"ticket_prefix": 1}, {"show_names": "yes"}):
        response = await client.patch("/api/acme/queues/support", headers=line.admin, json=body)
        assert response.status == 400, body
        assert set(await response.json()) == {"error"}
        created = await client.post("/api/acme/queues", json={"queue_id": "other", "name": "O", **body})
        assert created.status == 400, body
    config = await (await client.get("/api/acme/queues/support")).json()
    assert (config["ticket_prefix"], config["time_zone"]) == ("A", "UTC")
    assert (await client.get("/api/acme/queues/other")).status == 404


async def test_tickets_never_repeat_under_concurrent_joins_on_two_nodes(two_clients):
    a, b = two_clients
    line = await create_line(a)
    returns = await (await a.post(f"{line.base}/service-types", headers=line.admin,
                                  json={"name": "Returns", "code": "RET"})).json()

    async def join(i: int) -> dict:
        fields = {"service_type_id": returns["id"]} if i % 3 == 0 else {}
        return await line.join(f"person {i}", client=(a, b)[i % 2], **fields)

    joined = await asyncio.gather(*(join(i) for i in range(300)))
    numbers = sorted(int(j["entry"]["ticket"].rpartition("-")[2]) for j in joined)
    assert numbers == list(range(1, 301))  # every number once: none repeated, none skipped
    for j in joined:
        prefix = "RET" if j["entry"]["service_type_id"] else "A"
        assert j["entry"]["ticket"].startswith(prefix + "-")
    # the ticket order is the line's order: a join's number and its place agree
    listed = await (await b.get(f"{line.base}/list?limit=1000")).json()
    assert [int(p["ticket"].rpartition("-")[2]) for p in listed["queue"]] == list(range(1, 301))


async def test_the_sequence_restarts_when_the_local_day_changes_even_from_a_node_that_missed_it(two_clients):
    # Pacific/Kiritimati (UTC+14) and Pacific/Pago_Pago (UTC-11) are 25 h apart: their dates
    # always differ, so moving the line from one to the other is a new day for its tickets
    a, b = two_clients
    line = await create_line(a, time_zone="Pacific/Kiritimati")
    assert [(await line.join(f"p{i}", client=a))["entry"]["ticket"] for i in range(2)] == ["A-001", "A-002"]
    response = await b.patch("/api/acme/queues/support", headers=line.admin, json={"time_zone": "Pacific/Pago_Pago"})
    assert response.status == 200
    # node a still believes the old zone: the script refuses its days (ZONE), a computes again
    assert (await line.join("p2", client=a))["entry"]["ticket"] == "A-001"
    assert (await line.join("p3", client=b))["entry"]["ticket"] == "A-002"
    listed = await (await a.get(f"{line.base}/list")).json()
    assert [p["ticket"] for p in listed["queue"]] == ["A-001", "A-002", "A-001", "A-002"]  # ids stay unique


async def test_the_script_picks_the_day_by_the_redis_clock(client, redis):
    # a node whose clock is a day off sends days around its own "now": the script still counts
    # the day that has begun by Redis's clock
    await create_line(client)
    k = LineKeys.of(Keyspace("mq:"), "acme", "support")
    now = datetime.now(timezone.utc).timestamp()
    today = datetime.fromtimestamp(now, timezone.utc).date().isoformat()
    for i, skew_days in enumerate((-1, 1)):
        await redis.hset(k.stats, "tday", "an old day")  # the next join starts a day
        await client.app[SCRIPTS].call("lines_join", [k.cfg, k.seq, k.wait, k.ent, k.types, k.stats, k.events,
                                                        k.type_index, k.near_front], [
            f"00000000-0000-4000-8000-00000000000{i}", "x", "", "", "4", 100, k.channel, "", "",
            "UTC", *tickets.day_candidates("UTC", now + skew_days * 86400), ""])
        assert (await redis.hget(k.stats, "tday")).decode() == today


def test_day_candidates_follow_the_zone_across_a_dst_change():
    # Europe/Berlin goes to summer time on 2026-03-29: that day starts at 23:00 UTC the day
    # before, and the next at 22:00 UTC
    noon = datetime(2026, 3, 29, 10, 0, tzinfo=timezone.utc).timestamp()
    flat = tickets.day_candidates("Europe/Berlin", noon)
    labels, starts = flat[::2], [int(ms) for ms in flat[1::2]]
    assert labels == ["2026-03-28", "2026-03-29", "2026-03-30"]
    utc = [datetime.fromtimestamp(ms / 1000, timezone.utc).isoformat() for ms in starts]
    assert utc == ["2026-03-27T23:00:00+00:00", "2026-03-28T23:00:00+00:00", "2026-03-29T22:00:00+00:00"]
    assert tickets.day_candidates("No/Such_Zone", noon)[2] == "2026-03-29"  # a vanished zone: UTC
