"""A message as the scripts hand it back, and as the seed shows it to clients."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any


@dataclass(frozen=True)
class Message:
    id: str
    topic: str
    payload: bytes
    created_ms: int
    retry_count: int
    expires_ms: int = 0  #: 0: no ttl
    content_type: str = ""

    @classmethod
    def from_script(cls, topic: str, id: bytes, payload: bytes, meta: bytes) -> Message:
        created, retry, expires, ctype = meta.decode().split(":", 3)
        return cls(id.decode(), topic, payload, int(created), int(retry), int(expires), ctype)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "topic": self.topic, "payload": base64.b64encode(self.payload).decode(),
                "timestamp": iso_ms(self.created_ms), "retry_count": self.retry_count}


def iso_ms(ms: int) -> str:
    """RFC 3339 UTC with milliseconds: 2026-06-18T10:00:00.123Z."""
    moment = datetime.fromtimestamp(ms / 1000, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def parse_iso_ms(text: object) -> int | None:
    """Milliseconds since the epoch in an RFC 3339 timestamp, or None when it is not one."""
    if not isinstance(text, str) or len(text) > 64:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    try:
        return max(0, int(moment.timestamp() * 1000))
    except (OverflowError, OSError, ValueError):
        return None


def messages_from_reply(topic: str, reply: list[Any]) -> list[Message]:
    """The id, payload, meta triples after a reply's two header items."""
    return [Message.from_script(topic, *reply[i:i + 3]) for i in range(2, len(reply), 3)]
