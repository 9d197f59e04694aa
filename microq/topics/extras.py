"""What a message carries beside its payload: TinyMQ 3's `X-MQ-*` headers, its priority, and when
it was due (a delay); read from requests, and kept compactly after a message's metadata.

The metadata field (see scripts/lua/includes/topics_meta.lua) is
`created_ms:retry_count:expires_ms:content_type`, and for a message with headers, a priority
other than normal or a delay, `\\n` + one priority byte (`h`, `n`, `l`) + msgpack
`[delay_ms, {name: value}]`. The content type holds no newline, so the tail is unambiguous; a
plain message has no tail at all (the seed's messages cost exactly what they did). Scripts
copy the tail untouched and read only its priority byte, to rank the message.
"""

from __future__ import annotations

import functools
import re
from typing import Any, Iterable, Mapping

import msgpack

from microq.errors import BadRequest

HEADER_PREFIX = "X-MQ-"
MAX_HEADERS = 32  #: X-MQ-* headers one message may carry
MAX_HEADER_BYTES = 8192  #: their names and values together
PRIORITIES = {"high": b"h", "normal": b"n", "low": b"l"}  #: TinyMQ 3's ?priority= values
_NAME_OF = {v: k for k, v in PRIORITIES.items()}
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def canonical(name: str) -> str:
    """Go's textproto.CanonicalMIMEHeaderKey, which TinyMQ 3 keys its headers map by: x-mq-trace-id -> X-Mq-Trace-Id."""
    if not _TOKEN.fullmatch(name):
        return name
    return "-".join(part[:1].upper() + part[1:].lower() for part in name.split("-"))


@functools.lru_cache(maxsize=4096)
def _header_name(name: str) -> str | None:
    """The canonical name of a valid X-MQ-* header name, else None (cached: clients send few distinct names)."""
    if not name.upper().startswith(HEADER_PREFIX) or not _TOKEN.fullmatch(name):
        return None
    return canonical(name)


def check_headers(pairs: Iterable[tuple[str, Any]], what: str = "header") -> dict[str, str]:
    """X-MQ-* headers by their canonical name (the first of repeated ones, as TinyMQ 3); 400 past the bounds."""
    out: dict[str, str] = {}
    size = 0
    for name, value in pairs:
        key = _header_name(name) if isinstance(name, str) else None
        if key is None:
            raise BadRequest(f"invalid {what} {str(name)[:40]!r}: names are tokens starting with {HEADER_PREFIX}")
        # printable ASCII: a value is sent again as a header of webhook POSTs
        if not isinstance(value, str) or not (value.isascii() and value.isprintable()):
            raise BadRequest(f"invalid {what} {name[:40]}: values are printable ASCII strings")
        if key in out:
            continue
        out[key] = value
        size += len(key) + len(value)
        if len(out) > MAX_HEADERS or size > MAX_HEADER_BYTES:
            raise BadRequest(f"too many headers: at most {MAX_HEADERS} {HEADER_PREFIX}* headers, "
                             f"{MAX_HEADER_BYTES} bytes of names and values")
    return out


def request_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The X-MQ-* headers of a request (aiohttp's case-insensitive headers)."""
    found = [(k, v) for k, v in headers.items() if k[:5].upper() == HEADER_PREFIX]
    return check_headers(found) if found else {}


def priority(value: Any, name: str = "priority") -> bytes:
    """The priority byte of `high`, `normal` (also empty, TinyMQ 3's default) or `low`."""
    if value is None or value == "":
        return b"n"
    found = PRIORITIES.get(value) if isinstance(value, str) else None
    if found is None:
        raise BadRequest(f"invalid {name}: use high, normal or low")
    return found


def priority_name(value: Any, name: str = "priority") -> str:
    return _NAME_OF[priority(value, name)]


def tail(prio: bytes = b"n", headers: Mapping[str, str] | None = None, delay_ms: int = 0) -> bytes:
    """The metadata tail: b"" for a plain message."""
    if prio == b"n" and not headers and not delay_ms:
        return b""
    return b"\n" + prio + msgpack.packb([delay_ms, dict(headers or {})], use_bin_type=False)


def parse_tail(data: bytes) -> tuple[str, int, dict[str, str]]:
    """(priority name, delay_ms, headers) of a metadata tail (its leading newline already gone)."""
    if not data:
        return "normal", 0, {}
    prio = _NAME_OF.get(data[:1], "normal")
    try:
        delay_ms, headers = msgpack.unpackb(data[1:], raw=False)
    except (ValueError, TypeError, msgpack.UnpackException):
        return prio, 0, {}
    return prio, int(delay_ms or 0), headers if isinstance(headers, dict) else {}
