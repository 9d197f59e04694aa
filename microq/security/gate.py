"""The admission check in front of every work API handler.

The state lives in two slots per request, the client address's (ban, failures) and the API
key's (table entry, rate logs), so one Redis Cluster primary that is away stops only the
clients and keys in its slots. On a single Redis one script, security_gate, reads the ban,
checks the key and takes a place in the rate log, or counts a failed attempt (banning at the
threshold): every decision is atomic. On a Cluster no script may span the two slots, so each
step touches one of them: a request with a key reads the address's ban (PTTL) beside
security_admit, which checks the key and takes a place in the rate log; if the address is
banned the request is refused and its place taken back (security_refund). A request with no or
a wrong key is a failed attempt of its address (security_fail, which also bans at the
threshold, atomically). A ban set between the two reads orders the request before it, so every
decision is one that requests in a row could have had. The one departure from calls in a row:
for the round trip between an admission and its refund, a banned address's requests hold
places in its key's rate log (never more than the limit).

Requests that share a client address, API key and endpoint and reach the gate in the same
turn of the event loop are decided by one such sequence, which decides them exactly as that
many requests one after the other would. A busy client then costs Redis one sequence per turn
instead of one per request. Nothing is decided or remembered on the node: every request is
checked against the ban, the key table and the rate log in Redis.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from aiohttp import web

from microq.errors import Forbidden, MicroQError, TooManyRequests, Unauthorized
from microq.http import ClientAddress
from microq.key_digests import EnvKeys, digest
from microq.scripts import Scripts
from microq.security.bans import BanPolicy
from microq.security.keys import SecurityKeys
from microq.security.rate_limit import RateLimit, retry_after
from microq.settings import Settings

log = logging.getLogger(__name__)

HEADER = "X-API-Key"
_ADMITTED, _BANNED, _BAD_KEY, _LIMITED = 0, 1, 2, 3

BATCH_MAX = 500  #: requests decided by one sequence at most (the scripts take up to 1000)

Outcome = tuple[int, int, int]


@dataclass
class Places:
    """Places a take() holds in a key's rate log, and the RateLimit headers it answered."""

    headers: dict[str, str] = field(default_factory=dict)
    rate: str = ""
    used: str = ""
    taken: int = 0
    stamp: int = 0


@dataclass
class _Group:
    """Admissions of one turn of the loop with the same keys and arguments: one script call."""

    ban: str  #: the address's keys
    failures: str
    api_key: str  #: the key's table entry and rate log; "" when the request sent no key
    rate: str
    used: str
    admit_args: list[bytes]  #: env_key, limit, period_ms
    waiting: list[asyncio.Future] = field(default_factory=list)


class Gate:
    def __init__(self, scripts: Scripts, keys: SecurityKeys, settings: Settings,
                 client_address: ClientAddress) -> None:
        self._scripts, self._keys = scripts, keys
        self._env_keys = EnvKeys(settings.api_keys)
        self._bans = bans = BanPolicy.from_settings(settings)
        self._client_address = client_address
        self._ban_args = [str(bans.threshold).encode(), str(bans.window_ms).encode(), str(bans.duration_ms).encode()]
        self._groups: dict[tuple[str, str, str], _Group] = {}  #: groups gathering this turn of the loop

    async def admit(self, request: web.Request, bucket: str, limit: RateLimit) -> dict[str, str]:
        """The RateLimit headers for the response; Forbidden, Unauthorized or TooManyRequests otherwise."""
        address, key, key_digest = self._caller(request)
        return self._answer(address, key, limit, await self._decide(address, key_digest, bucket, limit))

    async def take(self, request: web.Request, bucket: str, limit: RateLimit, cost: int) -> Places:
        """`cost` places in the rate log at once (a bulk add's further items, up to 999), all or
        none, for a request the gate has admitted; `give_back` returns them. Raises as admit."""
        address, key, key_digest = self._caller(request)
        if not key_digest:  # no key: the failed attempt admit() answers
            return Places(await self.admit(request, bucket, limit))
        outcome, places = await self._decide_all(address, key_digest, bucket, limit, cost)
        places.headers = self._answer(address, key, limit, outcome)
        return places

    async def give_back(self, places: Places) -> None:
        """Return a take's places (its request was refused after all); a failure is only logged."""
        if not places.taken:
            return
        try:
            await self._scripts.call("security_refund", [places.rate, places.used], [places.taken, places.stamp])
        except MicroQError as exc:
            log.warning("could not give back %d rate-log places: %s", places.taken, exc)

    def _caller(self, request: web.Request) -> tuple[str, str, str]:
        """The client address, the X-API-Key sent ("" for none) and its digest."""
        key = request.headers.get(HEADER, "")
        return self._client_address(request), key, digest(key) if key else ""

    def _answer(self, address: str, key: str, limit: RateLimit, outcome: Outcome) -> dict[str, str]:
        code, first, second = outcome
        if code == _ADMITTED:
            return limit.headers(first, second)
        if code == _BANNED:
            raise Forbidden("this address is banned after repeated failed attempts",
                            headers={"Retry-After": retry_after(first)})
        if code == _BAD_KEY:
            if first:
                log.warning("banned %s after %d failed API key attempts", address, self._bans.threshold)
            raise Unauthorized("invalid API key" if key else "missing API key: send it in the X-API-Key header")
        headers = limit.headers(0, second)
        headers["Retry-After"] = retry_after(first)
        raise TooManyRequests("rate limit exceeded", headers=headers)

    async def _decide(self, address: str, key_digest: str, bucket: str, limit: RateLimit) -> Outcome:
        name = (address, key_digest, bucket)
        group = self._groups.get(name)
        if group is not None and len(group.waiting) < BATCH_MAX - 1:  # a request of this turn has these keys
            future = asyncio.get_running_loop().create_future()
            group.waiting.append(future)
            return await future
        env_key = bool(key_digest) and self._env_keys.matches(key_digest)
        full = group is not None
        group = _Group(self._keys.ban(address), self._keys.failures(address),
                       self._keys.api_key(key_digest) if key_digest else "",
                       self._keys.rate(bucket, key_digest) if key_digest else "",
                       self._keys.rate_used(bucket, key_digest) if key_digest else "",
                       [b"1" if env_key else b"0", *limit.script_args])
        if not full:
            self._groups[name] = group
            try:
                await asyncio.sleep(0)  # one turn of the loop: the requests it has started join this call
            except asyncio.CancelledError:  # only at shutdown (handlers are not cancelled otherwise)
                _fail(group.waiting, ConnectionError("admission cancelled"))
                raise
            finally:
                del self._groups[name]
        followers = group.waiting
        try:
            outcomes = await self._call(group, 1 + len(followers))
        except asyncio.CancelledError:
            _fail(followers, ConnectionError("admission cancelled"))
            raise
        except BaseException as exc:  # Redis failed: every request of the call hears so (503)
            _fail(followers, exc)
            raise
        for future, outcome in zip(followers, outcomes[1:]):
            if not future.done():
                future.set_result(outcome)
        return outcomes[0]

    async def _decide_all(self, address: str, key_digest: str, bucket: str, limit: RateLimit,
                          cost: int) -> tuple[Outcome, Places]:
        """`cost` places at once, in a call of its own: admitted only if every one is; otherwise
        the places it got are taken back and the first refusal is the answer."""
        env_key = self._env_keys.matches(key_digest)
        rate, used = self._keys.rate(bucket, key_digest), self._keys.rate_used(bucket, key_digest)
        ban_left, flat = await asyncio.gather(
            self._scripts.execute("PTTL", self._keys.ban(address)),
            self._scripts.call("security_admit", [self._keys.api_key(key_digest), rate, used],
                               [b"1" if env_key else b"0", *limit.script_args, cost, b"1"]))
        if len(flat) == 1:  # not a valid key: one failed attempt, as for any request
            return await self._decide(address, key_digest, bucket, limit), Places()
        admitted, used_before, reset_ms, stamp = (int(value) for value in flat)
        places = Places(rate=rate, used=used, taken=admitted, stamp=stamp)
        if ban_left > 0 or admitted < cost:
            await self.give_back(places)
            return ((_BANNED, ban_left, 0) if ban_left > 0 else (_LIMITED, reset_ms, reset_ms)), Places()
        return (_ADMITTED, limit.count - used_before - cost, reset_ms), places

    async def _call(self, group: _Group, count: int) -> list[Outcome]:
        if not self._scripts.cluster:  # one script reads the ban, checks the key and counts
            flat = await self._scripts.call(
                "security_gate", [group.ban, group.failures, group.api_key or group.ban, group.rate or group.failures,
                                  group.used or group.failures],
                [group.admit_args[0] if group.api_key else b"", *group.admit_args[1:], count, *self._ban_args])
            return await self._banned_now(group, _triples(flat))
        if group.api_key:
            # the ban and the admission are read side by side (one round trip whenever another is
            # in flight); a banned address's admitted places are then taken back
            ban_left, flat = await asyncio.gather(
                self._scripts.execute("PTTL", group.ban),
                self._scripts.call("security_admit", [group.api_key, group.rate, group.used],
                                   [*group.admit_args, count]))
            if ban_left > 0:
                admitted = sum(1 for i in range(0, len(flat) - 1, 3) if int(flat[i]) == _ADMITTED)
                if admitted:
                    await self._scripts.call("security_refund", [group.rate, group.used], [admitted, flat[-1]])
                return [(_BANNED, ban_left, 0)] * count
            if len(flat) > 1:
                return _triples(flat[:-1])
        flat = await self._scripts.call("security_fail", [group.ban, group.failures], [*self._ban_args, count])
        return await self._banned_now(group, _triples(flat))

    async def _banned_now(self, group: _Group, outcomes: list[Outcome]) -> list[Outcome]:
        if any(code == _BAD_KEY and banned_now for code, banned_now, _ in outcomes):
            await self._note_ban(group.ban)
        return outcomes

    async def _note_ban(self, ban: str) -> None:
        """List a new ban for /metrics; a failure is only logged (the ban itself holds)."""
        try:
            await self._scripts.call("security_ban_note", [self._keys.ban_index(ban)], [ban, self._ban_args[2]])
        except MicroQError as exc:
            log.warning("could not list a ban in the ban index: %s", exc)


def _triples(flat: list) -> list[Outcome]:
    return [(int(flat[i]), int(flat[i + 1]), int(flat[i + 2])) for i in range(0, len(flat), 3)]


def _fail(futures: list[asyncio.Future], exc: BaseException) -> None:
    for future in futures:
        if not future.done():
            future.set_exception(exc)
