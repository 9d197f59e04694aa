"""QUEUE triggers that start robots: min_items, max_running, runs, exactly-once firing across
nodes, and their notifications (a signed webhook, a topic message) through the topics part."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json

import pytest

from tests.helpers import WebhookReceiver, topic_messages
from tests.work.conftest import AUTH


async def define(api, name="robot", **fields):
    resp = await api.post("/api/triggers", json={"trigger_name": name, **fields}, headers=AUTH)
    assert resp.status == 201, await resp.text()
    return await resp.json()


async def add(api, queue="jobs", **fields):
    resp = await api.post("/api/queue", json={"queue_name": queue, **fields}, headers=AUTH)
    assert resp.status == 201, await resp.text()
    return (await resp.json())["id"]


async def trigger(api, name="robot"):
    resp = await api.get(f"/api/triggers/{name}", headers=AUTH)
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def end(api, run_id, name="robot", status="done", expect=200):
    resp = await api.post(f"/api/triggers/{name}/runs/{run_id}", json={"status": status}, headers=AUTH)
    assert resp.status == expect, await resp.text()
    return await resp.json()


async def test_fires_at_min_items_then_waits_for_its_run_to_end(api):
    shown = await define(api, type="QUEUE", queue_name="jobs", min_items=3)
    assert shown["process_status"] == "IDLE" and shown["fired"] == 0 and shown["runs"] == []
    assert shown["min_items"] == 3 and shown["max_running"] == 1 and shown["run_timeout"] == 3600
    await add(api)
    await add(api)
    assert (await trigger(api))["process_status"] == "IDLE"
    await add(api)
    fired = await trigger(api)
    assert fired["process_status"] == "RUNNING" and fired["fired"] == 1 and fired["running"] == 1
    (run,) = fired["runs"]
    assert run["status"] == "RUNNING" and run["fired_at"] and run["ended_at"] is None
    for _ in range(5):
        await add(api)
    assert (await trigger(api))["fired"] == 1  # max_running 1: no second run while the first is active
    for _ in range(8):
        assert (await (await api.post("/api/queue/jobs/claim", json={}, headers=AUTH)).json())["item"]
    ended = await end(api, run["run_id"])
    assert ended["process_status"] == "IDLE" and ended["running"] == 0 and ended["fired"] == 1
    assert ended["runs"][0]["status"] == "done" and ended["runs"][0]["ended_at"]
    assert (await end(api, run["run_id"], expect=409))["error"].startswith("run ")


async def test_a_run_ending_with_items_left_starts_the_next(api):
    await define(api, type="QUEUE", queue_name="jobs", min_items=2)
    for _ in range(2):
        await add(api)
    first = (await trigger(api))["runs"][0]["run_id"]
    state = await end(api, first, status="failed")
    assert state["process_status"] == "RUNNING" and state["fired"] == 2
    assert [r["status"] for r in state["runs"]] == ["RUNNING", "failed"]


async def test_one_run_per_min_items_waiting_up_to_max_running(api):
    await define(api, type="QUEUE", queue_name="jobs", min_items=2, max_running=3)
    counts = []
    for _ in range(10):
        await add(api)
        counts.append((await trigger(api))["running"])
    assert counts == [0, 1, 1, 2, 2, 3, 3, 3, 3, 3]


async def test_items_already_waiting_fire_a_new_trigger(api):
    for _ in range(2):
        await add(api)
    assert (await define(api, type="QUEUE", queue_name="jobs", min_items=2))["running"] == 1


async def test_deferred_items_fire_when_they_come_due_through_the_sweep(api):
    await define(api, type="QUEUE", queue_name="jobs")
    resp = await api.get("/api/queue", headers=AUTH)  # the server's clock decides
    assert resp.status == 200
    from datetime import datetime, timedelta, timezone
    soon = (datetime.now(timezone.utc) + timedelta(seconds=1)).isoformat()
    await add(api, defer_until=soon)
    assert (await trigger(api))["fired"] == 0
    for _ in range(80):
        if (await trigger(api))["fired"] == 1:
            break
        await asyncio.sleep(0.05)
    assert (await trigger(api))["fired"] == 1


async def test_a_run_nobody_ends_expires_after_its_timeout(api):
    await define(api, type="QUEUE", queue_name="jobs", run_timeout="300ms")
    await add(api)
    run_id = (await trigger(api))["runs"][0]["run_id"]
    await asyncio.sleep(0.4)
    await add(api)  # any change of the queue (or the sweep) ends it, and the waiting items start the next
    shown = await trigger(api)
    assert shown["fired"] == 2 and shown["runs"][1] == {**shown["runs"][1], "run_id": run_id, "status": "expired"}


async def test_run_end_errors(api):
    await define(api, type="QUEUE", queue_name="jobs")
    await define(api, "single")
    await end(api, "1", expect=404)
    await end(api, "1", name="nope", expect=404)
    await end(api, "1", name="single", expect=404)
    assert "status" in (await end(api, "1", status="ok", expect=400))["error"]


@pytest.mark.parametrize("body", [{"min_items": 0}, {"min_items": "3"}, {"max_running": 101}, {"max_running": True},
                                  {"run_timeout": "25h"}, {"webhook_url": "ftp://x"}, {"webhook_url": "http://"},
                                  {"publish": "yes"}, {"secret": "s"}])
async def test_bad_trigger_fields_are_400(api, body):
    resp = await api.post("/api/triggers", json={"trigger_name": "t", "type": "QUEUE", "queue_name": "jobs", **body},
                          headers=AUTH)
    assert resp.status == 400 and "error" in await resp.json()
    assert (await api.get("/api/triggers/t", headers=AUTH)).status == 404


async def test_single_triggers_take_no_queue_fields(api):
    resp = await api.post("/api/triggers", json={"trigger_name": "t", "min_items": 2}, headers=AUTH)
    assert resp.status == 400 and "QUEUE" in (await resp.json())["error"]


async def test_a_deleted_trigger_fires_no_more(api):
    await define(api, type="QUEUE", queue_name="jobs", min_items=2)
    assert (await api.delete("/api/triggers/robot", headers=AUTH)).status == 200
    for _ in range(3):
        await add(api)
    await define(api, type="QUEUE", queue_name="jobs", min_items=5)
    assert (await trigger(api))["fired"] == 0


async def test_fires_exactly_once_when_100_workers_add_on_two_nodes(work_node, aiohttp_server):
    nodes = [await work_node(webhook_allow_private=True, webhook_secret="s3cret") for _ in range(2)]
    receiver = WebhookReceiver()
    url = str((await aiohttp_server(receiver.app)).make_url("/hook"))
    shown = await define(nodes[0], type="QUEUE", queue_name="jobs", min_items=50, max_running=1,
                         webhook_url=url, publish=True)
    assert shown["webhook_topic"] == "work-triggers.jobs" and shown["topic"] == "work.jobs"
    await asyncio.gather(*(add(nodes[i % 2], data={"n": i}) for i in range(100)))
    shown = await trigger(nodes[1])
    assert shown["fired"] == 1 and shown["running"] == 1 and shown["process_status"] == "RUNNING"
    await receiver.wait_for(1)
    await asyncio.sleep(1.5)  # a sweep round on each node: room for any duplicate
    assert len(receiver.posts) == 1
    headers, body = receiver.posts[0]
    expected = hmac.new(b"s3cret", headers["X-MicroQ-Timestamp"].encode() + b"." + body, hashlib.sha256).hexdigest()
    assert headers["X-MicroQ-Signature"] == "sha256=" + expected
    event = json.loads(body)
    assert event["type"] == "trigger.fired" and event["trigger_name"] == "robot" and event["queue"] == "jobs"
    assert event["run_id"] == shown["runs"][0]["run_id"] and event["waiting"] >= 50 and event["running"] == 1
    published = [m for m in await topic_messages(nodes[0], "work.jobs") if m["type"] == "trigger.fired"]
    assert len(published) == 1 and published[0]["run_id"] == event["run_id"]


async def test_a_trigger_webhook_with_its_own_secret_is_signed_with_it(work_node, aiohttp_server):
    node = await work_node(webhook_allow_private=True)
    receiver = WebhookReceiver()
    url = str((await aiohttp_server(receiver.app)).make_url("/hook"))
    shown = await define(node, type="QUEUE", queue_name="jobs", min_items=1, webhook_url=url, secret="robot-secret")
    assert "secret" not in json.dumps(shown)
    await add(node)
    await receiver.wait_for(1)
    headers, body = receiver.posts[0]
    assert headers["X-TinyMQ-Signature"] == "sha256=" + hmac.new(b"robot-secret", body, hashlib.sha256).hexdigest()
    stamped = hmac.new(b"robot-secret", headers["X-MicroQ-Timestamp"].encode() + b"." + body, hashlib.sha256)
    assert headers["X-MicroQ-Signature"] == "sha256=" + stamped.hexdigest()
    assert "secret" not in json.dumps(await trigger(node))


async def test_max_running_holds_under_concurrent_adds_and_ends(work_node):
    nodes = [await work_node() for _ in range(2)]
    await define(nodes[0], type="QUEUE", queue_name="jobs", min_items=1, max_running=3)
    await asyncio.gather(*(add(nodes[i % 2]) for i in range(60)))
    shown = await trigger(nodes[0])
    assert shown["running"] == 3 and shown["fired"] == 3
    runs = [r["run_id"] for r in shown["runs"]]
    await asyncio.gather(*(end(nodes[i % 2], run_id) for i, run_id in enumerate(runs)))
    shown = await trigger(nodes[1])  # each end started a next run: items still wait
    assert shown["running"] == 3 and shown["fired"] == 6


async def test_a_private_webhook_is_refused_and_nothing_is_made(api, redis):
    resp = await api.post("/api/triggers", json={"trigger_name": "t", "type": "QUEUE", "queue_name": "jobs",
                                                 "webhook_url": "http://127.0.0.1:9/x"}, headers=AUTH)
    assert resp.status == 400, await resp.text()
    assert (await api.get("/api/triggers/t", headers=AUTH)).status == 404
    assert await redis.hlen("mq:w:{jobs}:triggers") == 0
    assert (await api.post("/api/triggers", json={"trigger_name": "t", "type": "QUEUE", "queue_name": "jobs"},
                           headers=AUTH)).status == 201


async def test_single_trigger_status_changes_are_published_once(work_node):
    nodes = [await work_node() for _ in range(2)]
    await define(nodes[0], "nightly", publish=True)
    for i, status in enumerate(["RUNNING", "RUNNING", "DONE", "IDLE"]):
        resp = await nodes[i % 2].post("/api/trigger", json={"trigger_name": "nightly", "process_status": status},
                                       headers=AUTH)
        assert resp.status == 200
    for _ in range(40):
        found = await topic_messages(nodes[1], "work-trigger.nightly")
        if found:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    found += await topic_messages(nodes[1], "work-trigger.nightly")
    assert [(m["from"], m["to"]) for m in found] == [("IDLE", "RUNNING"), ("RUNNING", "DONE"), ("DONE", "IDLE")]


async def test_fires_once_with_two_real_nodes_and_100_workers(tmp_path, redis_url, on_cluster, redis, aiohttp_server):
    """Two `microq serve` processes on one Redis, 100 concurrent workers adding one item each,
    a webhook receiver: one firing, one signed delivery."""
    import aiohttp

    from tests.foundation.nodes import start_node, stop_node, wait_ready
    from tests.helpers import free_port

    receiver = WebhookReceiver()
    url = str((await aiohttp_server(receiver.app)).make_url("/hook"))
    env = {"REDIS_URL": redis_url, "MICROQ_API_KEYS": "test-key-0123456789", "MICROQ_WEBHOOK_ALLOW_PRIVATE": "1",
           "MICROQ_WEBHOOK_SECRET": "s3cret", "MICROQ_RATE_LIMIT_QUEUE": "100000/minute",
           "MICROQ_REDIS_CLUSTER": "1" if on_cluster else "0"}
    ports = [free_port(), free_port()]
    processes = []
    for i, port in enumerate(ports):
        (tmp_path / str(i)).mkdir()
        processes.append(start_node(tmp_path / str(i), [port], env=env))
    try:
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        for base, process in zip(bases, processes):
            await wait_ready(base, process)
        async with aiohttp.ClientSession(headers=AUTH) as session:
            async with session.post(f"{bases[0]}/api/triggers", json={
                    "trigger_name": "robot", "type": "QUEUE", "queue_name": "jobs", "min_items": 100,
                    "webhook_url": url}) as resp:
                assert resp.status == 201, await resp.text()

            async def worker(i: int) -> None:
                async with session.post(f"{bases[i % 2]}/api/queue", json={"queue_name": "jobs", "data": {"n": i}}) as r:
                    assert r.status == 201, await r.text()

            await asyncio.gather(*(worker(i) for i in range(100)))
            async with session.get(f"{bases[1]}/api/triggers/robot") as resp:
                shown = await resp.json()
        assert shown["fired"] == 1 and shown["running"] == 1
        await receiver.wait_for(1)
        await asyncio.sleep(1.5)
        assert len(receiver.posts) == 1
        assert json.loads(receiver.posts[0][1])["run_id"] == shown["runs"][0]["run_id"]
    finally:
        for process in processes:
            stop_node(process)


async def test_a_create_refused_for_its_name_leaves_no_webhook(work_node, aiohttp_server):
    from microq.events import event_sink

    api = await work_node(webhook_allow_private=True)
    await define(api, type="QUEUE", queue_name="jobs")
    url = str((await aiohttp_server(WebhookReceiver().app)).make_url("/hook"))
    resp = await api.post("/api/triggers", json={"trigger_name": "robot", "type": "QUEUE", "queue_name": "jobs",
                                                 "webhook_url": url}, headers=AUTH)
    assert resp.status == 409
    assert await event_sink(api.app).webhooks("work-triggers.jobs") == []
    await define(api, "second", type="QUEUE", queue_name="jobs", webhook_url=url)
    assert await event_sink(api.app).webhooks("work-triggers.jobs") == [url]


async def test_a_replayed_create_of_a_deleted_trigger_leaves_no_firing_state(api, redis):
    body = {"trigger_name": "t", "type": "QUEUE", "queue_name": "jobs"}
    headers = {**AUTH, "Idempotency-Key": "create-t-1"}
    assert (await api.post("/api/triggers", json=body, headers=headers)).status == 201
    assert (await api.delete("/api/triggers/t", headers=AUTH)).status == 200
    assert (await api.post("/api/triggers", json=body, headers=headers)).status == 201  # the first answer, replayed
    assert await redis.hlen("mq:w:{jobs}:triggers") == 0


async def test_a_queue_takes_20_queue_triggers(api):
    for i in range(20):
        await define(api, f"t{i}", type="QUEUE", queue_name="jobs", min_items=1000)
    resp = await api.post("/api/triggers", json={"trigger_name": "t20", "type": "QUEUE", "queue_name": "jobs"},
                          headers=AUTH)
    assert resp.status == 409 and "20" in (await resp.json())["error"]
    assert (await api.get("/api/triggers/t20", headers=AUTH)).status == 404
    assert (await api.delete("/api/triggers/t3", headers=AUTH)).status == 200
    await define(api, "t20", type="QUEUE", queue_name="jobs")
