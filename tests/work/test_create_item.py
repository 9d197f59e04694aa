"""POST /api/queue: every rule of seed 001's field table, at each boundary."""

from __future__ import annotations

import json
import uuid
from urllib.parse import quote

import pytest

from tests.work.conftest import AUTH

SEED_EXAMPLE = {
    "queue_name": "SomeQueue",
    "status": "NEW",
    "data": {"case_id": "ABC123", "reference_id": "XYZ-001"},
    "reference": "ExternalRef-456",
    "created_by": "MySystem",
    "created_date": "2025-04-26T12:00:00",
    "message": "Created from external system",
}


async def create(api, body):
    return await api.post("/api/queue", json=body, headers=AUTH)


async def stored(api, queue_name, item_id):
    resp = await api.get(f"/api/queue/{quote(queue_name, safe='')}/items/{item_id}", headers=AUTH)
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def expect_400(api, body, field):
    resp = await create(api, body)
    assert resp.status == 400, await resp.text()
    error = (await resp.json())["error"]
    assert field in error
    return error


async def test_seed_example_is_created_as_documented(api):
    resp = await create(api, SEED_EXAMPLE)
    assert resp.status == 201
    body = await resp.json()
    assert body["success"] is True and set(body) == {"success", "id"}
    assert uuid.UUID(body["id"]).version == 4
    item = await stored(api, "SomeQueue", body["id"])
    assert item["status"] == "NEW"
    assert json.loads(item["data"]) == SEED_EXAMPLE["data"]
    assert item["reference"] == "ExternalRef-456"
    assert item["created_by"] == "MySystem"
    assert item["created_date"] == "2025-04-26T12:00:00"
    assert item["message"] == "Created from external system"


async def test_defaults_only_queue_name(api):
    resp = await create(api, {"queue_name": "q"})
    assert resp.status == 201
    item = await stored(api, "q", (await resp.json())["id"])
    assert item["status"] == "NEW"
    assert item["data"] is None and item["reference"] is None and item["message"] is None
    assert item["created_by"] is None
    assert item["created_date"].endswith("Z")  # server time, from Redis's clock


async def test_nulls_mean_defaults(api):
    body = {"queue_name": "q", "status": None, "data": None, "reference": None, "message": None,
            "created_by": None, "created_date": None}
    resp = await create(api, body)
    assert resp.status == 201
    item = await stored(api, "q", (await resp.json())["id"])
    assert item["status"] == "NEW" and item["data"] is None


@pytest.mark.parametrize("body", [{}, {"queue_name": None}, {"queue_name": ""}, {"queue_name": "   "},
                                  {"queue_name": 7}, {"queue_name": ["q"]}, {"queue_name": {"a": 1}},
                                  {"queue_name": True}, {"status": "NEW"}])
async def test_queue_name_required_string(api, body, work_keys):
    await expect_400(api, body, "queue_name")
    assert await work_keys() == []


async def test_queue_name_100_and_101_characters(api, work_keys):
    assert (await create(api, {"queue_name": "q" * 100})).status == 201
    await expect_400(api, {"queue_name": "q" * 101}, "queue_name")
    assert (await create(api, {"queue_name": "é" * 100})).status == 201  # characters, not bytes


@pytest.mark.parametrize("raw", ['{"a": NaN}', "[Infinity]", "[-Infinity]", "[1e999]"])
async def test_data_that_is_not_json_is_refused(api, raw, work_keys):
    """NaN and Infinity are not JSON (the body is refused); 1e999 is, but Python reads it as
    infinity, which stringified would be data no JSON parser reads (the data field is refused)."""
    body = '{"queue_name": "q", "data": %s}' % raw
    resp = await api.post("/api/queue", data=body, headers={**AUTH, "Content-Type": "application/json"})
    error = (await resp.json())["error"]
    assert resp.status == 400 and ("data" in error if raw == "[1e999]" else "not valid JSON" in error)
    assert await work_keys() == []


@pytest.mark.parametrize("name", [".", ".."])
async def test_dot_segment_queue_names_are_refused(api, name, work_keys):
    """GET /api/queue/%2E/items resolves to /api/queue/items: such a queue could never be read back."""
    await expect_400(api, {"queue_name": name}, "queue_name")
    assert await work_keys() == []


@pytest.mark.parametrize("name", ["...", ".a", "a.."])
async def test_other_dotted_queue_names_are_reachable(api, name):
    resp = await create(api, {"queue_name": name})
    assert resp.status == 201
    item_id = (await resp.json())["id"]
    page = await (await api.get(f"/api/queue/{quote(name, safe='')}/items", headers=AUTH)).json()
    assert page["queue_name"] == name and [i["id"] for i in page["items"]] == [item_id]


@pytest.mark.parametrize("status", ["NEW", "IN_PROGRESS", "DONE", "FAILED", "ABANDONED"])
async def test_every_status_is_accepted(api, status):
    resp = await create(api, {"queue_name": "q", "status": status})
    assert resp.status == 201
    item = await stored(api, "q", (await resp.json())["id"])
    assert item["status"] == status
    page = await (await api.get(f"/api/queue/q/items?status={status}", headers=AUTH)).json()
    assert [i["id"] for i in page["items"]] == [item["id"]]


@pytest.mark.parametrize("status", ["new", "PENDING", "", 1, True, ["NEW"], {"s": "NEW"}])
async def test_bad_status(api, status, work_keys):
    await expect_400(api, {"queue_name": "q", "status": status}, "status")
    assert await work_keys() == []


async def test_data_string_kept_as_is(api):
    resp = await create(api, {"queue_name": "q", "data": "plain text"})
    assert (await stored(api, "q", (await resp.json())["id"]))["data"] == "plain text"


@pytest.mark.parametrize("data", [{"a": [1, 2, {"b": None}]}, [1, "two", 3.5], {}, []])
async def test_data_object_or_array_is_stringified(api, data):
    resp = await create(api, {"queue_name": "q", "data": data})
    assert resp.status == 201
    text = (await stored(api, "q", (await resp.json())["id"]))["data"]
    assert isinstance(text, str) and json.loads(text) == data


async def test_data_2000_and_2001_characters(api, work_keys):
    assert (await create(api, {"queue_name": "q", "data": "x" * 2000})).status == 201
    await expect_400(api, {"queue_name": "q2", "data": "x" * 2001}, "data")
    as_json = json.dumps(["x" * 1996])  # '["' + 1996 + '"]' = 2000 characters
    assert len(as_json) == 2000
    assert (await create(api, {"queue_name": "q", "data": ["x" * 1996]})).status == 201
    await expect_400(api, {"queue_name": "q2", "data": ["x" * 1997]}, "data")
    assert all(b"q2" not in key for key in await work_keys())


@pytest.mark.parametrize("data", [1, 1.5, True, False])
async def test_data_of_another_type(api, data):
    await expect_400(api, {"queue_name": "q", "data": data}, "data")


@pytest.mark.parametrize("field", ["reference", "created_by"])
async def test_100_character_fields(api, field, work_keys):
    assert (await create(api, {"queue_name": "q", field: "r" * 100})).status == 201
    await expect_400(api, {"queue_name": "q2", field: "r" * 101}, field)
    await expect_400(api, {"queue_name": "q2", field: 12}, field)
    assert all(b"q2" not in key for key in await work_keys())


async def test_message(api):
    resp = await create(api, {"queue_name": "q", "message": "ünïcødé ✓ 🚀"})
    assert (await stored(api, "q", (await resp.json())["id"]))["message"] == "ünïcødé ✓ 🚀"
    await expect_400(api, {"queue_name": "q", "message": 5}, "message")
    await expect_400(api, {"queue_name": "q", "message": "m" * 10001}, "message")


@pytest.mark.parametrize("value", ["2025-04-26T12:00:00", "2025-04-26T12:00:00Z", "2025-04-26T12:00:00.123+02:00",
                                   "2025-04-26"])
async def test_created_date_iso8601(api, value):
    from datetime import datetime

    resp = await create(api, {"queue_name": "q", "created_date": value})
    assert resp.status == 201
    shown = (await stored(api, "q", (await resp.json())["id"]))["created_date"]
    assert datetime.fromisoformat(shown) == datetime.fromisoformat(value)


@pytest.mark.parametrize("value", ["yesterday", "2025-13-01T00:00:00", "", 1714000000, "2025-04-26T12:00:00" * 5])
async def test_bad_created_date(api, value, work_keys):
    await expect_400(api, {"queue_name": "q", "created_date": value}, "created_date")
    assert await work_keys() == []


@pytest.mark.parametrize("raw", [b"[]", b'"text"', b"1", b"null", b"{", b"not json", b"", b"\xff\xfe",
                                 b"[" * 100000])
async def test_body_must_be_a_json_object(api, raw, work_keys):
    resp = await api.post("/api/queue", data=raw, headers={**AUTH, "Content-Type": "application/json"})
    assert resp.status == 400
    assert "error" in await resp.json()
    assert await work_keys() == []


async def test_lone_surrogate_is_refused(api, work_keys):
    raw = b'{"queue_name": "q\\ud800"}'
    resp = await api.post("/api/queue", data=raw, headers={**AUTH, "Content-Type": "application/json"})
    assert resp.status == 400 and "queue_name" in (await resp.json())["error"]
    raw = b'{"queue_name": "q", "data": {"k": "\\udfff"}}'
    resp = await api.post("/api/queue", data=raw, headers={**AUTH, "Content-Type": "application/json"})
    assert resp.status == 400 and "data" in (await resp.json())["error"]
    assert await work_keys() == []


async def test_unknown_fields_are_ignored(api):
    resp = await create(api, {"queue_name": "q", "colour": 5})  # "priority" is a field since issue 14
    assert resp.status == 201


async def test_unicode_and_braces_in_queue_names(api, redis):
    name = "Équipe {ops}/🚀 %7D"
    resp = await create(api, {"queue_name": name})
    assert resp.status == 201
    item = await stored(api, name, (await resp.json())["id"])
    assert item["queue_name"] == name
    from redis.crc import key_slot

    slots = {key_slot(key) async for key in redis.scan_iter(match="mq:w:*")}
    assert len(slots) == 1  # the whole queue in one Cluster slot


async def test_idempotency_key_makes_retries_safe(api, redis):
    headers = {**AUTH, "Idempotency-Key": "order-77-attempt"}
    first = await api.post("/api/queue", json={"queue_name": "q"}, headers=headers)
    again = await api.post("/api/queue", json={"queue_name": "q"}, headers=headers)
    assert first.status == again.status == 201
    assert (await first.json())["id"] == (await again.json())["id"]
    other = await api.post("/api/queue", json={"queue_name": "q"}, headers={**AUTH, "Idempotency-Key": "other"})
    assert (await other.json())["id"] != (await first.json())["id"]
    assert await redis.zcard("mq:w:{q}:s:NEW") == 2
    too_long = await api.post("/api/queue", json={"queue_name": "q"}, headers={**AUTH, "Idempotency-Key": "k" * 201})
    assert too_long.status == 400 and "Idempotency-Key" in (await too_long.json())["error"]
