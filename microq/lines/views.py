"""How lines records look on the wire: the seed's field names and shapes."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from typing import Any

from microq.lines import hours
from microq.lines.store import (Counter, Entry, Event, Finished, Joined, LinePage, NowServing, Place, QueueConfig,
                                QueuePage, ServiceType)


def iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, timezone.utc).isoformat(timespec="milliseconds")


def eta(place: Place) -> float | None:
    """position × minutes per service, shared by the open counters (one server when none is open)."""
    if place.position is None:
        return None
    return round(place.position * place.minutes / max(1, place.open_counters), 2)


def entry(e: Entry, tenant: str, queue: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": e.id, "name": e.name, "joined_at": iso(e.joined_ms), "service_type_id": e.service_type_id,
        "service_type_name": e.service_type_name, "service_type_code": e.service_type_code,
        "tenant_id": tenant, "queue_id": queue, "status": e.status, "ticket": e.ticket,
        "counter": {"id": e.counter_id, "name": e.counter_name} if e.counter_id else None,
    }
    if e.status == "served":
        data["served_at"] = iso(e.finished_ms)
    elif e.finished_ms is not None:
        data["finished_at"] = iso(e.finished_ms)
    return data


def place(p: Place, tenant: str, queue: str) -> dict[str, Any]:
    """A join or status answer: a finished entry has position and eta_minutes null."""
    return {"entry": entry(p.entry, tenant, queue), "position": p.position, "eta_minutes": eta(p)}


def joined(j: Joined, tenant: str, queue: str) -> dict[str, Any]:
    """The join answer: the seed's place, plus the leave token (shown only here)."""
    return {**place(j.place, tenant, queue), "leave_token": j.leave_token}


def list_item(p: Place) -> dict[str, Any]:
    e = p.entry
    return {"id": e.id, "name": e.name, "position": p.position, "service_type_id": e.service_type_id,
            "service_type_name": e.service_type_name, "service_type_code": e.service_type_code,
            "eta_minutes": eta(p), "status": e.status, "joined_at": iso(e.joined_ms), "ticket": e.ticket}


def now_serving(n: NowServing | None) -> dict[str, Any] | None:
    if n is None:
        return None
    return {"id": n.id, "name": n.name, "service_type_id": n.service_type_id, "served_at": iso(n.served_ms),
            "ticket": n.ticket}


def line(page: LinePage) -> dict[str, Any]:
    return {"count": page.waiting, "queue": [list_item(p) for p in page.places],
            "offset": page.offset, "avg_service_time": page.minutes, "now_serving": now_serving(page.now_serving),
            "counters": [counter(c) for c in page.counters], "open_counters": page.open_counters}


def counter(c: Counter) -> dict[str, Any]:
    serving = None
    if c.serving is not None:
        s = c.serving
        serving = {"id": s.id, "name": s.name, "ticket": s.ticket, "service_type_id": s.service_type_id,
                   "served_at": iso(s.served_ms), "called_at": iso(s.called_ms)}
    return {"id": c.id, "name": c.name, "open": c.open, "service_type_ids": c.service_type_ids,
            "now_serving": serving}


def config(c: QueueConfig, admin_key: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"tenant_id": c.tenant_id, "queue_id": c.queue_id, "name": c.name,
                            "is_public": c.is_public, "avg_service_time": c.avg_service_time,
                            "ticket_prefix": c.ticket_prefix, "time_zone": c.time_zone, "show_names": c.show_names,
                            "opening_hours": hours.schedule(c.opening_hours), "max_waiting": c.max_waiting,
                            "paused": c.paused, "pause_message": c.pause_message or None,
                            "near_front": c.near_front or None, "events_topic": c.events_topic,
                            "close_at": c.close_at, "joining": joining(c)}
    if admin_key is not None:
        data["admin_key"] = admin_key
    data["created_at"] = iso(c.created_ms)
    return data


def joining(c: QueueConfig, now: float | None = None) -> dict[str, Any]:
    """Whether a join would be taken now, by this node's clock (a hint for pages: the join
    script decides by Redis's): {"open", "reason": "paused"|"hours"|None, "opens_at"}. A full
    line is not foreseen here (its 409 says so)."""
    now = time.time() if now is None else now
    if c.paused:
        return {"open": False, "reason": "paused", "opens_at": None}
    is_open, opens = hours.state(c.opening_hours, c.time_zone, now)
    if not is_open:
        return {"open": False, "reason": "hours",
                "opens_at": opens.astimezone(timezone.utc).isoformat(timespec="milliseconds") if opens else None}
    return {"open": True, "reason": None, "opens_at": None}


def queues(page: QueuePage) -> dict[str, Any]:
    """The seed's {"count", "queues"} (count: the configs in this answer), exactly that for a
    whole, readable listing. Only when there is more to say: `next_offset` when queues follow
    this page, `unavailable` (queue ids) when some configs could not be read."""
    data: dict[str, Any] = {"count": len(page.configs), "queues": [config(c) for c in page.configs]}
    if page.next_offset is not None:
        data["next_offset"] = page.next_offset
    if page.unavailable:
        data["unavailable"] = page.unavailable
    return data


def service_type(t: ServiceType) -> dict[str, Any]:
    return {"id": t.id, "name": t.name, "code": t.code}


def event(e: Event) -> dict[str, Any]:
    try:
        meta = json.loads(e.meta)
    except ValueError:
        meta = {}
    return {"id": e.id, "timestamp": iso(e.timestamp_ms), "type": e.type, "user_id": e.user_id,
            "meta": meta if isinstance(meta, dict) else {}}


def finished(f: Finished) -> dict[str, Any]:
    """A history item: times ISO 8601 UTC, durations in seconds (service null until it ended)."""
    return {"user_id": f.id, "name": f.name, "ticket": f.ticket, "status": f.status, "joined_at": iso(f.joined_ms),
            "called_at": iso(f.called_ms), "finished_at": iso(f.finished_ms),
            "waited_seconds": round(f.waited_ms / 1000, 1),
            "service_seconds": None if f.service_ms is None else round(f.service_ms / 1000, 1),
            "counter_id": f.counter_id}
