"""LineStore: one method per lines_* Lua script. It never sees a request; ids arrive validated."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import hashlib
import json
import logging
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any, Callable

import msgpack
from redis.exceptions import RedisError, ResponseError

from microq.errors import Unavailable
from microq.idempotency import Once
from microq.keys import Keyspace
from microq.lines import analytics, hours, tickets
from microq.lines.keys import LINE_INDEX, LineKeys, closing_index, forwarding_index, line_key, tenant_registry
from microq.name_index import NameIndex
from microq.scripts import Scripts
from microq.settings import Settings

log = logging.getLogger(__name__)

#: how long a finished (served, left, removed, no-show) entry still answers its status, ms
FINISHED_RETENTION_MS = 24 * 3600 * 1000
#: how long GET /api/<tenant>/queues waits for one config before listing it as unavailable, s
LISTING_READ_TIMEOUT = 2.0
#: most service types one queue may have
MAX_SERVICE_TYPES = 100
#: most counters one queue may have
MAX_COUNTERS = 50
#: seconds a node's clock may be behind Redis's without delaying an automatic close
CLOCK_SLACK = 60
#: most webhooks one queue may have
MAX_WEBHOOKS = 10
#: most lines whose time zone and hours one node remembers (then it forgets them all and asks again)
SCHEDULE_CACHE = 10_000


@functools.lru_cache(maxsize=4096)
def _line_keys(prefix: str, tenant: str, queue: str) -> LineKeys:
    """Key names are pure functions of the ids: building eleven strings per request is waste."""
    return LineKeys.of(Keyspace(prefix), tenant, queue)


#: what scripts accept in place of an admin key's digest (lines_admin.lua): never a SHA-256 hex
VERIFIED = "!verified"


@dataclass(frozen=True)
class Verified:
    """A caller the node authorised without the queue's key (a bearer JWT for this tenant)."""

    caller: str  #: who, for Idempotency-Key fingerprints: a digest of the token's issuer and subject
    role: str  #: admin | staff


#: what an admin call presents: the X-Admin-Key text, a Verified caller, or None
Credential = str | Verified | None


def key_digest(admin_key: Credential) -> str:
    """What scripts compare: SHA-256 hex of the presented admin key ("" when none was sent), or
    VERIFIED for a caller the handler authorised."""
    if isinstance(admin_key, Verified):
        return VERIFIED
    if not admin_key:
        return ""
    return hashlib.sha256(admin_key.encode("utf-8", "surrogateescape")).hexdigest()


def new_admin_key() -> str:
    return secrets.token_hex(24)  # 192 random bits


def new_leave_token() -> str:
    """A person's secret for leaving: 192 random bits, URL-safe; only its digest is stored."""
    return secrets.token_urlsafe(24)


def token_digest(token: str | None) -> str:
    """What lines_join stores and lines_finish compares for a leave token ("" when none was
    sent): SHA-256 cut to 128 bits, hex. 128 bits cannot be inverted or collided by guessing,
    and it keeps a waiting person within the 300-byte memory budget (README, Benchmarks)."""
    if not token:
        return ""
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()[:32]


@dataclass(frozen=True)
class QueueConfig:
    tenant_id: str
    queue_id: str
    name: str
    is_public: bool
    avg_service_time: float
    created_ms: int
    ticket_prefix: str = tickets.DEFAULT_PREFIX  #: of joins without a service type
    time_zone: str = tickets.DEFAULT_ZONE  #: the ticket day's
    show_names: bool = False  #: public screens (kiosk) show names beside tickets
    opening_hours: str | None = None  #: canonical JSON (microq/lines/hours.py); None: always open
    max_waiting: int | None = None  #: None: no limit
    paused: bool = False
    pause_message: str = ""
    near_front: int = 0  #: NEAR_FRONT events at this position or better; 0: none
    events_topic: bool = False  #: every event goes to the topic lines.<tenant>.<queue>
    close_at: str | None = None  #: automatic close: "HH:MM" local, or "end" (of the opening hours)
    forwarding: bool = False  #: events go to the topic (events_topic or a webhook): configure's answer only


@dataclass(frozen=True)
class QueuePage:
    """A page of a tenant's queue configs; `unavailable`: ids listed whose config could not be read."""

    configs: list[QueueConfig]
    next_offset: int | None  #: where the next page starts; None when this one reached the end
    unavailable: list[str]


_UNREADABLE = object()  #: a config whose slot did not answer


@dataclass(frozen=True)
class Entry:
    id: str
    name: str
    joined_ms: int
    service_type_id: str | None
    service_type_name: str | None
    service_type_code: str | None
    status: str  #: waiting | served | left | removed | no_show
    finished_ms: int | None = None
    ticket: str | None = None  #: None only for people who joined before tickets
    counter_id: str | None = None  #: the counter that served them (served entries)
    counter_name: str | None = None


@dataclass(frozen=True)
class Place:
    """An entry with its live position (None once it no longer waits) and minutes per service."""

    entry: Entry
    position: int | None
    minutes: float
    open_counters: int = 0  #: the ETA divides by these (at least 1)


@dataclass(frozen=True)
class Joined:
    """A join's answer: the place, and the leave token, which exists only in this answer."""

    place: Place
    leave_token: str


@dataclass(frozen=True)
class NowServing:
    id: str
    name: str
    service_type_id: str | None
    served_ms: int
    ticket: str | None = None


@dataclass(frozen=True)
class Serving:
    """Whom a counter serves now, and when they were last called (a recall calls again)."""

    id: str
    name: str
    service_type_id: str | None
    served_ms: int
    ticket: str | None
    called_ms: int


@dataclass(frozen=True)
class Counter:
    id: str
    name: str
    open: bool
    service_type_ids: list[str]  #: empty: every type, and people without one
    serving: Serving | None


@dataclass(frozen=True)
class LinePage:
    waiting: int
    minutes: float
    now_serving: NowServing | None
    places: list[Place]
    offset: int
    counters: list[Counter]
    open_counters: int


@dataclass(frozen=True)
class ServiceType:
    id: str
    name: str
    code: str


@dataclass(frozen=True)
class Finished:
    """A finished person, as history lists them."""

    id: str
    name: str
    ticket: str | None
    status: str
    joined_ms: int
    called_ms: int | None  #: when served (also for a served person marked a no-show later)
    finished_ms: int
    service_ms: int | None  #: set once the service ended (lines_analytics)
    counter_id: str | None  #: the counter they were called to

    @property
    def waited_ms(self) -> int:
        return max(0, (self.called_ms if self.called_ms is not None else self.finished_ms) - self.joined_ms)


def _finished(uid: Any, blob: bytes) -> Finished:
    f = _padded(_unpack(blob), 11)
    called = f[8] if isinstance(f[8], int) and not isinstance(f[8], bool) else None
    if called is None and f[3] == "served":
        called = f[4]  # archived before called_ms existed: served at finishing
    counter = f[9] or f[6] or None
    return Finished(_text(uid), f[0], f[5] or None, f[3], f[1], called, f[4],
                    f[10] if isinstance(f[10], int) else None, counter)


@dataclass(frozen=True)
class Event:
    id: str
    timestamp_ms: int
    type: str
    user_id: str
    meta: bytes  #: JSON text, as the script wrote it


def _text(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


def _unpack(blob: bytes) -> list[Any]:
    return msgpack.unpackb(blob, raw=False)


def _entry(uid: str | bytes, blob: bytes, type_name: Any = None, type_code: Any = None) -> Entry:
    """A waiting blob is {name, joined_ms, type id[, leave-token digest[, ticket]]}; a finished
    one {name, joined_ms, type id, status, finished_ms[, ticket]} (its fifth field a number)."""
    fields = _unpack(blob)
    name, joined, type_id = fields[0], fields[1], fields[2] or None
    counter_id = counter_name = None
    if len(fields) >= 5 and isinstance(fields[4], int):
        status, finished, ticket = fields[3], fields[4], fields[5] if len(fields) > 5 else None
        if len(fields) > 7 and fields[6]:
            counter_id, counter_name = fields[6], fields[7]
    else:
        status, finished, ticket = "waiting", None, fields[4] if len(fields) > 4 else None
    return Entry(_text(uid), name, joined, type_id, _text(type_name), _text(type_code), status, finished,
                 ticket or None, counter_id, counter_name)


def _counter(counter_id: Any, blob: bytes) -> Counter:
    """A counter record: {name, open 1|0, type ids, serving false|{id, name, type, served, ticket, called}}."""
    name, is_open, type_ids, serving = _unpack(blob)[:4]
    now = None
    if serving:
        uid, person, type_id, served, ticket, called = serving
        now = Serving(uid, person, type_id or None, served, ticket or None, called)
    return Counter(_text(counter_id), name, is_open == 1, list(type_ids or []), now)


def _counters(flat: Any) -> list[Counter]:
    """The counters, sorted by name: from Scripts.execute's HGETALL (a dict) or from a script's
    reply (lines_list: a flat list)."""
    pairs = flat.items() if isinstance(flat, dict) else zip(flat[::2], flat[1::2])
    return sorted((_counter(i, blob) for i, blob in pairs), key=lambda c: (c.name.lower(), c.id))


def _padded(values: list[Any], length: int) -> list[Any]:
    """A reply with None for fields it lacks: an Idempotency-Key retry can replay a reply
    stored (for 24 h) by the version before those fields existed."""
    return [*values, *[None] * (length - len(values))]


#: the config fields every read asks for, in _config's order
CONFIG_FIELDS = ("n", "p", "a", "c", "tp", "tz", "sn", "oh", "mx", "pz", "pm", "nf", "et", "ca")


def _config(tenant: str, queue: str, values: list[Any]) -> QueueConfig:
    name, public, minutes, created, prefix, zone, names, hours, most, paused, message, near, topic, close = (
        _text(v) for v in _padded(list(values), len(CONFIG_FIELDS)))
    return QueueConfig(tenant, queue, name, public == "1", float(minutes), int(created),
                       prefix or tickets.DEFAULT_PREFIX, zone or tickets.DEFAULT_ZONE, names == "1",
                       hours or None, int(most) if most else None, paused == "1", message or "",
                       int(near) if near else 0, topic == "1", close or None)


class LineStore:
    def __init__(self, scripts: Scripts, keyspace: Keyspace, settings: Settings) -> None:
        self.scripts = scripts
        self.keyspace = keyspace
        self.default_minutes = repr(float(settings.avg_service_time_minutes))
        self.events_maxlen = settings.line_events_maxlen
        #: (tenant, queue) -> (time zone, opening hours) this node last saw: join checks both
        #: in Lua (STALE), so a stale pair costs two more round trips, never a wrong ticket or
        #: a wrong closed/open answer. Bounded: SCHEDULE_CACHE.
        self._schedules: dict[tuple[str, str], tuple[str, str]] = {}
        self.lines = NameIndex(scripts, keyspace, LINE_INDEX)  #: every line ever joined (for /metrics)

    def keys(self, tenant: str, queue: str) -> LineKeys:
        return _line_keys(self.keyspace.prefix, tenant, queue)

    def key_of(self, tenant: str, queue: str) -> Callable[[str], str]:
        """suffix -> a key in the line's slot: where its Idempotency-Key answers are kept."""
        return line_key(self.keyspace, tenant, queue)

    # queue configs

    async def create_queue(self, tenant: str, queue: str, name: str, public: bool,
                           minutes: float, once: Once | None = None, *, ticket_prefix: str = tickets.DEFAULT_PREFIX,
                           time_zone: str = tickets.DEFAULT_ZONE,
                           show_names: bool = False) -> tuple[QueueConfig, str | None]:
        """(config, the admin key when this call created the queue, else None). With `once`, a
        retry answers as the first call did, the key included (the stored reply holds it)."""
        k = self.keys(tenant, queue)
        admin_key = new_admin_key()
        reply = await self.scripts.call("lines_create", [k.cfg], [
            name, "1" if public else "0", repr(float(minutes)), key_digest(admin_key),
            admin_key if once else "", ticket_prefix, time_zone, "1" if show_names else "0"], once=once)
        config = _config(tenant, queue, [*reply[1:5], *reply[6:]])
        # The registry lives in the tenant's slot, not the line's, so it is a second command.
        # ZADD NX is idempotent and runs on every create, so a crash between the two is
        # repaired by repeating the create, which clients may always do. Its failure must not
        # fail this request: the queue exists now, and an admin key not shown here is lost.
        try:
            await self.scripts.execute("ZADD", tenant_registry(self.keyspace, tenant), "NX", config.created_ms, queue)
        except Exception as exc:  # noqa: BLE001 - any failure: log it, still answer with the key
            log.warning("queue %s/%s created but not listed (%s); repeating the create lists it",
                        tenant, queue, exc)
        return config, (_text(reply[5]) or admin_key) if reply[0] == 1 else None

    async def get_queue(self, tenant: str, queue: str) -> QueueConfig | None:
        values = await self.scripts.execute("HMGET", self.keys(tenant, queue).cfg, *CONFIG_FIELDS)
        return None if values[0] is None else _config(tenant, queue, values)

    async def list_queues(self, tenant: str, offset: int, limit: int) -> QueuePage:
        """A page of the tenant's queues in creation order. The registry and each config live
        in different slots: the registry must answer (else the error propagates), but a config
        whose slot cannot be read (a Redis Cluster primary down) is reported in `unavailable`
        instead of failing the whole page."""
        registry = tenant_registry(self.keyspace, tenant)
        ids, total = await asyncio.gather(self.scripts.execute("ZRANGE", registry, offset, offset + limit - 1),
                                          self.scripts.execute("ZCARD", registry))
        queues = [_text(q) for q in ids]
        found = await asyncio.gather(*(self._readable_config(tenant, q) for q in queues))
        configs = [c for c in found if isinstance(c, QueueConfig)]
        unavailable = [q for q, c in zip(queues, found) if c is _UNREADABLE]
        following = offset + len(queues)
        return QueuePage(configs, following if following < int(total) else None, unavailable)

    async def _readable_config(self, tenant: str, queue: str) -> QueueConfig | None | object:
        """The config, None when it does not exist, or _UNREADABLE when Redis could not answer."""
        try:
            # a stalled primary must not hold the whole listing for the client's timeout
            async with asyncio.timeout(LISTING_READ_TIMEOUT):
                return await self.get_queue(tenant, queue)
        except (Unavailable, RedisError, OSError, asyncio.TimeoutError) as exc:
            log.warning("queue %s/%s left out of the listing: %r", tenant, queue, exc)
            return _UNREADABLE

    async def configure(self, tenant: str, queue: str, admin_key: Credential, *, name: str | None = None,
                        public: bool | None = None, minutes: float | None = None,
                        rotate: bool = False, once: Once | None = None, ticket_prefix: str | None = None,
                        time_zone: str | None = None, show_names: bool | None = None,
                        opening_hours: str | None = None, max_waiting: int | None = None,
                        paused: bool | None = None, pause_message: str = "",
                        near_front: int | None = None, events_topic: bool | None = None,
                        close_at: str | None = None) -> tuple[QueueConfig, str | None]:
        """opening_hours: canonical JSON, "-" to remove; max_waiting 0: no limit; None: keep."""
        """(config after the change, the new admin key when rotate)."""
        new_key = new_admin_key() if rotate else None
        k = self.keys(tenant, queue)
        reply = await self.scripts.call("lines_configure", [k.cfg, k.events, k.hooks, k.forward_cursor], [
            key_digest(admin_key), name or "", "" if public is None else ("1" if public else "0"),
            "" if minutes is None else repr(float(minutes)), key_digest(new_key), self.events_maxlen, k.channel,
            new_key if once and new_key else "", ticket_prefix or "", time_zone or "",
            "" if show_names is None else ("1" if show_names else "0"), opening_hours or "",
            "" if max_waiting is None else str(max_waiting), "" if paused is None else ("1" if paused else "0"),
            pause_message, "" if near_front is None else str(near_front),
            "" if events_topic is None else ("1" if events_topic else "0"), close_at or ""], once=once)
        reply = _padded(reply, 16)
        config = dataclasses.replace(_config(tenant, queue, [*reply[:4], *reply[5:15]]), forwarding=reply[15] == 1)
        if events_topic is not None:
            await self._index(forwarding_index(self.keyspace), tenant, queue, reply[15] == 1)
        if close_at is not None:
            await self._index(closing_index(self.keyspace), tenant, queue, config.close_at is not None)
        return config, (_text(reply[4]) or new_key) if rotate else None

    async def _index(self, index: str, tenant: str, queue: str, member: bool) -> None:
        """Add the line to (or take it from) a sweep index, in its own slot: a separate,
        idempotent command after the script, like the tenant registry; a failure is logged (the
        same request again repairs it)."""
        try:
            if member:
                await self.scripts.execute("ZADD", index, "NX", int(time.time() * 1000), f"{tenant}/{queue}")
            else:
                await self.scripts.execute("ZREM", index, f"{tenant}/{queue}")
        except Exception as exc:  # noqa: BLE001 - the change is made; repeating the request lists it
            log.warning("line %s/%s changed but %s not updated (%s); repeat the request", tenant, queue, index, exc)

    # webhooks

    async def webhook_urls(self, tenant: str, queue: str) -> list[str]:
        return sorted(_text(u) for u in await self.scripts.execute("HKEYS", self.keys(tenant, queue).hooks))

    async def save_webhook(self, tenant: str, queue: str, admin_key: Credential, add: bool, url: str,
                           secret: str = "", once: Once | None = None) -> tuple[bool, int, bool]:
        """(the line forwards now, its webhooks, whether this call changed the list)."""
        k = self.keys(tenant, queue)
        forwards, count, changed = await self.scripts.call(
            "lines_webhook_save", [k.cfg, k.hooks, k.events, k.forward_cursor],
            [key_digest(admin_key), "add" if add else "remove", url, secret, MAX_WEBHOOKS, self.events_maxlen,
             k.channel], once=once)
        await self._index(forwarding_index(self.keyspace), tenant, queue, forwards == 1)
        return forwards == 1, int(count), changed == 1

    # people in the line

    async def join(self, tenant: str, queue: str, name: str, type_id: str | None,
                   admin_key: Credential, once: Once | None = None) -> Joined:
        """With `once`, a retry gets the first call's person and leave token (its stored reply holds both)."""
        k = self.keys(tenant, queue)
        uid, token = str(uuid.uuid4()), new_leave_token()
        args = [uid, name, type_id or "", key_digest(admin_key), self.default_minutes, self.events_maxlen,
                k.channel, token_digest(token), token if once else ""]
        zone, hours_text = self._schedules.get((tenant, queue), (tickets.DEFAULT_ZONE, ""))
        for attempt in range(3):  # the schedule changes between two tries only under a racing PATCH
            now = time.time()
            try:
                reply = await self.scripts.call(
                    "lines_join", [k.cfg, k.seq, k.wait, k.ent, k.types, k.stats, k.events, k.type_index,
                                   k.near_front],
                    [*args, zone, *tickets.day_candidates(zone, now), hours_text,
                     *hours.interval_args(hours_text, zone, now)], once=once)
                break
            except ResponseError as exc:
                if not str(exc).startswith("STALE") or attempt == 2:
                    raise
                zone, hours_text = await self._schedule(tenant, queue)
        await self.lines.add(f"{tenant}/{queue}")
        joined, position, minutes, type_name, type_code, uid, echoed, ticket, open_counters = _padded(reply, 9)
        entry = Entry(_text(uid), name, joined, type_id, _text(type_name), _text(type_code), "waiting",
                      ticket=_text(ticket))
        return Joined(Place(entry, position, float(minutes), open_counters or 0), _text(echoed) or token)

    async def _schedule(self, tenant: str, queue: str) -> tuple[str, str]:
        """The line's (time zone, opening hours text) as Redis holds them; remembered."""
        values = await self.scripts.execute("HMGET", self.keys(tenant, queue).cfg, "tz", "oh")
        found = (_text(values[0]) or tickets.DEFAULT_ZONE, _text(values[1]) or "")
        if len(self._schedules) >= SCHEDULE_CACHE:
            self._schedules.clear()
        self._schedules[(tenant, queue)] = found
        return found

    async def _zoned(self, tenant: str, queue: str, script: str, keys: list[str], args: list[Any],
                     once: Once | None) -> Any:
        """Call a script that counts analytics: it takes the three local days' analytics hashes
        after `keys` and their ARGV tail (analytics.day_args) after `args`; STALE (this node's
        idea of the line's time zone is old) reads the zone again and retries."""
        k = self.keys(tenant, queue)
        zone = self._schedules.get((tenant, queue), (tickets.DEFAULT_ZONE, ""))[0]
        for attempt in range(3):
            labels, tail = analytics.day_args(zone, time.time())
            try:
                return await self.scripts.call(script, [*keys, *(k.analytics(d) for d in labels)], [*args, *tail],
                                               once=once)
            except ResponseError as exc:
                if not str(exc).startswith("STALE") or attempt == 2:
                    raise
                zone, _ = await self._schedule(tenant, queue)

    async def status(self, tenant: str, queue: str, uid: str) -> Place:
        k = self.keys(tenant, queue)
        position, blob, minutes, type_name, type_code, open_counters = await self.scripts.call(
            "lines_status", [k.wait, k.ent, k.done, k.stats, k.cfg, k.types], [uid, self.default_minutes])
        return Place(_entry(uid, blob, type_name, type_code), position or None, float(minutes), open_counters)

    async def page(self, tenant: str, queue: str, offset: int, limit: int) -> LinePage:
        k = self.keys(tenant, queue)
        waiting, minutes, current, flat, type_flat, counter_flat, open_counters = await self.scripts.call(
            "lines_list", [k.wait, k.ent, k.stats, k.cfg, k.types, k.counters], [offset, limit, self.default_minutes])
        types = {_text(type_flat[i]): _unpack(type_flat[i + 1]) for i in range(0, len(type_flat), 2)}
        places = []
        for i in range(0, len(flat), 2):
            entry = _entry(flat[i], flat[i + 1])
            name, code = types.get(entry.service_type_id, (None, None))
            entry = Entry(entry.id, entry.name, entry.joined_ms, entry.service_type_id, name, code, "waiting",
                          ticket=entry.ticket)
            places.append(Place(entry, offset + i // 2 + 1, float(minutes), open_counters))
        now_serving = None
        if current:
            uid, name, type_id, served, *ticket = _unpack(current)
            now_serving = NowServing(uid, name, type_id or None, served, ticket[0] if ticket else None)
        return LinePage(waiting, float(minutes), now_serving, places, offset, _counters(counter_flat), open_counters)

    async def serve_next(self, tenant: str, queue: str, admin_key: Credential,
                         once: Once | None = None, counter: str | None = None) -> Entry | None:
        """The first in line (at a counter: the first of the types it serves), or None."""
        k = self.keys(tenant, queue)
        reply = await self._zoned(
            tenant, queue, "lines_serve_next", [k.cfg, k.wait, k.ent, k.done, k.donex, k.stats, k.durations,
                                                k.events, k.types, k.type_index, k.counters, k.near_front],
            [key_digest(admin_key), self.events_maxlen, k.channel, FINISHED_RETENTION_MS, counter or ""], once)
        if reply is None:
            return None
        uid, blob, type_name, type_code = reply
        return _entry(uid, blob, type_name, type_code)

    async def call(self, tenant: str, queue: str, uid: str, admin_key: Credential,
                   once: Once | None = None, counter: str | None = None) -> Entry:
        k = self.keys(tenant, queue)
        blob, type_name, type_code = await self._zoned(
            tenant, queue, "lines_call", [k.cfg, k.wait, k.ent, k.done, k.donex, k.stats, k.durations, k.events,
                                          k.types, k.type_index, k.counters, k.near_front],
            [uid, key_digest(admin_key), self.events_maxlen, k.channel, FINISHED_RETENTION_MS, counter or ""], once)
        return _entry(uid, blob, type_name, type_code)

    async def finish(self, tenant: str, queue: str, uid: str, status: str, admin_key: Credential,
                     leave_token: str | None = None, once: Once | None = None) -> Entry:
        """status: left (the person, with the leave token join gave them), removed or no_show (admin)."""
        k = self.keys(tenant, queue)
        blob, type_name, type_code = await self._zoned(
            tenant, queue, "lines_finish", [k.cfg, k.wait, k.ent, k.done, k.donex, k.events, k.types, k.stats,
                                            k.type_index, k.counters, k.near_front],
            [uid, status, key_digest(admin_key), self.events_maxlen, k.channel, FINISHED_RETENTION_MS,
             token_digest(leave_token)], once)
        return _entry(uid, blob, type_name, type_code)

    # service types

    async def service_types(self, tenant: str, queue: str) -> list[ServiceType]:
        found = await self.scripts.execute("HGETALL", self.keys(tenant, queue).types)  # a dict
        types = [ServiceType(_text(type_id), *_unpack(packed)) for type_id, packed in found.items()]
        return sorted(types, key=lambda t: (t.name.lower(), t.code))

    async def save_service_type(self, tenant: str, queue: str, admin_key: Credential, type_id: str | None,
                                name: str | None, code: str | None, once: Once | None = None) -> ServiceType:
        """Create (type_id None) or rename one."""
        k = self.keys(tenant, queue)
        mode = "update" if type_id else "create"
        reply = await self.scripts.call("lines_type_save", [k.cfg, k.types, k.events], [
            key_digest(admin_key), type_id or str(uuid.uuid4()), mode, name or "", code or "", MAX_SERVICE_TYPES,
            self.events_maxlen, k.channel], once=once)
        return ServiceType(*(_text(v) for v in reply))

    async def delete_service_type(self, tenant: str, queue: str, admin_key: Credential, type_id: str,
                                  once: Once | None = None) -> None:
        k = self.keys(tenant, queue)
        await self.scripts.call("lines_type_delete", [k.cfg, k.types, k.events],
                                [key_digest(admin_key), type_id, self.events_maxlen, k.channel], once=once)

    async def close_day(self, tenant: str, queue: str, admin_key: Credential, most: int,
                        once: Once | None = None) -> tuple[int, int]:
        """(closed by this call, still waiting): the front `most` people finish as "closed"."""
        k = self.keys(tenant, queue)
        closed, remaining, *_ = await self.scripts.call(
            "lines_close_day", [k.cfg, k.wait, k.ent, k.done, k.donex, k.events, k.type_index, k.near_front],
            [key_digest(admin_key), most, self.events_maxlen, k.channel, FINISHED_RETENTION_MS], once=once)
        return int(closed), int(remaining)

    async def auto_close(self, tenant: str, queue: str, most: int = 500, calls: int = 10,
                         days: list[str] | None = None) -> int:
        """The sweep's end-of-day close for a line with `close_at`: how many it closed (at most
        `calls` batches of `most`; the next sweep goes on). The script decides whether a day is
        due and not closed yet, by the Redis clock, so nodes sweeping together close it once.
        `days`: the [label, close ms] candidates (default: hours.close_times by this node's clock)."""
        k = self.keys(tenant, queue)
        zone, hours_text, close_at = (_text(v) for v in await self.scripts.execute("HMGET", k.cfg, "tz", "oh", "ca"))
        if not close_at:
            return 0
        total = 0
        for _ in range(calls):
            candidates = days or hours.close_times(close_at, hours_text, zone or tickets.DEFAULT_ZONE, time.time())
            if all(not label or int(due) > (time.time() + CLOCK_SLACK) * 1000
                   for label, due in zip(candidates[::2], candidates[1::2])):
                return total  # nothing due even by a clock a minute fast: no script call
            closed, _, marked = _padded(await self.scripts.call(
                "lines_close_day", [k.cfg, k.wait, k.ent, k.done, k.donex, k.events, k.type_index, k.near_front],
                [VERIFIED, most, self.events_maxlen, k.channel, FINISHED_RETENTION_MS, *candidates]), 3)
            total += int(closed)
            if marked or int(closed) == 0:
                break
        return total

    # counters

    async def counters(self, tenant: str, queue: str) -> list[Counter]:
        return _counters(await self.scripts.execute("HGETALL", self.keys(tenant, queue).counters))

    async def save_counter(self, tenant: str, queue: str, admin_key: Credential, counter_id: str, create: bool,
                           name: str | None, is_open: bool | None, type_ids: list[str] | None,
                           once: Once | None = None) -> Counter:
        k = self.keys(tenant, queue)
        packed = await self._zoned(tenant, queue, "lines_counter_save", [k.cfg, k.counters, k.types, k.stats, k.events,
                                                                           k.done], [
            key_digest(admin_key), counter_id, "create" if create else "update", name or "",
            "" if is_open is None else ("1" if is_open else "0"),
            "" if type_ids is None else json.dumps(type_ids), MAX_COUNTERS, self.events_maxlen, k.channel], once)
        return _counter(counter_id, packed)

    async def delete_counter(self, tenant: str, queue: str, admin_key: Credential, counter_id: str,
                             once: Once | None = None) -> None:
        k = self.keys(tenant, queue)
        await self._zoned(tenant, queue, "lines_counter_delete", [k.cfg, k.counters, k.stats, k.events, k.done],
                          [key_digest(admin_key), counter_id, self.events_maxlen, k.channel], once)

    async def recall(self, tenant: str, queue: str, admin_key: Credential, counter_id: str,
                     once: Once | None = None) -> Counter:
        k = self.keys(tenant, queue)
        packed = await self.scripts.call("lines_counter_recall", [k.cfg, k.counters, k.events],
                                         [key_digest(admin_key), counter_id, self.events_maxlen, k.channel], once=once)
        return _counter(counter_id, packed)

    # event log

    async def events(self, tenant: str, queue: str, admin_key: Credential, start: str, count: int) -> list[Event]:
        k = self.keys(tenant, queue)
        reply = await self.scripts.call("lines_events", [k.cfg, k.events], [key_digest(admin_key), start, count])
        events = []
        for raw_id, flat in reply:
            fields = {_text(flat[i]): flat[i + 1] for i in range(0, len(flat), 2)}
            event_id = _text(raw_id)
            events.append(Event(event_id, int(event_id.partition("-")[0]), _text(fields["type"]),
                                _text(fields["user_id"]), fields["meta"]))
        return events

    async def history(self, tenant: str, queue: str, admin_key: Credential, limit: int,
                      before: tuple[int, str] | None) -> list[Finished]:
        """Finished people, newest first, after the cursor (finished ms, user id) of a previous page."""
        k = self.keys(tenant, queue)
        oldest = int(time.time() * 1000) - FINISHED_RETENTION_MS
        flat = await self.scripts.call("lines_history", [k.cfg, k.done, k.donex], [
            key_digest(admin_key), limit, str(before[0]) if before else "", before[1] if before else "", oldest])
        return [_finished(flat[i], flat[i + 1]) for i in range(0, len(flat), 2)]

    # analytics

    async def authorize(self, tenant: str, queue: str, admin_key: Credential) -> str:
        """Check the admin key (FORBIDDEN otherwise); the line's time zone."""
        return _text(await self.scripts.call("lines_authorize", [self.keys(tenant, queue).cfg], [key_digest(admin_key)]))

    async def analytics(self, tenant: str, queue: str, zone: str, days: list[date]) -> dict[str, Any]:
        """The analytics answer (microq/lines/analytics.py) for `days`, after authorize. The days'
        hashes are read together and parsed analytics.PARSE_CHUNK fields at a time, yielding to the
        event loop between chunks (a busy day is a few thousand fields, the most ~17,000)."""
        k = self.keys(tenant, queue)
        found = await asyncio.gather(*(self.scripts.execute("HGETALL", k.analytics(d.isoformat())) for d in days),
                                     self.service_types(tenant, queue), self.counters(tenant, queue))
        parsed = []
        for d, fields in zip(days, found):
            day = analytics.Day()
            for chunk in analytics.chunks(fields):
                analytics.parse_day(chunk, day)
                await asyncio.sleep(0)
            parsed.append((d, day))
        types, counters = found[-2], found[-1]
        return analytics.report(queue, zone, parsed, {t.id: t.name for t in types}, {c.id: c.name for c in counters})
