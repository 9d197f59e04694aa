"""Request fields of the lines API: each check raises BadRequest naming the field."""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Any

from microq import parse
from microq.errors import BadRequest
from microq.http import string_field
from microq.lines import tickets

NAME_MAX = 100
QUEUE_NAME_MAX = 200
MINUTES_MAX = 24 * 60
_CODE = re.compile(r"[A-Za-z0-9_-]{1,10}")  #: fullmatch: `$` would let a trailing newline in
_COUNTER_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")  #: fullmatch
COUNTER_NAME_MAX = 60
PAUSE_MESSAGE_MAX = 200
NEAR_FRONT_MAX = 50  #: each line change looks at this many people at most
TYPE_IDS_MAX = 100  #: as many as a queue may have service types


def text(data: dict[str, Any], field: str, limit: int, *, required: bool = True) -> str | None:
    """A trimmed, non-empty string of at most `limit` characters, without control characters."""
    value = string_field(data, field, required=required)
    if value is None:
        return None
    value = value.strip()
    if not value:
        raise BadRequest(f"{field} must not be empty")
    if len(value) > limit:
        raise BadRequest(f"{field} must be at most {limit} characters")
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in value):
        raise BadRequest(f"{field} must not contain control characters")
    return value


def optional_text(data: dict[str, Any], field: str) -> str | None:
    """A string as sent (None when absent, null or empty), for secrets compared by digest."""
    value = string_field(data, field, required=False)
    return value or None


def boolean(data: dict[str, Any], field: str) -> bool | None:
    value = data.get(field)
    if value is not None and not isinstance(value, bool):
        raise BadRequest(f"{field} must be true or false")
    return value


def minutes(data: dict[str, Any], field: str) -> float | None:
    value = data.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadRequest(f"{field} must be a number of minutes")
    if not (isinstance(value, int) or math.isfinite(value)) or not 0 < value <= MINUTES_MAX:
        raise BadRequest(f"{field} must be more than 0 and at most {MINUTES_MAX} minutes")
    return float(value)


def optional_id(data: dict[str, Any], field: str) -> str | None:
    """An opaque id (service_type_id): empty or null means none."""
    value = data.get(field)
    if value is None or value == "":
        return None
    # isprintable: a lone surrogate ("\ud800") cannot even be encoded for Redis
    if not isinstance(value, str) or len(value) > 64 or not value.isprintable():
        raise BadRequest(f"{field} must be a string id")
    return value


def code(data: dict[str, Any], field: str = "code") -> str | None:
    value = data.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or not _CODE.fullmatch(value):
        raise BadRequest(f"{field} must be 1-10 letters, digits, '_' or '-'")
    return value.upper()


def code_from_name(name: str) -> str:
    """A default service type code: the first three ASCII letters or digits of the name."""
    return "".join(c for c in name.upper() if c.isascii() and c.isalnum())[:3] or "SVC"


def query_int(query: Any, field: str, default: int, low: int, high: int) -> int:
    """A query number by the one parser (microq/parse.py: ASCII digits only) within lines' limits;
    absent or empty: `default`."""
    raw = query.get(field)
    if raw is None or raw == "":
        return default
    try:
        return parse.whole_number(raw, low, high)
    except ValueError:
        raise BadRequest(f"{field} must be a whole number from {low} to {high}") from None


def time_zone(data: dict[str, Any], field: str = "time_zone") -> str | None:
    """An IANA time zone name that zoneinfo knows ("Europe/Berlin", "UTC")."""
    value = data.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or tickets.zone(value) is None:
        raise BadRequest(f"{field} must be an IANA time zone name, such as Europe/Berlin or UTC")
    return value


def counter_id(value: object, field: str = "counter") -> str:
    if not isinstance(value, str) or not _COUNTER_ID.fullmatch(value):
        raise BadRequest(f"{field} must be 1-32 letters, digits, '_' or '-'")
    return value


def type_ids(data: dict[str, Any], field: str = "service_type_ids") -> list[str] | None:
    """A list of service type ids (each as optional_id), without repeats; None when absent."""
    value = data.get(field)
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > TYPE_IDS_MAX:
        raise BadRequest(f"{field} must be a list of at most {TYPE_IDS_MAX} service type ids")
    ids: list[str] = []
    for item in value:
        type_id = optional_id({field: item}, field)
        if type_id is None:
            raise BadRequest(f"{field} must not hold empty ids")
        if type_id not in ids:
            ids.append(type_id)
    return ids


def near_front(data: dict[str, Any], field: str = "near_front") -> int | None:
    """None: absent; 0: off (null sent); else a position 1..NEAR_FRONT_MAX."""
    if field not in data:
        return None
    value = data[field]
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= NEAR_FRONT_MAX:
        raise BadRequest(f"{field} must be a position from 1 to {NEAR_FRONT_MAX}, or null for none")
    return value
