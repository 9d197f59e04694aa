"""Redis key names of the security layer, spread so that no one slot is needed by every request.

- A client address's ban and failure log carry the tag `{a:<address>}`: its own slot.
- An API key's table entry and its rate logs carry the tag `{k:<SHA-256 of the key>}`.
- The list of keys made by `microq api-key` is split over KEY_INDEX_BUCKETS hashes
  `{ki:<n>}`, a key id's bucket being crc32(id) % 16; only `api-key create/list/revoke` read them.

Each admission script touches one of these slots, so a Redis Cluster primary that is away
stops only the addresses and keys whose slots it holds (docs/keys.md, "blast radius").
"""

from __future__ import annotations

import zlib

from microq.keys import Keyspace

KEY_INDEX_BUCKETS = 16
BAN_INDEX_BUCKETS = 16


class SecurityKeys:
    def __init__(self, keyspace: Keyspace) -> None:
        self._keyspace = keyspace
        legacy = keyspace.entity("sec", "work")  #: before the split every key was here (migrated at start)
        self.legacy_api_keys = legacy("keys")  #: hash digest -> key id
        self.legacy_api_key_ids = legacy("key-ids")  #: hash key id -> msgpack {name, digest, created_ms}

    def ban(self, address: str) -> str:
        """string "1" while the address is banned."""
        return self._keyspace.tagged("sec", f"a:{address}", "ban")

    def failures(self, address: str) -> str:
        """list: ms of the address's latest failed attempts."""
        return self._keyspace.tagged("sec", f"a:{address}", "fail")

    def ban_index(self, ban_key: str) -> str:
        """zset ban key -> its end ms: the bans of one bucket (security_ban_note), for /metrics."""
        return self.ban_index_bucket(zlib.crc32(ban_key.encode("utf-8", "surrogateescape")) % BAN_INDEX_BUCKETS)

    def ban_index_bucket(self, bucket: int) -> str:
        return self._keyspace.tagged("sec", f"bans:{bucket}", "index")

    def api_key(self, digest: str) -> str:
        """string: the id of the `microq api-key` key with this digest; absent = no such key."""
        return self._keyspace.tagged("sec", f"k:{digest}", "key")

    def rate(self, bucket: str, digest: str) -> str:
        """list: "<ms>:<n>" per call that admitted n requests of this key to this route in the last period."""
        return self._keyspace.tagged("sec", f"k:{digest}", f"rate:{bucket}")

    def rate_used(self, bucket: str, digest: str) -> str:
        """string: the sum of n over rate(bucket, digest)'s entries."""
        return self._keyspace.tagged("sec", f"k:{digest}", f"rate:{bucket}:used")

    def key_index(self, key_id: str) -> str:
        return self.key_index_bucket(zlib.crc32(key_id.encode("utf-8", "surrogateescape")) % KEY_INDEX_BUCKETS)

    def key_index_bucket(self, bucket: int) -> str:
        """hash key id -> msgpack {name, digest, created_ms}: one bucket of the key list."""
        return self._keyspace.tagged("sec", f"ki:{bucket}", "ids")
