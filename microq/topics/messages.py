"""A message as the scripts hand it back, and as the seed shows it to clients."""

from __future__ import annotations

import base64
import functools
import os
import time
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


def new_ids(count: int) -> list[str]:
    """Random UUIDv4 strings, `count` of them from one urandom call (uuid.uuid4() each is a hot spot in batches)."""
    raw = os.urandom(16 * count).hex()
    out = []
    for i in range(0, 32 * count, 32):
        h = raw[i:i + 32]
        out.append(f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}")
    return out


_VARIANT = {c: "89ab"[int(c, 16) % 4] for c in "0123456789abcdef"}


def iso_ms(ms: int) -> str:
    """RFC 3339 UTC with milliseconds: 2026-06-18T10:00:00.123Z."""
    return _iso_second(ms // 1000) + f"{ms % 1000:03d}Z"


@functools.lru_cache(maxsize=4096)
def _iso_second(seconds: int) -> str:  # a batch's messages mostly share their second
    return time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(seconds))


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
    """The id, payload, meta triples after a reply's three header items."""
    return [Message.from_script(topic, *reply[i:i + 3]) for i in range(3, len(reply), 3)]
