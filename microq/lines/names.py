"""Which tenant and queue ids the lines API accepts.

Ids end up in URLs (/api/<tenant_id>/<queue_id>/...) and in Redis hash tags, so they are short
and plain. A tenant id that is a fixed path segment of another part (/api/queue, /api/topics,
...) would make that tenant's URLs reach the other part, so those names are refused.
"""

from __future__ import annotations

import re
import uuid

from microq.errors import BadRequest

# fullmatch, not `$`: `$` also matches before a trailing newline, which let "queues\n" through
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")

#: tenant ids that are, or may become, fixed /api/<segment> paths of the work and topics APIs
RESERVED_TENANTS = frozenset({
    "queue", "queues", "trigger", "triggers", "topic", "topics", "stats", "dlq", "webhooks",
    "messages", "publish", "consume", "ack", "requeue", "peek", "dashboard", "admin", "keys",
    "api-keys", "bans", "health", "healthz", "readyz", "metrics", "static", "events", "work",
    "lines", "v1", "v2",
})

#: queue ids that would make /api/<tenant>/queues/<x> ambiguous with /api/<tenant>/<queue>/<x>
RESERVED_QUEUES = frozenset({"queues"})


def tenant_id(value: object) -> str:
    text = _plain_id(value, "tenant_id")
    if text.lower() in RESERVED_TENANTS:
        raise BadRequest(f"tenant_id {text!r} is reserved (it is a path of another MicroQ API)")
    return text


def queue_id(value: object) -> str:
    text = _plain_id(value, "queue_id")
    if text.lower() in RESERVED_QUEUES:
        raise BadRequest(f"queue_id {text!r} is reserved")
    return text


def _plain_id(value: object, field: str) -> str:
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise BadRequest(f"{field} must be 1-64 characters: letters, digits, '_' or '-'")
    return value


def user_id(value: str) -> str | None:
    """The canonical form of a user id, or None when it cannot be one we issued."""
    if len(value) != 36:
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None
