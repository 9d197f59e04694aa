"""A message as the scripts hand it back, and as the seed shows it to clients."""

from __future__ import annotations

import base64
import functools
import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from microq.topics.extras import parse_tail, tail


@dataclass(frozen=True)
class Message:
    id: str
    topic: str
    payload: bytes
    created_ms: int
    retry_count: int
    expires_ms: int = 0  #: 0: no ttl
    content_type: str = ""
    priority: str = "normal"  #: high | normal | low
    headers: dict[str, str] = field(default_factory=dict)  #: X-MQ-* headers, by canonical name
    delay_ms: int = 0  #: the publish's delay: deliver_at is created_ms + delay_ms

    @classmethod
    def from_script(cls, topic: str, id: bytes, payload: bytes, meta: bytes) -> Message:
        head, _, extra = meta.partition(b"\n")
        created, retry, expires, ctype = head.decode().split(":", 3)
        if not extra:
            return cls(id.decode(), topic, payload, int(created), int(retry), int(expires), ctype)
        prio, delay_ms, headers = parse_tail(extra)
        return cls(id.decode(), topic, payload, int(created), int(retry), int(expires), ctype, prio, headers, delay_ms)

    @property
    def tail(self) -> bytes:
        """The metadata tail that keeps priority, headers and delay (b"" for a plain message)."""
        return tail({"high": b"h", "low": b"l"}.get(self.priority, b"n"), self.headers, self.delay_ms)

    def to_json(self, qol: bool = True) -> dict[str, Any]:
        """Seed 002's fields, then TinyMQ 3's message fields when set (expires_at, deliver_at,
        headers); with `qol`, as TinyMQ 3's consume answers, also payload_encoding, payload_text
        (when the payload is UTF-8) and MicroQ's priority. Peek answers without `qol`, as TinyMQ 3."""
        out: dict[str, Any] = {"id": self.id, "topic": self.topic, "payload": base64.b64encode(self.payload).decode(),
                               "timestamp": iso_ms(self.created_ms), "retry_count": self.retry_count}
        if qol:
            out["payload_encoding"] = "base64"
            try:
                text = self.payload.decode()
            except UnicodeDecodeError:
                text = ""
            if text:
                out["payload_text"] = text
        if self.expires_ms:
            out["expires_at"] = iso_ms(self.expires_ms)
        if self.delay_ms:
            out["deliver_at"] = iso_ms(self.created_ms + self.delay_ms)
        if self.headers:
            out["headers"] = self.headers
        if qol:
            out["priority"] = self.priority
        return out


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
