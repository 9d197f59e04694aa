"""The work API: seed 001's POST /api/queue and POST /api/trigger, and the extensions a work
queue's users need (list, get, claim, finish items; manage triggers), all behind the gate."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable

from aiohttp import web

from microq import idempotency, parse
from microq.errors import BadRequest, MicroQError, NotFound
from microq.http import read_json, read_object
from microq.idempotency import Once
from microq.security.gate import Gate
from microq.security.rate_limit import RateLimit
from microq.work import fields
from microq.work.keys import FINAL
from microq.work.outbox import EVENTS_PREFIX, WorkOutbox, published_topic, topic_name, trigger_topic
from microq.work.store import Item, Trigger, WorkStore

routes = web.RouteTableDef()
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Work:
    store: WorkStore
    gate: Gate | None  #: None when MICROQ_WORK_AUTH=off
    queue_limit: RateLimit
    trigger_limit: RateLimit
    outbox: WorkOutbox | None = None  #: forwards outboxes to topics (None in tests of the store alone)


WORK = web.AppKey("work", Work)


def guarded(bucket: str, *, trigger_limit: bool = False) -> Callable[[Handler], Handler]:
    """Admit the request (key, ban, rate limit of `bucket`) before the handler reads anything."""

    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def admitted(request: web.Request) -> web.StreamResponse:
            work = request.app[WORK]
            if work.gate is None:
                return await handler(request)
            limit = work.trigger_limit if trigger_limit else work.queue_limit
            headers = await work.gate.admit(request, bucket, limit)
            try:
                response = await handler(request)
            except MicroQError as exc:
                exc.headers = {**headers, **exc.headers}
                raise
            for name, value in headers.items():  # a bulk add's own admission (of all its items) is newer
                response.headers.setdefault(name, value)
            return response

        return admitted

    return wrap


def _iso(ms: Any) -> str | None:
    if ms is None:
        return None
    moment = datetime.fromtimestamp(int(ms) / 1000, timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def item_json(item: Item, now_ms: int) -> dict[str, Any]:
    """An item as the API shows it; `overdue` (its SLA flag) compares due_date with Redis's now_ms."""
    due_ms = item.get("due_ms")
    return {
        "id": item["id"],
        "queue_name": item["queue_name"],
        "status": item["status"],
        "data": item.get("data"),
        "reference": item.get("reference"),
        "message": item.get("message"),
        "created_by": item.get("created_by"),
        "created_date": item.get("created_date") or _iso(item["created_ms"]),
        "updated_date": _iso(item["updated_ms"]),
        "claimed_by": item.get("claimed_by"),
        "claimed_date": _iso(item.get("claimed_ms")),
        "lease_expires": _iso(item.get("lease_ms")),
        "retries": item.get("retries", 0),
        "priority": item.get("priority") or "Normal",
        "defer_until": _iso(item.get("defer_ms")),
        "due_date": _iso(due_ms),
        "overdue": due_ms is not None and due_ms <= now_ms and item["status"] not in FINAL,
        "exception_type": item.get("exception_type"),
        "retry_number": item.get("retry_number", 0),
        "parent_id": item.get("parent_id"),
        "retried_as": item.get("retried_as"),
    }


def claimed_json(item: Item) -> dict[str, Any]:
    """A claim's or heartbeat's answer: the item and the fencing token its holder sends back."""
    return {"success": True, "item": item_json(item, item["updated_ms"]), "lease_token": item["lease_token"],
            "lease_expires": _iso(item["lease_ms"])}


async def trigger_json(store: WorkStore, trigger: Trigger) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "trigger_name": trigger["name"],
        "type": trigger["type"],
        "process_status": trigger["process_status"],
        "queue_name": trigger.get("queue_name") or None,
        "description": trigger.get("description") or None,
        "created_date": _iso(trigger["created_ms"]),
        "updated_date": _iso(trigger["updated_ms"]),
    }
    if trigger.get("webhook_url") or trigger.get("publish") == "1":
        shown["webhook_url"] = trigger.get("webhook_url") or None
        shown["webhook_topic"] = trigger_topic(trigger) if trigger.get("webhook_url") else None
        shown["topic"] = published_topic(trigger)
    if trigger["type"] == "QUEUE":
        shown["waiting"] = await store.waiting(trigger["queue_name"])
        state = await store.heal_queue_trigger(trigger)
        shown.update(run_fields(state))
    return shown


def run_fields(state: dict[str, Any]) -> dict[str, Any]:
    """A QUEUE trigger's firing fields: its rule, its status and its runs (active first, then the
    latest finished, newest first)."""
    active = sorted(state["active"].items(), key=lambda run: -int(run[0]))
    return {
        "process_status": state["process_status"],
        "min_items": state["min_items"],
        "max_running": state["max_running"],
        "run_timeout": state["run_timeout_ms"] / 1000,
        "running": len(active),
        "fired": state.get("fired", 0),
        "last_fired": _iso(state.get("last_fired_ms")),
        "runs": [{"run_id": run_id, "status": "RUNNING", "fired_at": _iso(fired_ms), "ended_at": None}
                 for run_id, fired_ms in active]
        + [{"run_id": run["run_id"], "status": run["status"], "fired_at": _iso(run["fired_ms"]),
            "ended_at": _iso(run["ended_ms"])} for run in state["recent"]],
    }


async def once(request: web.Request, key_of: Callable[[str], str], ttl_ms: int | None = None) -> Once | None:
    """The Idempotency-Key of a state-changing request, scoped to the entity whose slot key_of
    builds keys in (a queue or a trigger); remembered 24 h, or ttl_ms (a claim: its lease)."""
    raw = request.headers.get(idempotency.HEADER)
    if raw is None:
        return None
    fields.checked(idempotency.HEADER, raw, fields.TOKEN_MAX)  # the work API's own bound, from before the foundation's
    found = await idempotency.once_for(request, key_of)
    if found is not None and ttl_ms is not None:
        found = dataclasses.replace(found, ttl_ms=ttl_ms)
    return found


def _queue_name(request: web.Request) -> str:
    return fields.checked("queue_name", request.match_info["queue_name"], fields.NAME_MAX, required=True)


#: (body field, stored field, reader) of a new item's optional fields, in the order they are checked
_ITEM_FIELDS: tuple[tuple[str, str, Callable[[dict[str, Any]], Any]], ...] = (
    ("data", "data", fields.data),
    ("reference", "reference", lambda body: fields.text(body, "reference", fields.NAME_MAX)),
    ("message", "message", lambda body: fields.text(body, "message", fields.MESSAGE_MAX)),
    ("created_by", "created_by", lambda body: fields.text(body, "created_by", fields.NAME_MAX)),
    ("created_date", "created_date", fields.created_date),
    ("priority", "priority", fields.priority),
    ("defer_until", "defer_ms", lambda body: fields.moment_ms(body, "defer_until")),
    ("due_date", "due_ms", lambda body: fields.moment_ms(body, "due_date")),
)


def new_item(body: dict[str, Any], queue_name: str) -> Item:
    """A new item's stored fields from a create's body (absent fields are not stored). Only the
    fields present are read: a bulk add of 1000 items spends most of its node time here."""
    item: Item = {"queue_name": queue_name, "status": fields.item_status(body)}
    present = body.keys()
    for field, stored, read in _ITEM_FIELDS:
        if field in present and body[field] is not None:
            value = read(body)
            if value is not None:
                item[stored] = value
    return item


# -- seed 001


@routes.post("/api/queue")
@guarded("queue")
async def create_item(request: web.Request) -> web.Response:
    body = await read_object(request, empty_ok=False)
    item = new_item(body, fields.name(body, "queue_name"))
    store = request.app[WORK].store
    retry = await once(request, store.keys.queue(item["queue_name"]).entity)
    item_id = await store.create(item, retry)
    return web.json_response({"success": True, "id": item_id}, status=201)


@routes.post("/api/trigger")
@guarded("trigger", trigger_limit=True)
async def set_trigger_status(request: web.Request) -> web.Response:
    body = await read_object(request, empty_ok=False)
    name = fields.text(body, "trigger_name", fields.NAME_MAX, required=True)
    status = fields.status_token(body, "process_status", "IDLE")
    store = request.app[WORK].store
    await store.set_trigger_status(name, status, await once(request, store.keys.trigger_entity(name)))
    return web.json_response({"success": True, "trigger_name": name, "new_status": status})


# -- work queue extensions

QUEUES_PAGE_MAX = 100  #: queues one GET /api/queue lists at most (each costs one counts script)


@routes.get("/api/queue")
@guarded("queue-read")
async def list_queues(request: web.Request) -> web.Response:
    """Every work queue (from the index of queue names the adds keep, never a keyspace scan), by name, paged by
    ?cursor=<the last name of the previous page>&limit=50, each with its counts."""
    query = request.query
    try:
        limit = parse.whole_number(query.get("limit", "50"), 1, QUEUES_PAGE_MAX)
    except ValueError as exc:
        raise BadRequest(f"limit: {exc}") from None
    after = fields.checked("cursor", query.get("cursor", ""), fields.NAME_MAX)
    store = request.app[WORK].store
    names = await store.list_queue_names(after, limit)
    counted = await asyncio.gather(*(store.counts(name) for name in names))
    queues = [{"name": name, "counts": counts, "overdue": overdue, "deferred": deferred,
               "total": sum(counts.values())} for name, (counts, overdue, deferred) in zip(names, counted)]
    return web.json_response({"queues": queues, "next": names[-1] if len(names) == limit else None})


BULK_MAX = 1000  #: items in one bulk add at most
ERRORS_SHOWN = 20  #: invalid items a refused bulk add names at most
VALIDATE_SLICE = 100  #: items checked between two turns of the event loop


@routes.post("/api/queue/{queue_name:[^/]+}/bulk")
@guarded("queue")  # the create budget: the gate takes one place, the handler one more per further item
async def bulk_add(request: web.Request) -> web.Response:
    name = _queue_name(request)
    body = await read_json(request)
    entries = body.get("items") if isinstance(body, dict) else body
    if not isinstance(entries, list) or not 1 <= len(entries) <= BULK_MAX:
        raise BadRequest(f"the body must be an array of 1 to {BULK_MAX} items (or {{\"items\": [...]}})")
    work = request.app[WORK]
    places = None
    if work.gate is not None and len(entries) > 1:
        # the further items' places are taken while the items are checked (Redis may be busy with
        # another bulk add for tens of ms), and given back if one of them is invalid
        places = asyncio.ensure_future(work.gate.take(request, "queue", work.queue_limit, len(entries) - 1))
    try:
        items, errors = await _checked(entries, name)
    except BaseException:  # cancelled: the take ends with the request, as any admission would
        if places is not None:
            places.cancel()
        raise
    if errors:
        if places is not None:
            await _give_back(work, places)
        shown = "; ".join(errors[:ERRORS_SHOWN]) + ("; ..." if len(errors) > ERRORS_SHOWN else "")
        raise BadRequest(f"{len(errors)} of {len(entries)} items are invalid, so none was added: {shown}")
    headers = (await places).headers if places is not None else {}
    retry = await once(request, work.store.keys.queue(name).entity)
    ids = await work.store.add(name, items, retry)
    return web.json_response({"success": True, "queue_name": name, "count": len(ids), "ids": ids}, status=201,
                             headers=headers)


async def _checked(entries: list, name: str) -> tuple[list[Item], list[str]]:
    """A bulk add's items as new_item makes them, and what is wrong with the invalid ones."""
    items, errors = [], []
    for index, entry in enumerate(entries):
        if index and index % VALIDATE_SLICE == 0:
            await asyncio.sleep(0)  # 1000 items take ~15 ms to check: let other requests run between slices
        try:
            if not isinstance(entry, dict):
                raise BadRequest("must be an object")
            if entry.get("queue_name") not in (None, name):
                raise BadRequest("queue_name must be absent or the path's queue")
            items.append(new_item(entry, name))
        except BadRequest as exc:
            errors.append(f"items[{index}]: {exc}")
    return items, errors


async def _give_back(work: Work, places: asyncio.Future) -> None:
    """A refused bulk add's places: nothing to return if the take itself was refused (or failed)."""
    try:
        taken = await places
    except MicroQError:
        return
    await work.gate.give_back(taken)


@routes.get("/api/queue/{queue_name:[^/]+}")
@guarded("queue-read")
async def queue_summary(request: web.Request) -> web.Response:
    name = _queue_name(request)
    counts, overdue, deferred = await request.app[WORK].store.counts(name)
    return web.json_response({"queue_name": name, "counts": counts, "overdue": overdue, "deferred": deferred})


@routes.get("/api/queue/{queue_name:[^/]+}/items")
@guarded("queue-read")
async def list_items(request: web.Request) -> web.Response:
    name = _queue_name(request)
    status, after, limit = fields.page(request.query)
    total, now_ms, items = await request.app[WORK].store.page(name, status, after, limit)
    cursor = str(items[-1]["seq"]) if len(items) == limit else None
    return web.json_response({"queue_name": name, "status": status, "total": total,
                              "items": [item_json(item, now_ms) for item in items], "next": cursor})


@routes.get("/api/queue/{queue_name:[^/]+}/find")
@guarded("queue-read")
async def find_items(request: web.Request) -> web.Response:
    """?reference=X (exact, any status) or ?status=S&from=<ISO>&to=<ISO> (created in that range,
    either end optional); both paged by ?after=<cursor>&limit=100, oldest first."""
    name = _queue_name(request)
    query = request.query
    after, limit = fields.cursor(query)
    store = request.app[WORK].store
    if "reference" in query:
        if {"status", "from", "to"} & set(query):
            raise BadRequest("find by reference alone, or by status and date range")
        reference = fields.checked("reference", query["reference"], fields.NAME_MAX)
        if not reference:
            raise BadRequest("reference must not be empty")
        now_ms, items, following = await store.find_reference(name, reference, after, limit)
        shown = {"reference": reference}
    elif "status" in query:
        status = fields.page(query)[0]
        from_ms = fields.moment_ms(dict(query), "from")
        to_ms = fields.moment_ms(dict(query), "to")
        if from_ms is not None and to_ms is not None and from_ms > to_ms:
            raise BadRequest("from must not be after to")
        now_ms, items, following = await store.find_dates(name, status, 0 if from_ms is None else from_ms,
                                               2**53 - 1 if to_ms is None else to_ms, after, limit)
        shown = {"status": status, "from": _iso(from_ms), "to": _iso(to_ms)}
    else:
        raise BadRequest("find needs ?reference=... or ?status=... (with optional from and to)")
    return web.json_response({"queue_name": name, **shown, "items": [item_json(item, now_ms) for item in items],
                              "next": None if following is None else str(following)})


@routes.get("/api/queue/{queue_name:[^/]+}/items/{item_id:[^/]+}")
@guarded("queue-read")
async def get_item(request: web.Request) -> web.Response:
    now_ms, item = await request.app[WORK].store.get(_queue_name(request), request.match_info["item_id"])
    if item is None:
        raise NotFound("no such item in this queue")
    return web.json_response(item_json(item, now_ms))


def history_json(item: Item) -> list[dict[str, Any]]:
    """Every transition of an item, oldest first: its creation (from the item's own fields), then
    the ones kept with it (the latest HISTORY_MAX)."""
    created = {"at": _iso(item["created_ms"]), "from": None, "to": item.get("first_status", "NEW"),
               "by": item.get("created_by"), "message": None}
    if item.get("parent_id"):
        created["message"] = f"retry {item.get('retry_number', 0)} of {item['parent_id']}"
    return [created] + [{"at": _iso(entry["at"]), "from": entry["from"] or None, "to": entry["to"],
                         "by": entry["by"] or None, "message": entry["message"] or None}
                        for entry in item.get("history", ())]


@routes.get("/api/queue/{queue_name:[^/]+}/items/{item_id:[^/]+}/history")
@guarded("queue-read")
async def item_history(request: web.Request) -> web.Response:
    name = _queue_name(request)
    _, item = await request.app[WORK].store.get(name, request.match_info["item_id"])
    if item is None:
        raise NotFound("no such item in this queue")
    return web.json_response({"queue_name": name, "id": item["id"], "status": item["status"],
                              "history": history_json(item), "dropped": item.get("history_dropped", 0)})


@routes.post("/api/queue/{queue_name:[^/]+}/claim")
@guarded("queue-claim")
async def claim_item(request: web.Request) -> web.Response:
    name = _queue_name(request)
    body = await read_object(request)
    claimed_by = fields.text(body, "claimed_by", fields.NAME_MAX) or ""
    work = request.app[WORK]
    lease_ms = fields.lease_ms(body) or await work.store.queue_lease_ms(name)
    retry = await once(request, work.store.keys.queue(name).entity, ttl_ms=lease_ms)  # same item while the lease holds
    item = await work.store.claim(name, claimed_by, lease_ms, retry)
    if item is None:
        return web.json_response({"success": True, "item": None})
    return web.json_response(claimed_json(item))


@routes.post("/api/queue/{queue_name:[^/]+}/items/{item_id:[^/]+}/heartbeat")
@guarded("queue-heartbeat")
async def heartbeat(request: web.Request) -> web.Response:
    name = _queue_name(request)
    body = await read_object(request, empty_ok=False)
    token = fields.lease_token(body, required=True)
    lease_ms = fields.lease_ms(body)
    work = request.app[WORK]
    retry = await once(request, work.store.keys.queue(name).entity,
                       ttl_ms=lease_ms or await work.store.queue_lease_ms(name))
    item = await work.store.heartbeat(name, request.match_info["item_id"], token, lease_ms, retry)
    return web.json_response(claimed_json(item))


@routes.post("/api/queue/{queue_name:[^/]+}/items/{item_id:[^/]+}/status")
@guarded("queue-status")
async def set_item_status(request: web.Request) -> web.Response:
    name = _queue_name(request)
    body = await read_object(request, empty_ok=False)
    status = body.get("status")
    if status not in ("NEW", "DONE", "FAILED", "ABANDONED"):
        raise BadRequest("status must be one of NEW, DONE, FAILED, ABANDONED")
    message = fields.text(body, "message", fields.MESSAGE_MAX)
    token = fields.lease_token(body, required=False)
    exception_type = fields.exception_type(body, status)
    by = fields.text(body, "by", fields.NAME_MAX) or ""
    store = request.app[WORK].store
    retry = await once(request, store.keys.queue(name).entity)
    item, follow_up = await store.set_status(name, request.match_info["item_id"], status, message, token, retry,
                                             exception_type=exception_type, by=by)
    now_ms = item["updated_ms"]
    return web.json_response({"success": True, "item": item_json(item, now_ms),
                              "retry": None if follow_up is None else item_json(follow_up, now_ms)})


def settings_json(store: WorkStore, name: str, own: dict[str, Any]) -> dict[str, Any]:
    """A queue's effective settings: its own, else the node's defaults (lease and retention in seconds)."""
    return {
        "queue_name": name,
        "max_retries": own.get("max_retries", store.max_retries),
        "unique_reference": own.get("unique_reference", False),
        "lease": own.get("lease_ms", store.lease_ms) / 1000,
        "retention": own.get("retention_ms", store.retention_ms) / 1000,
        "events_topic": own.get("events_topic", False),
        "topic": topic_name(EVENTS_PREFIX, name),
    }


@routes.get("/api/queue/{queue_name:[^/]+}/settings")
@guarded("queue-read")
async def get_settings(request: web.Request) -> web.Response:
    name = _queue_name(request)
    store = request.app[WORK].store
    return web.json_response(settings_json(store, name, await store.settings(name)))


@routes.put("/api/queue/{queue_name:[^/]+}/settings")
@guarded("queue-settings")
async def put_settings(request: web.Request) -> web.Response:
    name = _queue_name(request)
    changes = fields.settings_changes(await read_object(request))
    store = request.app[WORK].store
    own = await store.save_settings(name, changes, await once(request, store.keys.queue(name).entity))
    return web.json_response(settings_json(store, name, own))


# -- trigger extensions


@routes.get("/api/triggers")
@guarded("triggers-read")
async def list_triggers(request: web.Request) -> web.Response:
    store = request.app[WORK].store
    triggers = await store.list_triggers()
    return web.json_response({"triggers": [await trigger_json(store, t) for t in triggers]})


@routes.post("/api/triggers")
@guarded("triggers-write")
async def create_trigger(request: web.Request) -> web.Response:
    body = await read_object(request, empty_ok=False)
    name = fields.name(body, "trigger_name")
    kind = body.get("type")
    if kind is None:  # absent or null: the default, as for every optional field
        kind = "SINGLE"
    if kind not in ("SINGLE", "QUEUE"):
        raise BadRequest("type must be SINGLE or QUEUE")
    queue_name = fields.name(body, "queue_name", required=kind == "QUEUE") or ""
    if kind == "SINGLE" and queue_name:
        raise BadRequest("queue_name is only for triggers of type QUEUE")
    status = fields.status_token(body, "process_status", "IDLE")
    description = fields.text(body, "description", fields.DESCRIPTION_MAX) or ""
    extra = trigger_extra(body, kind)
    # kept by the topics part with the webhook (it signs X-TinyMQ-Signature and X-MicroQ-Signature with
    # it), never with the trigger: listings do not show it
    secret = fields.text(body, "secret", fields.SECRET_MAX)
    if secret and not extra.get("webhook_url"):
        raise BadRequest("secret signs the deliveries to webhook_url: give a webhook_url with it")
    work = request.app[WORK]
    if (extra.get("webhook_url") or extra.get("publish")) and (work.outbox is None or work.outbox.sink() is None):
        raise BadRequest("webhook_url and publish need the topics part, which this node does not serve")
    store = work.store
    retry = await once(request, store.keys.trigger_entity(name))
    hooked = None
    if extra.get("webhook_url"):  # first: the topics part refuses a bad or private URL before anything is made
        hooked = await work.outbox.add_trigger_webhook({"type": kind, "name": name, "queue_name": queue_name,
                                                        "webhook_url": extra["webhook_url"]}, secret)
    try:
        trigger = await store.create_trigger(name, kind, status, queue_name, description, extra, retry)
    except Exception:
        if hooked and hooked.added:  # the hook was this request's own: it goes with the failed create
            await work.outbox.remove_trigger_webhook({"type": kind, "name": name, "queue_name": queue_name,
                                                      "webhook_url": extra["webhook_url"]})
        raise
    return web.json_response(await trigger_json(store, trigger), status=201)


def trigger_extra(body: dict[str, Any], kind: str) -> dict[str, str]:
    """A trigger's optional fields as stored beside its definition."""
    extra: dict[str, str] = {}
    if kind == "QUEUE":
        extra["min_items"] = str(fields.whole(body, "min_items", 1, fields.MIN_ITEMS_MAX, 1))
        extra["max_running"] = str(fields.whole(body, "max_running", 1, fields.MAX_RUNNING_MAX, 1))
        extra["run_timeout_ms"] = str(fields.run_timeout_ms(body))
    else:
        for field in ("min_items", "max_running", "run_timeout"):
            if body.get(field) is not None:
                raise BadRequest(f"{field} is only for triggers of type QUEUE")
    url = fields.webhook_url(body)
    if url:
        extra["webhook_url"] = url
    if fields.flag_field(body, "publish"):
        extra["publish"] = "1"
    if url or "publish" in extra:
        extra["notify"] = "1"
    return extra


@routes.get("/api/triggers/{trigger_name:[^/]+}")
@guarded("triggers-read")
async def get_trigger(request: web.Request) -> web.Response:
    store = request.app[WORK].store
    trigger = await store.get_trigger(request.match_info["trigger_name"])
    if trigger is None:
        raise NotFound("trigger not found")
    return web.json_response(await trigger_json(store, trigger))


@routes.delete("/api/triggers/{trigger_name:[^/]+}")
@guarded("triggers-write")
async def delete_trigger(request: web.Request) -> web.Response:
    name = request.match_info["trigger_name"]
    work = request.app[WORK]
    deleted = await work.store.delete_trigger(name, await once(request, work.store.keys.trigger_entity(name)))
    if deleted is None:
        raise NotFound("trigger not found")
    if work.outbox is not None:
        await work.outbox.remove_trigger_webhook(deleted)
    return web.json_response({"success": True, "trigger_name": name})


RUN_ENDS = ("done", "failed")


@routes.post("/api/triggers/{trigger_name:[^/]+}/runs/{run_id:[^/]+}")
@guarded("trigger-runs")
async def end_run(request: web.Request) -> web.Response:
    """A robot started by a QUEUE trigger says its run has ended: body {"status": "done"|"failed"}.
    That frees its place under max_running (and, if enough items still wait, starts the next)."""
    name = request.match_info["trigger_name"]
    run_id = fields.checked("run_id", request.match_info["run_id"], fields.TOKEN_MAX)
    body = await read_object(request)
    status = body.get("status", "done")
    if status not in RUN_ENDS:
        raise BadRequest("status must be done or failed")
    store = request.app[WORK].store
    trigger = await store.get_trigger(name)
    if trigger is None:
        raise NotFound("trigger not found")
    if trigger["type"] != "QUEUE":
        raise NotFound("trigger is of type SINGLE: only QUEUE triggers have runs")
    queue_name = trigger["queue_name"]
    await store.heal_queue_trigger(trigger)
    state = await store.end_run(queue_name, name, run_id, status,
                                await once(request, store.keys.queue(queue_name).entity))
    return web.json_response({"success": True, "trigger_name": name, "run_id": run_id, "status": status,
                              **run_fields(state)})
