"""Idempotency-Key (IETF httpapi draft): a retried request applies nothing and gets the first answer.

A client that got a 502 or 503, or no answer at all, cannot know whether its request was
applied. With an `Idempotency-Key` header it simply sends the request again: within
TTL_MS the same key, in the same scope (the entity the request changes), with the same
request returns the first answer and changes nothing; the same key with a different
request is 422.

"Applied" and "remembered" cannot come apart because the same script run does both: a
script called with a `Once` runs inside a wrapper (`wrap`) that first looks for a stored
reply under `Once.key` (a key in the entity's own slot), and otherwise runs the script and
stores its reply there. Error replies are not stored: a script that fails has applied
nothing, so its retry may well succeed. Since every change is one script, a request is never
half-applied and a concurrent retry simply sees the first one's reply; only an operation made
of several script calls (`begin`/`finish`) can be "still being processed", which is 409.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any, Callable

import msgpack
from aiohttp import web

from microq.errors import BadRequest, Conflict, Unprocessable

HEADER = "Idempotency-Key"
TTL_MS = 24 * 3600 * 1000  #: how long a key is remembered
#: how long a multi-call operation counts as "still being processed" (409) without finishing: a
#: node that died in the middle must not leave its key refusing retries for the whole TTL_MS
IN_PROGRESS_TTL_MS = 60 * 1000
#: printable ASCII without quotes; the draft's quoted sf-string form `"abc"` is taken too
_KEY = re.compile(r'[!#-~]{1,255}')


@dataclass(frozen=True)
class Once:
    """What a script call needs to run at most once: where its reply is kept, and what request it answers."""

    key: str  #: Redis key in the changed entity's slot
    fingerprint: str  #: digest of the request: the same key for another request is 422
    ttl_ms: int = TTL_MS


def header_key(request: web.Request) -> str | None:
    """The request's Idempotency-Key, None without one; 400 for one that is not a short printable string."""
    raw = request.headers.get(HEADER)
    if raw is None:
        return None
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        raw = raw[1:-1]
    if not _KEY.fullmatch(raw):
        raise BadRequest(f"invalid {HEADER}: 1-255 printable ASCII characters")
    return raw


async def once_for(request: web.Request, key_of: Callable[[str], str], *, extra: str = "") -> Once | None:
    """The Once of a request that carries an Idempotency-Key, None otherwise.

    key_of(suffix) builds a key in the entity's slot (e.g. Keyspace.entity(...)); the key's
    name holds a digest of the header, never the header itself. The fingerprint covers the
    method, path, query and body, and `extra` for what else decides the answer (a part may
    add the caller's identity, so one client cannot replay another's answer).
    """
    key = header_key(request)
    if key is None:
        return None
    body = await request.read()  # aiohttp keeps the body: the handler reads it again for free
    fingerprint = hashlib.sha256(b"\0".join([
        request.method.encode(), request.rel_url.path.encode("utf-8", "surrogateescape"),
        "&".join(sorted(f"{k}={v}" for k, v in request.query.items())).encode("utf-8", "surrogateescape"),
        hashlib.sha256(body).digest(), extra.encode("utf-8", "surrogateescape"),
    ])).hexdigest()
    return Once(key_of("idem:" + hashlib.sha256(key.encode()).hexdigest()[:32]), fingerprint)


# -- inside Redis: the wrapper every script gets when called with a Once

_PROLOGUE = b"""-- idempotency wrapper (microq/idempotency.py): KEYS[#KEYS] is the stored reply,
-- ARGV[#ARGV - 1] the request's fingerprint, ARGV[#ARGV] the ttl in ms
local __once_key = table.remove(KEYS)
local __once_ttl = table.remove(ARGV)
local __once_fp = table.remove(ARGV)
local __once_stored = redis.call("GET", __once_key)
if __once_stored then
  local stored = cmsgpack.unpack(__once_stored)
  if stored[1] ~= __once_fp then
    return redis.error_reply("UNPROCESSABLE this Idempotency-Key was used for a different request")
  end
  if stored[3] then
    return redis.error_reply("CONFLICT a request with this Idempotency-Key is still being processed")
  end
  return stored[2]
end
local __once_reply = (function()
"""
_EPILOGUE = b"""
end)()
if type(__once_reply) ~= "table" or __once_reply.err == nil then
  redis.call("SET", __once_key, cmsgpack.pack({__once_fp, __once_reply}), "PX", __once_ttl)
end
return __once_reply
"""


def wrap(source: bytes) -> bytes:
    """`source` run at most once per Once: it takes one more key and two more arguments."""
    return _PROLOGUE + source + _EPILOGUE


# -- operations of several script calls (chunked deletes): marked in progress while they run

def _pack(value: Any) -> bytes:
    return msgpack.packb(value, use_bin_type=False)  # the form Redis 6.2's cmsgpack reads


async def begin(scripts: Any, once: Once) -> tuple[bool, Any]:
    """Start a multi-call operation: (True, None) to go ahead, or (False, first answer) for a retry
    of one that finished. Conflict (409) while it runs elsewhere, Unprocessable (422) for another request."""
    marker = _pack([once.fingerprint, None, True])
    if await scripts.execute("SET", once.key, marker, "NX", "PX", min(once.ttl_ms, IN_PROGRESS_TTL_MS)):
        return True, None
    stored = await scripts.execute("GET", once.key)
    if stored is None:  # expired in between: start afresh
        return await begin(scripts, once)
    fingerprint, reply, *running = msgpack.unpackb(stored, raw=False)
    if fingerprint != once.fingerprint:
        raise Unprocessable("this Idempotency-Key was used for a different request")
    if running and running[0]:
        raise Conflict("a request with this Idempotency-Key is still being processed")
    return False, reply


async def finish(scripts: Any, once: Once, reply: Any) -> None:
    """Remember the answer of a multi-call operation begun with `begin`."""
    await scripts.execute("SET", once.key, _pack([once.fingerprint, reply]), "PX", once.ttl_ms)


async def abandon(scripts: Any, once: Once) -> None:
    """A multi-call operation failed: let its retry start again."""
    await scripts.execute("DEL", once.key)
