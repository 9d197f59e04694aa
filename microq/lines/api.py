"""The lines HTTP API (seed 000): paths, fields and status codes as the seed documents them,
plus leave / remove / no-show / call, service types, the event log and live streams."""

from __future__ import annotations

import functools
import hashlib
import io
import re
import time
import uuid
from datetime import date
from typing import Any, Awaitable, Callable

import segno
from aiohttp import web

from microq import idempotency, parse
from microq.appkeys import CLIENT_ADDRESS, SETTINGS
from microq.errors import BadRequest, Forbidden, Gone, NotFound, TooManyRequests, Unavailable
from microq.events import event_sink
from microq.http import public_base_url, read_object
from microq.idempotency import Once
from microq.lines import analytics, forward, hours, names, tickets, validate, views
from microq.jwt_auth import TokenError
from microq.lines.appkeys import FORWARDER, HUB, STORE, VERIFIER
from microq.lines.live import event_stream
from microq.lines.store import MAX_WEBHOOKS, Credential, Entry, LineStore, Verified, key_digest, token_digest

routes = web.RouteTableDef()
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

LEAVE_TOKEN_HEADER = "X-Leave-Token"
#: shortest Idempotency-Key on create and join, whose retried answer carries a secret
SECRET_REPLY_KEY_MIN = 16
LIST_LIMIT = 1000  #: most entries one GET /list returns (and its default); page with offset
QUEUES_LIMIT = 1000  #: most queue configs one GET /api/<tenant>/queues returns (and its default)
STREAM_LIMIT = 100
CLOSE_DAY_BATCH = 500  #: most people one close-day call finishes (each is a few Redis writes)
EVENTS_LIMIT = 1000
WEBHOOK_URL_MAX = 2000  #: longest webhook url
WEBHOOK_SECRET_MAX = 200  #: longest webhook signing secret
HISTORY_LIMIT = 200  #: most finished people one GET /history returns
HISTORY_LIMIT_DEFAULT = 50
_EVENT_ID = re.compile(r"([0-9]{1,20})-([0-9]{1,20})")  #: fullmatch; ASCII digits only (Redis reads no others)
_MAX_ID_PART = 2**64 - 1
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  #: fullmatch; ASCII digits only
_MAX_SINCE_MS = 10**15 - 1  #: `since` as a time: at most 15 digits (year 33658), as before
#: scheme and host[:port] of the public page when it comes from the request: a DNS name or
#: IPv4 address, or a bracketed IPv6 address, and a port
_BASE_URL = re.compile(r"https?://(?:[A-Za-z0-9_.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?",
                       re.IGNORECASE)  # schemes are case-insensitive: a proxy may send "HTTPS"


def changes(handler: Handler) -> Handler:
    """A route that changes a line: once it answered below 400, the line's new events are
    forwarded to its topic in the background (microq/lines/forward.py)."""
    @functools.wraps(handler)
    async def changing(request: web.Request) -> web.StreamResponse:
        response = await handler(request)
        if response.status < 400:
            info = request.match_info
            request.app[FORWARDER].changed(info["tenant_id"], info.get("queue_id") or "")
        return response
    return changing


def _store(request: web.Request) -> LineStore:
    return request.app[STORE]


def _line(request: web.Request) -> tuple[str, str]:
    info = request.match_info
    return names.tenant_id(info["tenant_id"]), names.queue_id(info["queue_id"])


def _admin_key(request: web.Request) -> str | None:
    return request.headers.get("X-Admin-Key", "").strip() or None


#: what a bearer token's `role` may be; staff may not do what MANAGE routes do
ROLES = ("admin", "staff")


def _credential(request: web.Request, tenant: str, *, manage: bool = False) -> Credential:
    """Who calls an admin route: the X-Admin-Key when one is sent (the queue key's path, as
    before); else, when MICROQ_JWT_* is set, an `Authorization: Bearer <JWT>` whose `tenant_id`
    claim is the URL's tenant and whose `role` is admin or staff (403 otherwise, saying why).
    `manage`: the route changes the queue's setup (config, key rotation, service types,
    creating or deleting counters, webhooks), which staff may not do."""
    key = _admin_key(request)
    verifier = request.app[VERIFIER]
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    if key or not verifier.enabled or scheme.lower() != "bearer":
        return key
    try:
        claims = verifier.claims(token.strip())
    except TokenError as exc:
        raise Forbidden(str(exc)) from None
    if claims.get("tenant_id") != tenant:
        raise Forbidden("bearer token is for another tenant (its tenant_id claim is not the URL's)")
    role = claims.get("role")
    if role not in ROLES:
        raise Forbidden("bearer token's role must be admin or staff")
    if manage and role != "admin":
        raise Forbidden("staff may not change the queue's setup: this needs role admin or the admin key")
    who = f"{claims.get('iss', '')}\0{claims.get('sub', '')}".encode("utf-8", "surrogateescape")
    return Verified("jwt:" + hashlib.sha256(who).hexdigest()[:32], role)


def _caller(credential: Credential) -> str:
    """The caller's part of an Idempotency-Key fingerprint."""
    return credential.caller if isinstance(credential, Verified) else key_digest(credential)


async def _once(request: web.Request, tenant: str, queue: str, caller: str = "", *,
                secret_reply: bool = False) -> Once | None:
    """The request's Idempotency-Key, scoped to the line: a retry within 24 h gets the first
    answer. `caller` (a digest of the admin key or leave token sent) is part of the request's
    fingerprint, so the same key with another caller's secret is 422, never their answer.
    `secret_reply`: the answer shows a secret to a caller who proves nothing (create's admin
    key, join's leave token), so the key itself must be unguessable."""
    key = idempotency.header_key(request)
    if key is None:
        return None
    if secret_reply and len(key) < SECRET_REPLY_KEY_MIN:
        raise BadRequest(f"{idempotency.HEADER} must be at least {SECRET_REPLY_KEY_MIN} characters here "
                         "(its retry shows a secret): use a random one, such as a UUID")
    return await idempotency.once_for(request, _store(request).key_of(tenant, queue), extra=caller)


async def _admin(request: web.Request, tenant: str, queue: str, *,
                 manage: bool = False) -> tuple[Credential, Once | None]:
    """An admin request's credential (_credential) and its Once (the caller is in the fingerprint)."""
    credential = _credential(request, tenant, manage=manage)
    return credential, await _once(request, tenant, queue, _caller(credential))


def _user(request: web.Request) -> str:
    uid = names.user_id(request.match_info["user_id"])
    if uid is None:
        raise NotFound("no such user in this queue")
    return uid


# queue configuration


@routes.post("/api/{tenant_id}/queues")
async def create_queue(request: web.Request) -> web.Response:
    tenant = names.tenant_id(request.match_info["tenant_id"])
    data = await read_object(request, empty_ok=False)
    queue = names.queue_id(data.get("queue_id"))
    name = validate.text(data, "name", validate.QUEUE_NAME_MAX)
    public = validate.boolean(data, "is_public")
    minutes = validate.minutes(data, "avg_service_time")
    if minutes is None:
        minutes = request.app[SETTINGS].avg_service_time_minutes
    prefix = validate.code(data, "ticket_prefix")
    zone = validate.time_zone(data)
    show_names = validate.boolean(data, "show_names")
    once = await _once(request, tenant, queue, secret_reply=True)
    config, admin_key = await _store(request).create_queue(
        tenant, queue, name, True if public is None else public, minutes, once,
        ticket_prefix=prefix or tickets.DEFAULT_PREFIX, time_zone=zone or tickets.DEFAULT_ZONE,
        show_names=bool(show_names))
    # the key is shown once, to the caller that created the queue; a repeat gets the config only
    return web.json_response(views.config(config, admin_key), status=201 if admin_key else 200)


@routes.get("/api/{tenant_id}/queues")
async def list_queues(request: web.Request) -> web.Response:
    """The seed's {"count", "queues"} for one page (offset, limit: default and most
    QUEUES_LIMIT), plus next_offset and unavailable when they apply (views.queues)."""
    tenant = names.tenant_id(request.match_info["tenant_id"])
    offset = validate.query_int(request.query, "offset", 0, 0, 10**9)
    limit = validate.query_int(request.query, "limit", QUEUES_LIMIT, 1, QUEUES_LIMIT)
    page = await _store(request).list_queues(tenant, offset, limit)
    return web.json_response(views.queues(page))


@routes.get("/api/{tenant_id}/queues/{queue_id}")
async def get_queue(request: web.Request) -> web.Response:
    tenant, queue = _line(request)
    config = await _store(request).get_queue(tenant, queue)
    if config is None:
        raise NotFound("queue not found")
    return web.json_response(views.config(config))


@routes.patch("/api/{tenant_id}/queues/{queue_id}")
@changes
async def update_queue(request: web.Request) -> web.Response:
    tenant, queue = _line(request)
    data = await read_object(request, empty_ok=False)
    name = validate.text(data, "name", validate.QUEUE_NAME_MAX, required=False)
    public = validate.boolean(data, "is_public")
    minutes = validate.minutes(data, "avg_service_time")
    prefix = validate.code(data, "ticket_prefix")
    zone = validate.time_zone(data)
    show_names = validate.boolean(data, "show_names")
    opening = None
    if "opening_hours" in data:  # null removes them: always open
        opening = "-" if data["opening_hours"] is None else hours.parse(data["opening_hours"])
    most = hours.validated_max(data)
    near = validate.near_front(data)
    events_topic = validate.boolean(data, "events_topic")
    close_at = None
    if "close_at" in data:  # null: no automatic close
        close_at = "-" if data["close_at"] is None else hours.parse_close_at(data["close_at"])
    if all(v is None for v in (name, public, minutes, prefix, zone, show_names, opening, most, near, events_topic,
                               close_at)):
        raise BadRequest("nothing to change: send name, is_public, avg_service_time, ticket_prefix, "
                         "time_zone, show_names, opening_hours, max_waiting, near_front, events_topic or close_at")
    admin_key, once = await _admin(request, tenant, queue, manage=True)
    config, _ = await _store(request).configure(
        tenant, queue, admin_key, name=name, public=public, minutes=minutes, once=once,
        ticket_prefix=prefix, time_zone=zone, show_names=show_names, opening_hours=opening, max_waiting=most,
        near_front=near, events_topic=events_topic, close_at=close_at)
    if events_topic is not None:
        request.app[FORWARDER].forget(tenant, queue, config.forwarding)
    return web.json_response(views.config(config))


@routes.post("/api/{tenant_id}/queues/{queue_id}/rotate-key")
@changes
async def rotate_key(request: web.Request) -> web.Response:
    tenant, queue = _line(request)
    admin_key, once = await _admin(request, tenant, queue, manage=True)
    config, new_key = await _store(request).configure(tenant, queue, admin_key, rotate=True, once=once)
    return web.json_response(views.config(config, new_key))


@routes.post("/api/{tenant_id}/queues/{queue_id}/pause")
@changes
async def pause(request: web.Request) -> web.Response:
    """Joins are refused (409, with the message) until resume; the people waiting stay."""
    tenant, queue = _line(request)
    data = await read_object(request)
    message = validate.text(data, "message", validate.PAUSE_MESSAGE_MAX, required=False) or ""
    admin_key, once = await _admin(request, tenant, queue)
    config, _ = await _store(request).configure(tenant, queue, admin_key, paused=True, pause_message=message,
                                                once=once)
    return web.json_response(views.config(config))


@routes.post("/api/{tenant_id}/queues/{queue_id}/resume")
@changes
async def resume(request: web.Request) -> web.Response:
    tenant, queue = _line(request)
    admin_key, once = await _admin(request, tenant, queue)
    config, _ = await _store(request).configure(tenant, queue, admin_key, paused=False, once=once)
    return web.json_response(views.config(config))


@routes.post("/api/{tenant_id}/queues/{queue_id}/close-day")
@changes
async def close_day(request: web.Request) -> web.Response:
    """End of the day: everyone still waiting finishes as "closed" (event CLOSE each), at most
    CLOSE_DAY_BATCH per call; `remaining` > 0 means call again."""
    tenant, queue = _line(request)
    admin_key, once = await _admin(request, tenant, queue)
    closed, remaining = await _store(request).close_day(tenant, queue, admin_key, CLOSE_DAY_BATCH, once)
    return web.json_response({"closed": closed, "remaining": remaining})


@routes.get("/api/{tenant_id}/queues/{queue_id}/analytics")
async def queue_analytics(request: web.Request) -> web.Response:
    """Served, no-shows, left, wait and service percentiles, served per hour, by service type and
    counter, and per day, for the local days `from`..`to` (YYYY-MM-DD in the queue's time zone;
    both default to today; at most analytics.MAX_RANGE_DAYS days). Admin."""
    tenant, queue = _line(request)
    start, end = (_query_date(request, name) for name in ("from", "to"))
    store = _store(request)
    zone = await store.authorize(tenant, queue, _credential(request, tenant))
    today = analytics.today(zone, time.time())
    end = end or max(start or today, today)  # from alone: from that day to today
    start = start or end
    if start > end:
        raise BadRequest("from is after to")
    if (end - start).days >= analytics.MAX_RANGE_DAYS:
        raise BadRequest(f"from..to covers at most {analytics.MAX_RANGE_DAYS} days")
    return web.json_response(await store.analytics(tenant, queue, zone, analytics.dates(start, end)))


def _query_date(request: web.Request, name: str) -> date | None:
    value = request.query.get(name, "")
    if not value:
        return None
    if not _DATE.fullmatch(value):
        raise BadRequest(f"{name} must be a date, YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"{name} is not a date of the calendar") from None


@routes.get("/api/{tenant_id}/{queue_id}/history")
async def history(request: web.Request) -> web.Response:
    """The most recently finished people (served, no_show, left, removed, closed), newest first,
    from the finished entries kept FINISHED_RETENTION_MS (24 h). Admin. `next`: pass it back as
    `before` for the following page (null once a page comes back short)."""
    tenant, queue = _line(request)
    limit = validate.query_int(request.query, "limit", HISTORY_LIMIT_DEFAULT, 1, HISTORY_LIMIT)
    before = _history_cursor(request.query.get("before", ""))
    found = await _store(request).history(tenant, queue, _credential(request, tenant), limit, before)
    following = f"{found[-1].finished_ms}-{found[-1].id}" if len(found) == limit else None
    return web.json_response({"people": [views.finished(f) for f in found], "next": following})


def _history_cursor(value: str) -> tuple[int, str] | None:
    if not value:
        return None
    ms, _, uid = value.partition("-")
    canonical = names.user_id(uid)
    try:
        when = parse.whole_number(ms, 0, _MAX_SINCE_MS)
    except ValueError:
        when = None
    if when is None or canonical is None:
        raise BadRequest("before must be a history answer's next")
    return when, canonical


# people in the line


@routes.post("/api/{tenant_id}/{queue_id}/join")
@changes
async def join(request: web.Request) -> web.Response:
    tenant, queue = _line(request)
    data = await read_object(request, empty_ok=False)
    for field, expected in (("tenant_id", tenant), ("queue_id", queue)):
        if data.get(field) is not None and data[field] != expected:
            raise BadRequest(f"{field} in the body does not match the URL")
    name = validate.text(data, "name", validate.NAME_MAX)
    type_id = validate.optional_id(data, "service_type_id")
    refused: Forbidden | None = None
    try:  # a public line takes anyone: a bad bearer token matters only where a key is needed
        admin_key = _credential(request, tenant)
    except Forbidden as exc:
        admin_key, refused = None, exc
    once = await _once(request, tenant, queue, _caller(admin_key), secret_reply=True)
    try:
        joined = await _store(request).join(tenant, queue, name, type_id, admin_key, once)
    except Forbidden:
        if refused is not None:  # a private line: say why the token was not taken
            raise refused from None
        raise
    return web.json_response(views.joined(joined, tenant, queue), status=201)


@routes.get("/api/{tenant_id}/{queue_id}/status/{user_id}")
async def status(request: web.Request) -> web.Response:
    tenant, queue = _line(request)
    place = await _store(request).status(tenant, queue, _user(request))
    return web.json_response(views.place(place, tenant, queue))


@routes.post("/api/{tenant_id}/{queue_id}/leave/{user_id}")
@changes
async def leave(request: web.Request) -> web.Response:
    """The person leaves: authorised by the `leave_token` their join answered with (the user id
    alone is public: /list and /stream show it). Staff use remove, with the admin key."""
    tenant, queue = _line(request)
    uid = _user(request)
    token = await _leave_token(request)
    once = await _once(request, tenant, queue, token_digest(token))
    entry = await _store(request).finish(tenant, queue, uid, "left", None, token, once)
    return web.json_response({"entry": views.entry(entry, tenant, queue)})


async def _leave_token(request: web.Request) -> str | None:
    """The X-Leave-Token header, or the body's "token"; both sent must agree."""
    header = request.headers.get(LEAVE_TOKEN_HEADER, "").strip() or None
    body = validate.optional_text((await read_object(request)), "token")
    if header and body and header != body:
        raise BadRequest(f"{LEAVE_TOKEN_HEADER} and the body's token differ")
    return header or body


@routes.post("/api/{tenant_id}/{queue_id}/boost")
async def boost(request: web.Request) -> web.Response:
    raise Gone("boost has been retired: the queue is strictly first-in, first-out")


@routes.post("/api/{tenant_id}/{queue_id}/serve-next")
@changes
async def serve_next(request: web.Request) -> web.Response:
    """`counter` (query or JSON body): serve at that counter, the first of the types it serves."""
    tenant, queue = _line(request)
    counter = await _counter_of(request)
    admin_key, once = await _admin(request, tenant, queue)
    entry = await _store(request).serve_next(tenant, queue, admin_key, once, counter)
    if entry is None:
        return web.json_response({"message": "queue is empty"})
    return web.json_response({"served": views.entry(entry, tenant, queue)})


@routes.post("/api/{tenant_id}/{queue_id}/call/{user_id}")
@changes
async def call(request: web.Request) -> web.Response:
    tenant, queue = _line(request)
    uid = _user(request)
    counter = await _counter_of(request)
    admin_key, once = await _admin(request, tenant, queue)
    entry = await _store(request).call(tenant, queue, uid, admin_key, once, counter)
    return web.json_response({"served": views.entry(entry, tenant, queue)})


async def _counter_of(request: web.Request) -> str | None:
    """The `counter` of serve-next and call: the query's or the JSON body's (both: they agree)."""
    query = request.query.get("counter") or None
    body = (await read_object(request)).get("counter")
    if query is not None and body is not None and query != body:
        raise BadRequest("counter in the query and in the body differ")
    value = query if query is not None else body
    return None if value is None or value == "" else validate.counter_id(value)


@routes.post("/api/{tenant_id}/{queue_id}/remove/{user_id}")
@changes
async def remove(request: web.Request) -> web.Response:
    tenant, queue = _line(request)
    entry = await _finish(request, tenant, queue, "removed")
    return web.json_response({"entry": views.entry(entry, tenant, queue)})


@routes.post("/api/{tenant_id}/{queue_id}/no-show/{user_id}")
@changes
async def no_show(request: web.Request) -> web.Response:
    tenant, queue = _line(request)
    entry = await _finish(request, tenant, queue, "no_show")
    return web.json_response({"entry": views.entry(entry, tenant, queue)})


async def _finish(request: web.Request, tenant: str, queue: str, status: str) -> Entry:
    """remove and no-show: the admin ends a person's wait."""
    uid = _user(request)
    admin_key, once = await _admin(request, tenant, queue)
    return await _store(request).finish(tenant, queue, uid, status, admin_key, once=once)


@routes.get("/api/{tenant_id}/{queue_id}/list")
async def list_line(request: web.Request) -> web.Response:
    tenant, queue = _line(request)
    offset = validate.query_int(request.query, "offset", 0, 0, 10**9)
    limit = validate.query_int(request.query, "limit", LIST_LIMIT, 1, LIST_LIMIT)
    page = await _store(request).page(tenant, queue, offset, limit)
    return web.json_response(views.line(page))


# live updates (no HEAD: a StreamResponse writes its events even then, a body where HTTP allows
# none, which desynchronises a keep-alive connection or a proxy's pooled upstream connection)


@routes.get("/api/{tenant_id}/{queue_id}/stream", allow_head=False)
async def line_stream(request: web.Request) -> web.StreamResponse:
    """SSE `line` events: the list answer for the first `limit` people (default 10)."""
    tenant, queue = _line(request)
    limit = validate.query_int(request.query, "limit", 10, 1, STREAM_LIMIT)
    store = _store(request)

    async def snapshot() -> Any:
        return views.line(await store.page(tenant, queue, 0, limit))

    return await event_stream(request, request.app[HUB], store.keys(tenant, queue).channel, "line", snapshot)


@routes.get("/api/{tenant_id}/{queue_id}/status/{user_id}/stream", allow_head=False)
async def status_stream(request: web.Request) -> web.StreamResponse:
    """SSE `status` events: the status answer, whenever the line changes."""
    tenant, queue = _line(request)
    uid, store = _user(request), _store(request)

    async def snapshot() -> Any:
        return views.place(await store.status(tenant, queue, uid), tenant, queue)

    return await event_stream(request, request.app[HUB], store.keys(tenant, queue).channel, "status", snapshot)


# QR code


@routes.get("/api/{tenant_id}/{queue_id}/qr")
async def qr(request: web.Request) -> web.Response:
    tenant, queue = _line(request)
    settings = request.app[SETTINGS]
    base = public_base_url(request, settings.public_url, request.app[CLIENT_ADDRESS])
    if not settings.public_url and not _BASE_URL.fullmatch(base):
        # Host (or a trusted proxy's X-Forwarded-*) is client text: a QR code people scan must
        # not carry a path, query, credentials or markup smuggled in through it
        raise BadRequest("the request's host is not a plain host name: set MICROQ_PUBLIC_URL")
    url = f"{base}/queue/{tenant}/{queue}"
    svg = io.BytesIO()
    segno.make(url, error="m").save(svg, kind="svg", scale=8, border=2, title=f"Join {tenant}/{queue}")
    # a shared cache must key the image on every header that chose its URL
    vary = {} if settings.public_url else {"Vary": "Host, X-Forwarded-Host, X-Forwarded-Proto"}
    return web.Response(body=svg.getvalue(), content_type="image/svg+xml",
                        headers={"Cache-Control": "public, max-age=300", **vary})


# service types


@routes.get("/api/{tenant_id}/{queue_id}/service-types")
async def list_service_types(request: web.Request) -> web.Response:
    tenant, queue = _line(request)
    types = await _store(request).service_types(tenant, queue)
    return web.json_response({"count": len(types), "service_types": [views.service_type(t) for t in types]})


@routes.post("/api/{tenant_id}/{queue_id}/service-types")
@changes
async def create_service_type(request: web.Request) -> web.Response:
    tenant, queue = _line(request)
    data = await read_object(request, empty_ok=False)
    name = validate.text(data, "name", validate.NAME_MAX)
    code = validate.code(data) or validate.code_from_name(name)
    admin_key, once = await _admin(request, tenant, queue, manage=True)
    saved = await _store(request).save_service_type(tenant, queue, admin_key, None, name, code, once)
    return web.json_response(views.service_type(saved), status=201)


@routes.patch("/api/{tenant_id}/{queue_id}/service-types/{type_id}")
@changes
async def update_service_type(request: web.Request) -> web.Response:
    tenant, queue = _line(request)
    type_id = _type_id(request)
    data = await read_object(request, empty_ok=False)
    name = validate.text(data, "name", validate.NAME_MAX, required=False)
    code = validate.code(data)
    if name is None and code is None:
        raise BadRequest("nothing to change: send name or code")
    admin_key, once = await _admin(request, tenant, queue, manage=True)
    saved = await _store(request).save_service_type(tenant, queue, admin_key, type_id, name, code, once)
    return web.json_response(views.service_type(saved))


@routes.delete("/api/{tenant_id}/{queue_id}/service-types/{type_id}")
@changes
async def delete_service_type(request: web.Request) -> web.Response:
    tenant, queue = _line(request)
    type_id = _type_id(request)
    admin_key, once = await _admin(request, tenant, queue, manage=True)
    await _store(request).delete_service_type(tenant, queue, admin_key, type_id, once)
    return web.json_response({"deleted": type_id})


def _type_id(request: web.Request) -> str:
    type_id = request.match_info["type_id"]
    if len(type_id) > 64:
        raise NotFound("service type not found")
    return type_id


# counters


@routes.get("/api/{tenant_id}/{queue_id}/counters")
async def list_counters(request: web.Request) -> web.Response:
    """Public, like the kiosk that shows them."""
    tenant, queue = _line(request)
    found = await _store(request).counters(tenant, queue)
    return web.json_response({"count": len(found), "counters": [views.counter(c) for c in found]})


@routes.post("/api/{tenant_id}/{queue_id}/counters")
@changes
async def create_counter(request: web.Request) -> web.Response:
    tenant, queue = _line(request)
    data = await read_object(request, empty_ok=False)
    name = validate.text(data, "name", validate.COUNTER_NAME_MAX)
    counter_id = validate.counter_id(data["id"], "id") if data.get("id") is not None else uuid.uuid4().hex[:12]
    is_open = validate.boolean(data, "open")
    type_ids = validate.type_ids(data)
    admin_key, once = await _admin(request, tenant, queue, manage=True)
    saved = await _store(request).save_counter(tenant, queue, admin_key, counter_id, True, name,
                                               is_open, type_ids or [], once)
    return web.json_response(views.counter(saved), status=201)


@routes.patch("/api/{tenant_id}/{queue_id}/counters/{counter_id}")
@changes
async def update_counter(request: web.Request) -> web.Response:
    tenant, queue = _line(request)
    counter_id = _counter_path(request)
    data = await read_object(request, empty_ok=False)
    name = validate.text(data, "name", validate.COUNTER_NAME_MAX, required=False)
    is_open = validate.boolean(data, "open")
    type_ids = validate.type_ids(data)
    if name is None and is_open is None and type_ids is None:
        raise BadRequest("nothing to change: send name, open or service_type_ids")
    admin_key, once = await _admin(request, tenant, queue, manage=name is not None or type_ids is not None)
    saved = await _store(request).save_counter(tenant, queue, admin_key, counter_id, False, name,
                                               is_open, type_ids, once)
    return web.json_response(views.counter(saved))


@routes.delete("/api/{tenant_id}/{queue_id}/counters/{counter_id}")
@changes
async def delete_counter(request: web.Request) -> web.Response:
    tenant, queue = _line(request)
    counter_id = _counter_path(request)
    admin_key, once = await _admin(request, tenant, queue, manage=True)
    await _store(request).delete_counter(tenant, queue, admin_key, counter_id, once)
    return web.json_response({"deleted": counter_id})


@routes.post("/api/{tenant_id}/{queue_id}/counters/{counter_id}/recall")
@changes
async def recall(request: web.Request) -> web.Response:
    """Announce the person this counter serves again (event RECALL: kiosks flash and chime)."""
    tenant, queue = _line(request)
    counter_id = _counter_path(request)
    admin_key, once = await _admin(request, tenant, queue)
    saved = await _store(request).recall(tenant, queue, admin_key, counter_id, once)
    return web.json_response(views.counter(saved))


def _counter_path(request: web.Request) -> str:
    try:
        return validate.counter_id(request.match_info["counter_id"])
    except BadRequest:
        raise NotFound("no such counter") from None


# webhooks and the event topic


@routes.get("/api/{tenant_id}/{queue_id}/webhooks")
async def list_webhooks(request: web.Request) -> web.Response:
    """The line's webhook urls (never their secrets) and its event topic. Admin."""
    tenant, queue = _line(request)
    store = _store(request)
    await store.authorize(tenant, queue, _credential(request, tenant, manage=True))
    urls = await store.webhook_urls(tenant, queue)
    return web.json_response({"topic": forward.topic_of(tenant, queue), "count": len(urls),
                              "webhooks": [{"url": u} for u in urls]})


@routes.post("/api/{tenant_id}/{queue_id}/webhooks")
@changes
async def add_webhook(request: web.Request) -> web.Response:
    """{"url", "secret"?}: every event of the line is POSTed there, signed (the topics' webhook
    machinery on the line's topic: retries, X-MicroQ-Signature). 201; the same url again: 200."""
    tenant, queue = _line(request)
    data = await read_object(request, empty_ok=False)
    url = validate.text(data, "url", WEBHOOK_URL_MAX)
    secret = validate.optional_text(data, "secret") or ""
    if len(secret) > WEBHOOK_SECRET_MAX:
        raise BadRequest(f"secret: at most {WEBHOOK_SECRET_MAX} characters")
    credential, once = await _admin(request, tenant, queue, manage=True)
    store, sink = _store(request), event_sink(request.app)
    if sink is None:
        raise Unavailable("webhooks need the topics part, which this node does not run")
    await store.authorize(tenant, queue, credential)  # before the topic hears of the url
    known = await store.webhook_urls(tenant, queue)
    if url not in known and len(known) >= MAX_WEBHOOKS:  # refused before the topic hears of it, too
        raise TooManyRequests(f"a line has at most {MAX_WEBHOOKS} webhooks")
    await sink.add_webhook(forward.topic_of(tenant, queue), url, secret or None)
    forwards, count, changed = await store.save_webhook(tenant, queue, credential, True, url, secret, once)
    request.app[FORWARDER].forget(tenant, queue, forwards)
    return web.json_response({"url": url, "topic": forward.topic_of(tenant, queue), "count": count},
                             status=201 if changed else 200)


@routes.delete("/api/{tenant_id}/{queue_id}/webhooks")
@changes
async def delete_webhook(request: web.Request) -> web.Response:
    """?url=... (or {"url"}): stop POSTing there; 404 for a url the line does not have."""
    tenant, queue = _line(request)
    data = await read_object(request)
    url = request.query.get("url") or validate.optional_text(data, "url")
    if not url:
        raise BadRequest("url is required (query or body)")
    credential, once = await _admin(request, tenant, queue, manage=True)
    store, sink = _store(request), event_sink(request.app)
    if sink is None:
        raise Unavailable("webhooks need the topics part, which this node does not run")
    forwards, count, _ = await store.save_webhook(tenant, queue, credential, False, url, once=once)
    await sink.remove_webhook(forward.topic_of(tenant, queue), url)
    request.app[FORWARDER].forget(tenant, queue, forwards)
    return web.json_response({"deleted": url, "count": count})


# event log


@routes.get("/api/{tenant_id}/{queue_id}/events")
async def events(request: web.Request) -> web.Response:
    """Oldest first. `since`: an event id (the events after it), or a time in ms (from then on)."""
    tenant, queue = _line(request)
    since = request.query.get("since", "")
    limit = validate.query_int(request.query, "limit", 100, 1, EVENTS_LIMIT)
    start = _events_start(since)
    found = await _store(request).events(tenant, queue, _credential(request, tenant), start or "+", limit)
    if start is None:  # nothing follows the largest id; the call above still checked the key
        found = []
    return web.json_response({"count": len(found), "events": [views.event(e) for e in found],
                              "next": found[-1].id if found else (since or None)})


def _events_start(since: str) -> str | None:
    """The XRANGE start for `since`: "-" when empty; the id right after an event id (None when
    `since` is the largest id, after which nothing can come); a time in ms as it is."""
    if not since:
        return "-"
    if match := _EVENT_ID.fullmatch(since):
        ms, seq = int(match[1]), int(match[2])
        if ms > _MAX_ID_PART or seq > _MAX_ID_PART:
            raise BadRequest("since: an event id's parts are below 2**64")
        # the next id, not "(id": Redis refuses "(" on the largest id, and this needs no Redis 6.2
        if seq < _MAX_ID_PART:
            return f"{ms}-{seq + 1}"
        return f"{ms + 1}-0" if ms < _MAX_ID_PART else None
    try:
        return str(parse.whole_number(since, 0, _MAX_SINCE_MS))
    except ValueError:
        pass
    raise BadRequest("since must be an event id (like 1711361400000-0) or a time in milliseconds")
