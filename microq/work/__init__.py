"""work: seed 001's work items and SINGLE triggers, behind the security layer (see api.py)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import AsyncIterator

from aiohttp import web

from microq.appkeys import CLIENT_ADDRESS, KEYSPACE, SCRIPTS, SETTINGS
from microq.events import event_sink
from microq.security.api_keys import ApiKeyStore
from microq.security.gate import Gate
from microq.security.keys import SecurityKeys
from microq.security.rate_limit import RateLimit
from microq.work import api, pages
from microq.work.keys import WorkKeys
from microq.work.outbox import WorkOutbox
from microq.work.store import WorkStore
from microq.work.sweep import LeaseSweeper, OrchestrationSweeper

log = logging.getLogger(__name__)


async def _work_ctx(app: web.Application) -> AsyncIterator[None]:
    settings, scripts, keyspace = app[SETTINGS], app[SCRIPTS], app[KEYSPACE]
    gate = None
    if settings.work_auth:
        security_keys = SecurityKeys(keyspace)
        gate = Gate(scripts, security_keys, settings, app[CLIENT_ADDRESS])
        await _migrate_keys(ApiKeyStore(scripts, security_keys))
        if not settings.api_keys:
            log.info("MICROQ_API_KEYS is empty: the work API accepts only keys made by `microq api-key create`")
    else:
        log.warning("MICROQ_WORK_AUTH=off: the work API accepts every request, with no API key, "
                    "ban or rate limit. Use this only for benchmarks.")
    store = WorkStore(scripts, WorkKeys(keyspace), settings.work_max_retries, round(settings.work_lease * 1000))
    await _migrate_triggers(store)
    outbox = store.outbox = WorkOutbox(scripts, store.keys, lambda: event_sink(app))  # topics may start after us
    app[api.WORK] = api.Work(store, gate, RateLimit.per(settings.rate_limit_queue),
                             RateLimit.per(settings.rate_limit_trigger), outbox)
    sweepers = [asyncio.create_task(LeaseSweeper(store).run()),
                asyncio.create_task(OrchestrationSweeper(store, outbox).run())]
    yield
    for sweeper in sweepers:
        sweeper.cancel()
    for sweeper in sweepers:
        with contextlib.suppress(asyncio.CancelledError):
            await sweeper
    await outbox.finish()
    await store.finish()


async def _migrate_keys(store: ApiKeyStore) -> None:
    try:
        moved = await store.migrate_legacy()
    except Exception as exc:  # noqa: BLE001 - Redis away at start: the next start moves them
        log.warning("API keys made before this version not checked for migration (%s)", exc)
        return
    if moved:
        log.info("moved %d API keys out of the single {work} slot into their own slots", moved)


async def _migrate_triggers(store: WorkStore) -> None:
    try:
        moved = await store.migrate_trigger_registry()
    except Exception as exc:  # noqa: BLE001 - Redis away at start: the next start moves them
        log.warning("trigger names of earlier versions not checked for migration (%s)", exc)
        return
    if moved:
        log.info("moved %d trigger names out of the single registry set into their buckets", moved)


def setup(app: web.Application) -> None:
    """Add the work routes; the store and gate are built once Redis is connected."""
    app.cleanup_ctx.append(_work_ctx)
    app.add_routes(api.routes)
    app.add_routes(pages.routes)
