"""No task outlives the app: the cause of test_fuzz's rare RecursionError.

test_fuzz opens SSE streams and hangs up; the node notices only at its next write, so at test
teardown the stream handler is cancelled while it waits in asyncio.wait. Its `changed.wait()`
task was left pending; the garbage collector later destroyed it wherever it ran, and the
"Task was destroyed but it is pending!" report, raised inside the fuzzer's 5000-deep JSON
parse, overflowed the stack in pytest's unraisable-exception hook.
"""

from __future__ import annotations

import asyncio

from aiohttp.test_utils import TestClient, TestServer

from microq.app import create_app


def _waiting_event_tasks() -> list[asyncio.Task]:
    return [task for task in asyncio.all_tasks()
            if task is not asyncio.current_task() and "Event.wait" in repr(task.get_coro())]


async def test_a_stream_cut_by_shutdown_leaves_no_pending_task(settings, redis):
    client = TestClient(TestServer(create_app(settings)))
    await client.start_server()
    try:
        created = await client.post("/api/acme/queues", json={"queue_id": "support", "name": "Support"})
        assert created.status == 201
        for path in ("/api/acme/support/stream", "/api/acme/support/status/nobody/stream"):
            response = await client.get(path)
            if response.content_type == "text/event-stream":
                await response.content.readline()
        await asyncio.sleep(0.1)
    finally:
        await client.close()  # cancels the stream handlers where they wait
    await asyncio.sleep(0)
    assert _waiting_event_tasks() == []
