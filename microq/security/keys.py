"""Redis key names of the security layer.

Every key lives under one hash tag, `{work}` of kind `sec`, so that the admission decision
(ban, key, failure count, rate limit) is one script in one round trip. The price is that
all of it sits in one Cluster slot; it is small (bounded lists and short-lived strings).
"""

from __future__ import annotations

from microq.keys import Keyspace


class SecurityKeys:
    def __init__(self, keyspace: Keyspace) -> None:
        self._key = keyspace.entity("sec", "work")
        self.api_keys = self._key("keys")  #: hash digest -> key id
        self.api_key_ids = self._key("key-ids")  #: hash key id -> msgpack {name, digest, created_ms}

    def ban(self, address: str) -> str:
        return self._key(f"ban:{address}")

    def failures(self, address: str) -> str:
        return self._key(f"fail:{address}")

    def rate(self, bucket: str, digest: str) -> str:
        return self._key(f"rate:{bucket}:{digest}")
