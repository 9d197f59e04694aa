"""API keys: only their SHA-256 digests are kept, in node memory (MICROQ_API_KEYS) or in Redis
(`microq api-key create`).

A key is looked up by its digest. Timing can then reveal something about a digest, never
about a key, because nobody can steer a digest's prefix towards a stored one. The keys from
the environment are compared in constant time all the same.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone

import msgpack

from microq.scripts import Scripts
from microq.security.keys import SecurityKeys


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()


class EnvKeys:
    """The MICROQ_API_KEYS keys, hashed at start-up; the plain keys are not kept."""

    def __init__(self, keys: tuple[str, ...]) -> None:
        self._digests = [digest(key).encode() for key in keys]

    def __len__(self) -> int:
        return len(self._digests)

    def matches(self, candidate: str) -> bool:
        found = False
        for known in self._digests:  # no early exit: the time spent does not say which key matched
            found |= hmac.compare_digest(known, candidate.encode())
        return found


@dataclass(frozen=True)
class ApiKeyInfo:
    id: str
    name: str
    created: str


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


class ApiKeyStore:
    def __init__(self, scripts: Scripts, keys: SecurityKeys) -> None:
        self._scripts, self._keys = scripts, keys

    async def create(self, name: str) -> tuple[str, ApiKeyInfo]:
        """A new key (returned once, never stored) and its record."""
        key, key_id = "mqk_" + secrets.token_urlsafe(32), "key_" + secrets.token_hex(6)
        created = await self._scripts.call("security_key_create",
                                           [self._keys.api_keys, self._keys.api_key_ids], [digest(key), key_id, name])
        return key, ApiKeyInfo(key_id, name, _iso(int(created)))

    async def list(self) -> list[ApiKeyInfo]:
        records = await self._scripts.execute("HGETALL", self._keys.api_key_ids)
        infos = []
        for key_id, raw in (records or {}).items():
            record = msgpack.unpackb(raw, raw=False)
            infos.append(ApiKeyInfo(key_id.decode(), record.get("name", ""), _iso(int(record["created_ms"]))))
        return sorted(infos, key=lambda info: (info.created, info.id))

    async def revoke(self, key_id: str) -> None:
        """NotFound when no key has that id."""
        await self._scripts.call("security_key_revoke", [self._keys.api_keys, self._keys.api_key_ids], [key_id])

