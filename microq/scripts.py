"""Lua scripts and raw commands: loaded once per node, called by SHA, sharing Redis round trips.

On this hardware a round trip through redis-py costs ten times what Redis spends running
a script, so calls made while round trips to a server are in flight (two at most) wait and go
out together as one pipeline (not a transaction: each call succeeds or fails alone). A NOSCRIPT
reply (after SCRIPT FLUSH or a Redis restart) loads the script and resends only that call;
NOSCRIPT, MOVED and ASK mean Redis ran nothing, so resending cannot apply a call twice.
Nothing else is ever resent: a call whose connection failed or timed out may have run, and
only the client can decide to retry it (with an Idempotency-Key, which makes that safe).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import importlib.resources
import logging
import math
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import hiredis
from redis.asyncio import Redis, RedisCluster
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, RedisClusterException, RedisError, ResponseError

from microq.errors import from_lua, from_redis, reason, redis_code, unavailable
from microq.idempotency import Once, wrap
from microq.redis_compat import Connections, refresh_topology, topology_known

log = logging.getLogger(__name__)
_INCLUDE = re.compile(r'^--- @include "([a-z_]+)"\s*$', re.MULTILINE)
_FILE = re.compile(r"^([a-z]+_[a-z_]+)-(\d+)$")


def lua_dir() -> Path:
    """scripts/lua, from the installed package data or the source checkout."""
    try:
        found = Path(str(importlib.resources.files("microq.lua")))
        if found.is_dir() and any(found.glob("*.lua")):
            return found
    except ModuleNotFoundError:
        pass
    return Path(__file__).resolve().parent.parent / "scripts" / "lua"


@dataclass(frozen=True)
class Script:
    name: str
    nkeys: int
    source: bytes
    sha: str
    once_source: bytes  #: the same script run at most once per Idempotency-Key (microq/idempotency.py)
    once_sha: str


def load_scripts(directory: Path | None = None) -> dict[str, Script]:
    """Every `<part>_<verb>-<nkeys>.lua`, with its `--- @include "x"` lines expanded from includes/."""
    directory = directory or lua_dir()
    includes = {p.stem: p.read_text() for p in (directory / "includes").glob("*.lua")}
    scripts = {}
    for path in sorted(directory.glob("*.lua")):
        match = _FILE.match(path.stem)
        if not match:
            raise ValueError(f"{path.name}: expected <part>_<verb>-<nkeys>.lua")
        text = _INCLUDE.sub(lambda m: includes[m.group(1)], path.read_text())
        source = text.encode()
        name, nkeys = match.group(1), int(match.group(2))
        once = wrap(source)
        scripts[name] = Script(name, nkeys, source, hashlib.sha1(source).hexdigest(),
                               once, hashlib.sha1(once).hexdigest())
    return scripts


#: redirections one call follows (MOVED: the slot has a new owner; ASK: it is migrating)
MAX_REDIRECTS = 3
FAILED_FOR = 5.0  #: seconds a server whose round trip failed is passed over for commands without a key
ROUTES_KEPT = 10_000  #: keys whose slot owner is remembered (then the table starts afresh)
#: reply shapes that differ between RESP2 and RESP3, made one: every raw command's reply passes here
_SHAPES = {b"HGETALL": lambda r: r if isinstance(r, dict) else dict(zip(r[::2], r[1::2]))}


class Scripts:
    """Run scripts and raw commands; concurrent calls to one Redis server share round trips.

    Both public runners, `call` (a script by name) and `execute` (one raw command), RAISE:
    a Lua error code as its MicroQError, a Redis that cannot answer now as Unavailable (503),
    and nothing is ever sent twice except after NOSCRIPT, MOVED or ASK, which mean that Redis
    ran nothing. An error reply travels as a value only inside the batching transport, so one
    call's failure never fails the calls it shared a round trip with.

    On a Redis Cluster, calls are grouped by the primary that owns their first key's slot and
    each primary gets its own pipeline; a MOVED or ASK reply re-routes that call alone.
    """

    def __init__(self, redis: Redis | RedisCluster, scripts: dict[str, Script] | None = None) -> None:
        self.redis = redis
        self.cluster = isinstance(redis, RedisCluster)
        self.by_name = scripts if scripts is not None else load_scripts()
        self._by_sha = {sha.encode(): source for s in self.by_name.values()
                        for sha, source in ((s.sha, s.source), (s.once_sha, s.once_source))}
        self._links: dict[str, _Link] = {}  #: one per Redis server, by "host:port"
        #: called with the number of commands of every round trip (metrics); set before the first call
        self.on_round_trip: Callable[[int], None] = lambda commands: None
        self._routes: dict[Any, _Link] = {}  #: key -> its slot owner's link, until the slot map changes
        self._refreshing: asyncio.Task | None = None  #: a cluster topology refresh in flight
        self._refresh_error = ""  #: why the last one failed
        self.loaded = False

    # public --------------------------------------------------------------------------------

    async def call(self, name: str, keys: Sequence[Any], args: Sequence[Any] = (), *,
                   once: Once | None = None) -> Any:
        """Run a script; with `once`, at most once per Idempotency-Key (a retry gets the first reply)."""
        script = self.by_name[name]
        if len(keys) != script.nkeys:
            raise TypeError(f"{name} takes {script.nkeys} keys, got {len(keys)}")
        if once is None:
            command = ("EVALSHA", script.sha, script.nkeys, *keys, *args)
        else:
            command = ("EVALSHA", script.once_sha, script.nkeys + 1, *keys, once.key, *args,
                       once.fingerprint, once.ttl_ms)
        result = await self._send(command)
        if isinstance(result, ResponseError):
            raise from_lua(result) from None
        return result

    async def execute(self, *command: Any) -> Any:
        """Send one raw command (its first key second, as in `SADD key member`) and return its reply."""
        reply = await self._send(command)
        if isinstance(reply, ResponseError):
            raise from_redis(reply) from None
        shape = _SHAPES.get(command[0].encode() if isinstance(command[0], str) else command[0])
        return shape(reply) if shape else reply

    async def preload(self) -> None:
        """SCRIPT LOAD every script on every primary: a syntax error stops start-up, not a request."""
        failed = []
        for link in await self._every_server():
            try:
                await link.load(list(self._by_sha.values()))
            except ResponseError:
                raise  # a script that does not compile
            except (RedisError, OSError) as exc:  # that server is down: NOSCRIPT loads them when it is back
                failed.append(f"{link.name}: {reason(exc)}")
        if failed:
            raise unavailable("; ".join(failed), "no Redis server answers")
        self.loaded = True

    async def ready(self) -> dict[str, Any]:
        """Ping every server (every primary of a Cluster) and load scripts that a restart or a
        SCRIPT FLUSH lost. Ready while at least one answers: one dead primary makes only its own
        slots unavailable. Unavailable (503) when none does."""
        links = await self._every_server()
        shas = list(self._by_sha)
        replies = await asyncio.gather(*(link.send(("SCRIPT", "EXISTS", *shas)) for link in links),
                                       return_exceptions=True)
        unreachable = []
        for link, reply in zip(links, replies):
            if isinstance(reply, BaseException):
                if isinstance(reply, asyncio.CancelledError):
                    raise reply
                unreachable.append(f"{link.name}: {from_redis(reply)}")
            elif isinstance(reply, ResponseError):  # e.g. LOADING: up, but not serving yet
                unreachable.append(f"{link.name}: {from_redis(reply)}")
            elif not all(reply):
                await link.load([self._by_sha[sha] for sha, found in zip(shas, reply) if not found])
        if len(unreachable) == len(links):
            raise unavailable("; ".join(unreachable) or "no Redis server known", "no Redis server answers")
        self.loaded = True
        return {"servers": len(links), "unreachable": unreachable}

    async def servers(self) -> list[Connections]:
        """Every server (every primary of a Cluster), for a part that needs a connection of its own."""
        return [link.connections for link in await self._every_server()]

    # routing -------------------------------------------------------------------------------

    async def _send(self, command: Sequence[Any]) -> Any:
        """The reply, an error reply as a value; Unavailable when Redis cannot be reached in time."""
        try:
            if not self.cluster:
                return await self._single().send(command)
            link, asking = await self._route(command), False
            for _ in range(MAX_REDIRECTS):
                reply = await link.send(command, asking=asking)
                if not isinstance(reply, ResponseError) or redis_code(reply) not in ("MOVED", "ASK"):
                    return reply
                asking = redis_code(reply) == "ASK"
                link = await self._redirected(reply, moved=not asking)
            return await link.send(command, asking=asking)  # a MOVED or ASK still: from_redis says 503
        except (RedisError, RedisClusterException) as exc:
            # the call may or may not have run: it is never resent, the client decides (Idempotency-Key)
            raise from_redis(exc) from exc
        except OSError as exc:  # a socket error redis-py let through, or the round trip's deadline
            if isinstance(exc, TimeoutError):
                raise unavailable("timed out") from exc
            raise unavailable(reason(exc), "connection failed") from exc

    def _single(self) -> _Link:
        link = self._links.get("")
        if link is None:
            link = self._links[""] = _Link(Connections(self.redis.connection_pool), self._by_sha, self)
        return link

    def _link_of(self, node: Any) -> _Link:
        link = self._links.get(node.name)
        if link is None or link.connections.source is not node:  # a refresh made a new node object
            link = self._links[node.name] = _Link(Connections(node), self._by_sha, self)
        return link

    async def _route(self, command: Sequence[Any]) -> _Link:
        position = 3 if command[0] in ("EVALSHA", b"EVALSHA", "EVAL", b"EVAL") else 1
        if len(command) <= position or command[0] in ("PUBLISH", b"PUBLISH"):
            # no key (a PUBLISH reaches every node of a cluster): any primary that has not just failed
            await self._topology()
            links = [self._link_of(node) for node in self.redis.get_primaries()]
            now = asyncio.get_running_loop().time()
            healthy = [link for link in links if now - link.failed_at > FAILED_FOR]
            return random.choice(healthy or links)
        key = command[position]
        link = self._routes.get(key)
        if link is None:
            await self._topology()
            link = self._link_of(self.redis.get_node_from_key(key))
            if len(self._routes) >= ROUTES_KEPT:
                self._routes.clear()
            self._routes[key] = link
        return link

    async def _redirected(self, reply: ResponseError, moved: bool) -> _Link:
        """The link of the node a MOVED or ASK names; a MOVED also refreshes the slot map, once."""
        host, _, port = str(reply).split()[-1].rpartition(":")
        if moved and self._refreshing is None:
            self._refreshing = asyncio.create_task(self._refresh())
        node = self.redis.get_node(host=host, port=int(port))
        if node is None:
            if self._refreshing is not None:
                await asyncio.shield(self._refreshing)
            node = self.redis.get_node(host=host, port=int(port))
            if node is None:
                raise unavailable(f"redirected to unknown node {host}:{port}", "redirected to an unknown node")
        return self._link_of(node)

    async def _topology(self) -> None:
        """Know the slot map; Unavailable while no seed node answers (the next call tries again)."""
        if topology_known(self.redis):
            return
        if self._refreshing is None:
            self._refreshing = asyncio.create_task(self._refresh())
        await asyncio.shield(self._refreshing)
        if not topology_known(self.redis):
            raise unavailable(f"no Redis Cluster seed node answers ({self._refresh_error})",
                              "no Redis Cluster seed node answers")

    async def _refresh(self) -> None:
        """One refresh at a time, shared by every call that needs it."""
        try:
            await refresh_topology(self.redis)
            self._routes.clear()
            self._refresh_error = ""
        except Exception as exc:  # noqa: BLE001 - the next call or MOVED tries again
            self._refresh_error = reason(exc)
            log.warning("could not read the Redis Cluster slot map: %s", exc)
        finally:
            self._refreshing = None

    async def _every_server(self) -> list[_Link]:
        if not self.cluster:
            return [self._single()]
        await self._topology()
        return [self._link_of(node) for node in self.redis.get_primaries()]


#: round trips out to one server at once. With one, a call made while a trip was out waited for
#: it to come back, so a request of two steps (the work API's admission, then its script) waited
#: behind two whole trips, and Redis sat idle while the node read each reply. A second trip lets
#: a turn's calls leave at once; more only split the batches.
MAX_IN_FLIGHT = 2


class _Link:
    """One Redis server: calls made while MAX_IN_FLIGHT round trips are out wait and go out together."""

    def __init__(self, connections: Connections, sources_by_sha: dict[bytes, bytes], runner: Scripts) -> None:
        self.connections = connections
        self._runner = runner
        self.name = connections.name
        self._by_sha = sources_by_sha
        self._waiting: list[tuple[tuple[Any, ...], asyncio.Future]] = []
        self._sender: asyncio.Task | None = None  #: sends the waiting calls, one round trip at a time
        self._busy = 0  #: round trips in flight (the sender holds one place while it runs)
        self._gathering = False  #: a caller is in its turn of gathering: calls now join its trip
        self.failed_at = -math.inf  #: loop time of the last failed round trip

    async def send(self, command: Sequence[Any], asking: bool = False) -> Any:
        """The reply to `command` (an error reply as a value), sharing the round trip with others.
        `asking`: send ASKING first, in the same pipeline (after an ASK redirection)."""
        commands = (("ASKING",), tuple(command)) if asking else (tuple(command),)
        if self._busy >= MAX_IN_FLIGHT or self._gathering:  # wait for the next trip, which carries every waiter
            future = asyncio.get_running_loop().create_future()
            self._waiting.append((commands, future))
            return await future
        self._busy += 1  # a trip may leave: this caller sends, with no task to hand over to
        batch: list[tuple[tuple[Any, ...], asyncio.Future]] = []
        try:
            # one turn of the event loop first: the calls its other callbacks make ride along
            # (callers woken by one reply all run in the same turn) instead of waiting a trip
            self._gathering = True
            try:
                await asyncio.sleep(0)
            finally:
                self._gathering = False
            batch, self._waiting = self._waiting, []
            replies = await self._trip([commands, *(c for c, _ in batch)])
        except BaseException as exc:
            for _, future in batch:  # they shared the failed round trip: they may or may not have run
                if not future.done():
                    future.set_exception(exc if not isinstance(exc, asyncio.CancelledError)
                                         else RedisConnectionError("round trip interrupted"))
            if not isinstance(exc, asyncio.CancelledError):
                self._fail_waiting(exc)
            raise
        finally:
            if self._waiting and self._sender is None:  # the sender takes over this trip's place
                self._sender = asyncio.create_task(self._send_while_waiting())
            else:  # nobody waits, or the sender will take them (or the next caller, who sweeps them up)
                self._busy -= 1
        for (_, future), reply in zip(batch, replies[1:]):
            if not future.done():
                future.set_result(reply)
        return replies[0]

    def _fail_waiting(self, exc: BaseException) -> None:
        """A round trip failed: the calls queued behind it would meet the same stalled or dead
        server and each wait out a timeout of its own, one trip after another. They were never
        sent, so failing them now is safe (and their retry is too)."""
        waiting, self._waiting = self._waiting, []
        for _, future in waiting:
            if not future.done():
                future.set_exception(exc)

    async def load(self, sources: list[bytes]) -> None:
        for reply in await self._round_trip([("SCRIPT", "LOAD", source) for source in sources]):
            if isinstance(reply, ResponseError):
                raise reply  # a script that does not compile: start-up stops here

    async def _send_while_waiting(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                try:
                    replies = await self._trip([commands for commands, _ in batch])
                except BaseException as exc:  # the connection failed: every caller in it hears so
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    if isinstance(exc, asyncio.CancelledError):
                        raise
                    self._fail_waiting(exc)
                    continue
                for (_, future), reply in zip(batch, replies):
                    if not future.done():
                        future.set_result(reply)
        finally:
            self._sender = None
            self._busy -= 1
            if self._waiting:  # cancelled with callers still waiting: fail them, never strand them
                for _, future in self._waiting:
                    if not future.done():
                        future.set_exception(RedisConnectionError("script runner stopped"))
                self._waiting = []

    async def _trip(self, calls: list[tuple[tuple[Any, ...], ...]]) -> list[Any]:
        """One round trip for `calls` (each one command, or ASKING and its command); one reply per call."""
        flat = [command for commands in calls for command in commands]
        replies = await self._retry_noscript(flat, await self._round_trip(flat))
        out, i = [], 0
        for commands in calls:
            i += len(commands)
            out.append(replies[i - 1])
        return out

    async def _round_trip(self, commands: list[Sequence[Any]]) -> list[Any]:
        self._runner.on_round_trip(len(commands))
        task = asyncio.current_task()
        cancels = task.cancelling() if task else 0
        try:
            connection = await self.connections.acquire()  # may connect: redis-py's connect can swallow a cancel too
        except Exception:
            self.failed_at = asyncio.get_running_loop().time()
            still_cancelled(task, cancels)
            raise
        try:
            # one deadline for the whole round trip, not one timer per reply
            async with asyncio.timeout(self.connections.timeout):
                # hiredis packs a command ten times faster than redis-py's pure-Python packer
                await connection.send_packed_command(b"".join(map(hiredis.pack_command, commands)),
                                                     check_health=False)
                replies = []
                for _ in commands:
                    try:
                        replies.append(await connection.read_response(timeout=math.inf))
                    except ResponseError as exc:
                        replies.append(exc)
        except BaseException as exc:
            # A half-read reply would desynchronise the next user, so the connection goes. nowait,
            # and nothing it raises escapes: waiting for the close can time out, and that error
            # would replace this one; a CancelledError replaced so is a task that never stops.
            self.failed_at = asyncio.get_running_loop().time()
            with contextlib.suppress(Exception):
                await connection.disconnect(nowait=True)
            # a cancellation redis-py turned into a ConnectionError (its connect runs under wait_for)
            # must stay a cancellation, or a cancelled loop that retries on errors never ends
            if not isinstance(exc, asyncio.CancelledError):
                still_cancelled(task, cancels)
            raise
        finally:
            await self.connections.release(connection)
        still_cancelled(task, cancels)
        return replies

    async def _retry_noscript(self, commands: list[Sequence[Any]], replies: list[Any]) -> list[Any]:
        """NOSCRIPT (a restart or SCRIPT FLUSH): load the script and resend only those calls (Redis ran nothing)."""
        missing = [i for i, reply in enumerate(replies)
                   if isinstance(reply, ResponseError) and redis_code(reply) == "NOSCRIPT"
                   or isinstance(reply, NoScriptError)]
        if not missing:
            return replies
        shas = {commands[i][1] for i in missing}
        await self.load([self._by_sha[sha.encode() if isinstance(sha, str) else sha] for sha in shas])
        for i, reply in zip(missing, await self._round_trip([commands[i] for i in missing])):
            replies[i] = reply
        return replies


def still_cancelled(task: asyncio.Task | None, cancels_before: int) -> None:
    """Raise CancelledError if `task` was cancelled since it counted `cancels_before`.

    redis-py sends through asyncio.wait_for, which on Python 3.11 swallows a cancellation that
    arrives as the send completes (CPython gh-86296). The caller was cancelled and must hear
    so, or a cancelled background loop runs on and its node never finishes shutting down.
    """
    if task is not None and task.cancelling() > cancels_before:
        raise asyncio.CancelledError
