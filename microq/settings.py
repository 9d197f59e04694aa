"""Every setting MicroQ reads, from the environment and an optional .env file.

One table names each variable, its parser and its default, so the README, .env.example
and start-up validation cannot drift apart.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from dotenv import dotenv_values

from microq import jwt_auth, parse

log = logging.getLogger(__name__)


class SettingsError(ValueError):
    """A variable has a value MicroQ cannot use; the message names it."""


def _bool(text: str) -> bool:
    try:
        return parse.flag(text)
    except ValueError:
        raise ValueError(f"expected true or false, got {text!r}") from None


# Every parser's message has one form: "expected <the form>, got <the text>", so a bad variable
# is one line naming it, never a Python error such as "invalid literal for int()".

def _positive_int(text: str) -> int:
    try:
        return parse.whole_number(text, 1, 10**15)
    except ValueError:
        raise ValueError(f"expected a whole number > 0, got {text!r}") from None


def _positive_float(text: str) -> float:
    try:
        value = float(text) if text.strip().isascii() else float("nan")
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise ValueError(f"expected a number > 0, got {text!r}")
    return value


def _positive_duration(text: str) -> float:
    try:
        value = parse.duration(text)
    except ValueError:
        value = 0.0
    if value <= 0:
        raise ValueError(f"expected a duration > 0 such as 500ms, 30s, 5m or 1h, got {text!r}")
    return value


def _work_lease(text: str) -> float:
    value = _positive_duration(text)
    if value > 86400:
        raise ValueError(f"expected a duration of at most 24h, got {text!r}")
    return value


def _work_max_retries(text: str) -> int:
    try:
        return parse.whole_number(text, 0, 100)
    except ValueError:
        raise ValueError(f"expected a whole number from 0 to 100, got {text!r}") from None


def _whole_number(text: str) -> int:
    return parse.whole_number(text, 0, 10**15)


def _duration_or_zero(text: str) -> float:
    return parse.duration(text)  # negatives are refused there


def _csv(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _networks(text: str) -> tuple[str, ...]:
    """Comma-separated addresses or networks (10.0.0.0/8, ::1); one that is neither stops start-up."""
    entries = _csv(text)
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ValueError(f"expected comma-separated IP addresses or networks such as 10.0.0.0/8, "
                             f"got {entry!r}") from None
    return entries


def _access_log(text: str) -> str:
    value = text.strip().lower() or "off"
    if value not in ("off", "json"):
        raise ValueError(f"expected off or json, got {text!r}")
    return value


def _log_level(text: str) -> str:
    level = text.strip().upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ValueError(f"expected DEBUG, INFO, WARNING, ERROR or CRITICAL, got {text!r}")
    return level


def _prefix(text: str) -> str:
    if not text or "{" in text or "}" in text or any(c.isspace() for c in text):
        raise ValueError(f"expected a non-empty prefix without braces or spaces, got {text!r}")
    return text


def _rate(text: str) -> tuple[int, float]:
    """'1000/minute', '10/m', '5/s' -> (count, period seconds)."""
    count, _, per = text.partition("/")
    periods = {"s": 1.0, "second": 1.0, "m": 60.0, "minute": 60.0, "h": 3600.0, "hour": 3600.0}
    per = per.strip().lower() or "minute"
    digits = count.strip()
    if per not in periods or not (digits.isascii() and digits.isdigit()) or int(digits) <= 0:
        raise ValueError(f"expected a count per period such as 1000/minute, 10/m or 5/s, got {text!r}")
    return int(digits), periods[per]


def _url_or_empty(text: str) -> str:
    text = text.strip().rstrip("/")
    if text and not text.startswith(("http://", "https://")):
        raise ValueError(f"expected an http:// or https:// URL, got {text!r}")
    return text


def _redis_url(text: str) -> str:
    """One URL, or comma-separated seed nodes of one Redis Cluster (kept as one comma-joined string)."""
    urls = [part.strip() for part in text.split(",") if part.strip()]
    for url in urls:
        if not url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(f"expected redis://, rediss:// or unix:// URLs, got {url!r}")
    if len(urls) > 1 and any(url.startswith("unix://") for url in urls):
        raise ValueError("several seed nodes must be redis:// or rediss:// URLs (a Cluster has no unix sockets)")
    return ",".join(urls)


@dataclass(frozen=True)
class Settings:
    # Foundation
    redis_url: str = ""  #: empty: start the embedded redis-server in data_dir
    redis_cluster: bool = False  #: REDIS_URL names seed nodes of a Redis Cluster (implied by several)
    data_dir: Path = Path("data")
    key_prefix: str = "mq:"
    log_level: str = "INFO"
    cors_origins: tuple[str, ...] = ()
    trusted_proxies: tuple[str, ...] = ()
    public_url: str = ""
    shutdown_timeout: float = 10.0
    header_timeout: float = 10.0  #: a request head must arrive whole within this (from connect or its first byte)
    keepalive_timeout: float = 75.0  #: idle keep-alive connections close after this; above nginx's 60 s
    body_timeout: float = 30.0  #: grace for a request body, beyond which it must keep body_min_rate
    body_min_rate: int = 8192  #: bytes per second a body must average after body_timeout
    max_connections: int = 10000  #: open connections per node process (lowered to fit the fd limit)
    # Seed 000's own variables, kept where they still mean something
    secret_key: str = "change-me"
    default_tenant_id: str = "default_tenant"
    default_queue_id: str = "main"
    avg_service_time_minutes: float = 4.0
    # Lines
    line_events_maxlen: int = 10000
    jwt_secret: str = field(default="", repr=False)  #: HS256 bearer tokens authorise lines admin calls
    jwt_public_key: Any = None  #: RSAPublicKey: RS256 bearer tokens (microq/jwt_auth.py)
    jwt_jwks: Any = None  #: PyJWKSet: bearer tokens signed by one of its keys (by kid)
    jwt_audience: str = ""  #: when set, tokens must carry this aud
    jwt_issuer: str = ""  #: when set, tokens must carry this iss
    # Topics
    topic_max_messages: int = 100000
    topic_max_payload_bytes: int = 2 * 1024 * 1024
    visibility_timeout: float = 30.0
    max_attempts: int = 3
    consume_max_timeout: float = 60.0
    webhook_secret: str = ""
    webhook_allow_private: bool = False
    webhook_max_attempts: int = 5
    max_topics: int = 0  #: topics the broker may hold (0: no limit); creating one more is 409
    topic_idle_expiry: float = 0.0  #: seconds an empty topic without webhooks may sit unused before it goes (0: never)
    answer_max_bytes: int = 8 * 1024 * 1024  #: payload bytes (base64) one consume or peek answer carries, one message at least
    topics_api_keys: tuple[str, ...] = field(default=(), repr=False)  #: empty: the topics API is open (seed 002)
    topics_dashboard_open: bool = True  #: with topics keys set, /dashboard itself still needs none
    topics_max_streams: int = 1000  #: open /stream and /ws connections per node
    # Work and its security layer
    api_keys: tuple[str, ...] = field(default=(), repr=False)
    ban_threshold: int = 5
    ban_window: float = 900.0
    ban_duration: float = 900.0
    rate_limit_queue: tuple[int, float] = (1000, 60.0)
    rate_limit_trigger: tuple[int, float] = (10, 60.0)
    work_auth: bool = True  #: off only for benchmarks: no key check, bans or rate limits (warned at start)
    work_lease: float = 1800.0  #: seconds a claim holds its item unless the request asks otherwise (<= 24 h)
    work_max_retries: int = 3  #: lapsed leases an item survives (back to NEW); the next one makes it FAILED
    # Operations
    metrics_top_n: int = 20  #: /metrics labels only the largest N topics, lines and work queues
    metrics_state_ttl: float = 10.0  #: seconds scrapes share one state snapshot (0: each scrape reads)
    access_log: str = "off"  #: "json": one JSON line per request on stdout
    allow_eviction: bool = False  #: start even when Redis may evict keys (maxmemory-policy other than noeviction)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")) -> Settings:
        """Settings from `env` (default os.environ) over the .env file; SettingsError names a bad variable."""
        merged: dict[str, str] = {}
        if dotenv is not None and dotenv.is_file():
            merged.update({k: v for k, v in dotenv_values(dotenv).items() if v is not None})
        merged.update(os.environ if env is None else env)
        for ignored in ("MONGO_URI", "MONGO_DB_NAME"):
            if ignored in merged:
                log.warning("%s is ignored: MicroQ stores everything in Redis; set REDIS_URL instead", ignored)
        values: dict[str, Any] = {}
        for name, (attr, read) in ENVIRONMENT.items():
            raw = merged.get(name)
            if raw is None:
                continue
            try:
                values[attr] = read(raw)
            except (ValueError, TypeError) as exc:
                raise SettingsError(f"{name}: {exc}") from None
        return cls(**values)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


#: variable -> (Settings attribute, parser). README's configuration table follows this order.
ENVIRONMENT: dict[str, tuple[str, Callable[[str], Any]]] = {
    "REDIS_URL": ("redis_url", _redis_url),
    "MICROQ_REDIS_CLUSTER": ("redis_cluster", _bool),
    "MICROQ_DATA_DIR": ("data_dir", lambda s: Path(s.strip() or "data")),
    "MICROQ_KEY_PREFIX": ("key_prefix", _prefix),
    "MICROQ_LOG_LEVEL": ("log_level", _log_level),
    "MICROQ_CORS_ORIGINS": ("cors_origins", _csv),
    "MICROQ_TRUSTED_PROXIES": ("trusted_proxies", _networks),
    "MICROQ_PUBLIC_URL": ("public_url", _url_or_empty),
    "MICROQ_SHUTDOWN_TIMEOUT": ("shutdown_timeout", _positive_duration),
    "MICROQ_HEADER_TIMEOUT": ("header_timeout", _positive_duration),
    "MICROQ_KEEPALIVE_TIMEOUT": ("keepalive_timeout", _positive_duration),
    "MICROQ_BODY_TIMEOUT": ("body_timeout", _positive_duration),
    "MICROQ_BODY_MIN_RATE": ("body_min_rate", _positive_int),
    "MICROQ_MAX_CONNECTIONS": ("max_connections", _positive_int),
    "SECRET_KEY": ("secret_key", str),
    "DEFAULT_TENANT_ID": ("default_tenant_id", str.strip),
    "DEFAULT_QUEUE_ID": ("default_queue_id", str.strip),
    "AVG_SERVICE_TIME_MINUTES": ("avg_service_time_minutes", _positive_float),
    "MICROQ_LINE_EVENTS_MAXLEN": ("line_events_maxlen", _positive_int),
    "MICROQ_JWT_SECRET": ("jwt_secret", jwt_auth.secret),
    "MICROQ_JWT_PUBLIC_KEY": ("jwt_public_key", jwt_auth.public_key_file),
    "MICROQ_JWT_JWKS": ("jwt_jwks", jwt_auth.jwks_file),
    "MICROQ_JWT_AUDIENCE": ("jwt_audience", str.strip),
    "MICROQ_JWT_ISSUER": ("jwt_issuer", str.strip),
    "MICROQ_TOPIC_MAX_MESSAGES": ("topic_max_messages", _positive_int),
    "MICROQ_TOPIC_MAX_PAYLOAD_BYTES": ("topic_max_payload_bytes", _positive_int),
    "MICROQ_VISIBILITY_TIMEOUT": ("visibility_timeout", _positive_duration),
    "MICROQ_MAX_ATTEMPTS": ("max_attempts", _positive_int),
    "MICROQ_CONSUME_MAX_TIMEOUT": ("consume_max_timeout", _positive_duration),
    "MICROQ_WEBHOOK_SECRET": ("webhook_secret", str),
    "MICROQ_WEBHOOK_ALLOW_PRIVATE": ("webhook_allow_private", _bool),
    "MICROQ_WEBHOOK_MAX_ATTEMPTS": ("webhook_max_attempts", _positive_int),
    "MICROQ_MAX_TOPICS": ("max_topics", _whole_number),
    "MICROQ_TOPIC_IDLE_EXPIRY": ("topic_idle_expiry", _duration_or_zero),
    "MICROQ_ANSWER_MAX_BYTES": ("answer_max_bytes", _positive_int),
    "MICROQ_TOPICS_API_KEYS": ("topics_api_keys", _csv),
    "MICROQ_TOPICS_DASHBOARD_OPEN": ("topics_dashboard_open", _bool),
    "MICROQ_TOPICS_MAX_STREAMS": ("topics_max_streams", _positive_int),
    "MICROQ_API_KEYS": ("api_keys", _csv),
    "MICROQ_BAN_THRESHOLD": ("ban_threshold", _positive_int),
    "MICROQ_BAN_WINDOW": ("ban_window", _positive_duration),
    "MICROQ_BAN_DURATION": ("ban_duration", _positive_duration),
    "MICROQ_RATE_LIMIT_QUEUE": ("rate_limit_queue", _rate),
    "MICROQ_RATE_LIMIT_TRIGGER": ("rate_limit_trigger", _rate),
    "MICROQ_WORK_AUTH": ("work_auth", _bool),
    "MICROQ_WORK_LEASE": ("work_lease", _work_lease),
    "MICROQ_WORK_MAX_RETRIES": ("work_max_retries", _work_max_retries),
    "MICROQ_METRICS_TOP_N": ("metrics_top_n", _positive_int),
    "MICROQ_METRICS_STATE_TTL": ("metrics_state_ttl", _duration_or_zero),
    "MICROQ_ACCESS_LOG": ("access_log", _access_log),
    "MICROQ_ALLOW_EVICTION": ("allow_eviction", _bool),
}
