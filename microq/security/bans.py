"""Brute-force protection: the address a ban applies to, and the policy's script arguments.

The counting and the ban itself happen in security_admit, atomically with the key check,
so two nodes seeing failures at once still ban at exactly the threshold.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
from dataclasses import dataclass

from microq.settings import Settings


@functools.lru_cache(maxsize=4096)  # parsing costs more than the rest of the admission check
def address_token(address: str) -> str:
    """A canonical form of the client address for key names; anything that is not an IP
    (a forged X-Forwarded-For hop from a trusted proxy) becomes a short digest."""
    try:
        return ipaddress.ip_address(address).compressed
    except ValueError:
        return "other:" + hashlib.sha256(address.encode("utf-8", "surrogateescape")).hexdigest()[:32]


@dataclass(frozen=True)
class BanPolicy:
    threshold: int  #: failed attempts within the window that ban the address
    window_ms: int
    duration_ms: int

    @classmethod
    def from_settings(cls, settings: Settings) -> BanPolicy:
        return cls(settings.ban_threshold, round(settings.ban_window * 1000), round(settings.ban_duration * 1000))
