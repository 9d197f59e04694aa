"""Triggers: POST /api/trigger (seed 001) and the /api/triggers management extension."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from microq.keys import Keyspace
from microq.work.keys import WorkKeys
from tests.work.conftest import AUTH


async def define(api, name="MyAutomationTrigger", **fields):
    resp = await api.post("/api/triggers", json={"trigger_name": name, **fields}, headers=AUTH)
    assert resp.status == 201, await resp.text()
    return await resp.json()


async def set_status(api, body):
    return await api.post("/api/trigger", json=body, headers=AUTH)


async def test_seed_example(api):
    await define(api)
    resp = await set_status(api, {"trigger_name": "MyAutomationTrigger", "process_status": "IDLE"})
    assert resp.status == 200
    assert await resp.json() == {"success": True, "trigger_name": "MyAutomationTrigger", "new_status": "IDLE"}


async def test_status_is_stored_and_defaults_to_idle(api):
    await define(api, "t")
    assert (await set_status(api, {"trigger_name": "t", "process_status": "RUNNING"})).status == 200
    assert (await (await api.get("/api/triggers/t", headers=AUTH)).json())["process_status"] == "RUNNING"
    resp = await set_status(api, {"trigger_name": "t"})
    assert (await resp.json())["new_status"] == "IDLE"
    assert (await (await api.get("/api/triggers/t", headers=AUTH)).json())["process_status"] == "IDLE"


async def test_unknown_trigger_is_404(api):
    resp = await set_status(api, {"trigger_name": "nope", "process_status": "DONE"})
    assert resp.status == 404 and "error" in await resp.json()


async def test_queue_trigger_is_404_wrong_type(api):
    await define(api, "watcher", type="QUEUE", queue_name="jobs")
    resp = await set_status(api, {"trigger_name": "watcher", "process_status": "RUNNING"})
    assert resp.status == 404 and "SINGLE" in (await resp.json())["error"]
    assert (await (await api.get("/api/triggers/watcher", headers=AUTH)).json())["process_status"] == "IDLE"


@pytest.mark.parametrize("body", [{}, {"trigger_name": None}, {"trigger_name": ""}, {"trigger_name": 3},
                                  {"trigger_name": "t" * 101}, {"process_status": "IDLE"}])
async def test_bad_trigger_name(api, body):
    resp = await set_status(api, body)
    assert resp.status == 400 and "trigger_name" in (await resp.json())["error"]


@pytest.mark.parametrize("status", ["", "has space", "x" * 51, 1, ["IDLE"], "ÏDLE", "a;b"])
async def test_bad_status_token(api, status):
    await define(api, "t")
    resp = await set_status(api, {"trigger_name": "t", "process_status": status})
    assert resp.status == 400 and "process_status" in (await resp.json())["error"]
    assert (await (await api.get("/api/triggers/t", headers=AUTH)).json())["process_status"] == "IDLE"


@pytest.mark.parametrize("raw", [b"", b"[]", b"null", b"{bad"])
async def test_trigger_body_must_be_object(api, raw):
    resp = await api.post("/api/trigger", data=raw, headers={**AUTH, "Content-Type": "application/json"})
    assert resp.status == 400


async def test_create_list_get_delete(api):
    single = await define(api, "b-single", description="nightly run")
    assert single["type"] == "SINGLE" and single["process_status"] == "IDLE" and single["queue_name"] is None
    watcher = await define(api, "a-queue", type="QUEUE", queue_name="jobs", process_status="RUNNING")
    assert watcher["waiting"] == 0
    for _ in range(3):
        await api.post("/api/queue", json={"queue_name": "jobs"}, headers=AUTH)
    listed = (await (await api.get("/api/triggers", headers=AUTH)).json())["triggers"]
    assert [t["trigger_name"] for t in listed] == ["a-queue", "b-single"]
    assert listed[0]["waiting"] == 3 and "waiting" not in listed[1]
    assert (await api.delete("/api/triggers/b-single", headers=AUTH)).status == 200
    assert (await api.get("/api/triggers/b-single", headers=AUTH)).status == 404
    assert (await api.delete("/api/triggers/b-single", headers=AUTH)).status == 404
    listed = (await (await api.get("/api/triggers", headers=AUTH)).json())["triggers"]
    assert [t["trigger_name"] for t in listed] == ["a-queue"]


async def test_null_type_and_status_take_the_defaults(api):
    resp = await api.post("/api/triggers", json={"trigger_name": "t", "type": None, "process_status": None,
                                                 "queue_name": None, "description": None}, headers=AUTH)
    assert resp.status == 201, await resp.text()
    shown = await resp.json()
    assert shown["type"] == "SINGLE" and shown["process_status"] == "IDLE"


async def test_duplicate_name_is_409(api):
    await define(api, "t")
    resp = await api.post("/api/triggers", json={"trigger_name": "t", "type": "QUEUE", "queue_name": "q"},
                          headers=AUTH)
    assert resp.status == 409
    assert (await (await api.get("/api/triggers/t", headers=AUTH)).json())["type"] == "SINGLE"


@pytest.mark.parametrize("body", [{"trigger_name": "t", "type": "CRON"}, {"trigger_name": "t", "type": "QUEUE"},
                                  {"trigger_name": "t", "queue_name": "q"},
                                  {"trigger_name": "t", "description": "d" * 1001},
                                  {"trigger_name": "t", "process_status": "no way"},
                                  {"trigger_name": "t", "type": "QUEUE", "queue_name": ".."}])
async def test_bad_definitions(api, body):
    resp = await api.post("/api/triggers", json=body, headers=AUTH)
    assert resp.status == 400
    assert (await api.get("/api/triggers/t", headers=AUTH)).status == 404


@pytest.mark.parametrize("name", [".", ".."])
async def test_dot_segment_trigger_names_are_refused(api, name):
    """/api/triggers/.. cannot reach a trigger named "..": it could never be read or deleted."""
    resp = await api.post("/api/triggers", json={"trigger_name": name}, headers=AUTH)
    assert resp.status == 400 and "trigger_name" in (await resp.json())["error"]
    assert (await (await api.get("/api/triggers", headers=AUTH)).json())["triggers"] == []


async def test_names_with_any_character(api):
    name = "nightly/{ops} ✓ 50%"
    await define(api, name)
    resp = await set_status(api, {"trigger_name": name, "process_status": "DONE"})
    assert resp.status == 200
    shown = await (await api.get(f"/api/triggers/{quote(name, safe='')}", headers=AUTH)).json()
    assert shown["trigger_name"] == name and shown["process_status"] == "DONE"


async def test_registry_heals_on_repeated_create(api, redis):
    await define(api, "t")
    await redis.delete(WorkKeys(Keyspace("mq:")).trigger_names("t"))  # as if a crash hit between the hash and the registry write
    assert (await (await api.get("/api/triggers", headers=AUTH)).json())["triggers"] == []
    resp = await api.post("/api/triggers", json={"trigger_name": "t"}, headers=AUTH)
    assert resp.status == 409
    listed = (await (await api.get("/api/triggers", headers=AUTH)).json())["triggers"]
    assert [t["trigger_name"] for t in listed] == ["t"]


async def test_triggers_are_listed_from_every_registry_bucket(api, redis):
    names = [f"trigger-{i}" for i in range(30)]
    for name in names:
        await define(api, name)
    keys = WorkKeys(Keyspace("mq:"))
    assert len({keys.trigger_names(name) for name in names}) > 8
    listed = (await (await api.get("/api/triggers", headers=AUTH)).json())["triggers"]
    assert [t["trigger_name"] for t in listed] == sorted(names)


async def test_trigger_names_of_earlier_versions_move_at_start(work_node, redis):
    keys = WorkKeys(Keyspace("mq:"))
    await redis.hset(keys.trigger("Old"), mapping={"name": "Old", "type": "SINGLE", "process_status": "IDLE",
                                                   "queue_name": "", "description": "", "created_ms": 1,
                                                   "updated_ms": 1})
    await redis.sadd(keys.legacy_trigger_names, "Old")
    node = await work_node()
    listed = (await (await node.get("/api/triggers", headers=AUTH)).json())["triggers"]
    assert [t["trigger_name"] for t in listed] == ["Old"]
    assert not await redis.exists(keys.legacy_trigger_names)
