"""Query and body values as the seed writes them; anything else is a 400 naming the parameter."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any, Mapping

from microq import parse
from microq.errors import BadRequest

MAX_DURATION = 365 * 86400.0  #: a year: longer ttls and delays are almost certainly mistakes


def duration_ms(query: Mapping[str, str], name: str, default: float = 0.0, maximum: float = MAX_DURATION) -> int:
    """A duration parameter (500ms, 30s, 5m, 1h, or bare seconds) in whole milliseconds."""
    raw = query.get(name)
    if raw is None:
        return int(default * 1000)
    return duration_value_ms(raw, name, maximum)


def duration_value_ms(raw: object, name: str, maximum: float = MAX_DURATION) -> int:
    if not isinstance(raw, str):
        raise BadRequest(f"invalid {name}: expected a duration string like 500ms, 30s, 5m or 1h")
    try:
        seconds = parse.duration(raw)
    except ValueError:
        raise BadRequest(f"invalid {name} {raw[:40]!r}: use e.g. 500ms, 30s, 5m, 1h") from None
    if seconds > maximum:
        raise BadRequest(f"invalid {name}: at most {int(maximum)} seconds")
    return int(seconds * 1000)


def flag(query: Mapping[str, str], name: str) -> bool:
    try:
        return parse.flag(query.get(name, ""))
    except ValueError as exc:
        raise BadRequest(f"invalid {name}: {exc}") from None


def whole_number(query: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    try:
        return parse.whole_number(raw, low, high)
    except ValueError as exc:
        raise BadRequest(f"invalid {name}: {exc}") from None


FILTER_KEY_MAX = 200  #: characters of filter_key
FILTER_VAL_MAX = 1000  #: characters of filter_val


def json_filter(query: Mapping[str, str]) -> tuple[str, str] | None:
    """TinyMQ 3's filter_key/filter_val: (key, value), or None without a key (as TinyMQ 3, an empty
    key filters nothing; a missing value is "")."""
    key, value = query.get("filter_key", ""), query.get("filter_val", "")
    if not key:
        return None
    if len(key) > FILTER_KEY_MAX or len(value) > FILTER_VAL_MAX:
        raise BadRequest(f"invalid filter: filter_key at most {FILTER_KEY_MAX} characters, "
                         f"filter_val {FILTER_VAL_MAX}")
    try:  # a lone surrogate (raw non-UTF-8 in the URL) cannot go to Redis
        key.encode(), value.encode()
    except UnicodeEncodeError:
        raise BadRequest("invalid filter: filter_key and filter_val must be UTF-8") from None
    return key, value


def base64_payload(value: Any, name: str = "payload") -> bytes:
    if not isinstance(value, str):
        raise BadRequest(f"{name} must be a base64 string")
    try:
        payload = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest(f"{name} is not valid base64") from None
    if not payload:
        raise BadRequest(f"{name} is empty")
    return payload


# Visible ASCII without "|" (it separates id and webhook id in delivery keys): an id goes into
# Redis as UTF-8 (a lone surrogate cannot) and into webhook headers (a CR or LF is refused there).
_MESSAGE_ID = re.compile(r"[!-{}~]{1,200}")
# Printable ASCII, as an HTTP header value may hold: it is sent again on webhook POSTs.
_CONTENT_TYPE = re.compile(r"[\t -~]{0,200}")


def message_id(value: Any, name: str = "id") -> str:
    if not isinstance(value, str) or not _MESSAGE_ID.fullmatch(value):
        raise BadRequest(f"missing or invalid {name}: expected a message id string")
    return value


def content_type(value: Any, name: str = "Content-Type") -> str:
    if not isinstance(value, str) or not _CONTENT_TYPE.fullmatch(value):
        raise BadRequest(f"invalid {name}: at most 200 printable ASCII characters")
    return value
