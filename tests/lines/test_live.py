"""Server-Sent Events: a change made on one node reaches streams open on another."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.lines.conftest import create_line


async def _next_event(response, name: str, timeout: float = 10.0) -> dict:
    """The data of the next SSE event called `name` (keep-alive comments and others are skipped)."""
    async def read() -> dict:
        event = None
        while True:
            line = (await response.content.readline()).decode()
            if not line:
                raise EOFError("stream ended")
            if line.startswith("event: "):
                event = line[7:].strip()
            elif line.startswith("data: ") and event == name:
                return json.loads(line[6:])
    return await asyncio.wait_for(read(), timeout)


async def test_line_stream_sees_other_nodes_changes(two_clients):
    a, b = two_clients
    line = await create_line(a)
    async with a.get(f"{line.base}/stream") as stream:
        assert stream.status == 200
        assert stream.headers["Content-Type"] == "text/event-stream"
        first = await _next_event(stream, "line")
        assert first["count"] == 0 and first["now_serving"] is None
        await line.join("Alex", client=b)
        update = await _next_event(stream, "line")
        while update["count"] != 1:
            update = await _next_event(stream, "line")
        assert update["queue"][0]["name"] == "Alex"
        await line.serve(client=b)
        update = await _next_event(stream, "line")
        while update["now_serving"] is None:
            update = await _next_event(stream, "line")
        assert update["now_serving"]["name"] == "Alex" and update["count"] == 0


async def test_entry_stream_follows_position_until_served(two_clients):
    a, b = two_clients
    line = await create_line(a)
    await line.join("first", client=b)
    me = await line.join("me", client=b)
    async with a.get(f"{line.base}/status/{me['entry']['id']}/stream") as stream:
        assert (await _next_event(stream, "status"))["position"] == 2
        await line.serve(client=b)
        update = await _next_event(stream, "status")
        while update["position"] != 1:
            update = await _next_event(stream, "status")
        assert update["eta_minutes"] == 4.0
        await line.serve(client=b)
        update = await _next_event(stream, "status")
        while update["entry"]["status"] != "served":
            update = await _next_event(stream, "status")
        assert update["position"] is None


async def test_stream_of_unknown_entry_is_404(line):
    response = await line.client.get(f"{line.base}/status/00000000-0000-4000-8000-000000000000/stream")
    assert response.status == 404
    assert "error" in await response.json()


async def test_shutdown_ends_streams_promptly(aiohttp_server, settings, redis):
    from aiohttp import ClientSession

    from microq.app import create_app

    server = await aiohttp_server(create_app(settings))
    async with ClientSession() as session:
        await session.post(f"{server.make_url('/api/acme/queues')}", json={"queue_id": "main", "name": "Main"})
        async with session.get(server.make_url("/api/acme/main/stream")) as stream:
            await _next_event(stream, "line")
            closing = asyncio.create_task(server.close())
            # the stream ends (EOF) well before the shutdown timeout would force it
            rest = await asyncio.wait_for(stream.content.read(), 5)
            assert b"event: line" not in rest
            await asyncio.wait_for(closing, 5)


async def test_stream_survives_a_lost_subscriber_connection(two_clients, redis):
    a, b = two_clients
    line = await create_line(a)
    async with a.get(f"{line.base}/stream") as stream:
        await _next_event(stream, "line")
        for _ in range(50):  # the subscription is made in the background: wait until it is
            if await redis.pubsub_numsub("mq:l:{acme/support}:live") != [(b"mq:l:{acme/support}:live", 0)]:
                break
            await asyncio.sleep(0.05)
        await redis.client_kill_filter(_type="pubsub")
        await asyncio.sleep(0.5)
        await line.join("Alex", client=b)
        update = await _next_event(stream, "line")
        while update["count"] != 1:
            update = await _next_event(stream, "line")


async def test_config_and_service_type_changes_reach_open_streams(two_clients):
    """ETAs depend on avg_service_time and entries show type names: changing either is pushed."""
    a, b = two_clients
    line = await create_line(a)
    created = await b.post(f"{line.base}/service-types", json={"name": "Returns", "code": "RET"}, headers=line.admin)
    type_id = (await created.json())["id"]
    await line.join("Alex", client=b, service_type_id=type_id)

    async def until(stream, field: str, value) -> None:  # a stream may repeat the current state first
        while (await _next_event(stream, "line"))["queue"][0][field] != value:
            pass

    async with a.get(f"{line.base}/stream") as stream:
        first = await _next_event(stream, "line")
        assert first["queue"][0]["eta_minutes"] == 4.0
        await b.patch(f"/api/{line.tenant}/queues/{line.queue}", json={"avg_service_time": 7}, headers=line.admin)
        await until(stream, "eta_minutes", 7.0)
        await b.patch(f"{line.base}/service-types/{type_id}", json={"name": "Refunds"}, headers=line.admin)
        await until(stream, "service_type_name", "Refunds")
        await b.delete(f"{line.base}/service-types/{type_id}", headers=line.admin)
        await until(stream, "service_type_name", None)


async def test_head_on_a_stream_is_refused_without_a_body(line):
    """HEAD of an SSE route wrote events after the headers: the next response on the connection
    started with `retry: 2000` (a desynchronised keep-alive connection)."""
    joined = await line.join("Alex")
    for path in (f"{line.base}/stream", f"{line.base}/status/{joined['entry']['id']}/stream"):
        response = await asyncio.wait_for(line.client.head(path), 10)
        assert response.status == 405, path
        # the same keep-alive connection still answers the next request cleanly
        assert (await line.client.get(f"{line.base}/list")).status == 200


@pytest.mark.single_redis("stops and restarts a redis-server of its own (tests/faults restarts Cluster primaries)")
async def test_streams_wait_out_a_redis_restart(aiohttp_client, settings, tmp_path):
    """Redis killed under an open line stream, and a stream opened while it is down: both answer
    200 and stay open (a browser's EventSource gives up for good on a 503), and both show the
    line once Redis is back on its port."""
    from microq.app import create_app
    from tests.helpers import RedisProcess, until_ready

    server = RedisProcess(tmp_path / "restart", appendonly=True).start()
    try:
        client = await aiohttp_client(create_app(settings.replace(redis_url=server.url)))
        line = await create_line(client)
        async with client.get(f"{line.base}/stream") as open_before:
            assert (await _next_event(open_before, "line"))["count"] == 0
            server.process.kill()
            server.process.wait(10)
            async with client.get(f"{line.base}/stream") as opened_during:
                assert opened_during.status == 200
                await asyncio.sleep(1.5)  # the lost pub/sub wakes the first stream: its read finds Redis away
                server.start()
                await until_ready(client)
                await line.join("Alex")
                for stream in (open_before, opened_during):
                    update = await _next_event(stream, "line", timeout=15)
                    while update["count"] != 1:
                        update = await _next_event(stream, "line", timeout=15)
                    assert update["queue"][0]["name"] == "Alex"
    finally:
        server.stop()
