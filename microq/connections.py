"""Connection hygiene and drain: how long a client may take, how many connections a node holds,
and a SIGTERM that answers every request that already reached the node.

aiohttp gives the idle keep-alive timeout (`keepalive_timeout`) and the connection list; what it
lacks (a deadline for the request head, a cap, one-line logs, a drain that does not drop a request
already in the socket) lives in `Connection`, a RequestHandler subclass. Its one reach into
aiohttp's internals is `_request_count` (request heads parsed on this connection, kept since
aiohttp 3.0), read in `_heads_parsed`; tests/foundation/test_connections.py holds it to account.
The body deadline is a middleware on public API (`request.read()` under a timeout).
"""

from __future__ import annotations

import array
import asyncio
import fcntl
import logging
import resource
import termios
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestHandler

from microq.settings import Settings

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

if "_request_count" not in RequestHandler.__slots__:  # the one internal Connection reads
    raise ImportError("this aiohttp's RequestHandler keeps no _request_count; microq.connections needs updating")

FD_RESERVE = 64  #: file descriptors kept back from the connection cap: Redis pools, pub/sub, logs, files
DRAIN_IDLE_GRACE = 1.0  #: seconds an idle keep-alive connection may still send its next request when draining
LOG_EVERY = 60.0  #: seconds between two lines of one kind of connection trouble
_BUSY = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
         b"Connection: close\r\nContent-Length: 52\r\n\r\n"
         b'{"error": "too many connections, try again shortly"}')


class OneLine:
    """A warning that repeats at most once per `every` seconds, saying how many it left out."""

    def __init__(self, what: str, every: float = LOG_EVERY) -> None:
        self.what, self.every = what, every
        self._last = float("-inf")
        self._left_out = 0

    def __call__(self, detail: str) -> None:
        now = time.monotonic()
        if now - self._last < self.every:
            self._left_out += 1
            return
        more = f" ({self._left_out} more in the last {self.every:.0f} s)" if self._left_out else ""
        self._last, self._left_out = now, 0
        log.warning("%s: %s%s", self.what, detail, more)


@dataclass(frozen=True)
class Limits:
    header_timeout: float  #: from connecting, or from the first byte of a later request, to its full head
    keepalive_timeout: float  #: idle time between two requests on one connection
    body_timeout: float  #: grace for a body, beyond which it must keep `body_min_rate`
    body_min_rate: int  #: bytes per second
    max_connections: int  #: open connections per node process

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(settings.header_timeout, settings.keepalive_timeout, settings.body_timeout,
                   settings.body_min_rate, _within_fd_limit(settings.max_connections))


def _within_fd_limit(wanted: int) -> int:
    """The cap, lowered to leave FD_RESERVE descriptors free, so the node refuses with a 503 before
    accept() meets "Too many open files"."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(1, min(wanted, soft - FD_RESERVE))


def raise_fd_limit() -> None:
    """Soft RLIMIT_NOFILE up to the hard limit, as Go and nginx do: a busy node needs descriptors."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            pass


def _unread_bytes(transport: Any) -> int:
    """Bytes the kernel holds for this connection that the loop has not read yet."""
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is None:
        return 0
    buf = array.array("i", [0])
    try:
        fcntl.ioctl(sock.fileno(), termios.FIONREAD, buf, True)
    except OSError:
        return 1  # cannot tell: treat as "a request may be there", the drain's deadline still ends it
    return buf[0]


class Pool:
    """Every open connection of a node, its limits, and the drain."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.open: set[Connection] = set()
        self.draining = False
        self.refused = OneLine("connection refused, node at MICROQ_MAX_CONNECTIONS")
        self.bad_request = OneLine("malformed HTTP request")
        self.out_of_descriptors = OneLine("cannot accept connections")

    def factory(self, server: web.Server, **handler_args: Any) -> Callable[[], Connection]:
        """The protocol factory a listening socket uses (in place of `server` itself)."""
        loop = asyncio.get_running_loop()
        return lambda: Connection(server, pool=self, loop=loop, keepalive_timeout=self.limits.keepalive_timeout,
                                  access_log=None, **handler_args)

    async def mark_last(self, request: web.Request, response: web.StreamResponse) -> None:
        """on_response_prepare: while draining, every answer says `Connection: close`. Before, an
        answer that promises keep-alive is noted: the drain lets its client send one more request."""
        if self.draining:
            response.force_close()  # aiohttp has built the headers by now, so say it as well
            response.headers["Connection"] = "close"
        elif isinstance(request.protocol, Connection) and response.content_type != "text/event-stream":
            request.protocol.promised_keep_alive = True  # a stream ends at shutdown, as documented

    async def drain(self, timeout: float) -> None:
        """Close idle keep-alive connections without losing a request already sent on them.

        A connection in a request closes itself after its answer (which says `Connection: close`).
        An idle one is closed once it has been idle DRAIN_IDLE_GRACE seconds and nothing unread waits
        in its socket: a client that got an answer a moment before SIGTERM is likely sending its next
        request now, and closing under it would reset that request; given the grace, the request is
        answered, with `Connection: close`. A connection that has sent part of a request head keeps
        it until its head is whole (then it is a request) or MICROQ_HEADER_TIMEOUT closes it. Ends when
        every connection left is in a request whose answer will close it, or at `timeout`."""
        self.draining = True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            # done when every connection left is in a request whose answer will say Connection: close
            waiting = [c for c in self.open if not c.busy() or c.promised_keep_alive]
            if not waiting:
                return
            for connection in waiting:
                # a connection with no request yet was opened to send one: under load its client may
                # take longer than the grace to send it, and closing would reset that request; it is
                # answered (with Connection: close) or the header timeout closes it
                if (connection.idle() and not connection.fresh()
                        and loop.time() - connection.idle_since >= DRAIN_IDLE_GRACE
                        and not _unread_bytes(connection.transport)):
                    connection.force_close()
            await asyncio.sleep(0.02)  # a part-sent head waits for its whole head or the header timeout

    def loop_exception(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        """asyncio logs every failed accept() with a traceback, once a second per socket; one line."""
        if context.get("message") == "socket.accept() out of system resource":
            self.out_of_descriptors(str(context.get("exception")))
            return
        if isinstance(context.get("exception"), ValueError) and "_start_serving" in repr(context.get("handle")):
            # asyncio's retry after such a failure, firing after the drain closed the socket: nothing to do
            log.debug("accept retry on a closed listening socket ignored")
            return
        loop.default_exception_handler(context)


class Connection(RequestHandler):
    """aiohttp's handler plus a head deadline, the cap, one-line parser errors, and idle tracking."""

    def __init__(self, manager: web.Server, *, pool: Pool, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._pool = pool
        self._answered = 0  # answers finished; equal to the heads parsed when the connection is idle
        self._head_timer: asyncio.TimerHandle | None = None
        self._partial_head = False  # bytes of a request head have arrived, not yet all of it
        self._turned_away = False
        self.idle_since = 0.0  #: loop time of the last answer (or of connecting)
        self.promised_keep_alive = False  #: the answer under way was sent before draining, as keep-alive

    def _heads_parsed(self) -> int:
        return self._request_count  # aiohttp's count of request heads parsed on this connection

    def busy(self) -> bool:
        """In a request: its head has arrived and its answer is not finished."""
        return self._heads_parsed() > self._answered

    def fresh(self) -> bool:
        """Connected, and no request head has arrived yet."""
        return self._heads_parsed() == 0

    def idle(self) -> bool:
        """Connected or between requests, with no byte of a next request received."""
        return not self.busy() and not self._partial_head

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if len(self._pool.open) >= self._pool.limits.max_connections:
            self._turned_away = True
            self._pool.refused(f"{len(self._pool.open)} open")
            transport.write(_BUSY)  # type: ignore[attr-defined]
            transport.close()
            return
        super().connection_made(transport)
        self._pool.open.add(self)
        self.idle_since = asyncio.get_running_loop().time()
        self._start_head_timer()

    def connection_lost(self, exc: BaseException | None) -> None:
        if self._turned_away:
            return
        self._pool.open.discard(self)
        self._stop_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.busy():
            self._partial_head = False
            self._stop_head_timer()  # a whole head arrived; the body deadline is the middleware's
        elif data and not self._partial_head:
            self._partial_head = True
            self._start_head_timer()  # the first bytes of a new request: its head has a deadline

    def log_access(self, request: Any, response: Any, time: float | None) -> None:
        self._answered += 1  # aiohttp calls this once per answer, after its last byte is written
        self.idle_since = asyncio.get_running_loop().time()
        self.promised_keep_alive = False
        self._partial_head = False
        super().log_access(request, response, time)

    def log_exception(self, *args: Any, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info")
        if isinstance(exc, HttpProcessingError):  # a malformed request line or header: one line, no traceback
            self._pool.bad_request(f"from {self._peer()}: {exc.message or type(exc).__name__}"[:300])
            return
        super().log_exception(*args, **kwargs)

    def handle_error(self, request: Any, status: int = 500, exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        """aiohttp's answer to a request it could not parse is plain text; ours is `{"error"}`."""
        response = super().handle_error(request, status, exc, message)  # logs, through log_exception
        if status >= 500:
            return response
        first_line = (message or "bad request").splitlines()[0].rstrip(":")[:200]
        response = web.json_response({"error": f"malformed HTTP request: {first_line}"}, status=status)
        response.force_close()
        return response

    def _peer(self) -> str:
        peer = self.transport.get_extra_info("peername") if self.transport is not None else None
        return str(peer[0]) if peer else "unknown"

    def _start_head_timer(self) -> None:
        self._stop_head_timer()
        loop = asyncio.get_running_loop()
        self._head_timer = loop.call_later(self._pool.limits.header_timeout, self._head_too_slow)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if not self.busy():  # still no whole head: a slow or silent client
            log.debug("closing %s: no request head within %.0f s", self._peer(), self._pool.limits.header_timeout)
            self.force_close()


def body_deadline(limits: Limits) -> Callable[..., Awaitable[web.StreamResponse]]:
    """A middleware reading each request body under a deadline: `body_timeout` plus the time the
    body takes at `body_min_rate` (for a chunked body, at its largest allowed size). Too slow: 408,
    and the connection closes. Handlers then read the body aiohttp keeps in memory."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.body_exists:
            size = request.content_length if request.content_length is not None else request.client_max_size
            timeout = limits.body_timeout + size / limits.body_min_rate
            try:
                async with asyncio.timeout(timeout):  # no extra task per request, unlike wait_for
                    await request.read()
            except TimeoutError:
                response = web.json_response(
                    {"error": f"request body too slow (under {limits.body_min_rate} bytes/s)"}, status=408)
                response.force_close()
                return response
        return await handler(request)

    return middleware

