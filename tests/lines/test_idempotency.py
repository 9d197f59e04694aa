"""Idempotency-Key on every state-changing lines request (issue 9): a retry within 24 h in the
same line gets the first answer and applies nothing; the same key for another request is 422."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid

from microq.app import create_app
from tests.helpers import RedisProcess
from tests.lines.conftest import Line, create_line


def _key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


async def _events(line: Line) -> list[str]:
    body = await (await line.client.get(f"{line.base}/events?limit=1000", headers=line.admin)).json()
    return [e["type"] for e in body["events"]]


async def _twice(clients, method: str, path: str, headers: dict, json=None) -> tuple[int, dict]:
    """Send the request on one node and its retry on the other: both answers must be identical."""
    answers = []
    for client in clients:
        response = await client.request(method, path, headers=headers, json=json)
        answers.append((response.status, await response.json()))
    assert answers[0] == answers[1], answers
    return answers[0]


async def test_a_retried_serve_next_serves_nobody_else(two_clients):
    line = await create_line(two_clients[0])
    alex, sam, kim = [await line.join(n) for n in ("Alex", "Sam", "Kim")]
    status, body = await _twice(two_clients, "POST", f"{line.base}/serve-next", {**line.admin, **_key()}, {})
    assert status == 200 and body["served"]["id"] == alex["entry"]["id"]
    listed = await (await line.client.get(f"{line.base}/list")).json()
    assert [p["id"] for p in listed["queue"]] == [sam["entry"]["id"], kim["entry"]["id"]]
    assert listed["now_serving"]["id"] == alex["entry"]["id"]
    assert (await _events(line)).count("SERVE") == 1
    # a new key is a new request: the next person
    assert (await line.serve())["served"]["id"] == sam["entry"]["id"]


async def test_a_retry_gets_the_first_answer_even_when_the_line_moved_on(line):
    key = {**line.admin, **_key()}
    empty = await line.client.post(f"{line.base}/serve-next", headers=key, json={})
    assert await empty.json() == {"message": "queue is empty"}
    await line.join("Alex")
    again = await line.client.post(f"{line.base}/serve-next", headers=key, json={})
    assert await again.json() == {"message": "queue is empty"}  # the first answer; nobody served
    assert (await (await line.client.get(f"{line.base}/list")).json())["count"] == 1


async def test_every_state_change_applies_once(two_clients):
    first = two_clients[0]
    line = await create_line(first)
    people = [await line.join(n) for n in ("Alex", "Sam", "Kim", "Lee")]
    type_id = (await (await first.post(f"{line.base}/service-types", headers=line.admin,
                                       json={"name": "Returns", "code": "RET"})).json())["id"]
    cases = [
        ("POST", "/join", {}, {"name": "Priya"}, "JOIN"),
        ("POST", f"/leave/{people[0]['entry']['id']}", {"X-Leave-Token": people[0]["leave_token"]}, None, "LEAVE"),
        ("POST", f"/call/{people[2]['entry']['id']}", line.admin, None, "CALL"),
        ("POST", f"/remove/{people[1]['entry']['id']}", line.admin, None, "REMOVE"),
        ("POST", f"/no-show/{people[2]['entry']['id']}", line.admin, None, "NO_SHOW"),
        ("POST", "/service-types", line.admin, {"name": "General"}, "TYPE_CREATE"),
        ("PATCH", f"/service-types/{type_id}", line.admin, {"name": "Refunds"}, "TYPE_UPDATE"),
        ("DELETE", f"/service-types/{type_id}", line.admin, None, "TYPE_DELETE"),
    ]
    for method, path, headers, body, event in cases:
        before = await _events(line)
        status, answer = await _twice(two_clients, method, line.base + path, {**headers, **_key()}, body)
        assert status in (200, 201), (path, answer)
        assert await _events(line) == before + [event], path
    joined = await _twice(two_clients, "POST", f"{line.base}/join", _key(), {"name": "Noor"})
    assert joined[1]["leave_token"]  # the retry shows the same person and the same token
    assert (await line.leave(joined[1]))["entry"]["name"] == "Noor"
    types = await (await first.get(f"{line.base}/service-types")).json()
    assert [t["name"] for t in types["service_types"]] == ["General"]


async def test_create_configure_and_rotate_apply_once(two_clients):
    first = two_clients[0]
    body = {"queue_id": "support", "name": "Support Queue"}
    status, created = await _twice(two_clients, "POST", "/api/acme/queues", _key(), body)
    assert status == 201 and len(created["admin_key"]) >= 32  # the key a lost reply would have lost
    admin = {"X-Admin-Key": created["admin_key"]}
    # without the header, a repeat keeps the seed's idempotence: 200, the kept config, no key
    repeat = await first.post("/api/acme/queues", json=body)
    assert repeat.status == 200 and "admin_key" not in await repeat.json()
    line = Line(first, "acme", "support", created["admin_key"])
    status, changed = await _twice(two_clients, "PATCH", "/api/acme/queues/support", {**admin, **_key()},
                                   {"avg_service_time": 7})
    assert status == 200 and changed["avg_service_time"] == 7.0
    status, rotated = await _twice(two_clients, "POST", "/api/acme/queues/support/rotate-key", {**admin, **_key()})
    assert status == 200 and rotated["admin_key"] != created["admin_key"]
    line.admin_key = rotated["admin_key"]
    assert await _events(line) == ["CONFIGURE", "ROTATE_KEY"]  # one each
    assert (await first.post(f"{line.base}/serve-next", headers=admin, json={})).status == 403


async def test_the_same_key_for_another_request_is_422(line):
    alex, sam = await line.join("Alex"), await line.join("Sam")
    key = _key()
    assert (await line.client.post(f"{line.base}/call/{alex['entry']['id']}", headers={**line.admin, **key})).status == 200
    for path, headers in ((f"/call/{sam['entry']['id']}", line.admin), ("/serve-next", line.admin),
                          (f"/call/{alex['entry']['id']}", {"X-Admin-Key": "not the key"})):
        response = await line.client.post(line.base + path, headers={**headers, **key})
        assert response.status == 422, path  # never the first answer: another caller cannot replay it
        assert "different request" in (await response.json())["error"]
    assert (await line.status(sam["entry"]["id"]))["position"] == 1


async def test_a_refused_request_is_not_remembered(line):
    await line.join("Alex")
    key = _key()
    refused = await line.client.post(f"{line.base}/serve-next", headers={"X-Admin-Key": "wrong", **key}, json={})
    assert refused.status == 403
    served = await line.client.post(f"{line.base}/serve-next", headers={**line.admin, **key}, json={})
    assert served.status == 200 and (await served.json())["served"]["name"] == "Alex"


async def test_keys_are_scoped_to_the_line_and_kept_in_its_slot(client, redis):
    acme, billing = await create_line(client, "acme", "support"), await create_line(client, "acme", "billing")
    key = _key()
    for line in (acme, billing):
        response = await client.post(f"{line.base}/join", headers=key, json={"name": "Alex"})
        assert response.status == 201
    assert [(await (await client.get(f"{line.base}/list")).json())["count"] for line in (acme, billing)] == [1, 1]
    stored = [k async for k in redis.scan_iter(match="mq:l:*:idem:*")]
    assert sorted(k.decode().partition(":idem:")[0] for k in stored) == ["mq:l:{acme/billing}", "mq:l:{acme/support}"]
    assert all(key["Idempotency-Key"].encode() not in k for k in stored)  # a digest names the key
    for k in stored:
        assert 0 < await redis.pttl(k) <= 24 * 3600 * 1000


async def test_bad_keys_are_400_and_change_nothing(line):
    for bad in ("", "a b", "x" * 256, "caf\u00e9"):
        response = await line.client.post(f"{line.base}/join", headers={"Idempotency-Key": bad.encode().decode("latin-1")},
                                          json={"name": "Alex"})
        assert response.status == 400, bad
    # create and join show a secret to a retry, so their key must be unguessable
    for path, body in ((f"{line.base}/join", {"name": "Alex"}), ("/api/acme/queues", {"queue_id": "x", "name": "X"})):
        response = await line.client.post(path, headers={"Idempotency-Key": "retry-1"}, json=body)
        assert response.status == 400 and "at least 16" in (await response.json())["error"]
    assert (await (await line.client.get(f"{line.base}/list")).json())["count"] == 0
    assert (await line.client.get("/api/acme/queues/x")).status == 404
    # admin requests prove who sends them: a short key is fine there
    served = await line.client.post(f"{line.base}/serve-next", headers={**line.admin, "Idempotency-Key": "s1"}, json={})
    assert served.status == 200


async def test_serve_next_and_call_whose_replies_were_lost_are_safe_to_retry(aiohttp_client, settings, tmp_path):
    # Redis stalls past the client's timeout: the node answers 503, yet Redis runs the script
    # it had read when it resumes. A retry with the same key returns what was applied, and
    # applies nothing: without the key it would serve a second person.
    redis = RedisProcess(tmp_path / "redis").start()
    try:
        client = await aiohttp_client(create_app(settings.replace(redis_url=redis.url)))
        line = await create_line(client)
        alex, sam, kim = [await line.join(n) for n in ("Alex", "Sam", "Kim")]
        for path, event, person in (("/serve-next", "SERVE", alex), (f"/call/{kim['entry']['id']}", "CALL", kim)):
            headers = {**line.admin, **_key()}
            os.kill(redis.process.pid, signal.SIGSTOP)
            try:
                lost = await client.post(line.base + path, headers=headers, json={})
                assert lost.status == 503
            finally:
                os.kill(redis.process.pid, signal.SIGCONT)
            for _ in range(100):  # Redis ran what it had read before it stalled
                if event in await _events(line):
                    break
                await asyncio.sleep(0.05)
            assert event in await _events(line), "the stalled request was never applied: nothing to prove"
            retried = await client.post(line.base + path, headers=headers, json={})
            assert retried.status == 200 and (await retried.json())["served"]["id"] == person["entry"]["id"]
        listed = await (await client.get(f"{line.base}/list")).json()
        assert [p["id"] for p in listed["queue"]] == [sam["entry"]["id"]]  # Sam was not served
        events = await _events(line)
        assert events.count("SERVE") == 1 and events.count("CALL") == 1
    finally:
        redis.stop()


async def test_venue_changes_apply_once(two_clients):
    # counters, recall, serve-next at a counter, pause, resume, hours and close-day: a retry on
    # the other node answers the first answer and logs nothing more
    first = two_clients[0]
    line = await create_line(first)
    for name in ("Alex", "Sam", "Kim"):
        await line.join(name)
    queue = "/api/acme/queues/support"
    cases = [
        ("POST", f"{line.base}/counters", {"id": "d1", "name": "Desk 1"}, "COUNTER_CREATE"),
        ("PATCH", f"{line.base}/counters/d1", {"name": "Desk One"}, "COUNTER_UPDATE"),
        ("POST", f"{line.base}/serve-next", {"counter": "d1"}, "SERVE"),
        ("POST", f"{line.base}/counters/d1/recall", None, "RECALL"),
        ("POST", f"{queue}/pause", {"message": "lunch"}, "PAUSE"),
        ("POST", f"{queue}/resume", None, "RESUME"),
        ("PATCH", queue, {"max_waiting": 10, "opening_hours": None}, "CONFIGURE"),
        ("POST", f"{queue}/close-day", None, "CLOSE"),
        ("DELETE", f"{line.base}/counters/d1", None, "COUNTER_DELETE"),
    ]
    for method, path, body, event in cases:
        before = await _events(line)
        status, answer = await _twice(two_clients, method, path, {**line.admin, **_key()}, body)
        assert status in (200, 201), (path, answer)
        added = (await _events(line))[len(before):]
        assert set(added) == {event} and len(added) == (2 if event == "CLOSE" else 1), (path, added)
