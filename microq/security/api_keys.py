"""API keys: only their SHA-256 digests are kept, in node memory (MICROQ_API_KEYS) or in Redis
(`microq api-key create`). The digest rule and the environment's keys are the foundation's
(microq/key_digests.py), shared with the topics API's optional key."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, AsyncIterator

import msgpack

from microq.errors import Conflict, NotFound
from microq.key_digests import digest
from microq.scripts import Scripts
from microq.security.keys import KEY_INDEX_BUCKETS, SecurityKeys

SCAN_COUNT = 100  #: index entries read per HSCAN call


@dataclass(frozen=True)
class ApiKeyInfo:
    id: str
    name: str
    created: str


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


class ApiKeyStore:
    """`microq api-key` keys: a table entry in each key's own slot (what admission reads) and a
    bucketed index by id (what list and revoke read)."""

    def __init__(self, scripts: Scripts, keys: SecurityKeys) -> None:
        self._scripts, self._keys = scripts, keys

    async def create(self, name: str) -> tuple[str, ApiKeyInfo]:
        """A new key (returned once, never stored) and its record."""
        key, key_id = "mqk_" + secrets.token_urlsafe(32), "key_" + secrets.token_hex(6)
        created = await self._add(key_id, name, digest(key), "")
        return key, ApiKeyInfo(key_id, name, _iso(created))

    async def _add(self, key_id: str, name: str, key_digest: str, created_ms: str) -> int:
        # listed first, then made valid: a create cut short between the two is a listed key that
        # does not work (revoke removes it), never a working key nobody can see or revoke
        created = await self._scripts.call("security_key_index", [self._keys.key_index(key_id)],
                                           [key_id, name, key_digest, created_ms])
        await self._command("SET", self._keys.api_key(key_digest), key_id)
        return int(created)

    async def list(self) -> list[ApiKeyInfo]:
        """Every listed key, read bucket by bucket with HSCAN (at most SCAN_COUNT entries a call)."""
        infos = []
        for bucket in range(KEY_INDEX_BUCKETS):
            async for key_id, record in self._scan(self._keys.key_index_bucket(bucket)):
                infos.append(ApiKeyInfo(key_id, record.get("name", ""), _iso(int(record["created_ms"]))))
        return sorted(infos, key=lambda info: (info.created, info.id))

    async def revoke(self, key_id: str) -> None:
        """NotFound when no key has that id. The key stops working first, then leaves the list,
        so a revoke cut short is finished by running it again."""
        index = self._keys.key_index(key_id)
        raw = await self._command("HGET", index, key_id)
        if raw is None:
            raise NotFound("no API key with that id")
        await self._command("DEL", self._keys.api_key(msgpack.unpackb(raw, raw=False)["digest"]))
        await self._command("HDEL", index, key_id)

    async def migrate_legacy(self) -> int:
        """Move keys made before the security keys were split out of the `{work}` slot; how many.
        Each is listed and made valid under its new keys before the old entry goes, so a start
        cut short is finished by the next one."""
        moved = 0
        async for key_id, record in self._scan(self._keys.legacy_api_key_ids):
            try:
                await self._add(key_id, record.get("name", ""), record["digest"], str(record["created_ms"]))
            except Conflict:  # listed by an earlier, interrupted migration: make sure it is valid
                await self._command("SET", self._keys.api_key(record["digest"]), key_id)
            await self._command("HDEL", self._keys.legacy_api_keys, record["digest"])
            await self._command("HDEL", self._keys.legacy_api_key_ids, key_id)
            moved += 1
        return moved

    async def _scan(self, name: str) -> AsyncIterator[tuple[str, dict]]:
        cursor = 0
        while True:
            cursor, page = await self._command("HSCAN", name, cursor, "COUNT", SCAN_COUNT)
            pairs = page.items() if isinstance(page, dict) else zip(page[::2], page[1::2])
            for key_id, raw in list(pairs):
                yield key_id.decode(), msgpack.unpackb(raw, raw=False)
            if int(cursor) == 0:
                return

    async def _command(self, *command: Any) -> Any:
        return await self._scripts.execute(*command)
