"""The error family every part raises, and the one table mapping Lua error codes to it.

A script fails with `redis.error_reply("CODE detail")`; `from_lua` turns that into the
matching MicroQError, whose `.status` the error middleware sends. Nothing else maps
errors to HTTP statuses.
"""

from __future__ import annotations

from redis.exceptions import ResponseError


class MicroQError(Exception):
    status = 500

    def __init__(self, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.headers = headers or {}


class BadRequest(MicroQError):
    status = 400


class Unauthorized(MicroQError):
    status = 401


class Forbidden(MicroQError):
    status = 403


class NotFound(MicroQError):
    status = 404


class Conflict(MicroQError):
    status = 409


class Gone(MicroQError):
    status = 410


class PayloadTooLarge(MicroQError):
    status = 413


class Unprocessable(MicroQError):
    status = 422


class TooManyRequests(MicroQError):
    status = 429


class Unavailable(MicroQError):
    status = 503


#: the first word of a Lua error reply -> the error it becomes
LUA_CODES: dict[str, type[MicroQError]] = {
    "INVALID": BadRequest,
    "UNAUTHORIZED": Unauthorized,
    "FORBIDDEN": Forbidden,
    "NOTFOUND": NotFound,
    "CONFLICT": Conflict,
    "GONE": Gone,
    "TOOLARGE": PayloadTooLarge,
    "FULL": TooManyRequests,
    "UNPROCESSABLE": Unprocessable,
}


def from_lua(exc: ResponseError) -> Exception:
    """The MicroQError a script's error reply names, or `exc` itself for a Redis failure."""
    code, _, detail = str(exc).partition(" ")
    kind = LUA_CODES.get(code)
    return kind(detail or code.lower()) if kind else exc
