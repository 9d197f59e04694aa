"""The admission check in front of every work API handler: one script, one round trip."""

from __future__ import annotations

import logging

from aiohttp import web

from microq.errors import Forbidden, TooManyRequests, Unauthorized
from microq.scripts import Scripts
from microq.security.api_keys import EnvKeys, digest
from microq.security.bans import BanPolicy, ClientAddress
from microq.security.keys import SecurityKeys
from microq.security.rate_limit import RateLimit, retry_after
from microq.settings import Settings

log = logging.getLogger(__name__)

HEADER = "X-API-Key"
_ADMITTED, _BANNED, _BAD_KEY, _LIMITED = 0, 1, 2, 3


class Gate:
    def __init__(self, scripts: Scripts, keys: SecurityKeys, settings: Settings) -> None:
        self._scripts, self._keys = scripts, keys
        self._env_keys = EnvKeys(settings.api_keys)
        self._bans = BanPolicy.from_settings(settings)
        self._client_address = ClientAddress(settings.trusted_proxies)

    async def admit(self, request: web.Request, bucket: str, limit: RateLimit) -> dict[str, str]:
        """The RateLimit headers for the response; Forbidden, Unauthorized or TooManyRequests otherwise."""
        address = self._client_address(request)
        key = request.headers.get(HEADER, "")
        key_digest = digest(key) if key else ""
        env_key = bool(key_digest) and self._env_keys.matches(key_digest)
        rate_key = self._keys.rate(bucket, key_digest or "-")
        outcome = await self._scripts.call(
            "security_admit",
            [self._keys.ban(address), self._keys.failures(address), self._keys.api_keys, rate_key],
            [key_digest, "1" if env_key else "0", self._bans.threshold, self._bans.window_ms,
             self._bans.duration_ms, limit.count, limit.period_ms])
        code = int(outcome[0])
        if code == _ADMITTED:
            return limit.headers(int(outcome[1]), int(outcome[2]))
        if code == _BANNED:
            raise Forbidden("this address is banned after repeated failed attempts",
                            headers={"Retry-After": retry_after(int(outcome[1]))})
        if code == _BAD_KEY:
            if int(outcome[1]):
                log.warning("banned %s after %d failed API key attempts", address, self._bans.threshold)
            raise Unauthorized("invalid API key" if key else "missing API key: send it in the X-API-Key header")
        headers = limit.headers(0, int(outcome[2]))
        headers["Retry-After"] = retry_after(int(outcome[1]))
        raise TooManyRequests("rate limit exceeded", headers=headers)
