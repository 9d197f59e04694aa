"""The field rules of the work API: each violation is a BadRequest naming the field."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from microq import parse
from microq.errors import BadRequest
from microq.http import string_field
from microq.work.keys import PRIORITIES, STATUSES

NAME_MAX = 100  #: queue_name, reference, created_by, trigger names (seed: max 100 characters)
DATA_MAX = 2000  #: data after conversion to a string (seed)
MESSAGE_MAX = 10000  #: the seed sets none; a bound keeps one request from filling Redis
DESCRIPTION_MAX = 1000
DATE_MAX = 64
TOKEN_MAX = 200  #: Idempotency-Key (the work part's own bound, below the foundation's 255), lease_token
PAGE_MAX = 1000
LEASE_MAX_MS = 24 * 3600 * 1000  #: a claim's lease is at most 24 h
_DATA_JSON = json.JSONEncoder(ensure_ascii=False, allow_nan=False)  #: built once: json.dumps with options builds one per call
_TOKEN = re.compile(r"[A-Za-z0-9_.-]{1,50}")


def text(body: dict[str, Any], field: str, max_length: int, *, required: bool = False) -> str | None:
    """A string field of at most max_length characters; None when absent or null and not required."""
    value = string_field(body, field, required=required)
    return None if value is None else checked(field, value, max_length, required=required)


def name(body: dict[str, Any], field: str, *, required: bool = True) -> str | None:
    """A queue or trigger name: text() that is also addressable as one URL path segment.
    "." and ".." are not: clients and servers resolve them as dot-segments (RFC 3986)."""
    value = text(body, field, NAME_MAX, required=required)
    if value in (".", ".."):
        raise BadRequest(f"{field} must not be '.' or '..': such a name cannot appear in a URL path")
    return value


def checked(field: str, value: str, max_length: int, *, required: bool = False) -> str:
    if required and not value.strip():
        raise BadRequest(f"{field} must not be empty")
    if len(value) > max_length:
        raise BadRequest(f"{field} must be at most {max_length} characters (got {len(value)})")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from a \ud800 escape: not text Redis can hold
        raise BadRequest(f"{field} is not valid unicode text") from None
    return value


def item_status(body: dict[str, Any]) -> str:
    value = body.get("status")
    if value is None:
        return "NEW"
    if value not in STATUSES:
        raise BadRequest(f"status must be one of {', '.join(STATUSES)}")
    return value


def data(body: dict[str, Any]) -> str | None:
    """The seed's data: a string kept as is, an object or array stringified as JSON."""
    value = body.get("data")
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        try:  # NaN and Infinity pass Python's parser but are not JSON: the stored text would not parse
            value = _DATA_JSON.encode(value)
        except ValueError:
            raise BadRequest("data must not contain NaN or Infinity, which JSON cannot represent") from None
    elif not isinstance(value, str):
        raise BadRequest("data must be a string, an object or an array")
    if len(value) > DATA_MAX:
        raise BadRequest(f"data must be at most {DATA_MAX} characters after conversion (got {len(value)})")
    return checked("data", value, DATA_MAX)


def created_date(body: dict[str, Any]) -> str | None:
    value = text(body, "created_date", DATE_MAX)
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value).isoformat()
    except ValueError:
        raise BadRequest("created_date must be an ISO 8601 timestamp, e.g. 2025-04-26T12:00:00") from None


def priority(body: dict[str, Any]) -> str | None:
    """High, Normal or Low (case as written); None when absent, which the item shows as Normal."""
    value = body.get("priority")
    if value is None or value == "Normal":  # Normal is the default: not stored, so seed-era items read the same
        return None
    if value not in PRIORITIES:
        raise BadRequest(f"priority must be one of {', '.join(PRIORITIES)}")
    return value


def moment_ms(body: dict[str, Any], field: str) -> int | None:
    """An ISO 8601 time (a time without an offset is UTC) as ms since the epoch; None when absent."""
    value = text(body, field, DATE_MAX)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"{field} must be an ISO 8601 time, e.g. 2025-04-26T12:00:00Z") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    ms = round(moment.timestamp() * 1000)
    if not 0 <= ms < 2**43:  # 1970 .. about 2248: the scripts' scores stay exact
        raise BadRequest(f"{field} must lie between 1970 and 2200")
    return ms


def exception_type(body: dict[str, Any], status: str) -> str:
    """A FAILED move's exception_type: business (bad data: never retried) or application (the
    robot failed: retried as a new item up to the queue's max_retries); "" when absent."""
    value = body.get("exception_type")
    if value is None:
        return ""
    if status != "FAILED":
        raise BadRequest("exception_type goes only with status FAILED")
    if value not in ("business", "application"):
        raise BadRequest("exception_type must be business or application")
    return value


def status_token(body: dict[str, Any], field: str, default: str) -> str:
    """A trigger's process_status: a short token such as IDLE, RUNNING or DONE."""
    value = body.get(field)
    if value is None:
        return default
    if not isinstance(value, str) or not _TOKEN.fullmatch(value):
        raise BadRequest(f"{field} must be a token of 1-50 letters, digits, '_', '-' or '.', e.g. IDLE")
    return value


def lease_ms(body: dict[str, Any]) -> int | None:
    """The `lease` of a claim or heartbeat in ms: a duration ("90s", "1h30m", "1.5h") or seconds
    as a JSON number; None when absent. At least 1 ms, at most 24 h."""
    seconds = _seconds(body, "lease")
    if seconds is None:
        return None
    if not 0 < seconds * 1000 <= LEASE_MAX_MS:
        raise BadRequest("lease must be more than 0 and at most 24h")
    return max(1, round(seconds * 1000))


def _seconds(body: dict[str, Any], field: str) -> float | None:
    value = body.get(field)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return parse.duration(value)
        except ValueError as exc:
            raise BadRequest(f"{field}: {exc}") from None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value == value:
        return float(value)
    raise BadRequest(f"{field} must be a duration such as \"30s\" or \"5m\", or a number of seconds")


SETTINGS = ("max_retries", "unique_reference", "lease", "retention", "events_topic")
MAX_RETRIES_MAX = 10
RETENTION_MAX_MS = 3650 * 24 * 3600 * 1000  #: final items are kept at most ten years


def settings_changes(body: dict[str, Any]) -> dict[str, str]:
    """A settings PUT as the stored fields it changes: {field: value, or "" for the default}.
    Unknown fields are 400 here (a misspelt setting must not pass unseen)."""
    unknown = sorted(set(body) - set(SETTINGS))
    if unknown:
        raise BadRequest(f"unknown settings: {', '.join(unknown)} (the settings are {', '.join(SETTINGS)})")
    changes: dict[str, str] = {}
    if "max_retries" in body:
        value = body["max_retries"]
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)
                                  or not 0 <= value <= MAX_RETRIES_MAX):
            raise BadRequest(f"max_retries must be a whole number from 0 to {MAX_RETRIES_MAX}")
        changes["max_retries"] = "" if value is None else str(value)
    if "unique_reference" in body:
        value = body["unique_reference"]
        if value is not None and not isinstance(value, bool):
            raise BadRequest("unique_reference must be true or false")
        changes["unique_reference"] = "" if value is None else "1" if value else "0"
    if "events_topic" in body:
        value = body["events_topic"]
        if value is not None and not isinstance(value, bool):
            raise BadRequest("events_topic must be true or false")
        changes["events_topic"] = "" if value is None else "1" if value else "0"
    if "lease" in body:
        changes["lease_ms"] = "" if body["lease"] is None else str(lease_ms(body))
    if "retention" in body:
        seconds = _seconds(body, "retention")
        if seconds is not None and not 0 <= seconds * 1000 <= RETENTION_MAX_MS:
            raise BadRequest("retention must be 0 (keep final items) or at most 3650 days (87600h)")
        changes["retention_ms"] = "" if seconds is None else str(round(seconds * 1000))
    return changes


def lease_token(body: dict[str, Any], *, required: bool) -> str:
    """The lease_token a claim returned ("" when absent and not required)."""
    return text(body, "lease_token", TOKEN_MAX, required=required) or ""


def page(query: Any) -> tuple[str, int, int]:
    """(status, after, limit) from ?status=NEW&after=<cursor>&limit=100."""
    status = query.get("status", "NEW")
    if status not in STATUSES:
        raise BadRequest(f"status must be one of {', '.join(STATUSES)}")
    return (status, *cursor(query))


def cursor(query: Any) -> tuple[int, int]:
    """(after, limit) from ?after=<cursor>&limit=100."""
    try:
        limit = parse.whole_number(query.get("limit", "100"), 1, PAGE_MAX)
    except ValueError as exc:
        raise BadRequest(f"limit: {exc}") from None
    try:
        after = parse.whole_number(query.get("after", "0"), 0, 2**53 - 1)
    except ValueError:
        raise BadRequest("after must be a cursor from a previous page") from None
    return after, limit


# -- QUEUE triggers that start robots, and trigger notifications

MIN_ITEMS_MAX = 1_000_000
MAX_RUNNING_MAX = 100
RUN_TIMEOUT_MS = 3600 * 1000  #: a run nobody ends is ended ("expired") after an hour unless the trigger says otherwise
URL_MAX = 2000
SECRET_MAX = 1024  #: a trigger webhook's secret, as the topics part bounds it


def whole(body: dict[str, Any], field: str, low: int, high: int, default: int) -> int:
    value = body.get(field)
    if value is None:
        return default
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise BadRequest(f"{field} must be a whole number from {low} to {high}")
    return value


def run_timeout_ms(body: dict[str, Any]) -> int:
    seconds = _seconds(body, "run_timeout")
    if seconds is None:
        return RUN_TIMEOUT_MS
    if not 0 < seconds * 1000 <= LEASE_MAX_MS:
        raise BadRequest("run_timeout must be more than 0 and at most 24h")
    return max(1, round(seconds * 1000))


def webhook_url(body: dict[str, Any]) -> str | None:
    """An http(s) URL with a host; whether its address may be reached is the topics part's rule."""
    value = text(body, "webhook_url", URL_MAX)
    if value is None:
        return None
    try:
        parts = urlsplit(value)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname)
        _ = parts.port  # raises on a bad port
    except ValueError:
        ok = False
    if not ok:
        raise BadRequest("webhook_url must be an http:// or https:// URL with a host")
    return value


def flag_field(body: dict[str, Any], field: str) -> bool:
    value = body.get(field)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise BadRequest(f"{field} must be true or false")
    return value
