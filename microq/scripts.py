"""Lua scripts: loaded once per node, called by SHA, sharing Redis round trips.

On this hardware a round trip through redis-py costs ten times what Redis spends running
a script, so calls made while one round trip is in flight wait and go out together as
one pipeline (not a transaction: each call succeeds or fails alone). A NOSCRIPT reply
(after SCRIPT FLUSH or a Redis restart) loads the script and resends only that call;
NOSCRIPT means Redis ran nothing, so resending cannot apply a call twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import importlib.resources
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import hiredis
from redis.asyncio import Redis, RedisCluster
from redis.exceptions import NoScriptError, ResponseError

from microq.errors import from_lua
from microq.idempotency import Once, wrap

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


class Scripts:
    """Run scripts by name; concurrent calls on this node share round trips."""

    def __init__(self, redis: Redis, scripts: dict[str, Script] | None = None) -> None:
        self.redis = redis
        self.by_name = scripts if scripts is not None else load_scripts()
        self._by_sha = {sha.encode(): source for s in self.by_name.values()
                        for sha, source in ((s.sha, s.source), (s.once_sha, s.once_source))}
        self._waiting: list[tuple[Sequence[Any], asyncio.Future]] = []
        self._sender: asyncio.Task | None = None  #: sends the waiting calls, one round trip at a time
        self._busy = False  #: a round trip is in flight
        self.loaded = False

    async def preload(self) -> None:
        """SCRIPT LOAD every script: a syntax error stops start-up instead of a request."""
        for source in self._by_sha.values():
            await self.redis.script_load(source)
        self.loaded = True

    async def call(self, name: str, keys: Sequence[str], args: Sequence[Any] = (), *,
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
        result = await self.execute(*command)
        if isinstance(result, ResponseError):
            raise from_lua(result) from None
        return result

    async def execute(self, *command: Any) -> Any:
        """Send one command, sharing the round trip with others; its error reply comes back as a value."""
        if isinstance(self.redis, RedisCluster):
            return await self._execute_on_its_slot(command)
        if self._busy:  # a round trip is in flight: wait for the next one, which carries every waiter
            future = asyncio.get_running_loop().create_future()
            self._waiting.append((command, future))
            return await future
        self._busy = True  # nothing in flight: this caller sends at once, with no task to hand over to
        try:
            replies = await self._round_trip([command])
            return (await self._retry_noscript([command], replies))[0]
        finally:
            if self._waiting:
                self._sender = asyncio.create_task(self._send_while_waiting())
            else:
                self._busy = False

    async def _send_while_waiting(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                try:
                    replies = await self._round_trip([command for command, _ in batch])
                    replies = await self._retry_noscript([c for c, _ in batch], replies)
                except BaseException as exc:  # the connection failed: every caller in it hears so
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    if isinstance(exc, asyncio.CancelledError):
                        raise
                    continue
                for (_, future), reply in zip(batch, replies):
                    if not future.done():
                        future.set_result(reply)
        finally:
            self._sender = None
            self._busy = False
            if self._waiting:  # cancelled with callers still waiting: fail them, never strand them
                for _, future in self._waiting:
                    if not future.done():
                        future.set_exception(ConnectionError("script runner stopped"))
                self._waiting = []

    async def _execute_on_its_slot(self, command: Sequence[Any]) -> Any:
        """Redis Cluster: the client routes by the command's keys, so each call is its own round trip."""
        task = asyncio.current_task()
        cancels = task.cancelling() if task else 0
        for attempt in range(2):
            try:
                reply = await self.redis.execute_command(*command)
                still_cancelled(task, cancels)
                return reply
            except NoScriptError:
                if attempt:
                    raise
                sha = command[1].encode() if isinstance(command[1], str) else command[1]
                await self.redis.script_load(self._by_sha[sha])
            except ResponseError as exc:
                return exc

    async def _round_trip(self, commands: list[Sequence[Any]]) -> list[Any]:
        task = asyncio.current_task()
        cancels = task.cancelling() if task else 0
        pool = self.redis.connection_pool
        connection = await pool.get_connection()
        try:
            # one deadline for the whole round trip, not one timer per reply
            async with asyncio.timeout(pool.connection_kwargs.get("socket_timeout") or 5.0):
                # hiredis packs a command ten times faster than redis-py's pure-Python packer
                await connection.send_packed_command(b"".join(map(hiredis.pack_command, commands)),
                                                     check_health=False)
                replies = []
                for _ in commands:
                    try:
                        replies.append(await connection.read_response(timeout=math.inf))
                    except ResponseError as exc:
                        replies.append(exc)
        except BaseException:
            # A half-read reply would desynchronise the next user, so the connection goes. nowait,
            # and nothing it raises escapes: waiting for the close can time out, and that error
            # would replace this one; a CancelledError replaced so is a task that never stops.
            with contextlib.suppress(Exception):
                await connection.disconnect(nowait=True)
            raise
        finally:
            await pool.release(connection)
        still_cancelled(task, cancels)
        return replies

    async def _retry_noscript(self, commands: list[Sequence[Any]], replies: list[Any]) -> list[Any]:
        missing = [i for i, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
        if not missing:
            return replies
        for sha in {commands[i][1] for i in missing}:
            sha = sha.encode() if isinstance(sha, str) else sha
            await self.redis.script_load(self._by_sha[sha])
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
