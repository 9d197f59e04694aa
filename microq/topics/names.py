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
    """`*` stands for one or more characters other than `.`: `orders.*` matches `orders.eu`, not `orders.eu.dlq`."""
    return compile_pattern(pattern).matches(topic)


class Pattern:
    """A wildcard pattern compiled once: its segments, each split at its `*`s.

    Not a regex: `a*a*a*...b` as `a[^.]+a[^.]+...b` backtracks exponentially against a long
    topic name. Since `*` never matches a dot, the pattern's dots line up with the topic's, and
    within a segment the literal pieces between stars are found leftmost-first with str.find
    (greedy leftmost is exact for globs whose only wildcard is `*`): at most one C-speed scan
    of the name per piece.
    """

    __slots__ = ("text", "segments", "literals")

    def __init__(self, text: str) -> None:
        self.text = text
        self.segments = tuple(tuple(part.split("*")) for part in text.split("."))
        #: (position, segment) for the segments without a star: what the index looks up
        self.literals = tuple((i, part[0]) for i, part in enumerate(self.segments) if len(part) == 1)

    @property
    def depth(self) -> int:
        return len(self.segments)

    def matches(self, topic: str) -> bool:
        names = topic.split(".")
        return len(names) == len(self.segments) and all(map(_segment_matches, self.segments, names))


def _segment_matches(pieces: tuple[str, ...], text: str) -> bool:
    """pieces: a segment split at its stars (one piece: no star); each star is one or more characters."""
    if len(pieces) == 1:
        return pieces[0] == text
    first, last = pieces[0], pieces[-1]
    # every star takes at least one character
    if len(text) < sum(map(len, pieces)) + len(pieces) - 1 or not text.startswith(first):
        return False
    end = len(text) - len(last)
    if not text.endswith(last):
        return False
    at = len(first)
    for piece in pieces[1:-1]:
        found = text.find(piece, at + 1, end - 1)  # a star before it and one after it
        if found < 0:
            return False
        at = found + len(piece)
    return end - at >= 1


_COMPILED: dict[str, Pattern] = {}


def compile_pattern(text: str) -> Pattern:
    """The compiled pattern, cached (bounded: patterns come from requests)."""
    found = _COMPILED.get(text)
    if found is None:
        if len(_COMPILED) >= 4096:
            _COMPILED.clear()
        found = _COMPILED[text] = Pattern(text)
    return found


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
    hookdrain: str  #: zset: a removed last webhook's backlog, handed back to pull consumers in chunks
    conf: str  #: hash: policy ("reject" | "drop-oldest"), retain_ms, dropped (messages the policy dropped)
    groups: str  #: hash consumer group -> cursor: the seq of the last log entry the group has taken
    glog: str  #: zset id -> seq: the shared log the topic's consumer groups read (published while it had groups)
    gpend: str  #: hash id -> holds (the ungrouped queue, the log, each group holding it): deleted at 0
    gdelay: str  #: zset id -> due ms: delayed messages that enter the log when due

    def all(self) -> tuple[str, ...]:
        return astuple(self)


@dataclass(frozen=True)
class GroupKeys:
    """One consumer group's own keys, in its topic's slot: they hold only the messages the group has
    taken and not yet acknowledged (or dead-lettered), never a copy of the log."""

    inflight: str  #: zset id -> lease end ms
    ready: str  #: zset id -> ms: taken before, handed back (requeue, lapsed lease), redelivered first
    retry: str  #: hash id -> deliveries to this group beyond the first
    dead: str  #: zset id -> ms: this group's dead letters (their bodies stay in the topic's msgs)

    def all(self) -> tuple[str, ...]:
        return astuple(self)


def group_keys(keyspace: Keyspace, topic: str, group: str) -> GroupKeys:
    key = keyspace.entity("t", topic)
    return GroupKeys(*(key(f"g:{group}:{field}") for field in GroupKeys.__dataclass_fields__))


def topic_keys(keyspace: Keyspace, topic: str) -> TopicKeys:
    if is_dlq(topic):
        key = keyspace.entity("t", source_of(topic))
        return TopicKeys(*(key("dlq:" + field) for field in TopicKeys.__dataclass_fields__))
    key = keyspace.entity("t", topic)
    return TopicKeys(*(key(field) for field in TopicKeys.__dataclass_fields__))
