"""topics: the TinyMQ broker API (seed 002). Routes in api.py and dashboard.py; storage in
store.py and scripts/lua/topics_*.lua; long-poll wake-ups in waiters.py; webhook delivery in
webhooks.py; stats heartbeats and sweeping in housekeeping.py; which topics exist in registry.py
(buckets in Redis) and index.py (each node's mirror, for wildcards); what is due in due.py;
a message's X-MQ-* headers, priority and delay in extras.py; consumer groups in store.py over
scripts/lua/topics_g*.lua."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import AsyncIterator

from aiohttp import web

from microq.appkeys import KEYSPACE, SCRIPTS, SETTINGS, SUBSCRIBER
from microq.events import EVENT_SINK
from microq.topics import api, dashboard, tinymq3
from microq.topics.appkeys import HOUSEKEEPER, TOPICS, WAIT_ROOM, WEBHOOKS
from microq.topics.bridge import TopicSink
from microq.topics.housekeeping import Housekeeper
from microq.topics.store import TopicStore
from microq.topics.waiters import WaitRoom
from microq.topics.webhooks import WebhookDispatcher

log = logging.getLogger(__name__)

SUBSCRIBE_WAIT = 5.0  #: seconds start-up waits for the pub/sub subscription before serving anyway


def setup(app: web.Application) -> None:
    """Add the topics routes and background tasks to app."""
    app.add_routes(api.routes)
    app.add_routes(dashboard.routes)
    tinymq3.setup(app)  # TinyMQ 3's admin API, streams and optional key
    app.cleanup_ctx.append(_topics_ctx)
    app.on_shutdown.append(_answer_waiters)


async def _topics_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    store = TopicStore(app[SCRIPTS], app[KEYSPACE], settings)
    room = WaitRoom(app[SUBSCRIBER], store.wake_channel, store.broadcast_channel)
    housekeeper = Housekeeper(store, room)
    dispatcher = WebhookDispatcher(store, settings)
    room.on_hook_work = housekeeper.on_hook_due = dispatcher.poke
    room.on_topic_seen = store.registry.learned
    app[TOPICS], app[WAIT_ROOM], app[HOUSEKEEPER], app[WEBHOOKS] = store, room, housekeeper, dispatcher
    app[EVENT_SINK] = TopicSink(store)  # lines' and work's events and webhooks (microq/events.py)
    await store.registry.refresh(0.0)  # the first requests see every topic
    tasks = [asyncio.create_task(room.listen(), name="topics-pubsub"),
             asyncio.create_task(store.registry.run(), name="topics-registry"),
             asyncio.create_task(housekeeper.run(), name="topics-housekeeping"),
             asyncio.create_task(dispatcher.run(), name="topics-webhooks")]
    try:  # a publish on another node right after start-up must already wake this node's waiters
        await asyncio.wait_for(room.subscribed.wait(), SUBSCRIBE_WAIT)
    except asyncio.TimeoutError:
        log.warning("topics pub/sub not subscribed yet; long-polls wake on their own timers until it is")
    try:
        yield
    finally:
        room.close()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await store.due.finish()


async def _answer_waiters(app: web.Application) -> None:
    """SIGTERM: every waiting long-poll answers now instead of holding the drain."""
    if WAIT_ROOM in app:
        app[WAIT_ROOM].close()
