"""Rate limits per endpoint and per key: a sliding log in security_admit, so any rolling period
admits at most `count` requests (no fixed-window double burst at a boundary), on every node."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RateLimit:
    count: int
    period_ms: int
    policy: str = field(init=False)  #: the RateLimit-Policy value, built once
    script_args: tuple[bytes, bytes] = field(init=False)  #: security_admit's limit and period_ms, encoded once

    @classmethod
    def per(cls, rate: tuple[int, float]) -> RateLimit:
        count, period_seconds = rate
        return cls(count, max(1, round(period_seconds * 1000)))

    def __post_init__(self) -> None:
        object.__setattr__(self, "policy", f"{self.count};w={_seconds(self.period_ms)}")
        object.__setattr__(self, "script_args", (str(self.count).encode(), str(self.period_ms).encode()))
        object.__setattr__(self, "_limit", str(self.count))

    def headers(self, remaining: int, reset_ms: int) -> dict[str, str]:
        """The IETF RateLimit header fields (draft-ietf-httpapi-ratelimit-headers)."""
        return {
            "RateLimit-Limit": self._limit,
            "RateLimit-Remaining": str(remaining) if remaining > 0 else "0",
            "RateLimit-Reset": str(_seconds(reset_ms)),
            "RateLimit-Policy": self.policy,
        }


def _seconds(ms: int) -> int:
    return max(0, -(-ms // 1000))


def retry_after(ms: int) -> str:
    return str(max(1, _seconds(ms)))
