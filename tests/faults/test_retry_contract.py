"""What a client resending after a 502/503 relies on, endpoint by endpoint (issue 9's list).

For every state-changing request: sent again with the same Idempotency-Key it gets the first
answer (status and body) and applies nothing; the same key with another body is 422. Each case
first checks that its request is valid on today's code (a 2xx without any key semantics), so
a case broken by an API change fails for real; only then is the part's missing idempotency an
expected failure (strict: it turns into a failure, telling the lead to drop the mark, once the
part's branch lands). Lines, work and topics have landed: every case is a plain test.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

import pytest
from aiohttp.test_utils import TestClient

from tests.faults.load import same_answer

WORK_KEY = "retry-contract-key-0123456789"
WORK = {"X-API-Key": WORK_KEY}
PRIVATE_HOOK = "http://127.0.0.1:9/hook"  # never called: the test only registers and removes it


@dataclass
class Case:
    method: str
    path: str
    body: Any = None  # JSON, or bytes sent as is
    alt: Any = None  # another body for the same key (None: the request has no body to vary)
    headers: dict[str, str] | None = None


async def _ok(client: TestClient, method: str, path: str, body: Any = None, headers=None) -> Any:
    kwargs = {"data": body} if isinstance(body, bytes) else {"json": body} if body is not None else {}
    response = await client.request(method, path, headers=headers or {}, **kwargs)
    assert response.status < 300, (method, path, response.status, await response.text())
    return await response.json()


# -- lines

async def _line(client: TestClient) -> tuple[str, dict[str, str]]:
    queue = f"q{uuid.uuid4().hex[:8]}"
    created = await _ok(client, "POST", "/api/idem/queues", {"queue_id": queue, "name": "Retry line"})
    return f"/api/idem/{queue}", {"X-Admin-Key": created["admin_key"]}


async def _person(client: TestClient, line: str) -> str:
    return (await _ok(client, "POST", f"{line}/join", {"name": "Alex"}))["entry"]["id"]


async def lines_create(client):
    return Case("POST", "/api/idem/queues", {"queue_id": "created", "name": "A"}, {"queue_id": "created", "name": "B"})


async def lines_join(client):
    line, _ = await _line(client)
    return Case("POST", f"{line}/join", {"name": "Alex"}, {"name": "Sam"})


async def lines_serve_next(client):
    line, admin = await _line(client)
    for _ in range(3):
        await _person(client, line)
    return Case("POST", f"{line}/serve-next", {}, {"note": "another request"}, admin)


def _person_action(action: str, admin_needed: bool):
    async def case(client):
        line, admin = await _line(client)
        joined = await _ok(client, "POST", f"{line}/join", {"name": "Alex"})
        await _person(client, line)
        # leaving needs the person's own leave token; the other actions the admin key
        headers = admin if admin_needed else {"X-Leave-Token": joined.get("leave_token", "")}
        return Case("POST", f"{line}/{action}/{joined['entry']['id']}", {}, {"note": "another request"}, headers)
    return case


async def lines_type_create(client):
    line, admin = await _line(client)
    return Case("POST", f"{line}/service-types", {"name": "General"}, {"name": "Billing"}, admin)


async def lines_type_update(client):
    line, admin = await _line(client)
    made = await _ok(client, "POST", f"{line}/service-types", {"name": "General"}, admin)
    return Case("PATCH", f"{line}/service-types/{made['id']}", {"name": "Renamed"}, {"name": "Other"}, admin)


async def lines_type_delete(client):
    line, admin = await _line(client)
    made = await _ok(client, "POST", f"{line}/service-types", {"name": "General"}, admin)
    return Case("DELETE", f"{line}/service-types/{made['id']}", headers=admin)


# -- work

async def work_create(client):
    return Case("POST", "/api/queue", {"queue_name": "retry", "data": "a"}, {"queue_name": "retry", "data": "b"}, WORK)


async def _claimed(client) -> str:
    await _ok(client, "POST", "/api/queue", {"queue_name": "retry", "data": "x"}, WORK)
    return (await _ok(client, "POST", "/api/queue/retry/claim", {}, WORK))["item"]["id"]


async def work_claim(client):
    for data in ("x", "y"):
        await _ok(client, "POST", "/api/queue", {"queue_name": "retry", "data": data}, WORK)
    return Case("POST", "/api/queue/retry/claim", {"claimed_by": "robot-1"}, {"claimed_by": "robot-2"}, WORK)


async def work_status(client):
    item = await _claimed(client)
    return Case("POST", f"/api/queue/retry/items/{item}/status", {"status": "DONE"}, {"status": "FAILED"}, WORK)


async def work_trigger_create(client):
    return Case("POST", "/api/triggers", {"trigger_name": "Nightly", "type": "SINGLE"},
                {"trigger_name": "Nightly", "type": "SINGLE", "description": "other"}, WORK)


async def work_trigger_set(client):
    await _ok(client, "POST", "/api/triggers", {"trigger_name": "Nightly", "type": "SINGLE"}, WORK)
    return Case("POST", "/api/trigger", {"trigger_name": "Nightly", "process_status": "RUNNING"},
                {"trigger_name": "Nightly", "process_status": "DONE"}, WORK)


async def work_trigger_delete(client):
    await _ok(client, "POST", "/api/triggers", {"trigger_name": "Nightly", "type": "SINGLE"}, WORK)
    return Case("DELETE", "/api/triggers/Nightly", headers=WORK)


# -- topics

async def _leased(client, topic: str = "retry.t") -> str:
    await _ok(client, "POST", f"/publish/{topic}", b"m")
    return (await _ok(client, "GET", f"/consume/{topic}"))["id"]


async def topics_publish(client):
    return Case("POST", "/publish/retry.t", b"one", b"two")


async def topics_ack(client):
    return Case("POST", f"/ack/retry.t/{await _leased(client)}")


async def topics_ack_batch(client):
    first, second = await _leased(client), await _leased(client)
    return Case("POST", "/ack/retry.t", {"ids": [first]}, {"ids": [second]})


async def topics_requeue(client):
    first, second = await _leased(client), await _leased(client)
    return Case("POST", "/requeue", {"id": first, "topic": "retry.t"}, {"id": second, "topic": "retry.t"})


async def topics_webhook_add(client):
    return Case("POST", "/webhook/retry.t", {"url": PRIVATE_HOOK}, {"url": PRIVATE_HOOK + "2"})


async def topics_webhook_remove(client):
    hook = await _ok(client, "POST", "/webhook/retry.t", {"url": PRIVATE_HOOK})
    return Case("DELETE", f"/webhook/retry.t/{hook['id']}")


async def topics_purge(client):
    await _ok(client, "POST", "/publish/retry.t", b"m")
    return Case("POST", "/api/topics/retry.t/purge")


async def topics_redrive(client):
    await _ok(client, "POST", "/publish/retry.t.dlq", b"dead")
    return Case("POST", "/api/topics/retry.t.dlq/redrive")


LINES = None  # landed with the lines branch
WORK_FIX = None  # landed with the work branch
TOPICS = None  # landed with the topics branch

CASES: dict[str, tuple[Callable[[TestClient], Awaitable[Case]], str | None]] = {
    "lines create queue": (lines_create, LINES),
    "lines join": (lines_join, LINES),
    "lines serve-next": (lines_serve_next, LINES),
    "lines call": (_person_action("call", True), LINES),
    "lines leave": (_person_action("leave", False), LINES),
    "lines remove": (_person_action("remove", True), LINES),
    "lines no-show": (_person_action("no-show", True), LINES),
    "lines service type create": (lines_type_create, LINES),
    "lines service type update": (lines_type_update, LINES),
    "lines service type delete": (lines_type_delete, LINES),
    "work create item": (work_create, WORK_FIX),
    "work claim": (work_claim, WORK_FIX),
    "work status change": (work_status, WORK_FIX),
    "work trigger create": (work_trigger_create, WORK_FIX),
    "work trigger status": (work_trigger_set, WORK_FIX),
    "work trigger delete": (work_trigger_delete, WORK_FIX),
    "topics publish": (topics_publish, TOPICS),
    "topics ack": (topics_ack, TOPICS),
    "topics ack batch": (topics_ack_batch, TOPICS),
    "topics requeue": (topics_requeue, TOPICS),
    "topics webhook add": (topics_webhook_add, TOPICS),
    "topics webhook remove": (topics_webhook_remove, TOPICS),
    "topics purge": (topics_purge, TOPICS),
    "topics redrive": (topics_redrive, TOPICS),
}


async def _send(client: TestClient, case: Case, key: str, body: Any) -> tuple[int, Any]:
    kwargs = {"data": body} if isinstance(body, bytes) else {"json": body} if body is not None else {}
    response = await client.request(case.method, case.path, headers={"Idempotency-Key": key, **(case.headers or {})},
                                    **kwargs)
    text = await response.text()
    try:
        return response.status, json.loads(text)
    except ValueError:
        return response.status, text


@pytest.mark.parametrize("name", list(CASES))
async def test_a_resend_with_the_same_key_gets_the_first_answer(make_client, request, name):
    client = await make_client(api_keys=(WORK_KEY,), webhook_allow_private=True)
    setup, fix = CASES[name]
    case = await setup(client)
    key = uuid.uuid4().hex
    first = await _send(client, case, key, case.body)
    assert 200 <= first[0] < 300, f"the case itself is broken: {first}"  # before the mark: a real failure
    if fix:
        request.applymarker(pytest.mark.xfail(strict=True, reason=fix))
    again = await _send(client, case, key, case.body)
    assert same_answer(first, again), f"first {first}, resent {again}"
    if case.alt is not None:
        other = await _send(client, case, key, case.alt)
        assert other[0] == 422, f"the same key with another request: {other}"
