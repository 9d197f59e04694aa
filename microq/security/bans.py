"""Brute-force protection: the policy's script arguments (the address a ban applies to is
microq.http.ClientAddress's).

The counting and the ban itself happen in security_admit, atomically with the key check,
so two nodes seeing failures at once still ban at exactly the threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

from microq.settings import Settings


@dataclass(frozen=True)
class BanPolicy:
    threshold: int  #: failed attempts within the window that ban the address
    window_ms: int
    duration_ms: int

    @classmethod
    def from_settings(cls, settings: Settings) -> BanPolicy:
        # at least 1 ms: Redis refuses PX 0 (a failure would be a 500) and PEXPIRE 0 deletes the count at once
        return cls(settings.ban_threshold, max(1, round(settings.ban_window * 1000)),
                   max(1, round(settings.ban_duration * 1000)))
