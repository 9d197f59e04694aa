"""Topic names, wildcard patterns, dead-letter names and the Redis keys of one topic.

A topic and its dead-letter topic `<topic>.dlq` share one hash tag (`mq:t:{orders}:ready`,
`mq:t:{orders}:dlq:ready`), so a script may move a message between them atomically.
"""

from __future__ import annotations

import re
from dataclasses import astuple, dataclass

from microq.errors import BadRequest
from microq.keys import Keyspace

_TOPIC = re.compile(r"[a-zA-Z0-9._-]{1,255}")  #: fullmatch: `$` would let a final newline through
_PATTERN = re.compile(r"[a-zA-Z0-9._*-]{1,255}")
_DOTS_ONLY = (".", "..")  #: a URL path cannot carry these as a segment, so such a topic is unreachable
DLQ_SUFFIX = ".dlq"


def check_topic(name: object, what: str = "topic") -> str:
    if not isinstance(name, str) or not _TOPIC.fullmatch(name) or name in _DOTS_ONLY:
        raise BadRequest(f"invalid {what} name: use 1-255 characters from a-z A-Z 0-9 . _ - (not . or ..)")
    return name


def check_topic_or_pattern(name: str) -> str:
    if not _PATTERN.fullmatch(name) or name in _DOTS_ONLY:
        raise BadRequest("invalid topic name: use 1-255 characters from a-z A-Z 0-9 . _ - (and * in patterns)")
    return name


def is_pattern(name: str) -> bool:
    return "*" in name


def matches(pattern: str, topic: str) -> bool:
    """`*` stands for one or more characters other than `.`: `orders.*` matches `orders.eu`, not `orders.eu.dlq`.

    Not a regex: `a*a*a*...b` as `a[^.]+a[^.]+...b` backtracks exponentially against a long
    topic name, and one such consume would hold the event loop for minutes. Since `*` never
    matches a dot, the pattern's dots line up with the topic's: match segment by segment.
    """
    parts, names = pattern.split("."), topic.split(".")
    return len(parts) == len(names) and all(map(_segment_matches, parts, names))


def _segment_matches(pattern: str, text: str) -> bool:
    """Glob match without dots, in at most len(pattern) * len(text) steps: `*` is one or more characters."""
    pattern = pattern.replace("*", "?*")  # "?" (exactly one character) never occurs in names or patterns
    i = j = 0
    star, resume = -1, 0  # the last `*` seen, and where in text its match would grow from
    while j < len(text):
        if i < len(pattern) and pattern[i] in ("?", text[j]):
            i, j = i + 1, j + 1
        elif i < len(pattern) and pattern[i] == "*":
            star, resume, i = i, j, i + 1
        elif star >= 0:  # let the last `*` take one more character and retry from there
            resume += 1
            i, j = star + 1, resume
        else:
            return False
    while i < len(pattern) and pattern[i] == "*":
        i += 1
    return i == len(pattern)


def is_dlq(topic: str) -> bool:
    return topic.endswith(DLQ_SUFFIX) and len(topic) > len(DLQ_SUFFIX)


def dlq_of(topic: str) -> str:
    return topic + DLQ_SUFFIX


def source_of(dlq: str) -> str:
    return dlq[: -len(DLQ_SUFFIX)]


@dataclass(frozen=True)
class TopicKeys:
    seq: str  #: string: FIFO counter
    ready: str  #: zset id -> seq
    delayed: str  #: zset id -> due ms
    inflight: str  #: zset id -> lease end ms
    expiry: str  #: zset id -> expiry ms (messages with a ttl)
    msgs: str  #: hash id -> payload
    meta: str  #: hash id -> "created_ms:retry_count:expires_ms:content_type"
    hooks: str  #: hash webhook id -> url
    hookq: str  #: zset "msg_id|hook_id" -> due ms
    hookatt: str  #: hash "msg_id|hook_id" -> attempts; msg_id -> deliveries left

    def all(self) -> tuple[str, ...]:
        return astuple(self)


def topic_keys(keyspace: Keyspace, topic: str) -> TopicKeys:
    if is_dlq(topic):
        key = keyspace.entity("t", source_of(topic))
        return TopicKeys(*(key("dlq:" + field) for field in TopicKeys.__dataclass_fields__))
    key = keyspace.entity("t", topic)
    return TopicKeys(*(key(field) for field in TopicKeys.__dataclass_fields__))
