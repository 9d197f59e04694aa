"""API keys kept only as SHA-256 digests: one rule for every part that checks a key.

A key is looked up by its digest. Timing can then reveal something about a digest, never
about a key, because nobody can steer a digest's prefix towards a stored one. Keys from the
environment are compared in constant time all the same.
"""

from __future__ import annotations

import hashlib
import hmac


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()


class EnvKeys:
    """Keys from a setting, hashed at start-up; the plain keys are not kept."""

    def __init__(self, keys: tuple[str, ...]) -> None:
        self._digests = [digest(key).encode() for key in keys]

    def __len__(self) -> int:
        return len(self._digests)

    def matches(self, candidate: str) -> bool:
        """Whether `candidate`, a key's hex digest, is one of theirs."""
        found = False
        for known in self._digests:  # no early exit: the time spent does not say which key matched
            found |= hmac.compare_digest(known, candidate.encode())
        return found
